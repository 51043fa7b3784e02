// thingwell — a transport wrapper that injects network faults, for tests of everything above it.
//
//   net::poll_client<net::faulty_transport<net::memory_pipe>> client{
//       net::faulty_transport<net::memory_pipe>{net::memory_pipe{link}}, config, observer};
//   client.transport().plan().cut_after_sent = 1000;   // the connection breaks mid-packet
//   client.transport().plan().blackhole = true;        // a dead link that still looks open
//
// The plan can be changed at any time, also between two polls of a running client. What happened is
// counted in stats(). Faults are deterministic (no clock, no randomness), so a failing test replays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <system_error>
#include <type_traits>
#include <utility>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "transport.hpp"

namespace thingwell::net {

struct fault_plan {
  // The next `refuse_opens` calls to open() fail with `open_error` (DNS failure, refused, TLS trust...).
  std::uint32_t refuse_opens = 0;
  std::error_code open_error = make_error_code(errc::connection_refused);
  // Short writes and reads: at most this many bytes per call (0: no limit). 1 byte at a time finds
  // code that assumes a packet arrives or leaves whole.
  std::size_t max_send_chunk = 0;
  std::size_t max_recv_chunk = 0;
  // Every n-th send()/recv() call reports errc::would_block without doing anything (0: never).
  std::uint32_t stall_every = 0;
  // The connection breaks once this many bytes went out / came in on it (0: never). The break can fall
  // inside a packet: the bytes before it are delivered, the call that reaches it fails.
  std::uint64_t cut_after_sent = 0;
  std::uint64_t cut_after_received = 0;
  // Bytes sent vanish and nothing arrives, while every call succeeds: a half-open TCP connection.
  bool blackhole = false;
};

struct fault_stats {
  std::uint32_t opens = 0;          // successful opens
  std::uint32_t refused_opens = 0;  // opens failed by the plan
  std::uint32_t cuts = 0;           // connections broken by cut_after_*
  std::uint32_t stalls = 0;         // spurious would_block answers
  std::uint64_t bytes_sent = 0;     // passed to the inner transport
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_blackholed = 0;
};

template <nonblocking_transport Inner>
class faulty_transport {
 public:
  explicit faulty_transport(Inner inner, fault_plan plan = {}) noexcept(std::is_nothrow_move_constructible_v<Inner>)
      : inner_(std::move(inner)), plan_(plan) {}

  fault_plan& plan() noexcept { return plan_; }
  const fault_stats& stats() const noexcept { return stats_; }
  Inner& inner() noexcept { return inner_; }

  result<open_status> open() noexcept {
    if (plan_.refuse_opens != 0) {
      --plan_.refuse_opens;
      ++stats_.refused_opens;
      return plan_.open_error;
    }
    auto r = inner_.open();
    if (r && *r == open_status::open) {
      ++stats_.opens;
      sent_on_connection_ = received_on_connection_ = 0;
      broken_ = false;
    }
    return r;
  }

  result<std::size_t> send(bytes_view out) noexcept {
    if (broken_) return errc::connection_reset;
    if (stall()) return errc::would_block;
    if (plan_.blackhole) {
      stats_.bytes_blackholed += out.size();
      return out.size();
    }
    std::size_t n = limit(out.size(), plan_.max_send_chunk);
    if (plan_.cut_after_sent != 0) {
      const std::uint64_t left = plan_.cut_after_sent > sent_on_connection_ ? plan_.cut_after_sent - sent_on_connection_ : 0;
      if (left == 0) return cut();
      if (n > left) n = static_cast<std::size_t>(left);
    }
    auto r = inner_.send(out.first(n));
    if (r) {
      sent_on_connection_ += *r;
      stats_.bytes_sent += *r;
    }
    return r;
  }

  result<std::size_t> recv(mutable_bytes in) noexcept {
    if (broken_) return errc::connection_reset;
    if (plan_.blackhole) return errc::would_block;
    if (stall()) return errc::would_block;
    std::size_t n = limit(in.size(), plan_.max_recv_chunk);
    if (plan_.cut_after_received != 0) {
      const std::uint64_t left =
          plan_.cut_after_received > received_on_connection_ ? plan_.cut_after_received - received_on_connection_ : 0;
      if (left == 0) return cut();
      if (n > left) n = static_cast<std::size_t>(left);
    }
    auto r = inner_.recv(in.first(n));
    if (r) {
      received_on_connection_ += *r;
      stats_.bytes_received += *r;
    }
    return r;
  }

  void close() noexcept {
    inner_.close();
    broken_ = false;
  }

 private:
  static std::size_t limit(std::size_t n, std::size_t chunk) noexcept { return chunk != 0 && n > chunk ? chunk : n; }

  bool stall() noexcept {
    if (plan_.stall_every == 0) return false;
    if (++calls_ % plan_.stall_every != 0) return false;
    ++stats_.stalls;
    return true;
  }

  // The link breaks under the client: the inner transport is closed (the far end sees the connection
  // go), and every call until the next open() fails.
  result<std::size_t> cut() noexcept {
    inner_.close();
    broken_ = true;
    ++stats_.cuts;
    return errc::connection_reset;
  }

  Inner inner_;
  fault_plan plan_;
  fault_stats stats_{};
  std::uint64_t sent_on_connection_ = 0;
  std::uint64_t received_on_connection_ = 0;
  std::uint64_t calls_ = 0;
  bool broken_ = false;
};

}  // namespace thingwell::net
