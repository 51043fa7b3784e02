#include "ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

namespace thingwell::testing {

namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// Binding with SO_REUSEADDR, as mosquitto does, so that a port held only by TIME_WAIT leftovers of
// an earlier test still counts as free.
bool can_bind(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  const sockaddr_in address = loopback(port);
  const bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return bound;
}

std::uint16_t kernel_chosen_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("free_loopback_port: socket failed");
  sockaddr_in address = loopback(0);
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("free_loopback_port: bind to 127.0.0.1:0 failed");
  return ntohs(address.sin_port);
}

unsigned ephemeral_range_start() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 32768;
  unsigned high = 60999;
  range >> low >> high;
  return low;
}

}  // namespace

std::uint16_t free_loopback_port() {
  static std::mutex mutex;
  static std::set<std::uint16_t> handed_out;
  static std::mt19937 pick(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  const std::lock_guard lock(mutex);

  const unsigned top = ephemeral_range_start();
  constexpr unsigned bottom = 10'000;
  if (top > bottom + 1'000) {
    std::uniform_int_distribution<unsigned> range(bottom, top - 1);
    for (int attempt = 0; attempt < 200; ++attempt) {
      const auto port = static_cast<std::uint16_t>(range(pick));
      if (handed_out.count(port) == 0 && can_bind(port)) {
        handed_out.insert(port);
        return port;
      }
    }
  }
  for (int attempt = 0; attempt < 200; ++attempt) {
    const std::uint16_t port = kernel_chosen_port();
    if (handed_out.insert(port).second) return port;
  }
  throw std::runtime_error("free_loopback_port: no free port found");
}

bool port_accepts_connections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in address = loopback(port);
  const bool connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (port_accepts_connections(port)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace thingwell::testing
