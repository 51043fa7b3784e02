// thingwell emulator — one admin round trip: connect to the broker, subscribe to <topic>/+, publish the
// request to the running service, and wait for the answer that carries our clientToken.
#pragma once

#include <string>

#include "command_line.hpp"

namespace thingwell::emulator {

struct admin_answer {
  int exit_code = 2;  // 0: accepted, 1: rejected, 2: no answer (the reason is already on stderr)
  std::string text;   // the answer document
};

// A clientToken that no other admin command running at the same time uses.
std::string admin_client_token();

admin_answer exchange_with_service(const command_line& cl, const std::string& topic, const std::string& payload,
                                   const std::string& client_token);

// "thingwell-emulator: <why>" on stderr; returns 2.
int admin_failure(const std::string& why);

}  // namespace thingwell::emulator
