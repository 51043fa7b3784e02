#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace thingwell::testing {

// A TCP server on 127.0.0.1 that sends back (echo) or swallows (discard) whatever it receives: a
// predictable far end for transport and fault_proxy tests that need no MQTT. One poll() thread,
// joined on destruction.
class echo_server {
 public:
  enum class behaviour { echo, discard };

  explicit echo_server(behaviour what = behaviour::echo);
  ~echo_server();
  echo_server(const echo_server&) = delete;
  echo_server& operator=(const echo_server&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint64_t bytes_received() const { return bytes_received_.load(); }
  std::uint64_t connections_accepted() const { return connections_accepted_.load(); }
  std::uint64_t connections_reset() const { return connections_reset_.load(); }  // ended by RST, not FIN

 private:
  void run();

  behaviour behaviour_;
  int listener_ = -1;
  int wake_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> bytes_received_{0};
  std::atomic<std::uint64_t> connections_accepted_{0};
  std::atomic<std::uint64_t> connections_reset_{0};
  std::thread thread_;
};

}  // namespace thingwell::testing
