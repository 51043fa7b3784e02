// thingwell emulator — the admin commands (`thingwell-emulator shadow ...`, `... jobs ...`): "the cloud" side.
//
// They do not touch the data directory: they send their request to the running service on its admin topics
// (shadow_topics.hpp, jobs_topics.hpp), which answers like AWS's HTTPS API and publishes to devices exactly
// what AWS would (/update/delta and /update/documents; jobs/notify and jobs/notify-next).
#pragma once

#include "command_line.hpp"

namespace thingwell::emulator {

// Prints the answer on stdout; returns 0 (accepted), 1 (rejected: the error document goes to stderr) or
// 2 (bad arguments, no broker, no answer within the timeout).
int run_admin(const command_line& cl);

}  // namespace thingwell::emulator
