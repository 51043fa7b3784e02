// thingwell — TLS over any non-blocking transport, for the poll driver.
//
//   auto context = net::wolfssl_context::create(tls);          // CA, client certificate and key, SNI, ALPN
//   net::poll_client<net::tls<net::raw_tcp>> client{
//       net::tls<net::raw_tcp>{*context, net::raw_tcp{"a1b2-ats.iot.eu-west-1.amazonaws.com", 8883}}, config, observer};
//
// The TLS engine never touches the network: this adapter moves ciphertext between the engine and the
// lower transport (a socket, a modem), so the same TLS runs over anything that fits the transport
// policy. The context must outlive the transport.
#pragma once

#include "../core/config.hpp"

#if THINGWELL_WITH_WOLFSSL

#include <cstddef>
#include <utility>

#include "tls_wolfssl.hpp"
#include "transport.hpp"

namespace thingwell::net {

template <nonblocking_transport Lower>
class tls {
 public:
  // Buffers from the heap (16.6 KB each by default; fewer with a maximum fragment length).
  tls(const wolfssl_context& context, Lower lower, tls_buffer_sizes sizes = {})
      : context_(&context), lower_(std::move(lower)) {
    auto engine = wolfssl_engine::create(context, sizes);
    if (engine) engine_ = std::move(*engine);
    else setup_error_ = engine.error();
  }
  // Buffers from the caller (an MCU's static memory).
  tls(const wolfssl_context& context, Lower lower, mutable_bytes in_storage, mutable_bytes out_storage) noexcept
      : context_(&context), lower_(std::move(lower)), engine_(context, in_storage, out_storage) {}

  tls(tls&&) noexcept = default;
  tls& operator=(tls&&) noexcept = default;

  Lower& lower() noexcept { return lower_; }
  wolfssl_engine& engine() noexcept { return engine_; }

  // Opens the lower transport, then runs the handshake; both without blocking.
  result<open_status> open() noexcept {
    if (setup_error_) return setup_error_;
    if (state_ == state::open) return open_status::open;
    if (state_ == state::closed) {
      auto r = lower_.open();
      if (!r) return r.error();
      if (*r == open_status::in_progress) return open_status::in_progress;
      if (auto reset = engine_.reset(); !reset) return fail(reset.error());
      eof_ = false;
      state_ = state::handshaking;
    }
    for (;;) {
      auto r = engine_.handshake();
      if (auto ec = flush(); ec && ec != errc::would_block) return fail(ec);
      if (r) {
        state_ = state::open;
        return open_status::open;
      }
      if (r.error() != errc::would_block) {
        (void)flush();  // the alert, when the engine produced one
        return fail(r.error());
      }
      auto got = pull();
      if (!got) return fail(got.error());
      if (*got == 0) return open_status::in_progress;
    }
  }

  result<std::size_t> send(bytes_view plaintext) noexcept {
    if (state_ != state::open) return errc::not_connected;
    if (auto ec = flush(); ec && ec != errc::would_block) return explain(ec);
    auto n = engine_.write(plaintext);
    if (!n) return n.error();
    if (auto ec = flush(); ec && ec != errc::would_block) return explain(ec);
    return *n;
  }

  result<std::size_t> recv(mutable_bytes plaintext) noexcept {
    if (state_ != state::open) return errc::not_connected;
    if (auto ec = flush(); ec && ec != errc::would_block) return explain(ec);
    for (;;) {
      auto n = engine_.read(plaintext);
      if (auto ec = flush(); ec && ec != errc::would_block) return explain(ec);
      if (n) {
        if (*n == 0) return errc::connection_reset;  // close_notify: the peer ended the session
        return *n;
      }
      if (n.error() != errc::would_block) return n.error();
      auto got = pull();
      if (!got) return explain(got.error());
      if (*got == 0) return errc::would_block;
    }
  }

  void close() noexcept {
    if (state_ == state::open) {
      (void)engine_.shutdown();  // close_notify, best effort: the socket goes away next
      (void)flush();
    }
    lower_.close();
    state_ = state::closed;
  }

  int native_handle() const noexcept
    requires pollable<Lower>
  {
    return lower_.native_handle();
  }
  bool wants_write() const noexcept
    requires pollable<Lower>
  {
    return lower_.wants_write() || !engine_.ciphertext_out().empty();
  }

 private:
  enum class state : std::uint8_t { closed, handshaking, open };

  // Writes pending ciphertext; errc::would_block when the lower transport is full.
  std::error_code flush() noexcept {
    for (;;) {
      const bytes_view out = engine_.ciphertext_out();
      if (out.empty()) return {};
      auto n = lower_.send(out);
      if (!n) return n.error();
      engine_.ciphertext_sent(*n);
    }
  }

  // Reads ciphertext into the engine; returns the bytes read (0: nothing available now).
  result<std::size_t> pull() noexcept {
    if (eof_) return errc::connection_reset;  // the engine had its chance to explain the end
    const mutable_bytes space = engine_.ciphertext_in_space();
    if (space.empty()) return std::size_t{0};
    auto n = lower_.recv(space);
    if (!n) {
      if (n.error() == errc::would_block) {
        engine_.ciphertext_received(0);
        return std::size_t{0};
      }
      // The engine decides what an end without close_notify means (truncation, or a rejected
      // client certificate under TLS 1.3).
      engine_.ciphertext_eof();
      eof_ = true;
      return std::size_t{1};
    }
    engine_.ciphertext_received(*n);
    return *n;
  }

  // The link broke under us. The engine may know better what that means: under TLS 1.3 a server
  // that rejects our certificate after the handshake simply resets the connection.
  std::error_code explain(std::error_code transport_error) noexcept {
    if (!eof_) {
      engine_.ciphertext_eof();
      eof_ = true;
    }
    byte scratch[1];
    auto r = engine_.read(scratch);
    if (!r && r.error() != errc::would_block && r.error() != errc::connection_reset) return r.error();
    return transport_error;
  }

  std::error_code fail(std::error_code ec) noexcept {
    lower_.close();
    state_ = state::closed;
    return ec;
  }

  const wolfssl_context* context_;
  Lower lower_;
  wolfssl_engine engine_;
  std::error_code setup_error_{};
  state state_ = state::closed;
  bool eof_ = false;
};

}  // namespace thingwell::net

#endif  // THINGWELL_WITH_WOLFSSL
