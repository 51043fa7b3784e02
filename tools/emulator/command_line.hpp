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

enum class command {
  serve,
  shadow_get,
  shadow_update,
  shadow_set_desired,
  shadow_delete,
  jobs_create,
  jobs_cancel,
  jobs_list,
  help
};

struct command_line {
  command what = command::serve;
  broker_options broker;
  std::string data_dir;  // serve: where shadows are kept; empty keeps them in memory only
  std::string thing;
  std::string shadow_name;
  std::string document;       // set-desired: the desired object; update: the whole request document
  unsigned timeout_seconds = 10;  // admin commands: how long to wait for the broker and the service
  bool quiet = false;             // serve: no line per request
  // serve, emulator-only: how many seconds one minute of stepTimeoutInMinutes (and of a job's in-progress
  // timeout) lasts, so that tests see TIMED_OUT without waiting minutes. AWS: 60.
  unsigned seconds_per_minute = 60;

  // jobs create / cancel / list
  std::string job_id;               // create, cancel; list: --job filter
  std::vector<std::string> things;  // create: --things T1,T2; list: --thing filter (at most one)
  std::string document_file;        // create: --document FILE
  std::optional<unsigned> step_timeout_minutes;  // create: --step-timeout (the job's in-progress timeout)
  bool force = false;               // cancel --force: IN_PROGRESS executions too
  bool json_output = false;         // list --json: the service's answer as JSON
};

// The parsed command line, or nothing with `error` set to a message for the user.
std::optional<command_line> parse_command_line(const std::vector<std::string>& args, std::string& error);

const char* usage_text() noexcept;

}  // namespace thingwell::emulator
