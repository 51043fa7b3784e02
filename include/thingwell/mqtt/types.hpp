// thingwell — MQTT vocabulary shared by the codec and the session.
#pragma once

#include <cstdint>

namespace thingwell::mqtt {

// The protocol level byte of CONNECT.
enum class protocol_version : std::uint8_t {
  v311 = 4,  // MQTT 3.1.1
  v5 = 5,    // MQTT 5.0
};

enum class qos : std::uint8_t {
  at_most_once = 0,
  at_least_once = 1,
  exactly_once = 2,
};

enum class packet_type : std::uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
  auth = 15,  // MQTT 5 only
};

// MQTT 5 subscription option: when the broker sends retained messages for a new subscription.
enum class retain_handling : std::uint8_t {
  send_on_subscribe = 0,
  send_if_new_subscription = 1,
  do_not_send = 2,
};

inline constexpr const char* to_string(packet_type t) noexcept {
  switch (t) {
    case packet_type::connect: return "CONNECT";
    case packet_type::connack: return "CONNACK";
    case packet_type::publish: return "PUBLISH";
    case packet_type::puback: return "PUBACK";
    case packet_type::pubrec: return "PUBREC";
    case packet_type::pubrel: return "PUBREL";
    case packet_type::pubcomp: return "PUBCOMP";
    case packet_type::subscribe: return "SUBSCRIBE";
    case packet_type::suback: return "SUBACK";
    case packet_type::unsubscribe: return "UNSUBSCRIBE";
    case packet_type::unsuback: return "UNSUBACK";
    case packet_type::pingreq: return "PINGREQ";
    case packet_type::pingresp: return "PINGRESP";
    case packet_type::disconnect: return "DISCONNECT";
    case packet_type::auth: return "AUTH";
  }
  return "RESERVED";
}

// Largest value of a Variable Byte Integer (four bytes), hence of a Remaining Length.
inline constexpr std::uint32_t max_varint = 268'435'455;
// Largest string or binary field: a two-byte length prefix.
inline constexpr std::uint32_t max_field_length = 65'535;

}  // namespace thingwell::mqtt
