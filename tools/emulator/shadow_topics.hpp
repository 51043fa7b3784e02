// thingwell emulator — the shadow topics: the device-facing ones AWS defines (§1.1) and the emulator's own
// admin topics, which play the part of the HTTPS API (GetThingShadow, UpdateThingShadow, DeleteThingShadow).
//
//   device  $aws/things/{thing}/shadow[/name/{shadow}]/{get|update|delete}[/accepted|/rejected|...]
//   admin   $thingwell/emulator/things/{thing}/shadow[/name/{shadow}]/{get|update|delete}[/accepted|/rejected]
//
// Admin requests behave like AWS's HTTPS calls: the answer goes back on the admin topic only, while an
// update still reaches devices through /update/delta and /update/documents (§1.3.3).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shadow_document.hpp"

namespace thingwell::emulator {

enum class shadow_operation { get, update, remove };
enum class request_origin { device, admin };

inline constexpr std::string_view device_topic_root = "$aws/things/";
inline constexpr std::string_view admin_topic_root = "$thingwell/emulator/things/";

struct shadow_request_topic {
  request_origin origin = request_origin::device;
  shadow_key key;
  shadow_operation operation = shadow_operation::get;
};

// Thing name 1–128 bytes of [a-zA-Z0-9:_-]; shadow name 1–64 bytes, '$' allowed as well (§1.1).
bool valid_thing_name(std::string_view name) noexcept;
bool valid_shadow_name(std::string_view name) noexcept;

// A request topic (no response suffix), or nothing. Names are not validated here.
std::optional<shadow_request_topic> parse_request_topic(std::string_view topic);

// "$aws/things/T/shadow" or "$aws/things/T/shadow/name/S" (or the admin root).
std::string shadow_topic_prefix(const shadow_key& key, request_origin origin = request_origin::device);
std::string_view operation_name(shadow_operation op) noexcept;

// What the service subscribes to: the request topics of both roots, classic and named.
std::vector<std::string> request_topic_filters();

}  // namespace thingwell::emulator
