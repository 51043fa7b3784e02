#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process.hpp"
#include "temp_dir.hpp"

namespace thingwell::testing {

// What the broker listens on and how it behaves. Ports left at 0 are chosen with
// free_loopback_port() when the fixture is constructed, and kept across restart().
struct mosquitto_options {
  bool plain_listener = true;
  std::uint16_t plain_port = 0;

  // Client certificate required and chained to ca_file; its CN becomes the MQTT username (%u in ACLs).
  bool mutual_tls_listener = false;
  std::uint16_t mutual_tls_port = 0;
  // TLS with server authentication only (no client certificate).
  bool server_tls_listener = false;
  std::uint16_t server_tls_port = 0;
  // Shared by both TLS listeners. Pointing cert_file/key_file at test_pki::server_expired() (or
  // server_wrong_host(), ...) makes a broker that a correct client must refuse to talk to.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string tls_version;  // "tlsv1.2" or "tlsv1.3" pins one; empty accepts both

  bool allow_anonymous = true;
  // The text of an ACL file (`topic`, `user`, `pattern ... %c/%u`); empty means no ACL, all allowed.
  std::string acl;

  // Persistent sessions and retained messages survive stop()/restart() (saved on SIGTERM), and with a
  // nonzero autosave interval also kill().
  bool persistence = false;
  unsigned autosave_interval_seconds = 0;  // 0: save only when the broker exits cleanly

  std::optional<unsigned> max_inflight_messages;
  std::optional<unsigned> max_queued_messages;
  std::optional<unsigned> max_packet_size;
  std::optional<unsigned> message_size_limit;
  std::optional<unsigned> max_keepalive;
  bool tcp_nodelay = true;  // Nagle plus delayed ACK would add ~40 ms to request/response tests
  bool debug_log = true;    // log_type all: every packet in the log, which is what a failing test needs
  std::vector<std::string> extra_config_lines;  // appended verbatim before the listeners

  std::chrono::milliseconds start_timeout{std::chrono::seconds(5)};
};

// A mosquitto process on 127.0.0.1 with its own config, log and persistence directory.
// Construction only prepares; start() launches. Destruction stops the broker.
// Failures throw std::runtime_error whose message includes the tail of the broker's log.
class mosquitto_broker {
 public:
  explicit mosquitto_broker(mosquitto_options options = {});
  ~mosquitto_broker();
  mosquitto_broker(const mosquitto_broker&) = delete;
  mosquitto_broker& operator=(const mosquitto_broker&) = delete;

  // Writes the config, launches mosquitto and returns once every listener accepts connections.
  void start();
  // SIGTERM: clients see their connections closed and persistence is saved.
  exit_status stop();
  // SIGKILL: a crash; unsaved persistence is lost.
  exit_status kill();
  // stop() then start() on the same ports with the same persistence directory.
  void restart();
  bool running();

  // Rewrites the ACL and makes the running broker reload it (SIGHUP). Connected clients keep their
  // sessions; later operations are checked against the new rules.
  void reload_acl(const std::string& acl);

  std::uint16_t plain_port() const { return options_.plain_port; }
  std::uint16_t mutual_tls_port() const { return options_.mutual_tls_port; }
  std::uint16_t server_tls_port() const { return options_.server_tls_port; }
  const mosquitto_options& options() const { return options_; }

  pid_t pid() const;
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_path_; }
  const std::string& persistence_directory() const { return persistence_directory_; }
  // The last lines of the broker's log and of its stdout/stderr, for failure messages.
  std::string log_tail(std::size_t lines = 40) const;

 private:
  void write_files() const;
  std::string config_text() const;
  std::vector<std::uint16_t> listener_ports() const;
  void choose_missing_ports();
  bool try_start(std::string& failure);

  mosquitto_options options_;
  bool ports_chosen_here_ = false;
  temp_dir files_;
  std::string executable_;
  std::string config_path_;
  std::string acl_path_;
  std::string log_path_;
  std::string output_path_;
  std::string persistence_directory_;
  std::unique_ptr<child_process> process_;
};

}  // namespace thingwell::testing
