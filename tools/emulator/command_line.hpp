// thingwell emulator — the command line: run the service, or play "the cloud" with an admin command.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace thingwell::emulator {

struct broker_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: 1883, or 8883 with TLS
  std::string tls_ca;      // all three set: mutual TLS
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;  // default: host
  std::string client_id;        // default: thingwell-emulator (service) or thingwell-emulator-admin-<pid>

  bool tls() const noexcept { return !tls_ca.empty(); }
  std::uint16_t effective_port() const noexcept { return port != 0 ? port : (tls() ? 8883 : 1883); }
};

enum class command { serve, shadow_get, shadow_update, shadow_set_desired, shadow_delete, help };

struct command_line {
  command what = command::serve;
  broker_options broker;
  std::string data_dir;  // serve: where shadows are kept; empty keeps them in memory only
  std::string thing;
  std::string shadow_name;
  std::string document;       // set-desired: the desired object; update: the whole request document
  unsigned timeout_seconds = 10;  // admin commands: how long to wait for the broker and the service
  bool quiet = false;             // serve: no line per request
};

// The parsed command line, or nothing with `error` set to a message for the user.
std::optional<command_line> parse_command_line(const std::vector<std::string>& args, std::string& error);

const char* usage_text() noexcept;

}  // namespace thingwell::emulator
