// thingwell — MQTT UTF-8 string rules (MQTT 5 §1.5.4, MQTT 3.1.1 §1.5.3).
//
// A string is well-formed UTF-8 (RFC 3629: no overlong forms, nothing above U+10FFFF), contains no
// UTF-16 surrogate code points (U+D800..U+DFFF) and no U+0000. Control characters and non-characters
// are allowed: the specification only says a sender SHOULD NOT use them.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "../core/config.hpp"

namespace thingwell::mqtt {

inline bool is_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  while (p != end) {
    // Fast path: eight ASCII bytes at a time (topics and JSON keys are nearly always ASCII).
    while (end - p >= 8) {
      std::uint64_t chunk;
      std::memcpy(&chunk, p, 8);
      if (chunk & 0x8080808080808080ull) break;
      // U+0000 inside the chunk: a zero byte.
      if ((chunk - 0x0101010101010101ull) & ~chunk & 0x8080808080808080ull) return false;
      p += 8;
    }
    if (p == end) break;
    const unsigned char c = *p;
    if (c < 0x80) {
      if (c == 0) return false;
      ++p;
      continue;
    }
    std::uint32_t cp;
    int extra;
    if (c >= 0xC2 && c <= 0xDF) {
      cp = c & 0x1F;
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      cp = c & 0x0F;
      extra = 2;
    } else if (c >= 0xF0 && c <= 0xF4) {
      cp = c & 0x07;
      extra = 3;
    } else {
      return false;  // continuation byte, overlong lead 0xC0/0xC1, or lead above U+10FFFF
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      const unsigned char cc = p[i];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    p += extra + 1;
  }
  return true;
}

}  // namespace thingwell::mqtt
