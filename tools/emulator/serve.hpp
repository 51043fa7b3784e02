// thingwell emulator — `thingwell-emulator serve`: the Device Shadow service on a broker connection.
#pragma once

#include "command_line.hpp"

namespace thingwell::emulator {

// Runs until SIGINT or SIGTERM; returns the process exit code.
int serve(const command_line& cl);

}  // namespace thingwell::emulator
