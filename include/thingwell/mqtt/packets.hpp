// thingwell — the fourteen MQTT control packets (fifteen in MQTT 5), as plain structs.
//
// The same struct is what you fill to encode and what the decoder returns. Strings, payloads and lists
// are views: into your data when encoding; into the received frame when decoding, valid as long as
// that frame's bytes are.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "../core/bytes.hpp"
#include "properties.hpp"
#include "reason_code.hpp"
#include "types.hpp"
#include "wire_list.hpp"

namespace thingwell::mqtt {

// ---- list element types and their wire parsers -----------------------------------------------------

struct subscription {
  std::string_view filter;
  mqtt::qos max_qos = mqtt::qos::at_least_once;
  bool no_local = false;             // MQTT 5: do not receive our own publications
  bool retain_as_published = false;  // MQTT 5: keep the RETAIN flag as the publisher set it
  mqtt::retain_handling retain_handling = mqtt::retain_handling::send_on_subscribe;  // MQTT 5
  friend bool operator==(const subscription&, const subscription&) = default;
};

namespace detail {

constexpr std::uint8_t subscription_options_byte(const subscription& s) noexcept {
  return static_cast<std::uint8_t>(static_cast<unsigned>(s.max_qos) | (s.no_local ? 0x04u : 0u) |
                                   (s.retain_as_published ? 0x08u : 0u) |
                                   (static_cast<unsigned>(s.retain_handling) << 4));
}

struct subscription_parser {
  static bool next(byte_reader& r, subscription& out) noexcept {
    bytes_view filter;
    std::uint8_t options = 0;
    if (!r.prefixed(filter) || !r.u8(options)) return false;
    out.filter = as_string(filter);
    out.max_qos = static_cast<mqtt::qos>(options & 0x03);
    out.no_local = (options & 0x04) != 0;
    out.retain_as_published = (options & 0x08) != 0;
    out.retain_handling = static_cast<mqtt::retain_handling>((options >> 4) & 0x03);
    return true;
  }
};

struct topic_filter_parser {
  static bool next(byte_reader& r, std::string_view& out) noexcept {
    bytes_view filter;
    if (!r.prefixed(filter)) return false;
    out = as_string(filter);
    return true;
  }
};

struct reason_code_parser {
  static bool next(byte_reader& r, reason_code& out) noexcept {
    std::uint8_t v = 0;
    if (!r.u8(v)) return false;
    out = static_cast<reason_code>(v);
    return true;
  }
};

}  // namespace detail

using subscription_list = wire_list<subscription, detail::subscription_parser>;
using topic_filter_list = wire_list<std::string_view, detail::topic_filter_parser>;
using reason_code_list = wire_list<reason_code, detail::reason_code_parser>;

// ---- packets -------------------------------------------------------------------------------------

struct will_message {
  std::string_view topic;
  bytes_view payload;
  mqtt::qos qos = mqtt::qos::at_most_once;
  bool retain = false;
  properties props;  // MQTT 5 Will Properties
};

struct connect {
  static constexpr packet_type type = packet_type::connect;
  protocol_version version = protocol_version::v5;
  std::string_view client_id;
  bool clean_start = true;  // MQTT 3.1.1: Clean Session
  std::uint16_t keep_alive = 60;  // seconds; 0 disables keep-alive
  std::optional<will_message> will;
  std::optional<std::string_view> username;
  std::optional<bytes_view> password;
  properties props;
};

struct connack {
  static constexpr packet_type type = packet_type::connack;
  bool session_present = false;
  reason_code reason = reason_code::success;  // MQTT 3.1.1 return codes are mapped onto these
  properties props;
};

struct publish {
  static constexpr packet_type type = packet_type::publish;
  std::string_view topic;  // may be empty in MQTT 5 when props.topic_alias names the topic
  bytes_view payload;
  mqtt::qos qos = mqtt::qos::at_most_once;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;  // required for QoS 1 and 2
  properties props;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape.
template <packet_type Type>
struct publish_response {
  static constexpr packet_type type = Type;
  std::uint16_t packet_id = 0;
  reason_code reason = reason_code::success;  // MQTT 5 only
  properties props;
};
using puback = publish_response<packet_type::puback>;
using pubrec = publish_response<packet_type::pubrec>;
using pubrel = publish_response<packet_type::pubrel>;
using pubcomp = publish_response<packet_type::pubcomp>;

struct subscribe {
  static constexpr packet_type type = packet_type::subscribe;
  std::uint16_t packet_id = 0;
  subscription_list subscriptions;
  properties props;
};

struct suback {
  static constexpr packet_type type = packet_type::suback;
  std::uint16_t packet_id = 0;
  reason_code_list reasons;  // one per requested filter: granted QoS or a failure
  properties props;
};

struct unsubscribe {
  static constexpr packet_type type = packet_type::unsubscribe;
  std::uint16_t packet_id = 0;
  topic_filter_list filters;
  properties props;
};

struct unsuback {
  static constexpr packet_type type = packet_type::unsuback;
  std::uint16_t packet_id = 0;
  reason_code_list reasons;  // MQTT 5 only; empty for MQTT 3.1.1
  properties props;
};

struct pingreq {
  static constexpr packet_type type = packet_type::pingreq;
};

struct pingresp {
  static constexpr packet_type type = packet_type::pingresp;
};

struct disconnect {
  static constexpr packet_type type = packet_type::disconnect;
  reason_code reason = normal_disconnection;  // MQTT 5 only
  properties props;
};

struct auth {
  static constexpr packet_type type = packet_type::auth;
  reason_code reason = reason_code::success;
  properties props;
};

using packet = std::variant<connect, connack, publish, puback, pubrec, pubrel, pubcomp, subscribe, suback, unsubscribe,
                            unsuback, pingreq, pingresp, disconnect, auth>;

inline packet_type type_of(const packet& p) noexcept {
  return std::visit([](const auto& v) { return std::remove_cvref_t<decltype(v)>::type; }, p);
}

}  // namespace thingwell::mqtt
