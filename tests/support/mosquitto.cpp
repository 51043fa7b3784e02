#include "mosquitto.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>

#include "ports.hpp"
#include "text_files.hpp"

namespace thingwell::testing {

namespace {

std::string find_mosquitto() {
  if (const char* chosen = std::getenv("THINGWELL_MOSQUITTO"); chosen != nullptr && chosen[0] != '\0') return chosen;
  // Debian installs the broker in /usr/sbin, which is not on an ordinary user's PATH.
  return find_executable("mosquitto", {"/usr/sbin", "/usr/local/sbin", "/sbin"});
}

bool broker_reports_running(const std::string& log_path, std::uintmax_t since_offset) {
  std::ifstream log(log_path, std::ios::binary);
  if (!log) return false;
  log.seekg(static_cast<std::streamoff>(since_offset));
  std::string line;
  while (std::getline(log, line)) {
    if (line.find("mosquitto version") != std::string::npos && line.find(" running") != std::string::npos) return true;
  }
  return false;
}

void append_limit(std::string& config, const char* name, const std::optional<unsigned>& value) {
  if (value) config += std::string(name) + " " + std::to_string(*value) + "\n";
}

}  // namespace

mosquitto_broker::mosquitto_broker(mosquitto_options options) : options_(std::move(options)), files_("mosquitto") {
  executable_ = find_mosquitto();
  if (executable_.empty()) throw std::runtime_error("mosquitto_broker: mosquitto not found on PATH or in /usr/sbin");
  if (!options_.plain_listener && !options_.mutual_tls_listener && !options_.server_tls_listener) {
    throw std::runtime_error("mosquitto_broker: no listener enabled");
  }
  if ((options_.mutual_tls_listener || options_.server_tls_listener) &&
      (options_.cert_file.empty() || options_.key_file.empty() || (options_.mutual_tls_listener && options_.ca_file.empty()))) {
    throw std::runtime_error("mosquitto_broker: a TLS listener needs cert_file and key_file (and ca_file for mutual TLS)");
  }
  config_path_ = files_.file("mosquitto.conf");
  acl_path_ = files_.file("acl");
  log_path_ = files_.file("mosquitto.log");
  output_path_ = files_.file("mosquitto.out");
  persistence_directory_ = files_.file("persistence");
  std::filesystem::create_directories(persistence_directory_);
  ports_chosen_here_ = (!options_.plain_listener || options_.plain_port == 0) &&
                       (!options_.mutual_tls_listener || options_.mutual_tls_port == 0) &&
                       (!options_.server_tls_listener || options_.server_tls_port == 0);
  choose_missing_ports();
}

mosquitto_broker::~mosquitto_broker() {
  if (process_) process_->terminate(std::chrono::seconds(3));
}

void mosquitto_broker::choose_missing_ports() {
  if (options_.plain_listener && options_.plain_port == 0) options_.plain_port = free_loopback_port();
  if (options_.mutual_tls_listener && options_.mutual_tls_port == 0) options_.mutual_tls_port = free_loopback_port();
  if (options_.server_tls_listener && options_.server_tls_port == 0) options_.server_tls_port = free_loopback_port();
}

std::vector<std::uint16_t> mosquitto_broker::listener_ports() const {
  std::vector<std::uint16_t> ports;
  if (options_.plain_listener) ports.push_back(options_.plain_port);
  if (options_.mutual_tls_listener) ports.push_back(options_.mutual_tls_port);
  if (options_.server_tls_listener) ports.push_back(options_.server_tls_port);
  return ports;
}

std::string mosquitto_broker::config_text() const {
  std::string config = "# Generated for one integration test; see tests/support/mosquitto.hpp.\n";
  // Global rather than per-listener authentication, so that one ACL covers every listener.
  config += "per_listener_settings false\n";
  // As root, mosquitto would otherwise switch to the "mosquitto" user, which cannot read the
  // test's private temp directory.
  if (::geteuid() == 0) config += "user root\n";
  config += "allow_anonymous " + std::string(options_.allow_anonymous ? "true" : "false") + "\n";
  config += "log_dest file " + log_path_ + "\n";
  config += options_.debug_log ? "log_type all\n" : "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  config += "log_timestamp true\nlog_timestamp_format %H:%M:%S\nconnection_messages true\n";
  config += "set_tcp_nodelay " + std::string(options_.tcp_nodelay ? "true" : "false") + "\n";
  if (options_.persistence) {
    config += "persistence true\n";
    config += "persistence_location " + persistence_directory_ + "/\n";
    config += "autosave_interval " + std::to_string(options_.autosave_interval_seconds) + "\n";
  } else {
    config += "persistence false\n";
  }
  append_limit(config, "max_inflight_messages", options_.max_inflight_messages);
  append_limit(config, "max_queued_messages", options_.max_queued_messages);
  append_limit(config, "max_packet_size", options_.max_packet_size);
  append_limit(config, "message_size_limit", options_.message_size_limit);
  append_limit(config, "max_keepalive", options_.max_keepalive);
  if (!options_.acl.empty()) config += "acl_file " + acl_path_ + "\n";
  for (const auto& line : options_.extra_config_lines) config += line + "\n";

  auto tls_lines = [&](bool require_client_certificate) {
    std::string lines;
    if (!options_.ca_file.empty()) lines += "cafile " + options_.ca_file + "\n";
    lines += "certfile " + options_.cert_file + "\n";
    lines += "keyfile " + options_.key_file + "\n";
    if (!options_.tls_version.empty()) lines += "tls_version " + options_.tls_version + "\n";
    if (require_client_certificate) lines += "require_certificate true\nuse_identity_as_username true\n";
    return lines;
  };
  if (options_.plain_listener) config += "\nlistener " + std::to_string(options_.plain_port) + " 127.0.0.1\n";
  if (options_.mutual_tls_listener) {
    config += "\nlistener " + std::to_string(options_.mutual_tls_port) + " 127.0.0.1\n" + tls_lines(true);
  }
  if (options_.server_tls_listener) {
    config += "\nlistener " + std::to_string(options_.server_tls_port) + " 127.0.0.1\n" + tls_lines(false);
  }
  return config;
}

void mosquitto_broker::write_files() const {
  if (!options_.acl.empty()) write_text_file(acl_path_, options_.acl);
  write_text_file(config_path_, config_text());
}

bool mosquitto_broker::try_start(std::string& failure) {
  write_files();
  std::error_code no_log_yet;
  const auto log_start = std::filesystem::file_size(log_path_, no_log_yet);
  process_options launch;
  launch.argv = {executable_, "-c", config_path_};
  launch.log_path = output_path_;
  process_ = std::make_unique<child_process>(launch);

  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  const auto ports = listener_ports();
  while (true) {
    if (auto ended = process_->status()) {
      failure = "mosquitto exited during start-up (" + ended->describe() + ")";
      return false;
    }
    // A listening port alone is not enough: mosquitto opens each socket before loading that
    // listener's certificates, and can still give up afterwards. It logs "running" once all are set.
    if (broker_reports_running(log_path_, no_log_yet ? 0 : log_start)) {
      bool all_listening = true;
      for (auto port : ports) all_listening = all_listening && port_accepts_connections(port);
      if (all_listening) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      process_->kill();
      failure = "mosquitto did not accept connections within " + std::to_string(options_.start_timeout.count()) + " ms";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void mosquitto_broker::start() {
  if (running()) throw std::runtime_error("mosquitto_broker::start: already running");
  // Another process may take a port between choosing and binding it; only ports chosen here can be
  // changed, and only before the first successful start (restart() promises the same ports).
  const bool may_move_ports = ports_chosen_here_ && !std::filesystem::exists(log_path_);
  for (int attempt = 0;; ++attempt) {
    std::string failure;
    if (try_start(failure)) return;
    const bool port_taken = last_lines_of_file(log_path_, 20).find("Address already in use") != std::string::npos ||
                            last_lines_of_file(output_path_, 20).find("Address already in use") != std::string::npos;
    if (may_move_ports && port_taken && attempt < 3) {
      std::filesystem::remove(log_path_);
      options_.plain_port = options_.mutual_tls_port = options_.server_tls_port = 0;
      choose_missing_ports();
      continue;
    }
    throw std::runtime_error("mosquitto_broker: " + failure + "\nconfig " + config_path_ + ":\n" +
                             read_text_file(config_path_) + "\n" + log_tail());
  }
}

exit_status mosquitto_broker::stop() {
  if (!process_) return exit_status{};
  return process_->terminate(std::chrono::seconds(5));
}

exit_status mosquitto_broker::kill() {
  if (!process_) return exit_status{};
  return process_->kill();
}

void mosquitto_broker::restart() {
  stop();
  start();
}

bool mosquitto_broker::running() { return process_ && process_->running(); }

pid_t mosquitto_broker::pid() const { return process_ ? process_->pid() : -1; }

void mosquitto_broker::reload_acl(const std::string& acl) {
  options_.acl = acl;
  write_files();
  if (running()) ::kill(process_->pid(), SIGHUP);
}

std::string mosquitto_broker::log_tail(std::size_t lines) const {
  return "--- " + log_path_ + " (last " + std::to_string(lines) + " lines) ---\n" + last_lines_of_file(log_path_, lines) +
         "--- " + output_path_ + " ---\n" + last_lines_of_file(output_path_, lines);
}

}  // namespace thingwell::testing
