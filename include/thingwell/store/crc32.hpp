// thingwell — CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), the checksum of every stored record.
//
// The table is built at compile time so that it lands in flash (.rodata) on a microcontroller instead of
// costing 1 KB of RAM. CRC-32 rather than a cryptographic hash: it has to catch torn writes and flipped
// bits, not an attacker, and it must be cheap on a Cortex-M0 without hardware support.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../core/bytes.hpp"

namespace thingwell::store {

namespace detail {

constexpr std::array<std::uint32_t, 256> make_crc32_table() noexcept {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1U) != 0 ? (c >> 1) ^ 0xEDB88320U : c >> 1;
    table[i] = c;
  }
  return table;
}

inline constexpr std::array<std::uint32_t, 256> crc32_table = make_crc32_table();

}  // namespace detail

// Streaming form: feed pieces with update(), read value() at the end. Lets a record's checksum cover a
// header and a payload that live in different buffers without copying them together.
class crc32 {
 public:
  constexpr crc32() noexcept = default;

  constexpr crc32& update(bytes_view data) noexcept {
    std::uint32_t c = state_;
    for (byte b : data) c = detail::crc32_table[(c ^ b) & 0xFFU] ^ (c >> 8);
    state_ = c;
    return *this;
  }
  constexpr std::uint32_t value() const noexcept { return state_ ^ 0xFFFFFFFFU; }

 private:
  std::uint32_t state_ = 0xFFFFFFFFU;
};

constexpr std::uint32_t crc32_of(bytes_view data) noexcept { return crc32{}.update(data).value(); }

}  // namespace thingwell::store
