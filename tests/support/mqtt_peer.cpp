#include "mqtt_peer.hpp"

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "text_files.hpp"
#include "wait_until.hpp"

namespace thingwell::testing {

namespace {

std::string environment_value(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::vector<std::string> common_arguments(const mqtt_peer_options& options) {
  std::vector<std::string> arguments = {"--host", options.host, "--port", std::to_string(options.port),
                                        "--protocol", options.version == mqtt_version::v5 ? "5" : "3.1.1",
                                        "--keepalive", std::to_string(options.keepalive_seconds)};
  auto add = [&](const char* flag, const std::string& value) {
    if (value.empty()) return;
    arguments.emplace_back(flag);
    arguments.push_back(value);
  };
  add("--client-id", options.client_id);
  add("--username", options.username);
  add("--password", options.password);
  add("--cafile", options.ca_file);
  add("--cert", options.cert_file);
  add("--key", options.key_file);
  if (!options.clean_start) arguments.emplace_back("--no-clean-start");
  if (options.session_expiry_seconds != 0) add("--session-expiry", std::to_string(options.session_expiry_seconds));
  if (!options.check_hostname) arguments.emplace_back("--no-hostname-check");
  return arguments;
}

std::vector<std::string> peer_command(const std::string& mode, const mqtt_peer_options& options) {
  std::vector<std::string> command = {mqtt_peer_python(), mqtt_peer_script(), mode};
  for (auto& argument : common_arguments(options)) command.push_back(std::move(argument));
  return command;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string to_hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : bytes) {
    hex += digits[byte >> 4];
    hex += digits[byte & 0x0f];
  }
  return hex;
}

bool printable_text(const std::string& bytes) {
  for (unsigned char byte : bytes) {
    if (byte < 0x20 || byte > 0x7e) return false;
  }
  return true;
}

}  // namespace

std::string mqtt_peer_script() {
  std::string chosen = environment_value("THINGWELL_MQTT_PEER_SCRIPT");
  if (chosen.empty()) {
#ifdef THINGWELL_TEST_SUPPORT_DIR
    chosen = std::string(THINGWELL_TEST_SUPPORT_DIR) + "/mqtt_peer.py";
#else
    // The script lives beside this file; build systems pass absolute source paths to the compiler.
    chosen = (std::filesystem::path(__FILE__).parent_path() / "mqtt_peer.py").string();
#endif
  }
  if (!std::filesystem::exists(chosen)) {
    throw std::runtime_error("mqtt peer script not found at " + chosen + " (set THINGWELL_MQTT_PEER_SCRIPT)");
  }
  return std::filesystem::absolute(chosen).string();
}

std::string mqtt_peer_python() {
  static std::mutex mutex;
  static std::string found;
  const std::lock_guard lock(mutex);
  if (!found.empty()) return found;
  std::vector<std::string> candidates;
  if (auto chosen = environment_value("THINGWELL_PYTHON"); !chosen.empty()) candidates.push_back(chosen);
  if (auto on_path = find_executable("python3"); !on_path.empty()) candidates.push_back(on_path);
  // A virtual environment's python3 may come first on PATH without paho; the distribution's has it.
  candidates.emplace_back("/usr/bin/python3");
  std::string tried;
  for (const auto& candidate : candidates) {
    if (!std::filesystem::exists(candidate)) continue;
    const auto probe = run_command({candidate, "-c", "import paho.mqtt.client"}, std::chrono::seconds(20));
    if (probe.success()) {
      found = candidate;
      return found;
    }
    tried += " " + candidate;
  }
  throw std::runtime_error("no python3 with paho-mqtt found (tried:" + tried + "); install python3-paho-mqtt or set THINGWELL_PYTHON");
}

mqtt_subscriber::mqtt_subscriber(const mqtt_peer_options& options, const std::vector<std::string>& topic_filters,
                                 int qos, std::chrono::milliseconds ready_timeout)
    : files_("mqtt-peer"), output_path_(files_.file("received.tsv")) {
  const std::string ready_path = files_.file("ready");
  process_options launch;
  launch.argv = peer_command("subscribe", options);
  for (const auto& filter : topic_filters) {
    launch.argv.emplace_back("--topic");
    launch.argv.push_back(filter);
  }
  for (auto& argument : std::vector<std::string>{"--qos", std::to_string(qos), "--output", output_path_,
                                                 "--ready-file", ready_path, "--timeout", "86400"}) {
    launch.argv.push_back(std::move(argument));
  }
  launch.extra_env = {{"PYTHONUNBUFFERED", "1"}};
  launch.log_path = files_.file("peer.log");
  write_text_file(output_path_, "");
  process_ = std::make_unique<child_process>(launch);

  const bool ready = wait_until(
      [&] { return std::filesystem::exists(ready_path) || !process_->running(); }, ready_timeout);
  if (!ready || !std::filesystem::exists(ready_path)) {
    const auto ended = process_->status();
    process_->kill();
    throw std::runtime_error("mqtt_subscriber: not subscribed within " + std::to_string(ready_timeout.count()) +
                             " ms (" + (ended ? ended->describe() : std::string("still running")) + ")\ncommand: " +
                             describe_command(launch.argv) + "\n" + log());
  }
}

mqtt_subscriber::~mqtt_subscriber() { stop(); }

void mqtt_subscriber::stop() {
  if (process_) process_->terminate(std::chrono::seconds(3));
}

std::string mqtt_subscriber::log() const {
  return "--- mqtt peer output ---\n" + last_lines_of_file(files_.file("peer.log"), 40);
}

std::vector<received_message> mqtt_subscriber::messages() const {
  const std::string text = read_text_file(output_path_);
  std::vector<received_message> parsed;
  std::size_t line_start = 0;
  // Only whole lines: the peer may be in the middle of writing the last one.
  for (std::size_t newline; (newline = text.find('\n', line_start)) != std::string::npos; line_start = newline + 1) {
    const std::string line = text.substr(line_start, newline - line_start);
    std::vector<std::string> fields;
    std::size_t field_start = 0;
    for (std::size_t tab; (tab = line.find('\t', field_start)) != std::string::npos; field_start = tab + 1) {
      fields.push_back(line.substr(field_start, tab - field_start));
    }
    fields.push_back(line.substr(field_start));
    if (fields.size() != 4) continue;
    received_message message;
    message.topic = fields[0];
    message.qos = std::atoi(fields[1].c_str());
    message.retain = fields[2] == "1";
    const std::string& hex = fields[3];
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      message.payload.push_back(static_cast<std::uint8_t>(hex_digit(hex[i]) * 16 + hex_digit(hex[i + 1])));
    }
    parsed.push_back(std::move(message));
  }
  return parsed;
}

bool mqtt_subscriber::wait_for_messages(std::size_t count, std::chrono::milliseconds timeout) const {
  return wait_until([&] { return messages().size() >= count; }, timeout, std::chrono::milliseconds(10));
}

command_result publish_with_peer(const mqtt_peer_options& options, const peer_publication& publication,
                                 std::chrono::milliseconds timeout) {
  auto command = peer_command("publish", options);
  const std::string seconds = std::to_string(static_cast<double>(timeout.count()) / 1000.0);
  for (auto& argument : std::vector<std::string>{"--topic", publication.topic, "--qos", std::to_string(publication.qos),
                                                 "--count", std::to_string(publication.count), "--timeout", seconds}) {
    command.push_back(std::move(argument));
  }
  // argv cannot carry NUL bytes, and the peer reads --payload as UTF-8: binary goes as hex.
  if (printable_text(publication.payload)) {
    command.emplace_back("--payload");
    command.push_back(publication.payload);
  } else {
    command.emplace_back("--payload-hex");
    command.push_back(to_hex(publication.payload));
  }
  if (publication.retain) command.emplace_back("--retain");
  // Python start-up and the connection come on top of the publishing time.
  return run_command(command, timeout + std::chrono::seconds(10));
}

}  // namespace thingwell::testing
