// doctest checks shared by the MQTT codec test files.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "mqtt_testing.hpp"

namespace mqtt_testing {

// `p` encodes to exactly `expected` (encoded_size() agreeing), and `expected` decodes to `p`.
template <class Packet>
void check_vector(const Packet& p, protocol_version v, const byte_vector& expected) {
  INFO(mqtt::to_string(Packet::type), " ", version_name(v));
  const encoding e = encode_packet(p, v);
  REQUIRE_MESSAGE(!e.error, "encode failed: ", e.error.message());
  CHECK_FALSE(e.size_mismatch);
  CHECK(hex(e.bytes) == hex(expected));
  auto decoded = mqtt::decode(expected, v);
  REQUIRE_MESSAGE(decoded.has_value(), "decode failed: ", decoded.error().message());
  CHECK(difference(mqtt::packet{p}, *decoded) == "");
}

// `frame` decodes to `p` (a form the encoder does not produce, e.g. a longer but legal encoding).
template <class Packet>
void check_decodes_to(const byte_vector& frame, protocol_version v, const Packet& p) {
  INFO(mqtt::to_string(Packet::type), " ", version_name(v), ": ", hex(frame));
  auto decoded = mqtt::decode(frame, v);
  REQUIRE_MESSAGE(decoded.has_value(), "decode failed: ", decoded.error().message());
  CHECK(difference(mqtt::packet{p}, *decoded) == "");
}

// `frame` is refused with exactly `expected`, and an MQTT 5 peer would be told `reason`.
inline void check_refused(const byte_vector& frame, protocol_version v, thingwell::errc expected,
                          mqtt::reason_code reason) {
  INFO(version_name(v), ": ", hex(frame));
  auto decoded = mqtt::decode(frame, v);
  REQUIRE_FALSE(decoded.has_value());
  CHECK(error_text(decoded.error()) == error_text(expected));
  CHECK(mqtt::disconnect_reason_for(decoded.error()) == reason);
}

// Encoding `p` is refused with exactly `expected`.
template <class Packet>
void check_encode_refused(const Packet& p, protocol_version v, thingwell::errc expected) {
  INFO(mqtt::to_string(Packet::type), " ", version_name(v));
  auto size = mqtt::encoded_size(p, v);
  REQUIRE_FALSE(size.has_value());
  CHECK(error_text(size.error()) == error_text(expected));
  byte_vector buffer(1024, 0xEE);
  auto written = mqtt::encode(p, v, buffer);
  REQUIRE_FALSE(written.has_value());
  CHECK(error_text(written.error()) == error_text(expected));
  // Nothing was written before the packet was refused.
  CHECK(buffer == byte_vector(1024, 0xEE));
}

}  // namespace mqtt_testing
