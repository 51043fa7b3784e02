// thingwell — JSON number text: the RFC 8259 grammar, exact 64-bit integers, and doubles.
//
// The compact reader keeps numbers as text and converts on access, so that a document with numbers the
// application never reads costs no conversion, and an MCU build that never asks for a double links no
// floating-point parser.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <system_error>

#include "../core/config.hpp"

namespace thingwell::json::detail {

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Scans `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` from p. Returns the end of the number, or
// nullptr when the text at p is not one. `integer` tells whether it has neither fraction nor exponent.
inline const char* scan_number(const char* p, const char* end, bool& integer) noexcept {
  if (p != end && *p == '-') ++p;
  if (p == end || !is_digit(*p)) return nullptr;
  if (*p == '0') {
    ++p;
    if (p != end && is_digit(*p)) return nullptr;  // leading zero
  } else {
    while (p != end && is_digit(*p)) ++p;
  }
  integer = true;
  if (p != end && *p == '.') {
    integer = false;
    ++p;
    if (p == end || !is_digit(*p)) return nullptr;
    while (p != end && is_digit(*p)) ++p;
  }
  if (p != end && (*p == 'e' || *p == 'E')) {
    integer = false;
    ++p;
    if (p != end && (*p == '+' || *p == '-')) ++p;
    if (p == end || !is_digit(*p)) return nullptr;
    while (p != end && is_digit(*p)) ++p;
  }
  return p;
}

// Magnitude and sign of an integer literal that scan_number accepted. Returns false when the magnitude
// does not fit in 64 bits.
inline bool integer_magnitude(std::string_view t, bool& negative, std::uint64_t& magnitude) noexcept {
  std::size_t i = 0;
  negative = !t.empty() && t[0] == '-';
  if (negative) i = 1;
  std::uint64_t m = 0;
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  for (; i < t.size(); ++i) {
    const auto d = static_cast<std::uint64_t>(t[i] - '0');
    if (m > (max - d) / 10) return false;
    m = m * 10 + d;
  }
  magnitude = m;
  return true;
}

// Whether an integer literal is representable as int64 or uint64 (what simdjson accepts, and what the
// value model promises).
inline bool integer_fits(std::string_view t) noexcept {
  bool negative = false;
  std::uint64_t m = 0;
  if (!integer_magnitude(t, negative, m)) return false;
  return !negative || m <= std::uint64_t{1} << 63;
}

// The decimal exponent E of a number with fraction or exponent written as 0.d1d2... x 10^E with d1 != 0;
// `zero` is set when every digit is 0. The exponent saturates far beyond the double range, so that an
// absurd exponent cannot overflow the arithmetic.
struct decimal_shape {
  long long exponent = 0;
  bool zero = true;
};

inline decimal_shape shape_of(std::string_view t) noexcept {
  decimal_shape s;
  std::size_t i = (!t.empty() && t[0] == '-') ? 1 : 0;
  long long int_digits = 0, leading_zeros = 0;
  bool in_fraction = false;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '.') {
      in_fraction = true;
      continue;
    }
    if (!is_digit(c)) break;
    if (!in_fraction) ++int_digits;
    if (s.zero && c == '0') ++leading_zeros;
    else s.zero = false;
  }
  long long e = 0;
  if (i < t.size()) {  // at 'e' or 'E'
    ++i;
    bool neg = false;
    if (t[i] == '+' || t[i] == '-') neg = t[i++] == '-';
    for (; i < t.size(); ++i)
      if (e < 1'000'000'000) e = e * 10 + (t[i] - '0');
    if (neg) e = -e;
  }
  s.exponent = int_digits - leading_zeros + e;
  return s;
}

// Whether a number with fraction or exponent rounds to infinity as a double. Exact: a value overflows
// when it is at least the midpoint between DBL_MAX and 2^1024 (ties go to the even neighbour, 2^1024).
// This keeps a full decimal-to-binary conversion out of parsing.
inline bool real_overflows(std::string_view t) noexcept {
  const decimal_shape s = shape_of(t);
  if (s.zero || s.exponent < 309) return false;
  if (s.exponent > 309) return true;
  // 2^1024 - 2^970, all 309 digits.
  static constexpr std::string_view midpoint =
      "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330"
      "286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069"
      "855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
  std::size_t k = 0;  // index into midpoint
  bool started = false;
  for (char c : t) {
    if (c == '-' || c == '.') continue;
    if (!is_digit(c)) break;
    if (!started && c == '0') continue;
    started = true;
    const char m = k < midpoint.size() ? midpoint[k] : '0';
    ++k;
    if (c != m) return c > m;
  }
  // The input ran out: it is below the midpoint if the midpoint has a nonzero digit left.
  for (; k < midpoint.size(); ++k)
    if (midpoint[k] != '0') return false;
  return true;
}

// The double nearest to a number text that the grammar accepted and that does not overflow.
inline double to_double(std::string_view t, bool integer) noexcept {
  if (integer) {
    bool negative = false;
    std::uint64_t m = 0;
    (void)integer_magnitude(t, negative, m);
    // Through the integer, so that both readers convert exactly the same way (and "-0" is 0).
    if (negative) return m == (std::uint64_t{1} << 63) ? -9223372036854775808.0 : -static_cast<double>(static_cast<std::int64_t>(m));
    return static_cast<double>(m);
  }
  double d = 0;
  const auto r = std::from_chars(t.data(), t.data() + t.size(), d);
  if (r.ec == std::errc::result_out_of_range) {
    // Overflow was refused at parse time, so this is an underflow: the nearest double is zero.
    return t[0] == '-' ? -0.0 : 0.0;
  }
  return d;
}

}  // namespace thingwell::json::detail
