// thingwell — statusDetails of a job execution: AWS's limits (shared/aws-iot-protocol.md section 2.7),
// checked before anything is sent, and a small writer that always stays within them.
//
//   aws::status_details<256> d;
//   d.set("step", "2/4");
//   d.set("log", tail_of_stdout);     // longer than 1024 characters: the last 1024 are kept
//   ctx.progress(d.view());
//
// The limits: at most 10 pairs; keys 1..128 bytes of [a-zA-Z0-9:_-]; values 1..1024 characters with no
// control characters (the pattern [^\p{C}]+). check_status_details() refuses anything else with
// errc::job_status_details_invalid, so that the service never answers InvalidRequest for it: that
// answer arrives after the device has moved on, and a terminal status refused that way is lost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

#include "../codec/json_reader.hpp"
#include "../codec/json_text.hpp"
#include "../codec/json_writer.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "limits.hpp"

namespace thingwell::aws {

inline constexpr std::size_t max_status_details_pairs = 10;
inline constexpr std::size_t max_status_details_key = 128;
inline constexpr std::size_t max_status_details_value = 1024;  // characters (code points), not bytes

namespace detail {

inline bool is_details_key(std::string_view k) noexcept {
  if (k.empty() || k.size() > max_status_details_key) return false;
  for (char c : k)
    if (!is_name_char(c)) return false;
  return true;
}

// Length in code points of valid UTF-8 (continuation bytes do not count).
inline std::size_t code_points(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// C0 controls, DEL, and C1 controls (U+0080..U+009F, encoded C2 80..C2 9F): the control part of \p{C},
// which is what a device produces by accident (newlines and tabs of a log line). Unassigned and private
// use code points are left to the service: checking them needs Unicode tables an MCU cannot afford.
inline bool has_control(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0) return true;
  }
  return false;
}

inline bool is_details_value(std::string_view v) noexcept {
  return !v.empty() && code_points(v) <= max_status_details_value && !has_control(v);
}

}  // namespace detail

// Checks that `v` is a statusDetails object within AWS's limits. `scratch` unescapes strings that have
// escapes (4 KB holds the longest legal value; with less, such a value is refused).
template <json::value V>
std::error_code check_status_details(const V& v, std::span<char> scratch) noexcept {
  if (v.kind() != json::type::object) return errc::job_status_details_invalid;
  std::size_t pairs = 0;
  for (const auto& m : v.members()) {
    if (++pairs > max_status_details_pairs) return errc::job_status_details_invalid;
    auto k = m.key(scratch);
    if (!k || !detail::is_details_key(*k)) return errc::job_status_details_invalid;
    const auto value = m.value();
    if (value.kind() != json::type::string) return errc::job_status_details_invalid;
    auto s = value.get_string(scratch);
    if (!s || !detail::is_details_value(*s)) return errc::job_status_details_invalid;
  }
  return {};
}

// Builds a statusDetails object in a fixed buffer. Keys are checked (a bad key is a programming error:
// errc::job_status_details_invalid); values are made to fit, since they usually carry text the device
// does not control (error messages, log tails): control characters become spaces, and a value longer
// than 1024 characters keeps its last 1024 (the end of a log says what went wrong). An empty value
// becomes "-". truncated() tells whether anything was changed.
template <std::size_t Bytes = 512>
class status_details {
 public:
  status_details() noexcept { clear(); }

  void clear() noexcept {
    size_ = 2;
    pairs_ = 0;
    truncated_ = false;
    error_ = {};
    buf_[0] = '{';
    buf_[1] = '}';
  }

  // Adds a pair (a key given twice is sent twice; the service keeps one: do not). Errors are sticky and
  // leave the object as it was before the failing call: errc::job_status_details_invalid (bad key, an
  // 11th pair, a value that is not UTF-8), errc::buffer_too_small.
  status_details& set(std::string_view key, std::string_view value) noexcept {
    if (error_) return *this;
    if (!detail::is_details_key(key) || pairs_ == max_status_details_pairs || !json::detail::is_valid_utf8(value)) {
      error_ = errc::job_status_details_invalid;
      return *this;
    }
    // Keep the last 1024 characters, starting on a character boundary.
    std::size_t cps = detail::code_points(value);
    while (cps > max_status_details_value && !value.empty()) {
      value.remove_prefix(1);
      while (!value.empty() && (static_cast<unsigned char>(value[0]) & 0xC0) == 0x80) value.remove_prefix(1);
      --cps;
      truncated_ = true;
    }
    if (value.empty()) {
      value = "-";
      truncated_ = true;
    }
    // Written into the buffer after the current members: "{...}" becomes "{...,"key":"value"}".
    std::size_t n = size_ - 1;  // overwrite the closing brace
    auto put = [&](std::string_view s) {
      if (s.size() > Bytes - n) return false;
      for (char c : s) buf_[n++] = c;
      return true;
    };
    bool ok = put(pairs_ == 0 ? "" : ",") && put("\"") && put(key) && put("\":\"");
    for (std::size_t i = 0; ok && i < value.size(); ++i) {
      const auto c = static_cast<unsigned char>(value[i]);
      if (c == 0xC2 && i + 1 < value.size() && static_cast<unsigned char>(value[i + 1]) < 0xA0) {
        ok = put(" ");  // a C1 control: two bytes become one space
        ++i;
        truncated_ = true;
      } else if (c < 0x20 || c == 0x7F) {
        ok = put(" ");
        truncated_ = true;
      } else if (c == '"' || c == '\\') {
        ok = put("\\") && put(std::string_view(&value[i], 1));
      } else {
        ok = put(std::string_view(&value[i], 1));
      }
    }
    ok = ok && put("\"}");
    if (!ok) {
      buf_[size_ - 1] = '}';
      error_ = errc::buffer_too_small;
      return *this;
    }
    size_ = n;
    ++pairs_;
    return *this;
  }

  std::string_view view() const noexcept { return {buf_, size_}; }
  std::error_code error() const noexcept { return error_; }
  bool truncated() const noexcept { return truncated_; }
  std::size_t size() const noexcept { return pairs_; }

 private:
  char buf_[Bytes];
  std::size_t size_ = 2;
  std::size_t pairs_ = 0;
  bool truncated_ = false;
  std::error_code error_{};
  static_assert(Bytes >= 16, "room for at least a small pair");
};

}  // namespace thingwell::aws
