// thingwell — TCP over POSIX sockets for the poll driver.
//
// raw_tcp is the building block (TLS runs on top of it). As a transport of its own it is plaintext,
// so the public types keep the security default: `tcp` refuses any host that is not loopback, and
// sending MQTT in clear text over a real network needs the type that says so, `insecure_tcp`.
#pragma once

#include "../core/config.hpp"

#if THINGWELL_HAS_POSIX

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "transport.hpp"

namespace thingwell::net {

namespace detail {

inline std::error_code from_errno(int e) noexcept {
  switch (e) {
    case ECONNREFUSED: return errc::connection_refused;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
    case ENOTCONN: return errc::connection_reset;
    case ENETUNREACH:
    case EHOSTUNREACH: return errc::network_unreachable;
    case ETIMEDOUT: return errc::timed_out;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
      return errc::would_block;
    default: return {e, std::system_category()};
  }
}

// True for "localhost" and addresses in 127.0.0.0/8 and ::1.
inline bool is_loopback_host(std::string_view host) noexcept {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr a4{};
  const std::string h(host);
  if (::inet_pton(AF_INET, h.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  return false;
}

}  // namespace detail

class raw_tcp {
 public:
  raw_tcp() = default;
  raw_tcp(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {}
  raw_tcp(const raw_tcp&) = delete;
  raw_tcp& operator=(const raw_tcp&) = delete;
  raw_tcp(raw_tcp&& o) noexcept : host_(std::move(o.host_)), port_(o.port_), fd_(o.fd_), connecting_(o.connecting_) {
    o.fd_ = -1;
  }
  ~raw_tcp() { close(); }

  void set_endpoint(std::string host, std::uint16_t port) {
    host_ = std::move(host);
    port_ = port;
  }
  const std::string& host() const noexcept { return host_; }
  std::uint16_t port() const noexcept { return port_; }

  // Name resolution blocks (getaddrinfo); the connect itself does not.
  result<open_status> open() noexcept {
    if (fd_ >= 0 && !connecting_) return open_status::open;
    if (fd_ < 0) return start_connect();
    return finish_connect();
  }

  result<std::size_t> send(bytes_view out) noexcept {
    if (fd_ < 0) return errc::not_connected;
    for (;;) {
      const ssize_t n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      return detail::from_errno(errno);
    }
  }

  result<std::size_t> recv(mutable_bytes in) noexcept {
    if (fd_ < 0) return errc::not_connected;
    for (;;) {
      const ssize_t n = ::recv(fd_, in.data(), in.size(), 0);
      if (n > 0) return static_cast<std::size_t>(n);
      if (n == 0) return errc::connection_reset;
      if (errno == EINTR) continue;
      return detail::from_errno(errno);
    }
  }

  void close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    connecting_ = false;
  }

  int native_handle() const noexcept { return fd_; }
  bool wants_write() const noexcept { return connecting_; }

 private:
  result<open_status> start_connect() noexcept {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(port_);
    if (::getaddrinfo(host_.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr)
      return errc::host_not_found;
    std::error_code last = errc::connection_refused;
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
      const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) {
        last = detail::from_errno(errno);
        continue;
      }
      // MQTT packets are small and latency matters more than coalescing (Nagle + delayed ACK
      // cost ~40 ms per round trip).
      const int one = 1;
      (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        ::freeaddrinfo(found);
        fd_ = fd;
        connecting_ = false;
        return open_status::open;
      }
      if (errno == EINPROGRESS) {
        ::freeaddrinfo(found);
        fd_ = fd;
        connecting_ = true;
        return open_status::in_progress;
      }
      last = detail::from_errno(errno);
      ::close(fd);
    }
    ::freeaddrinfo(found);
    return last;
  }

  result<open_status> finish_connect() noexcept {
    pollfd p{fd_, POLLOUT, 0};
    const int r = ::poll(&p, 1, 0);
    if (r == 0) return open_status::in_progress;
    int error = 0;
    socklen_t len = sizeof(error);
    if (r < 0 || ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    if (error != 0) {
      close();
      return detail::from_errno(error);
    }
    connecting_ = false;
    return open_status::open;
  }

  std::string host_;
  std::uint16_t port_ = 0;
  int fd_ = -1;
  bool connecting_ = false;
};

// Plaintext TCP to loopback only (a local broker, tests). Anything else: errc::insecure_transport.
class tcp : public raw_tcp {
 public:
  using raw_tcp::raw_tcp;
  result<open_status> open() noexcept {
    if (!detail::is_loopback_host(host())) return errc::insecure_transport;
    return raw_tcp::open();
  }
};

// Plaintext TCP to any host. The name is the opt-in: MQTT credentials and payloads travel in clear.
class insecure_tcp : public raw_tcp {
 public:
  using raw_tcp::raw_tcp;
};

static_assert(nonblocking_transport<tcp>);
static_assert(nonblocking_transport<insecure_tcp>);
static_assert(pollable<tcp>);

}  // namespace thingwell::net

#endif  // THINGWELL_HAS_POSIX
