// MQTT 5 reason codes: which packets may carry each (MQTT 5 §2.4, Table 2-6), the MQTT 3.1.1 CONNACK and
// SUBACK mappings, the error category, and the DISCONNECT reason chosen for each detected error.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <system_error>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;
using thingwell::errc;
using rc = mqtt::reason_code;
using pt = mqtt::packet_type;

// Table 2-6, written out again from the specification: the packets that may carry each code.
// Letters: C CONNACK, A PUBACK, R PUBREC, L PUBREL, P PUBCOMP, S SUBACK, U UNSUBACK, D DISCONNECT, T AUTH.
const struct {
  int code;
  const char* packets;
} table_2_6[] = {
    {0x00, "CARLPSUDT"}, {0x01, "S"},    {0x02, "S"},     {0x04, "D"},     {0x10, "AR"},     {0x11, "U"},
    {0x18, "T"},         {0x19, "T"},    {0x80, "CARSUD"}, {0x81, "CD"},   {0x82, "CD"},     {0x83, "CARSUD"},
    {0x84, "C"},         {0x85, "C"},    {0x86, "C"},     {0x87, "CARSUD"}, {0x88, "C"},     {0x89, "CD"},
    {0x8A, "C"},         {0x8B, "D"},    {0x8C, "CD"},    {0x8D, "D"},     {0x8E, "D"},      {0x8F, "SUD"},
    {0x90, "CARD"},      {0x91, "ARSU"}, {0x92, "LP"},    {0x93, "D"},     {0x94, "D"},      {0x95, "CD"},
    {0x96, "D"},         {0x97, "CARSD"}, {0x98, "D"},    {0x99, "CARD"},  {0x9A, "CD"},     {0x9B, "CD"},
    {0x9C, "CD"},        {0x9D, "CD"},   {0x9E, "SD"},    {0x9F, "CD"},    {0xA0, "D"},      {0xA1, "SD"},
    {0xA2, "SD"},
};

pt packet_of(char letter) {
  switch (letter) {
    case 'C': return pt::connack;
    case 'A': return pt::puback;
    case 'R': return pt::pubrec;
    case 'L': return pt::pubrel;
    case 'P': return pt::pubcomp;
    case 'S': return pt::suback;
    case 'U': return pt::unsuback;
    case 'D': return pt::disconnect;
    default: return pt::auth;
  }
}

}  // namespace

TEST_CASE("mqtt reason code: each code is allowed in exactly the packets Table 2-6 lists") {
  int listed = 0;
  for (unsigned code = 0; code < 256; ++code) {
    const char* packets = "";
    for (const auto& row : table_2_6)
      if (row.code == static_cast<int>(code)) packets = row.packets;
    listed += *packets != 0;
    for (char letter : std::string("CARLPSUDT")) {
      CAPTURE(code);
      CAPTURE(letter);
      const bool expected = std::strchr(packets, letter) != nullptr;
      CHECK(mqtt::is_allowed(static_cast<rc>(code), packet_of(letter)) == expected);
    }
    // Packets that carry no reason code allow none.
    for (pt t : {pt::connect, pt::publish, pt::subscribe, pt::unsubscribe, pt::pingreq, pt::pingresp})
      CHECK_FALSE(mqtt::is_allowed(static_cast<rc>(code), t));
  }
  CHECK(listed == 43);
}

TEST_CASE("mqtt reason code: failure is 0x80 and above") {
  CHECK_FALSE(mqtt::is_failure(rc::success));
  CHECK_FALSE(mqtt::is_failure(rc::granted_qos_2));
  CHECK_FALSE(mqtt::is_failure(rc::re_authenticate));
  CHECK(mqtt::is_failure(rc::unspecified_error));
  CHECK(mqtt::is_failure(rc::wildcard_subscriptions_not_supported));
  CHECK(mqtt::normal_disconnection == rc::success);
  CHECK(mqtt::granted_qos_0 == rc::success);
}

TEST_CASE("mqtt reason code: MQTT 3.1.1 SUBACK allows granted QoS 0..2 and 0x80 only") {
  for (unsigned code = 0; code < 256; ++code) {
    CAPTURE(code);
    const bool expected = code <= 2 || code == 0x80;
    CHECK(mqtt::suback_code_allowed(static_cast<rc>(code), protocol_version::v311) == expected);
    CHECK(mqtt::suback_code_allowed(static_cast<rc>(code), protocol_version::v5) ==
          mqtt::is_allowed(static_cast<rc>(code), pt::suback));
  }
}

TEST_CASE("mqtt reason code: MQTT 3.1.1 CONNACK return codes map both ways") {
  const struct {
    std::uint8_t v311;
    rc v5;
  } rows[] = {{0, rc::success},
              {1, rc::unsupported_protocol_version},
              {2, rc::client_identifier_not_valid},
              {3, rc::server_unavailable},
              {4, rc::bad_user_name_or_password},
              {5, rc::not_authorized}};
  for (const auto& row : rows) {
    CAPTURE(row.v311);
    CHECK(mqtt::from_v311_connack(row.v311) == row.v5);
    CHECK(mqtt::to_v311_connack(row.v5) == row.v311);
  }
  CHECK(mqtt::from_v311_connack(6) == rc::unspecified_error);
  CHECK(mqtt::from_v311_connack(255) == rc::unspecified_error);
  // MQTT 5 refusals without a 3.1.1 equivalent take the closest code: server-side trouble is 3.
  CHECK(mqtt::to_v311_connack(rc::server_busy) == 3);
  CHECK(mqtt::to_v311_connack(rc::use_another_server) == 3);
  CHECK(mqtt::to_v311_connack(rc::banned) == 5);
  // Every CONNACK code maps to a refusal in 3.1.1, and success only from success.
  for (unsigned code = 1; code < 256; ++code) {
    if (!mqtt::is_allowed(static_cast<rc>(code), pt::connack)) continue;
    CAPTURE(code);
    CHECK(mqtt::to_v311_connack(static_cast<rc>(code)) != 0);
  }
}

TEST_CASE("mqtt reason code: the error category names every code") {
  for (const auto& row : table_2_6) {
    const std::error_code ec = mqtt::make_error_code(static_cast<rc>(row.code));
    CHECK(std::string(ec.category().name()) == "mqtt.reason");
    CHECK(ec.message() != "unknown reason code");
    CHECK(ec.message() == mqtt::to_string(static_cast<rc>(row.code)));
  }
  CHECK(std::string(mqtt::to_string(static_cast<rc>(0x03))) == "unknown reason code");
  // An enum that converts implicitly, like thingwell::errc.
  const std::error_code from_enum = rc::quota_exceeded;
  CHECK(&from_enum.category() == &mqtt::reason_category());
  CHECK(from_enum.value() == 0x97);
  CHECK(error_text(from_enum) != error_text(errc::malformed_packet));
}

TEST_CASE("mqtt reason code: DISCONNECT reason for each decoder error") {
  const struct {
    errc error;
    rc reason;
  } rows[] = {
      {errc::malformed_packet, rc::malformed_packet}, {errc::truncated, rc::malformed_packet},
      {errc::trailing_bytes, rc::malformed_packet},   {errc::bad_varint, rc::malformed_packet},
      {errc::bad_packet_type, rc::malformed_packet},  {errc::bad_header_flags, rc::malformed_packet},
      {errc::bad_utf8, rc::malformed_packet},         {errc::bad_qos, rc::malformed_packet},
      {errc::bad_property, rc::malformed_packet},     {errc::property_not_allowed, rc::malformed_packet},
      {errc::bad_reason_code, rc::malformed_packet},  {errc::bad_connect_flags, rc::malformed_packet},
      {errc::bad_protocol_name, rc::malformed_packet}, {errc::bad_subscription_options, rc::malformed_packet},
      // "It is a Protocol Error to include ... more than once"; "... with no Payload is a Protocol Error"
      {errc::duplicate_property, rc::protocol_error}, {errc::empty_payload, rc::protocol_error},
      {errc::protocol_error, rc::protocol_error},     {errc::unsupported_protocol_version, rc::protocol_error},
      {errc::bad_topic_filter, rc::protocol_error},   {errc::bad_packet_id, rc::protocol_error},
      {errc::unknown_packet_id, rc::protocol_error},  {errc::unexpected_packet, rc::protocol_error},
      {errc::bad_topic_name, rc::topic_name_invalid}, {errc::topic_alias_invalid, rc::topic_alias_invalid},
      {errc::packet_too_large, rc::packet_too_large}, {errc::receive_maximum_exceeded, rc::receive_maximum_exceeded},
      {errc::keep_alive_timeout, rc::keep_alive_timeout}, {errc::storage_full, rc::unspecified_error},
  };
  for (const auto& row : rows) {
    CAPTURE(thingwell::describe(row.error));
    CHECK(mqtt::disconnect_reason_for(make_error_code(row.error)) == row.reason);
  }
  // A reason received from the broker is passed on as it is; a foreign error is unspecified.
  CHECK(mqtt::disconnect_reason_for(mqtt::make_error_code(rc::quota_exceeded)) == rc::quota_exceeded);
  CHECK(mqtt::disconnect_reason_for(std::make_error_code(std::errc::connection_reset)) == rc::unspecified_error);
}

TEST_CASE("mqtt reason code: the DISCONNECT reason for any thingwell error is one DISCONNECT may carry") {
  for (int value = 0; value < 700; ++value) {
    const std::error_code ec(value, thingwell::thingwell_category());
    if (std::string(thingwell::describe(static_cast<errc>(value))) == "unknown thingwell error") continue;
    CAPTURE(value);
    CHECK(mqtt::is_allowed(mqtt::disconnect_reason_for(ec), pt::disconnect));
  }
}
