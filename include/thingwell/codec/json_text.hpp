// thingwell — the text of JSON strings: UTF-8 well-formedness and escape sequences.
//
// Shared by the compact reader (which validates and unescapes) and the writer (which escapes). Nothing here
// allocates or throws; every function takes explicit bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../core/config.hpp"

namespace thingwell::json::detail {

// Length of the well-formed UTF-8 sequence that starts at p (whose first byte is >= 0x80), or 0 when it is
// ill-formed: overlong forms, surrogates (U+D800..U+DFFF) and values above U+10FFFF are rejected, as in
// RFC 3629 section 4 and the Unicode table of well-formed byte sequences.
inline std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) noexcept {
  const unsigned c = p[0];
  const std::size_t avail = static_cast<std::size_t>(end - p);
  auto cont = [&](std::size_t i) { return i < avail && (p[i] & 0xC0u) == 0x80u; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (avail < 2) return 0;
    const unsigned c1 = p[1];
    // E0 needs A0..BF (else overlong); ED needs 80..9F (else a surrogate).
    if (c == 0xE0 && c1 < 0xA0) return 0;
    if (c == 0xED && c1 > 0x9F) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (avail < 2) return 0;
    const unsigned c1 = p[1];
    // F0 needs 90..BF (else overlong); F4 needs 80..8F (else above U+10FFFF).
    if (c == 0xF0 && c1 < 0x90) return 0;
    if (c == 0xF4 && c1 > 0x8F) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;  // 80..C1 (continuation or overlong lead) and F5..FF never start a sequence
}

inline bool is_valid_utf8(std::string_view s) noexcept {
  auto p = reinterpret_cast<const unsigned char*>(s.data());
  const auto end = p + s.size();
  while (p != end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const std::size_t n = utf8_sequence_length(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

inline int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits of a \u escape at p (the caller guarantees four bytes), or -1.
inline long hex4(const char* p) noexcept {
  long v = 0;
  for (int i = 0; i < 4; ++i) {
    const int d = hex_digit(p[i]);
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

// Writes the UTF-8 form of a scalar value (not a surrogate) to out[0..4) and returns its length.
inline std::size_t encode_utf8(std::uint32_t cp, char* out) noexcept {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// Decodes the content of a string that has already been validated (by the compact reader) and hands the
// bytes to sink(const char*, std::size_t) piece by piece: runs of plain text as they are, each escape as
// its UTF-8 bytes. The sink returns false to stop early; the function returns false if it did. Streaming
// the pieces lets a key be compared, measured or copied without a scratch buffer for the whole string.
template <class Sink>
bool decode_validated_string(std::string_view raw, Sink&& sink) noexcept {
  const char* p = raw.data();
  const char* const end = p + raw.size();
  while (p != end) {
    const char* run = p;
    while (p != end && *p != '\\') ++p;
    if (p != run && !sink(run, static_cast<std::size_t>(p - run))) return false;
    if (p == end) break;
    const char e = p[1];
    p += 2;
    char c = 0;
    switch (e) {
      case '"': c = '"'; break;
      case '\\': c = '\\'; break;
      case '/': c = '/'; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'n': c = '\n'; break;
      case 'r': c = '\r'; break;
      case 't': c = '\t'; break;
      default: {  // 'u': validation guarantees four hex digits and, for a high surrogate, its low half
        std::uint32_t cp = static_cast<std::uint32_t>(hex4(p));
        p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          const auto low = static_cast<std::uint32_t>(hex4(p + 2));
          p += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        char buf[4];
        if (!sink(buf, encode_utf8(cp, buf))) return false;
        continue;
      }
    }
    if (!sink(&c, 1)) return false;
  }
  return true;
}

}  // namespace thingwell::json::detail
