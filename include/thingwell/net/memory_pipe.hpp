// thingwell — an in-memory connection: a non-blocking transport whose far end is code in the same
// process (a test broker, a simulator, a bridge to another task).
//
//   net::memory_link<4096> link;                 // both directions, 4096 bytes each, no heap
//   net::poll_client<net::memory_pipe> client{net::memory_pipe{link}, config, observer};
//   ...
//   std::size_t n = link.server_read(buffer);    // what the client sent
//   link.server_write(reply);                    // what the client will receive
//
// It behaves like a TCP socket as the poll driver sees it: writes are accepted only as far as the buffer
// has room (the rest is errc::would_block, which is how back-pressure reaches the session), the far end
// closing is seen after the bytes it sent before closing have been read, and a link can refuse to open.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "transport.hpp"

namespace thingwell::net {

namespace detail {

// A bounded FIFO of bytes over storage it does not own.
class byte_ring {
 public:
  constexpr byte_ring(byte* storage, std::size_t capacity) noexcept : data_(storage), capacity_(capacity) {}

  std::size_t size() const noexcept { return size_; }
  std::size_t room() const noexcept { return capacity_ - size_; }
  void clear() noexcept { head_ = size_ = 0; }

  // Appends as much of `in` as fits; returns how much that was.
  std::size_t write(bytes_view in) noexcept {
    const std::size_t n = in.size() < room() ? in.size() : room();
    std::size_t tail = (head_ + size_) % capacity_;
    const std::size_t first = n < capacity_ - tail ? n : capacity_ - tail;
    if (first != 0) std::memcpy(data_ + tail, in.data(), first);
    if (n > first) std::memcpy(data_, in.data() + first, n - first);
    size_ += n;
    return n;
  }

  // Takes up to out.size() bytes from the front.
  std::size_t read(mutable_bytes out) noexcept {
    const std::size_t n = out.size() < size_ ? out.size() : size_;
    const std::size_t first = n < capacity_ - head_ ? n : capacity_ - head_;
    if (first != 0) std::memcpy(out.data(), data_ + head_, first);
    if (n > first) std::memcpy(out.data() + first, data_, n - first);
    head_ = capacity_ == 0 ? 0 : (head_ + n) % capacity_;
    size_ -= n;
    return n;
  }

 private:
  byte* data_;
  std::size_t capacity_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace detail

// Both directions of one in-memory connection, and the far end's view of it. Size-erased: memory_pipe
// and code that serves the far end take a memory_link_base&, whatever the capacity.
class memory_link_base {
 public:
  memory_link_base(const memory_link_base&) = delete;
  memory_link_base& operator=(const memory_link_base&) = delete;

  // ---- the far end ----

  // True while the client has the link open and the far end has not hung up.
  bool connected() const noexcept { return client_open_ && !server_closed_; }
  // How many times the client opened the link: a new number means a new connection.
  std::uint32_t connections() const noexcept { return connections_; }

  // Bytes the client sent, oldest first.
  std::size_t server_read(mutable_bytes out) noexcept { return up_.read(out); }
  std::size_t server_pending() const noexcept { return up_.size(); }
  // Queues bytes for the client; returns how many fit (the rest must be offered again later).
  std::size_t server_write(bytes_view in) noexcept {
    if (!connected()) return 0;
    return down_.write(in);
  }
  // Hangs up: the client reads what was queued before, then sees errc::connection_reset.
  void server_close() noexcept {
    if (client_open_) server_closed_ = true;
  }
  // While set, the client's open() fails with errc::connection_refused.
  void refuse_connections(bool refuse) noexcept { refusing_ = refuse; }

  // ---- the client end (used by memory_pipe) ----

  result<open_status> client_open() noexcept {
    if (refusing_) return errc::connection_refused;
    up_.clear();
    down_.clear();
    client_open_ = true;
    server_closed_ = false;
    ++connections_;
    return open_status::open;
  }

  result<std::size_t> client_send(bytes_view out) noexcept {
    if (!client_open_) return errc::not_connected;
    if (server_closed_) return errc::connection_reset;
    const std::size_t n = up_.write(out);
    if (n == 0) return errc::would_block;
    return n;
  }

  result<std::size_t> client_recv(mutable_bytes in) noexcept {
    if (!client_open_) return errc::not_connected;
    const std::size_t n = down_.read(in);
    if (n != 0) return n;
    if (server_closed_) return errc::connection_reset;
    return errc::would_block;
  }

  void client_close() noexcept {
    client_open_ = false;
    server_closed_ = false;
    up_.clear();
    down_.clear();
  }

 protected:
  memory_link_base(byte* up, byte* down, std::size_t capacity) noexcept : up_(up, capacity), down_(down, capacity) {}
  ~memory_link_base() = default;

 private:
  detail::byte_ring up_;    // client → far end
  detail::byte_ring down_;  // far end → client
  std::uint32_t connections_ = 0;
  bool client_open_ = false;
  bool server_closed_ = false;
  bool refusing_ = false;
};

namespace detail {
// A base class, so that the buffers exist before memory_link_base is given their addresses.
template <std::size_t Capacity>
struct link_storage {
  std::array<byte, Capacity> up{};
  std::array<byte, Capacity> down{};
};
}  // namespace detail

template <std::size_t Capacity = 4096>
class memory_link final : private detail::link_storage<Capacity>, public memory_link_base {
  static_assert(Capacity > 0, "a link needs room for at least one byte each way");

 public:
  memory_link() noexcept : memory_link_base(this->up.data(), this->down.data(), Capacity) {}
};

// The client's end of a memory_link: a nonblocking_transport.
class memory_pipe {
 public:
  explicit memory_pipe(memory_link_base& link) noexcept : link_(&link) {}

  result<open_status> open() noexcept { return link_->client_open(); }
  result<std::size_t> send(bytes_view out) noexcept { return link_->client_send(out); }
  result<std::size_t> recv(mutable_bytes in) noexcept { return link_->client_recv(in); }
  void close() noexcept { link_->client_close(); }

  memory_link_base& link() noexcept { return *link_; }

 private:
  memory_link_base* link_;
};

static_assert(nonblocking_transport<memory_pipe>);

}  // namespace thingwell::net
