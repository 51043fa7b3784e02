// thingwell-emulator — the local AWS IoT emulator: the Device Shadow and Jobs services over a real MQTT broker,
// for development and tests (shared/design.md §4). See command_line.cpp for the commands.
#include <cstdio>
#include <string>
#include <vector>

#include "admin.hpp"
#include "command_line.hpp"
#include "serve.hpp"

int main(int argc, char** argv) {
  using namespace thingwell::emulator;
  std::string error;
  const auto cl = parse_command_line(std::vector<std::string>(argv + 1, argv + argc), error);
  if (!cl) {
    std::fprintf(stderr, "thingwell-emulator: %s\n%s", error.c_str(), usage_text());
    return 2;
  }
  switch (cl->what) {
    case command::help: std::fputs(usage_text(), stdout); return 0;
    case command::serve: return serve(*cl);
    default: return run_admin(*cl);
  }
}
