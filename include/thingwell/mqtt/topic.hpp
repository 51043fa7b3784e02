// thingwell — topic names, topic filters and matching (MQTT 5 §4.7, MQTT 3.1.1 §4.7).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "../core/error.hpp"
#include "types.hpp"
#include "utf8.hpp"

namespace thingwell::mqtt {

// A topic name (what PUBLISH carries): at least one character, no wildcard, valid MQTT UTF-8.
inline std::error_code validate_topic_name(std::string_view topic) noexcept {
  if (topic.empty()) return errc::bad_topic_name;
  if (topic.size() > max_field_length) return errc::string_too_long;
  // This runs on every PUBLISH in both directions, and real topics are short ASCII: eight bytes at a
  // time look for '+', '#', U+0000 and any non-ASCII byte; only a chunk with one is looked at closely.
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  constexpr std::uint64_t highs = 0x8080808080808080ull;
  const auto has_zero = [](std::uint64_t v) { return ((v - ones) & ~v & highs) != 0; };
  const char* p = topic.data();
  std::size_t left = topic.size();
  bool plain = true;
  while (left >= 8 && plain) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    plain = (v & highs) == 0 && !has_zero(v) && !has_zero(v ^ (ones * '+')) && !has_zero(v ^ (ones * '#'));
    if (plain) {
      p += 8;
      left -= 8;
    }
  }
  bool ascii = true;
  for (; left != 0; ++p, --left) {
    const auto b = static_cast<unsigned char>(*p);
    if (b == '+' || b == '#') return errc::bad_topic_name;
    if (b == 0) return errc::bad_utf8;
    ascii &= b < 0x80;
  }
  if (!ascii && !is_valid_utf8(topic)) return errc::bad_utf8;
  return {};
}

// Parts of a shared subscription filter "$share/{ShareName}/{filter}" (MQTT 5 §4.8.2).
struct shared_filter {
  std::string_view share_name;  // empty when the filter is not shared
  std::string_view filter;      // the filter that is matched against topics
};

inline constexpr std::string_view share_prefix = "$share/";

// Splits off "$share/{ShareName}/" when present. A malformed share prefix yields an empty filter.
inline shared_filter split_shared(std::string_view filter) noexcept {
  if (filter.substr(0, share_prefix.size()) != share_prefix) return {{}, filter};
  const std::string_view rest = filter.substr(share_prefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return {rest, {}};
  return {rest.substr(0, slash), rest.substr(slash + 1)};
}

// A topic filter (what SUBSCRIBE carries): '+' and '#' occupy whole levels, '#' only last.
inline std::error_code validate_topic_filter(std::string_view filter) noexcept {
  if (filter.empty()) return errc::bad_topic_filter;
  if (filter.size() > max_field_length) return errc::string_too_long;
  if (!is_valid_utf8(filter)) return errc::bad_utf8;
  const shared_filter shared = split_shared(filter);
  if (shared.filter.data() != filter.data()) {
    // ShareName: at least one character, no '/', '+' or '#'; then a non-empty filter.
    if (shared.share_name.empty() || shared.share_name.find_first_of("+#") != std::string_view::npos ||
        shared.filter.empty())
      return errc::bad_topic_filter;
  }
  const std::string_view f = shared.filter;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if (c != '+' && c != '#') continue;
    const bool starts_level = i == 0 || f[i - 1] == '/';
    const bool ends_level = i + 1 == f.size() || f[i + 1] == '/';
    if (!starts_level || !ends_level) return errc::bad_topic_filter;
    if (c == '#' && i + 1 != f.size()) return errc::bad_topic_filter;
  }
  return {};
}

inline bool has_wildcard(std::string_view filter) noexcept {
  return filter.find_first_of("+#") != std::string_view::npos;
}

// True when `topic` (a valid topic name) matches `filter` (a valid topic filter, possibly shared).
// Follows the MQTT specification: "a/#" matches "a" too, '+' matches an empty level, and a filter that
// starts with a wildcard does not match a topic that starts with '$' [MQTT-4.7.2-1].
inline bool topic_matches(std::string_view filter, std::string_view topic) noexcept {
  filter = split_shared(filter).filter;
  if (!topic.empty() && topic.front() == '$' && !filter.empty() && (filter.front() == '+' || filter.front() == '#'))
    return false;
  std::size_t f = 0;
  std::size_t t = 0;
  while (f < filter.size()) {
    if (filter[f] == '#') return true;  // matches the parent level and everything below
    if (filter[f] == '+') {
      while (t < topic.size() && topic[t] != '/') ++t;
      ++f;
    } else {
      while (f < filter.size() && filter[f] != '/' && t < topic.size() && topic[t] == filter[f]) {
        ++f;
        ++t;
      }
      if (f < filter.size() && filter[f] != '/') return false;  // mismatch inside the level
      if (t < topic.size() && topic[t] != '/') return false;    // topic level longer
    }
    // Both at the end of a level: either both end, or both continue with '/'.
    if (f == filter.size()) return t == topic.size();
    if (t == topic.size()) {
      // "a/#" also matches "a": the filter may continue with exactly "/#".
      return filter.substr(f) == "/#";
    }
    ++f;  // skip '/'
    ++t;
  }
  return t == topic.size();
}

}  // namespace thingwell::mqtt
