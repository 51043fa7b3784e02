// thingwell — byte views and bounds-checked cursors.
//
// The codecs read from `bytes_view` (a view over input they do not own) and write into `mutable_bytes`
// (a caller-owned buffer). byte_reader never reads past its end: every read reports failure instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "config.hpp"

namespace thingwell {

using byte = std::uint8_t;
using bytes_view = std::span<const byte>;
using mutable_bytes = std::span<byte>;

inline bytes_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const byte*>(s.data()), s.size()};
}
inline std::string_view as_string(bytes_view b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline bool equal(bytes_view a, bytes_view b) noexcept {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// Reads big-endian integers and length-prefixed fields from a view. Every accessor returns false (and
// leaves the cursor unspecified) when the input is too short.
class byte_reader {
 public:
  constexpr byte_reader() noexcept = default;
  constexpr explicit byte_reader(bytes_view in) noexcept : data_(in.data()), end_(in.data() + in.size()) {}

  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - data_); }
  bool empty() const noexcept { return data_ == end_; }
  const byte* position() const noexcept { return data_; }
  bytes_view rest() const noexcept { return {data_, remaining()}; }

  bool u8(std::uint8_t& out) noexcept {
    if (data_ == end_) return false;
    out = *data_++;
    return true;
  }
  bool u16(std::uint16_t& out) noexcept {
    if (remaining() < 2) return false;
    out = static_cast<std::uint16_t>((data_[0] << 8) | data_[1]);
    data_ += 2;
    return true;
  }
  bool u32(std::uint32_t& out) noexcept {
    if (remaining() < 4) return false;
    out = (std::uint32_t{data_[0]} << 24) | (std::uint32_t{data_[1]} << 16) | (std::uint32_t{data_[2]} << 8) |
          std::uint32_t{data_[3]};
    data_ += 4;
    return true;
  }
  bool take(std::size_t n, bytes_view& out) noexcept {
    if (remaining() < n) return false;
    out = {data_, n};
    data_ += n;
    return true;
  }
  // A two-byte length followed by that many bytes (MQTT "Binary Data" and the raw form of a string).
  bool prefixed(bytes_view& out) noexcept {
    std::uint16_t n = 0;
    return u16(n) && take(n, out);
  }
  bool skip(std::size_t n) noexcept {
    if (remaining() < n) return false;
    data_ += n;
    return true;
  }

 private:
  const byte* data_ = nullptr;
  const byte* end_ = nullptr;
};

// Writes into a buffer whose size the caller has already checked. The encoders compute the exact
// encoded size first and reject a short buffer before writing, so the hot path carries no checks;
// THINGWELL_ASSERT still guards debug builds.
class byte_writer {
 public:
  constexpr explicit byte_writer(mutable_bytes out) noexcept : begin_(out.data()), data_(out.data()), end_(out.data() + out.size()) {}

  std::size_t written() const noexcept { return static_cast<std::size_t>(data_ - begin_); }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - data_); }

  THINGWELL_ALWAYS_INLINE void u8(std::uint8_t v) noexcept {
    THINGWELL_ASSERT(remaining() >= 1);
    *data_++ = v;
  }
  THINGWELL_ALWAYS_INLINE void u16(std::uint16_t v) noexcept {
    THINGWELL_ASSERT(remaining() >= 2);
    data_[0] = static_cast<byte>(v >> 8);
    data_[1] = static_cast<byte>(v);
    data_ += 2;
  }
  THINGWELL_ALWAYS_INLINE void u32(std::uint32_t v) noexcept {
    THINGWELL_ASSERT(remaining() >= 4);
    data_[0] = static_cast<byte>(v >> 24);
    data_[1] = static_cast<byte>(v >> 16);
    data_[2] = static_cast<byte>(v >> 8);
    data_[3] = static_cast<byte>(v);
    data_ += 4;
  }
  THINGWELL_ALWAYS_INLINE void raw(bytes_view b) noexcept {
    THINGWELL_ASSERT(remaining() >= b.size());
    if (!b.empty()) std::memcpy(data_, b.data(), b.size());
    data_ += b.size();
  }
  THINGWELL_ALWAYS_INLINE void prefixed(bytes_view b) noexcept {
    u16(static_cast<std::uint16_t>(b.size()));
    raw(b);
  }
  THINGWELL_ALWAYS_INLINE void prefixed(std::string_view s) noexcept { prefixed(as_bytes(s)); }

 private:
  byte* begin_;
  byte* data_;
  byte* end_;
};

}  // namespace thingwell
