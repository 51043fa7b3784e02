// thingwell emulator — AWS's limits on a job execution's statusDetails (shared/aws-iot-protocol.md §2.7):
// an object of at most 10 members; keys 1–128 of [a-zA-Z0-9:_-]; values strings of 1–1024 characters with
// no control characters (the pattern [^\p{C}]+: no \n, no \t, no C1 controls).
#pragma once

#include <optional>
#include <string>

#include "json_tree.hpp"

namespace thingwell::emulator {

struct status_details_limits {
  std::size_t max_members = 10;
  std::size_t max_key_chars = 128;
  std::size_t max_value_chars = 1024;
};

// Why `details` breaks the limits (the InvalidRequest message), or nothing when it is valid.
std::optional<std::string> check_status_details(const json_value& details, const status_details_limits& limits = {});

}  // namespace thingwell::emulator
