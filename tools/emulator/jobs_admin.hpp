// thingwell emulator — `thingwell-emulator jobs create|cancel|list`: the control-plane half of AWS IoT Jobs
// (CreateJob, CancelJob, ListJobExecutionsFor*), sent to the running service on its admin topics.
#pragma once

#include "command_line.hpp"

namespace thingwell::emulator {

// create and cancel print the service's answer (JSON) on stdout; list prints one line per execution, or
// the answer itself with --json. Exit codes as for the shadow commands: 0 accepted, 1 rejected (the error
// document on stderr), 2 bad arguments, no broker or no answer.
int run_jobs_admin(const command_line& cl);

}  // namespace thingwell::emulator
