#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "process.hpp"
#include "temp_dir.hpp"

namespace thingwell::testing {

// A second MQTT implementation (paho-mqtt under python3, driven by mqtt_peer.py) to check the
// library against: what thingwell publishes, paho receives, and the other way round.
//
// The script is found through THINGWELL_MQTT_PEER_SCRIPT, else next to this source file; python
// through THINGWELL_PYTHON, else the first python3 on PATH (then /usr/bin) that can import paho.

enum class mqtt_version { v3_1_1, v5 };

struct mqtt_peer_options {
  std::uint16_t port = 0;
  std::string host = "127.0.0.1";
  mqtt_version version = mqtt_version::v3_1_1;
  std::string client_id;  // empty: paho makes one up
  bool clean_start = true;
  std::uint32_t session_expiry_seconds = 0;  // MQTT 5 only
  std::string username;
  std::string password;
  std::string ca_file;    // set: TLS, verifying the broker against this CA
  std::string cert_file;  // set: present this client certificate (mutual TLS)
  std::string key_file;
  bool check_hostname = true;
  int keepalive_seconds = 30;
};

struct received_message {
  std::string topic;
  int qos = 0;
  bool retain = false;
  std::vector<std::uint8_t> payload;

  std::string payload_text() const { return std::string(payload.begin(), payload.end()); }
};

// A paho subscriber running in the background, recording every message it receives.
class mqtt_subscriber {
 public:
  // Returns once the broker has granted every subscription; throws std::runtime_error with the
  // peer's output when it refuses, fails or takes longer than `ready_timeout`.
  mqtt_subscriber(const mqtt_peer_options& options, const std::vector<std::string>& topic_filters, int qos = 1,
                  std::chrono::milliseconds ready_timeout = std::chrono::seconds(10));
  ~mqtt_subscriber();
  mqtt_subscriber(const mqtt_subscriber&) = delete;
  mqtt_subscriber& operator=(const mqtt_subscriber&) = delete;

  // Everything received so far, in arrival order.
  std::vector<received_message> messages() const;
  bool wait_for_messages(std::size_t count, std::chrono::milliseconds timeout) const;
  // Disconnects cleanly (SIGTERM lets paho send DISCONNECT).
  void stop();
  std::string log() const;

 private:
  temp_dir files_;
  std::string output_path_;
  std::unique_ptr<child_process> process_;
};

struct peer_publication {
  std::string topic;
  std::string payload;  // "{i}" becomes the message index when the payload is printable text
  int qos = 1;
  bool retain = false;
  std::size_t count = 1;
};

// Publishes with paho and waits for every acknowledgement; success() tells whether all were acked.
command_result publish_with_peer(const mqtt_peer_options& options, const peer_publication& publication,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The interpreter and script used, for diagnostics; throws std::runtime_error when either is missing.
std::string mqtt_peer_python();
std::string mqtt_peer_script();

}  // namespace thingwell::testing
