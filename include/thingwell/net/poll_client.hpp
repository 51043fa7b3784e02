// thingwell — the poll driver: an MQTT client for microcontrollers, RTOS tasks and simple loops.
//
//   net::poll_client<net::tcp> client{net::tcp{"localhost", 1883}, config, observer};
//   client.start(clock.now());
//   for (;;) {
//     const time_point next = client.poll(clock.now());   // all I/O that can be done without blocking
//     ...                                                   // your work; sleep until `next` or an event
//   }
//
// poll() never blocks and allocates nothing: the session was given its memory up front and the
// transport is non-blocking. On POSIX hosts, wait() sleeps in poll(2) until the socket is ready or
// the next timer is due.
#pragma once

#include <cstddef>
#include <utility>

#include "../core/clock.hpp"
#include "../core/config.hpp"
#include "../mqtt/session.hpp"
#include "transport.hpp"

#if THINGWELL_HAS_POSIX
#  include <poll.h>
#endif

namespace thingwell::net {

template <nonblocking_transport Transport>
class poll_client {
 public:
  poll_client(Transport transport, const mqtt::session_config& config, mqtt::session_observer& observer,
              const mqtt::session_limits& limits = mqtt::compact_session_limits, mutable_bytes memory = {},
              std::uint64_t seed = 0)
      : transport_(std::move(transport)), session_(config, observer, limits, memory, seed) {}

  poll_client(const poll_client&) = delete;
  poll_client& operator=(const poll_client&) = delete;

  std::error_code start(time_point now) noexcept { return session_.start(now); }
  void stop(time_point now) noexcept {
    session_.stop(now);
    (void)poll(now);
  }

  mqtt::session& session() noexcept { return session_; }
  const mqtt::session& session() const noexcept { return session_; }
  Transport& transport() noexcept { return transport_; }

  result<mqtt::token> publish(std::string_view topic, bytes_view payload, const mqtt::publish_options& o = {}) noexcept {
    return session_.publish(topic, payload, o);
  }
  result<mqtt::token> subscribe(std::string_view filter, mqtt::message_handler handler,
                                const mqtt::subscribe_options& o = {}) noexcept {
    return session_.subscribe(filter, std::move(handler), o);
  }
  result<mqtt::token> unsubscribe(std::string_view filter) noexcept { return session_.unsubscribe(filter); }

  // Does everything possible without blocking and returns when it must be called again at the latest.
  time_point poll(time_point now) noexcept {
    // A bounded number of rounds: each round that made progress may have enabled more (an ack
    // frees the window, a write frees room for reading).
    bool progress = false;
    for (int round = 0; round < 64; ++round) {
      progress = false;
      switch (session_.transport_wanted()) {
        case mqtt::transport_request::open: {
          auto r = transport_.open();
          if (!r) {
            transport_.close();
            open_ = false;
            session_.transport_closed(r.error(), now);
            progress = true;
          } else if (*r == open_status::open) {
            open_ = true;
            session_.transport_opened(now);
            progress = true;
          }
          break;
        }
        case mqtt::transport_request::close:
          transport_.close();
          open_ = false;
          session_.transport_closed({}, now);
          progress = true;
          break;
        case mqtt::transport_request::none: break;
      }
      if (open_) {
        progress |= write(now);
        if (open_) progress |= read(now);
      }
      session_.poll(now);
      if (!progress) break;
    }
    // Still moving when the round limit hit: there is more to do right away (on a slow MCU the
    // acknowledgements are always already waiting), so the caller must not sleep.
    if (progress) return now;
    return session_.next_deadline();
  }

#if THINGWELL_HAS_POSIX
  // Sleeps until the transport can make progress or `deadline` passes (for transports with a file
  // descriptor). Returns immediately if there is nothing to wait on.
  void wait(time_point now, time_point deadline) noexcept
    requires pollable<Transport>
  {
    const int fd = transport_.native_handle();
    if (deadline <= now) return;
    const auto ms = (deadline - now).count();
    const int timeout = deadline == never || ms > 1000 ? 1000 : static_cast<int>(ms);
    if (fd < 0) {
      ::poll(nullptr, 0, timeout);
      return;
    }
    pollfd p{fd, POLLIN, 0};
    if (session_.has_output() || transport_.wants_write()) p.events |= POLLOUT;
    ::poll(&p, 1, timeout);
  }
#endif

 private:
  bool write(time_point now) noexcept {
    bool progress = false;
    for (;;) {
      const bytes_view out = session_.output(now);
      if (out.empty()) return progress;
      auto n = transport_.send(out);
      if (!n) {
        if (n.error() == errc::would_block) return progress;
        lost(n.error(), now);
        return true;
      }
      session_.output_sent(*n, now);
      progress = true;
    }
  }

  bool read(time_point now) noexcept {
    bool progress = false;
    for (int i = 0; i < 16; ++i) {  // bounded: a flood of input must not starve writing and timers
      const mutable_bytes space = session_.input_space();
      if (space.empty()) return progress;
      auto n = transport_.recv(space);
      if (!n) {
        if (n.error() == errc::would_block) return progress;
        lost(n.error(), now);
        return true;
      }
      session_.input_received(*n, now);
      progress = true;
      if (!open_) return progress;
    }
    return progress;
  }

  void lost(std::error_code ec, time_point now) noexcept {
    transport_.close();
    open_ = false;
    session_.transport_closed(ec, now);
  }

  Transport transport_;
  mqtt::session session_;
  bool open_ = false;
};

}  // namespace thingwell::net
