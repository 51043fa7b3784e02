// thingwell — the non-blocking transport policy used by the poll driver.
//
// A transport moves bytes and never blocks: every call does what it can now and says so. TCP, TLS
// over TCP, a vendor's cellular modem AT-socket, or a test pipe all fit the same four calls.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <system_error>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"

namespace thingwell::net {

enum class open_status : std::uint8_t {
  open,         // ready for send/recv
  in_progress,  // call open() again later (e.g. TCP connect or TLS handshake under way)
};

// Contract:
//   open()   starts opening or continues; returns open, in_progress, or the error that ended it.
//   send(b)  writes a prefix of b; returns its size (> 0) or errc::would_block; any other error
//            means the link is gone.
//   recv(b)  reads into b; returns the size (> 0) or errc::would_block; the peer closing the link is
//            errc::connection_reset.
//   close()  releases the link at once; open() may be called again afterwards.
template <class T>
concept nonblocking_transport = requires(T& t, bytes_view out, mutable_bytes in) {
  { t.open() } -> std::same_as<result<open_status>>;
  { t.send(out) } -> std::same_as<result<std::size_t>>;
  { t.recv(in) } -> std::same_as<result<std::size_t>>;
  { t.close() } -> std::same_as<void>;
};

// Transports that can tell the poll driver which file descriptor to wait on (POSIX hosts).
template <class T>
concept pollable = requires(const T& t) {
  { t.native_handle() } -> std::convertible_to<int>;
  { t.wants_write() } -> std::convertible_to<bool>;
};

}  // namespace thingwell::net
