// thingwell — MQTT 5 reason codes (MQTT 5 §2.4), which packets may carry them, and their error category.
//
// MQTT 3.1.1 CONNACK return codes and SUBACK return codes are mapped onto the MQTT 5 values with the
// same meaning, so the session handles one vocabulary for both versions.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>

#include "../core/error.hpp"
#include "types.hpp"

namespace thingwell::mqtt {

enum class reason_code : std::uint8_t {
  success = 0x00,  // also: normal disconnection, granted QoS 0
  granted_qos_1 = 0x01,
  granted_qos_2 = 0x02,
  disconnect_with_will_message = 0x04,
  no_matching_subscribers = 0x10,
  no_subscription_existed = 0x11,
  continue_authentication = 0x18,
  re_authenticate = 0x19,
  unspecified_error = 0x80,
  malformed_packet = 0x81,
  protocol_error = 0x82,
  implementation_specific_error = 0x83,
  unsupported_protocol_version = 0x84,
  client_identifier_not_valid = 0x85,
  bad_user_name_or_password = 0x86,
  not_authorized = 0x87,
  server_unavailable = 0x88,
  server_busy = 0x89,
  banned = 0x8A,
  server_shutting_down = 0x8B,
  bad_authentication_method = 0x8C,
  keep_alive_timeout = 0x8D,
  session_taken_over = 0x8E,
  topic_filter_invalid = 0x8F,
  topic_name_invalid = 0x90,
  packet_identifier_in_use = 0x91,
  packet_identifier_not_found = 0x92,
  receive_maximum_exceeded = 0x93,
  topic_alias_invalid = 0x94,
  packet_too_large = 0x95,
  message_rate_too_high = 0x96,
  quota_exceeded = 0x97,
  administrative_action = 0x98,
  payload_format_invalid = 0x99,
  retain_not_supported = 0x9A,
  qos_not_supported = 0x9B,
  use_another_server = 0x9C,
  server_moved = 0x9D,
  shared_subscriptions_not_supported = 0x9E,
  connection_rate_exceeded = 0x9F,
  maximum_connect_time = 0xA0,
  subscription_identifiers_not_supported = 0xA1,
  wildcard_subscriptions_not_supported = 0xA2,
};

inline constexpr reason_code normal_disconnection = reason_code::success;
inline constexpr reason_code granted_qos_0 = reason_code::success;

// Any value at or above 0x80 reports a failure.
constexpr bool is_failure(reason_code rc) noexcept { return static_cast<std::uint8_t>(rc) >= 0x80; }

inline constexpr const char* to_string(reason_code rc) noexcept {
  switch (rc) {
    case reason_code::success: return "success";
    case reason_code::granted_qos_1: return "granted QoS 1";
    case reason_code::granted_qos_2: return "granted QoS 2";
    case reason_code::disconnect_with_will_message: return "disconnect with will message";
    case reason_code::no_matching_subscribers: return "no matching subscribers";
    case reason_code::no_subscription_existed: return "no subscription existed";
    case reason_code::continue_authentication: return "continue authentication";
    case reason_code::re_authenticate: return "re-authenticate";
    case reason_code::unspecified_error: return "unspecified error";
    case reason_code::malformed_packet: return "malformed packet";
    case reason_code::protocol_error: return "protocol error";
    case reason_code::implementation_specific_error: return "implementation specific error";
    case reason_code::unsupported_protocol_version: return "unsupported protocol version";
    case reason_code::client_identifier_not_valid: return "client identifier not valid";
    case reason_code::bad_user_name_or_password: return "bad user name or password";
    case reason_code::not_authorized: return "not authorized";
    case reason_code::server_unavailable: return "server unavailable";
    case reason_code::server_busy: return "server busy";
    case reason_code::banned: return "banned";
    case reason_code::server_shutting_down: return "server shutting down";
    case reason_code::bad_authentication_method: return "bad authentication method";
    case reason_code::keep_alive_timeout: return "keep alive timeout";
    case reason_code::session_taken_over: return "session taken over";
    case reason_code::topic_filter_invalid: return "topic filter invalid";
    case reason_code::topic_name_invalid: return "topic name invalid";
    case reason_code::packet_identifier_in_use: return "packet identifier in use";
    case reason_code::packet_identifier_not_found: return "packet identifier not found";
    case reason_code::receive_maximum_exceeded: return "receive maximum exceeded";
    case reason_code::topic_alias_invalid: return "topic alias invalid";
    case reason_code::packet_too_large: return "packet too large";
    case reason_code::message_rate_too_high: return "message rate too high";
    case reason_code::quota_exceeded: return "quota exceeded";
    case reason_code::administrative_action: return "administrative action";
    case reason_code::payload_format_invalid: return "payload format invalid";
    case reason_code::retain_not_supported: return "retain not supported";
    case reason_code::qos_not_supported: return "QoS not supported";
    case reason_code::use_another_server: return "use another server";
    case reason_code::server_moved: return "server moved";
    case reason_code::shared_subscriptions_not_supported: return "shared subscriptions not supported";
    case reason_code::connection_rate_exceeded: return "connection rate exceeded";
    case reason_code::maximum_connect_time: return "maximum connect time";
    case reason_code::subscription_identifiers_not_supported: return "subscription identifiers not supported";
    case reason_code::wildcard_subscriptions_not_supported: return "wildcard subscriptions not supported";
  }
  return "unknown reason code";
}

namespace detail {

// One bit per packet type that may carry a reason code (bit n = packet_type n).
constexpr std::uint16_t bit(packet_type t) noexcept { return static_cast<std::uint16_t>(1u << static_cast<unsigned>(t)); }

// Table of MQTT 5 §2.4: which packets may carry each reason code.
constexpr std::uint16_t reason_code_packets(reason_code rc) noexcept {
  using enum packet_type;
  constexpr std::uint16_t acks = bit(puback) | bit(pubrec);
  switch (rc) {
    case reason_code::success:  // success, normal disconnection, granted QoS 0
      return bit(connack) | acks | bit(pubrel) | bit(pubcomp) | bit(suback) | bit(unsuback) | bit(disconnect) | bit(auth);
    case reason_code::granted_qos_1:
    case reason_code::granted_qos_2: return bit(suback);
    case reason_code::disconnect_with_will_message: return bit(disconnect);
    case reason_code::no_matching_subscribers: return acks;
    case reason_code::no_subscription_existed: return bit(unsuback);
    case reason_code::continue_authentication:
    case reason_code::re_authenticate: return bit(auth);
    case reason_code::unspecified_error:
    case reason_code::implementation_specific_error:
    case reason_code::not_authorized: return bit(connack) | acks | bit(suback) | bit(unsuback) | bit(disconnect);
    case reason_code::malformed_packet:
    case reason_code::protocol_error:
    case reason_code::server_busy:
    case reason_code::bad_authentication_method:
    case reason_code::packet_too_large:
    case reason_code::retain_not_supported:
    case reason_code::qos_not_supported:
    case reason_code::use_another_server:
    case reason_code::server_moved:
    case reason_code::connection_rate_exceeded: return bit(connack) | bit(disconnect);
    case reason_code::unsupported_protocol_version:
    case reason_code::client_identifier_not_valid:
    case reason_code::bad_user_name_or_password:
    case reason_code::server_unavailable:
    case reason_code::banned: return bit(connack);
    case reason_code::server_shutting_down:
    case reason_code::keep_alive_timeout:
    case reason_code::session_taken_over:
    case reason_code::receive_maximum_exceeded:
    case reason_code::topic_alias_invalid:
    case reason_code::message_rate_too_high:
    case reason_code::administrative_action:
    case reason_code::maximum_connect_time: return bit(disconnect);
    case reason_code::topic_filter_invalid: return bit(suback) | bit(unsuback) | bit(disconnect);
    case reason_code::topic_name_invalid:
    case reason_code::payload_format_invalid: return bit(connack) | acks | bit(disconnect);
    case reason_code::packet_identifier_in_use: return acks | bit(suback) | bit(unsuback);
    case reason_code::packet_identifier_not_found: return bit(pubrel) | bit(pubcomp);
    case reason_code::quota_exceeded: return bit(connack) | acks | bit(suback) | bit(disconnect);
    case reason_code::shared_subscriptions_not_supported:
    case reason_code::subscription_identifiers_not_supported:
    case reason_code::wildcard_subscriptions_not_supported: return bit(suback) | bit(disconnect);
  }
  return 0;
}

}  // namespace detail

// True when an MQTT 5 packet of type t may carry rc.
constexpr bool is_allowed(reason_code rc, packet_type t) noexcept {
  return (detail::reason_code_packets(rc) & detail::bit(t)) != 0;
}

// SUBACK codes: MQTT 3.1.1 knows only the granted QoS values and 0x80 (failure).
constexpr bool suback_code_allowed(reason_code rc, protocol_version v) noexcept {
  if (v == protocol_version::v5) return is_allowed(rc, packet_type::suback);
  return rc == reason_code::success || rc == reason_code::granted_qos_1 || rc == reason_code::granted_qos_2 ||
         rc == reason_code::unspecified_error;
}

// MQTT 3.1.1 CONNACK return codes 1..5 mean what MQTT 5 says with 0x84..0x87 and 0x88.
constexpr reason_code from_v311_connack(std::uint8_t code) noexcept {
  switch (code) {
    case 0: return reason_code::success;
    case 1: return reason_code::unsupported_protocol_version;
    case 2: return reason_code::client_identifier_not_valid;
    case 3: return reason_code::server_unavailable;
    case 4: return reason_code::bad_user_name_or_password;
    case 5: return reason_code::not_authorized;
    default: return reason_code::unspecified_error;  // AWS IoT is documented to send 7 for "not authorized"
  }
}
// The MQTT 3.1.1 return code closest to an MQTT 5 CONNACK reason.
constexpr std::uint8_t to_v311_connack(reason_code rc) noexcept {
  switch (rc) {
    case reason_code::success: return 0;
    case reason_code::unsupported_protocol_version: return 1;
    case reason_code::client_identifier_not_valid: return 2;
    case reason_code::server_unavailable:
    case reason_code::server_busy:
    case reason_code::server_moved:
    case reason_code::use_another_server:
    case reason_code::connection_rate_exceeded: return 3;
    case reason_code::bad_user_name_or_password: return 4;
    default: return 5;
  }
}

// Broker-sent reason codes as error codes: "the broker refused" stays distinguishable from errors
// thingwell detected itself (thingwell::errc).
namespace detail {
class reason_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mqtt.reason"; }
  std::string message(int value) const override { return to_string(static_cast<reason_code>(value)); }
};
}  // namespace detail

inline const std::error_category& reason_category() noexcept {
  static const detail::reason_category_impl instance;
  return instance;
}

inline std::error_code make_error_code(reason_code rc) noexcept {
  return {static_cast<int>(rc), reason_category()};
}

// The reason code an MQTT 5 client sends in DISCONNECT when it detects `ec` in the broker's data
// (MQTT 5 §4.13): malformed input gives 0x81, a rule broken gives 0x82 or the specific code.
inline reason_code disconnect_reason_for(std::error_code ec) noexcept {
  if (ec.category() == reason_category()) return static_cast<reason_code>(ec.value());
  if (ec.category() != thingwell_category()) return reason_code::unspecified_error;
  switch (static_cast<errc>(ec.value())) {
    // Detected while decoding, yet MQTT 5 calls them Protocol Errors, not Malformed Packets: "It is a
    // Protocol Error to include <property> more than once" (§3.x.2.x) and "A SUBSCRIBE [UNSUBSCRIBE]
    // packet with no Payload is a Protocol Error" (§3.8.3, §3.10.3).
    case errc::duplicate_property:
    case errc::empty_payload: return reason_code::protocol_error;
    default: break;
  }
  if (is_malformed(ec)) return reason_code::malformed_packet;
  switch (static_cast<errc>(ec.value())) {
    case errc::packet_too_large: return reason_code::packet_too_large;
    case errc::topic_alias_invalid: return reason_code::topic_alias_invalid;
    case errc::receive_maximum_exceeded: return reason_code::receive_maximum_exceeded;
    case errc::bad_topic_name: return reason_code::topic_name_invalid;
    case errc::keep_alive_timeout: return reason_code::keep_alive_timeout;
    case errc::protocol_error:
    case errc::unsupported_protocol_version:
    case errc::bad_topic_filter:
    case errc::bad_packet_id:
    case errc::string_too_long:
    case errc::unknown_packet_id:
    case errc::unexpected_packet:
      return reason_code::protocol_error;
    default: return reason_code::unspecified_error;
  }
}

}  // namespace thingwell::mqtt

template <>
struct std::is_error_code_enum<thingwell::mqtt::reason_code> : std::true_type {};
