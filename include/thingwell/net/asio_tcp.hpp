// thingwell — TCP for the Asio driver.
//
// A stream for asio_client: resolve + connect, write everything, read some, close. Like the poll
// driver's TCP, the plaintext type refuses hosts that are not loopback; `asio_insecure_tcp` is the
// explicit opt-in for clear text over a network. TLS streams wrap asio_raw_tcp.
#pragma once

#include "../core/config.hpp"

#if THINGWELL_WITH_ASIO

#include <asio/associated_allocator.hpp>
#include <asio/bind_allocator.hpp>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "posix_tcp.hpp"

namespace thingwell::net {

namespace detail {
inline std::error_code from_asio(const std::error_code& ec) noexcept {
  if (!ec) return {};
  if (ec == asio::error::connection_refused) return errc::connection_refused;
  if (ec == asio::error::connection_reset || ec == asio::error::eof || ec == asio::error::broken_pipe ||
      ec == asio::error::connection_aborted || ec == asio::error::not_connected)
    return errc::connection_reset;
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again) return errc::host_not_found;
  if (ec == asio::error::network_unreachable || ec == asio::error::host_unreachable) return errc::network_unreachable;
  if (ec == asio::error::timed_out) return errc::timed_out;
  if (ec == asio::error::operation_aborted) return errc::cancelled;
  return ec;
}
}  // namespace detail

class asio_raw_tcp {
 public:
  using executor_type = asio::any_io_executor;

  explicit asio_raw_tcp(executor_type ex) : socket_(ex), resolver_(ex) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }

  // handler(std::error_code)
  template <class Handler>
  void async_open(const std::string& host, std::uint16_t port, Handler&& handler) {
    resolver_.async_resolve(
        host, std::to_string(port),
        [this, h = std::forward<Handler>(handler)](std::error_code ec, asio::ip::tcp::resolver::results_type found) mutable {
          if (ec) return h(detail::from_asio(ec));
          asio::async_connect(socket_, found, [this, h = std::move(h)](std::error_code ec2, const asio::ip::tcp::endpoint&) mutable {
            if (!ec2) {
              // MQTT packets are small; Nagle + delayed ACK would add ~40 ms per exchange.
              std::error_code ignored;
              socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
            }
            h(detail::from_asio(ec2));
          });
        });
  }

  // handler(std::error_code, std::size_t): all of `data` is written unless an error is reported.
  // The caller's handler allocator (if any) serves the operation's state too.
  template <class Handler>
  void async_write(bytes_view data, Handler&& handler) {
    auto alloc = asio::get_associated_allocator(handler);
    asio::async_write(socket_, asio::buffer(data.data(), data.size()),
                      asio::bind_allocator(alloc, [h = std::forward<Handler>(handler)](std::error_code ec, std::size_t n) mutable {
                        h(detail::from_asio(ec), n);
                      }));
  }

  // handler(std::error_code, std::size_t)
  template <class Handler>
  void async_read_some(mutable_bytes space, Handler&& handler) {
    auto alloc = asio::get_associated_allocator(handler);
    socket_.async_read_some(asio::buffer(space.data(), space.size()),
                            asio::bind_allocator(alloc, [h = std::forward<Handler>(handler)](std::error_code ec, std::size_t n) mutable {
                              h(detail::from_asio(ec), n);
                            }));
  }

  // Cancels everything pending; their handlers see errc::cancelled.
  void close() noexcept {
    std::error_code ignored;
    resolver_.cancel();
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  asio::ip::tcp::socket& socket() noexcept { return socket_; }

 private:
  asio::ip::tcp::socket socket_;
  asio::ip::tcp::resolver resolver_;
};

// Plaintext TCP to loopback only.
class asio_tcp : public asio_raw_tcp {
 public:
  using asio_raw_tcp::asio_raw_tcp;
  template <class Handler>
  void async_open(const std::string& host, std::uint16_t port, Handler&& handler) {
    if (!detail::is_loopback_host(host)) {
      asio::post(get_executor(), [h = std::forward<Handler>(handler)]() mutable { h(make_error_code(errc::insecure_transport)); });
      return;
    }
    asio_raw_tcp::async_open(host, port, std::forward<Handler>(handler));
  }
};

// Plaintext TCP to any host: the name is the opt-in.
class asio_insecure_tcp : public asio_raw_tcp {
 public:
  using asio_raw_tcp::asio_raw_tcp;
};

}  // namespace thingwell::net

#endif  // THINGWELL_WITH_ASIO
