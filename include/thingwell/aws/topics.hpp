// thingwell — Device Shadow topics: building them for a thing and a shadow, and taking a received one
// apart again.
//
//   $aws/things/<thing>/shadow/<operation>[/<response>]                  classic shadow
//   $aws/things/<thing>/shadow/name/<shadow>/<operation>[/<response>]    named shadow
//
// Names are validated here, so a topic that AWS would refuse (or that would match a neighbour's) is
// never built. Parsing accepts exactly the topics make_shadow_topic can build.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "limits.hpp"

namespace thingwell::aws {

enum class shadow_operation : std::uint8_t { get, update, remove };  // remove: the "delete" topic

// What follows the operation: nothing for a request, or one of the service's answers.
enum class shadow_response : std::uint8_t { request, accepted, rejected, delta, documents };

inline constexpr std::string_view to_string(shadow_operation op) noexcept {
  switch (op) {
    case shadow_operation::get: return "get";
    case shadow_operation::update: return "update";
    case shadow_operation::remove: return "delete";
  }
  return "?";
}

inline constexpr std::string_view to_string(shadow_response r) noexcept {
  switch (r) {
    case shadow_response::request: return "";
    case shadow_response::accepted: return "accepted";
    case shadow_response::rejected: return "rejected";
    case shadow_response::delta: return "delta";
    case shadow_response::documents: return "documents";
  }
  return "?";
}

// Room for the longest shadow topic.
using topic_buffer = std::array<char, max_topic>;

// A received shadow topic, taken apart. The views point into the topic.
struct shadow_topic {
  std::string_view thing;
  std::string_view shadow;  // empty for the classic shadow
  shadow_operation operation = shadow_operation::get;
  shadow_response response = shadow_response::request;
};

namespace detail {

inline constexpr std::string_view things_prefix = "$aws/things/";
inline constexpr std::string_view shadow_level = "/shadow";
inline constexpr std::string_view name_level = "/name/";

// delta and documents exist for update only.
inline bool valid_pair(shadow_operation op, shadow_response r) noexcept {
  return (r != shadow_response::delta && r != shadow_response::documents) || op == shadow_operation::update;
}

}  // namespace detail

// Writes the topic into `out`. Errors: errc::thing_name_invalid, errc::shadow_name_invalid,
// errc::invalid_argument (delta or documents of get/delete), errc::buffer_too_small.
inline result<std::string_view> make_shadow_topic(std::span<char> out, std::string_view thing, std::string_view shadow,
                                                  shadow_operation op,
                                                  shadow_response response = shadow_response::request) noexcept {
  if (auto ec = check_thing_name(thing)) return ec;
  if (!shadow.empty()) {
    if (auto ec = check_shadow_name(shadow)) return ec;
  }
  if (!detail::valid_pair(op, response)) return errc::invalid_argument;
  std::size_t n = 0;
  bool fits = true;
  auto put = [&](std::string_view s) {
    if (!fits || s.size() > out.size() - n) {
      fits = false;
      return;
    }
    if (!s.empty()) std::memcpy(out.data() + n, s.data(), s.size());
    n += s.size();
  };
  put(detail::things_prefix);
  put(thing);
  put(detail::shadow_level);
  if (!shadow.empty()) {
    put(detail::name_level);
    put(shadow);
  }
  put("/");
  put(to_string(op));
  if (response != shadow_response::request) {
    put("/");
    put(to_string(response));
  }
  if (!fits) return errc::buffer_too_small;
  return std::string_view(out.data(), n);
}

// The parts of a shadow topic; errc::bad_topic_name for anything else (another service's topic, a
// malformed name, an unknown operation or response).
inline result<shadow_topic> parse_shadow_topic(std::string_view topic) noexcept {
  if (!topic.starts_with(detail::things_prefix)) return errc::bad_topic_name;
  topic.remove_prefix(detail::things_prefix.size());
  shadow_topic t;
  const std::size_t slash = topic.find('/');
  if (slash == std::string_view::npos) return errc::bad_topic_name;
  t.thing = topic.substr(0, slash);
  if (check_thing_name(t.thing)) return errc::bad_topic_name;
  topic.remove_prefix(slash);
  if (!topic.starts_with(detail::shadow_level)) return errc::bad_topic_name;
  topic.remove_prefix(detail::shadow_level.size());
  if (topic.starts_with(detail::name_level)) {
    topic.remove_prefix(detail::name_level.size());
    const std::size_t end = topic.find('/');
    if (end == std::string_view::npos) return errc::bad_topic_name;
    t.shadow = topic.substr(0, end);
    if (check_shadow_name(t.shadow)) return errc::bad_topic_name;
    topic.remove_prefix(end);
  }
  if (!topic.starts_with("/")) return errc::bad_topic_name;
  topic.remove_prefix(1);
  const std::size_t end = topic.find('/');
  const std::string_view op = topic.substr(0, end);
  if (op == "get") t.operation = shadow_operation::get;
  else if (op == "update") t.operation = shadow_operation::update;
  else if (op == "delete") t.operation = shadow_operation::remove;
  else return errc::bad_topic_name;
  if (end != std::string_view::npos) {
    const std::string_view r = topic.substr(end + 1);
    if (r == "accepted") t.response = shadow_response::accepted;
    else if (r == "rejected") t.response = shadow_response::rejected;
    else if (r == "delta") t.response = shadow_response::delta;
    else if (r == "documents") t.response = shadow_response::documents;
    else return errc::bad_topic_name;
  }
  if (!detail::valid_pair(t.operation, t.response)) return errc::bad_topic_name;
  return t;
}

}  // namespace thingwell::aws
