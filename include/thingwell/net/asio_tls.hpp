// thingwell — TLS for the Asio driver.
//
//   auto context = net::wolfssl_context::create(tls);
//   net::asio_client<net::asio_tls> client{io.get_executor(), options, std::cref(*context)};
//
// A stream with the same four operations as asio_tcp. Ciphertext moves between the TLS engine and a
// TCP socket with at most one socket write and one socket read in flight; plaintext reads and writes
// from the client may overlap. Runs on the client's strand. The context must outlive the client.
#pragma once

#include "../core/config.hpp"

#if THINGWELL_WITH_ASIO && THINGWELL_WITH_WOLFSSL

#include <asio/post.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "../core/inplace_function.hpp"
#include "asio_tcp.hpp"
#include "tls_wolfssl.hpp"

namespace thingwell::net {

class asio_tls {
  // The Asio client's handlers: its `this`, a shared_ptr to the connection and an allocator.
  using open_function = inplace_function<void(std::error_code), 8 * sizeof(void*)>;
  using io_function = inplace_function<void(std::error_code, std::size_t), 8 * sizeof(void*)>;

 public:
  using executor_type = asio::any_io_executor;

  asio_tls(executor_type ex, std::reference_wrapper<const wolfssl_context> context, tls_buffer_sizes sizes = {})
      : tcp_(ex) {
    auto engine = wolfssl_engine::create(context.get(), sizes);
    if (engine) engine_ = std::move(*engine);
    else setup_error_ = engine.error();
  }

  executor_type get_executor() noexcept { return tcp_.get_executor(); }
  wolfssl_engine& engine() noexcept { return engine_; }

  // handler(std::error_code): TCP connected and the TLS handshake complete.
  template <class Handler>
  void async_open(const std::string& host, std::uint16_t port, Handler&& handler) {
    open_handler_ = std::forward<Handler>(handler);
    if (setup_error_) return finish_open(setup_error_);
    tcp_.async_open(host, port, [this, alive = alive_](std::error_code ec) {
      if (!*alive) return;
      if (ec) return finish_open(ec);
      if (auto r = engine_.reset(); !r) return finish_open(r.error());
      handshaking_ = true;
      drive();
    });
  }

  // handler(std::error_code, std::size_t): all of `plaintext` is encrypted and on its way.
  template <class Handler>
  void async_write(bytes_view plaintext, Handler&& handler) {
    write_data_ = plaintext;
    write_done_ = 0;
    write_handler_ = std::forward<Handler>(handler);
    drive();
  }

  // handler(std::error_code, std::size_t)
  template <class Handler>
  void async_read_some(mutable_bytes space, Handler&& handler) {
    read_space_ = space;
    read_handler_ = std::forward<Handler>(handler);
    drive();
  }

  void close() noexcept {
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
    if (!handshaking_ && !failed_) {
      (void)engine_.shutdown();  // close_notify, best effort
    }
    tcp_.close();
    // Pending handlers learn that their operation ended.
    auto w = std::move(write_handler_);
    auto r = std::move(read_handler_);
    auto o = std::move(open_handler_);
    write_handler_ = nullptr;
    read_handler_ = nullptr;
    open_handler_ = nullptr;
    if (o || w || r) {
      asio::post(get_executor(), [o = std::move(o), w = std::move(w), r = std::move(r)]() mutable {
        const std::error_code ec = make_error_code(errc::cancelled);
        if (o) o(ec);
        if (w) w(ec, 0);
        if (r) r(ec, 0);
      });
    }
    flushing_ = reading_ = handshaking_ = false;
    failed_ = false;
  }

 private:
  // Advances whatever can advance: handshake, pending write, pending read; then keeps one socket
  // write and one socket read going as needed.
  void drive() {
    if (failed_) return;
    if (handshaking_) {
      auto r = engine_.handshake();
      if (r) {
        handshaking_ = false;
        start_flush();
        return finish_open({});
      }
      if (r.error() != errc::would_block) {
        start_flush();  // the alert
        failed_ = true;
        return finish_open(r.error());
      }
      start_flush();
      if (engine_.ciphertext_out().empty()) start_socket_read();
      return;
    }
    if (write_handler_) {
      while (write_done_ < write_data_.size()) {
        auto n = engine_.write(write_data_.subspan(write_done_));
        if (!n) {
          if (n.error() == errc::would_block) break;
          return fail(n.error());
        }
        write_done_ += *n;
      }
      start_flush();
      if (write_done_ == write_data_.size()) {
        auto h = std::move(write_handler_);
        write_handler_ = nullptr;
        post_completion(std::move(h), {}, write_data_.size());
      }
    }
    if (read_handler_) {
      auto n = engine_.read(read_space_);
      start_flush();  // TLS 1.3 may answer while reading (key update)
      if (n && *n == 0) return complete_read(make_error_code(errc::connection_reset), 0);
      if (n) return complete_read({}, *n);
      if (n.error() != errc::would_block) return complete_read(n.error(), 0);
      start_socket_read();
    }
  }

  void start_flush() {
    if (flushing_) return;
    const bytes_view out = engine_.ciphertext_out();
    if (out.empty()) return;
    flushing_ = true;
    tcp_.async_write(out, [this, alive = alive_](std::error_code ec, std::size_t n) {
      if (!*alive) return;
      flushing_ = false;
      if (ec) return fail(ec);
      engine_.ciphertext_sent(n);
      drive();
      start_flush();
    });
  }

  void start_socket_read() {
    if (reading_) return;
    const mutable_bytes space = engine_.ciphertext_in_space();
    if (space.empty()) return;
    reading_ = true;
    tcp_.async_read_some(space, [this, alive = alive_](std::error_code ec, std::size_t n) {
      if (!*alive) return;
      reading_ = false;
      if (ec) engine_.ciphertext_eof();  // the engine tells a clean close from a truncation
      else engine_.ciphertext_received(n);
      drive();
    });
  }

  // Completions are always posted, never run inside the call that started the operation (Asio's
  // rule: the caller may not be ready to be re-entered).
  void post_completion(io_function h, std::error_code ec, std::size_t n) {
    asio::post(get_executor(), [h = std::move(h), ec, n]() mutable { h(ec, n); });
  }

  void finish_open(std::error_code ec) {
    if (!open_handler_) return;
    auto h = std::move(open_handler_);
    open_handler_ = nullptr;
    asio::post(get_executor(), [h = std::move(h), ec]() mutable { h(ec); });
  }

  void complete_read(std::error_code ec, std::size_t n) {
    auto h = std::move(read_handler_);
    read_handler_ = nullptr;
    post_completion(std::move(h), ec, n);
  }

  void fail(std::error_code ec) {
    failed_ = true;
    if (handshaking_) finish_open(ec);
    if (write_handler_) {
      auto h = std::move(write_handler_);
      write_handler_ = nullptr;
      post_completion(std::move(h), ec, 0);
    }
    if (read_handler_) complete_read(ec, 0);
  }

  asio_raw_tcp tcp_;
  wolfssl_engine engine_;
  std::error_code setup_error_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // socket handlers after close() do nothing
  open_function open_handler_;
  io_function write_handler_;
  io_function read_handler_;
  bytes_view write_data_{};
  std::size_t write_done_ = 0;
  mutable_bytes read_space_{};
  bool handshaking_ = false;
  bool flushing_ = false;
  bool reading_ = false;
  bool failed_ = false;
};

}  // namespace thingwell::net

#endif  // THINGWELL_WITH_ASIO && THINGWELL_WITH_WOLFSSL
