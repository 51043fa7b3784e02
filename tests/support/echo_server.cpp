#include "echo_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace thingwell::testing {

echo_server::echo_server(behaviour what) : behaviour_(what) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string reason = std::strerror(errno);
    if (listener_ >= 0) ::close(listener_);
    throw std::runtime_error("echo_server: cannot listen on 127.0.0.1: " + reason);
  }
  port_ = ntohs(address.sin_port);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  thread_ = std::thread([this] { run(); });
}

echo_server::~echo_server() {
  stopping_ = true;
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  thread_.join();
  ::close(listener_);
  ::close(wake_fd_);
}

void echo_server::run() {
  struct peer {
    int fd;
    std::vector<char> unsent;  // echoed bytes the socket could not take yet
  };
  std::vector<peer> peers;
  std::vector<pollfd> watched;
  char buffer[16384];
  while (!stopping_) {
    watched.clear();
    watched.push_back({wake_fd_, POLLIN, 0});
    watched.push_back({listener_, POLLIN, 0});
    for (const auto& p : peers) {
      // Stop reading while echoes are pending, so that a client that never reads cannot grow memory.
      watched.push_back({p.fd, static_cast<short>(p.unsent.empty() ? POLLIN : POLLOUT), 0});
    }
    if (::poll(watched.data(), watched.size(), -1) < 0 && errno != EINTR) break;
    if ((watched[1].revents & POLLIN) != 0) {
      while (true) {
        const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        ++connections_accepted_;
        peers.push_back({fd, {}});
      }
    }
    for (std::size_t i = 2; i < watched.size(); ++i) {
      auto& p = peers[i - 2];
      if (watched[i].revents == 0) continue;
      auto send_pending = [&] {
        const ssize_t sent = ::send(p.fd, p.unsent.data(), p.unsent.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent > 0) p.unsent.erase(p.unsent.begin(), p.unsent.begin() + sent);
        if (sent < 0 && errno != EAGAIN && errno != EINTR) {
          ++connections_reset_;
          ::close(p.fd);
          p.fd = -1;
        }
      };
      if (!p.unsent.empty()) {
        send_pending();
        continue;
      }
      const ssize_t got = ::recv(p.fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0) {
        if (got < 0) ++connections_reset_;
        ::close(p.fd);
        p.fd = -1;
        continue;
      }
      bytes_received_ += static_cast<std::uint64_t>(got);
      if (behaviour_ == behaviour::echo) {
        p.unsent.insert(p.unsent.end(), buffer, buffer + got);
        send_pending();
      }
    }
    std::erase_if(peers, [](const peer& p) { return p.fd < 0; });
  }
  for (auto& p : peers) ::close(p.fd);
}

}  // namespace thingwell::testing
