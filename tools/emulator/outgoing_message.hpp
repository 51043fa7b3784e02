// thingwell emulator — what a sans-I/O service asks the process to publish.
#pragma once

#include <string>

namespace thingwell::emulator {

struct outgoing_message {
  std::string topic;
  std::string payload;
};

}  // namespace thingwell::emulator
