// thingwell — MQTT Variable Byte Integer (MQTT 5 §1.5.5, MQTT 3.1.1 §2.2.3).
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "types.hpp"

namespace thingwell::mqtt {

// Bytes needed to encode v (v <= max_varint).
constexpr std::size_t varint_size(std::uint32_t v) noexcept {
  return v < 128u ? 1 : v < 16'384u ? 2 : v < 2'097'152u ? 3 : 4;
}

// Writes v (<= max_varint) at out; returns the number of bytes written.
inline std::size_t write_varint(byte* out, std::uint32_t v) noexcept {
  std::size_t n = 0;
  do {
    byte b = static_cast<byte>(v & 0x7F);
    v >>= 7;
    if (v != 0) b |= 0x80;
    out[n++] = b;
  } while (v != 0);
  return n;
}

inline void write_varint(byte_writer& w, std::uint32_t v) noexcept {
  do {
    byte b = static_cast<byte>(v & 0x7F);
    v >>= 7;
    if (v != 0) b |= 0x80;
    w.u8(b);
  } while (v != 0);
}

enum class varint_status : std::uint8_t { ok, need_more, malformed };

// Reads a Variable Byte Integer from the front of `in`. More than four bytes is malformed, and so is a
// non-minimal encoding such as 0x80 0x00 (MQTT 5 [MQTT-1.5.5-1]): accepting it would let two byte
// strings mean the same packet.
inline varint_status read_varint(bytes_view in, std::uint32_t& value, std::size_t& size) noexcept {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (i >= in.size()) return varint_status::need_more;
    const byte b = in[i];
    v |= static_cast<std::uint32_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) {
      if (i > 0 && b == 0) return varint_status::malformed;  // not the minimal encoding
      value = v;
      size = i + 1;
      return varint_status::ok;
    }
  }
  return varint_status::malformed;
}

// Reads a Variable Byte Integer from a reader that holds the whole packet.
inline bool read_varint(byte_reader& r, std::uint32_t& value) noexcept {
  std::size_t size = 0;
  if (read_varint(r.rest(), value, size) != varint_status::ok) return false;
  (void)r.skip(size);
  return true;
}

}  // namespace thingwell::mqtt
