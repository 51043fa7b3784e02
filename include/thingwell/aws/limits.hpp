// thingwell — AWS IoT Core limits the device services check before anything is sent.
//
// The numbers come from shared/aws-iot-protocol.md (section 1.8 and 6.9). Checking them locally turns a
// request the service would reject (or silently drop) into a typed error at the call site.
#pragma once

#include <cstddef>
#include <string_view>
#include <system_error>

#include "../core/config.hpp"
#include "../core/error.hpp"

namespace thingwell::aws {

inline constexpr std::size_t max_thing_name = 128;
inline constexpr std::size_t max_shadow_name = 64;
inline constexpr std::size_t max_client_token = 64;
// Desired plus reported state of one shadow; metadata does not count.
inline constexpr std::size_t max_shadow_document = 8192;
// "$aws/things/<128>/shadow/name/<64>/update/documents" is 234 bytes; AWS allows 256.
inline constexpr std::size_t max_topic = 256;

namespace detail {

inline bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
         c == '-';
}

}  // namespace detail

// Thing names: 1..128 bytes of [a-zA-Z0-9:_-].
inline std::error_code check_thing_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_thing_name) return errc::thing_name_invalid;
  for (char c : name)
    if (!detail::is_name_char(c)) return errc::thing_name_invalid;
  return {};
}

// Shadow names: 1..64 bytes of [$a-zA-Z0-9:_-]. The classic shadow has no name; pass an empty view to
// the topic functions for it, never to this check.
inline std::error_code check_shadow_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_shadow_name) return errc::shadow_name_invalid;
  for (char c : name)
    if (!detail::is_name_char(c) && c != '$') return errc::shadow_name_invalid;
  return {};
}

}  // namespace thingwell::aws
