// Malformed and rule-breaking input: each frame must be refused with exactly the thingwell::errc listed,
// and mqtt::disconnect_reason_for() must name the reason code an MQTT 5 client sends in its DISCONNECT
// (MQTT 5 §4.13): 0x81 Malformed Packet, 0x82 Protocol Error, or the specific code the specification
// gives (0x90 Topic Name invalid, 0x94 Topic Alias invalid, ...). Frames are written out by hand so
// that each breaks exactly one rule.
#include <doctest/doctest.h>

#include <cstddef>
#include <string>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;
using thingwell::errc;
using rc = mqtt::reason_code;
constexpr auto v311 = protocol_version::v311;
constexpr auto v5 = protocol_version::v5;

struct bad_frame {
  const char* what;
  protocol_version version;
  const char* frame;  // hex
  errc error;
  rc reason;
};

template <std::size_t N>
void check_table(const bad_frame (&rows)[N]) {
  for (const bad_frame& row : rows) {
    INFO(row.what);
    check_refused(from_hex(row.frame), row.version, row.error, row.reason);
  }
}

// CONNECT fixed part for the frames below: protocol name "MQTT", then level, flags and keep alive 60.
#define CONNECT_V311 "00 04 4d 51 54 54 04"
#define CONNECT_V5 "00 04 4d 51 54 54 05"

}  // namespace

TEST_CASE("mqtt malformed: fixed header errors") {
  const bad_frame rows[] = {
      {"empty input", v5, "", errc::truncated, rc::malformed_packet},
      {"first byte only", v5, "c0", errc::truncated, rc::malformed_packet},
      {"remaining length cut inside its varint", v5, "30 80", errc::truncated, rc::malformed_packet},
      {"fewer bytes than the remaining length", v5, "30 05 00 01 61", errc::truncated, rc::malformed_packet},
      {"256 MB claimed, nothing sent", v5, "30 ff ff ff 7f", errc::truncated, rc::malformed_packet},
      {"reserved packet type 0", v5, "00 00", errc::bad_packet_type, rc::malformed_packet},
      {"reserved packet type 0 in 3.1.1", v311, "00 00", errc::bad_packet_type, rc::malformed_packet},
      {"AUTH does not exist in 3.1.1", v311, "f0 00", errc::bad_packet_type, rc::malformed_packet},
      {"non-minimal remaining length 0x80 0x00", v5, "c0 80 00", errc::bad_varint, rc::malformed_packet},
      {"non-minimal remaining length 0x83 0x80 0x00", v5, "30 83 80 00 00 01 61", errc::bad_varint,
       rc::malformed_packet},
      {"five-byte remaining length", v5, "30 ff ff ff ff 7f", errc::bad_varint, rc::malformed_packet},
      {"more bytes than the remaining length", v5, "c0 00 00", errc::trailing_bytes, rc::malformed_packet},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: bytes left over after the fields of the packet") {
  const bad_frame rows[] = {
      {"3.1.1 CONNECT", v311, "10 0f " CONNECT_V311 " 02 00 3c 00 02 74 77 ff", errc::trailing_bytes,
       rc::malformed_packet},
      {"3.1.1 CONNACK with a property length", v311, "20 03 00 00 00", errc::trailing_bytes, rc::malformed_packet},
      {"3.1.1 PUBACK with a reason code", v311, "40 03 00 01 00", errc::trailing_bytes, rc::malformed_packet},
      {"3.1.1 PUBREL with a reason code", v311, "62 03 00 01 00", errc::trailing_bytes, rc::malformed_packet},
      {"3.1.1 UNSUBACK with reason codes", v311, "b0 03 00 01 00", errc::trailing_bytes, rc::malformed_packet},
      {"3.1.1 DISCONNECT with a reason code", v311, "e0 01 00", errc::trailing_bytes, rc::malformed_packet},
      {"PINGREQ with a body", v5, "c0 01 00", errc::trailing_bytes, rc::malformed_packet},
      {"PINGRESP with a body", v311, "d0 01 00", errc::trailing_bytes, rc::malformed_packet},
      {"5 PUBACK after its property block", v5, "40 05 00 01 00 00 ff", errc::trailing_bytes, rc::malformed_packet},
      {"5 DISCONNECT after its property block", v5, "e0 03 00 00 ff", errc::trailing_bytes, rc::malformed_packet},
      {"5 CONNACK after its property block", v5, "20 04 00 00 00 ff", errc::trailing_bytes, rc::malformed_packet},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: fields cut short inside a consistent remaining length") {
  const bad_frame rows[] = {
      {"CONNECT client id", v311, "10 0d " CONNECT_V311 " 02 00 3c 00 02 74", errc::truncated, rc::malformed_packet},
      {"CONNECT keep alive", v311, "10 09 " CONNECT_V311 " 02 00", errc::truncated, rc::malformed_packet},
      {"CONNECT protocol name", v311, "10 03 00 04 4d", errc::truncated, rc::malformed_packet},
      {"CONNECT will payload missing", v311, "10 11 " CONNECT_V311 " 06 00 3c 00 02 74 77 00 01 61",
       errc::truncated, rc::malformed_packet},
      {"CONNECT password missing", v5, "10 0f " CONNECT_V5 " 42 00 3c 00 00 02 74 77", errc::truncated,
       rc::malformed_packet},
      {"CONNACK return code", v311, "20 01 00", errc::truncated, rc::malformed_packet},
      {"CONNACK property length", v5, "20 02 00 00", errc::truncated, rc::malformed_packet},
      {"PUBLISH topic", v311, "30 03 00 05 61", errc::truncated, rc::malformed_packet},
      {"PUBLISH packet id", v311, "32 03 00 01 61", errc::truncated, rc::malformed_packet},
      {"5 PUBLISH property length", v5, "30 03 00 01 61", errc::truncated, rc::malformed_packet},
      {"PUBACK packet id", v5, "40 01 00", errc::truncated, rc::malformed_packet},
      {"SUBSCRIBE options byte", v311, "82 05 00 01 00 01 61", errc::truncated, rc::malformed_packet},
      {"SUBSCRIBE filter", v311, "82 05 00 01 00 03 61", errc::truncated, rc::malformed_packet},
      {"UNSUBSCRIBE filter", v5, "a2 05 00 01 00 00 05", errc::truncated, rc::malformed_packet},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: property blocks cut short or with bad Variable Byte Integers") {
  const bad_frame rows[] = {
      {"property length cut inside its varint", v5, "30 04 00 01 61 80", errc::truncated, rc::malformed_packet},
      {"property length beyond the packet", v5, "30 05 00 01 61 05 01", errc::truncated, rc::malformed_packet},
      {"four-byte value cut by the block", v5, "30 07 00 01 61 03 02 00 00", errc::truncated,
       rc::malformed_packet},
      {"string length beyond the block", v5, "30 08 00 01 61 04 03 00 05 61", errc::truncated,
       rc::malformed_packet},
      {"user property without its value", v5, "30 08 00 01 61 04 26 00 01 6b", errc::truncated,
       rc::malformed_packet},
      {"subscription identifier cut inside its varint", v5, "30 06 00 01 61 02 0b 80", errc::truncated,
       rc::malformed_packet},
      {"non-minimal property length", v5, "30 05 00 01 61 80 00", errc::bad_varint, rc::malformed_packet},
      {"non-minimal property identifier", v5, "30 07 00 01 61 03 81 00 00", errc::bad_varint,
       rc::malformed_packet},
      {"five-byte subscription identifier", v5, "30 0a 00 01 61 06 0b ff ff ff ff 7f", errc::bad_varint,
       rc::malformed_packet},
      {"non-minimal subscription identifier", v5, "30 07 00 01 61 03 0b 81 00", errc::bad_varint,
       rc::malformed_packet},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: ill-formed UTF-8 in every kind of string") {
  const bad_frame rows[] = {
      {"topic: overlong two-byte '/'", v311, "30 04 00 02 c0 af", errc::bad_utf8, rc::malformed_packet},
      {"topic: overlong three-byte", v311, "30 05 00 03 e0 80 af", errc::bad_utf8, rc::malformed_packet},
      {"topic: overlong four-byte", v311, "30 06 00 04 f0 80 80 af", errc::bad_utf8, rc::malformed_packet},
      {"topic: surrogate U+D800", v311, "30 05 00 03 ed a0 80", errc::bad_utf8, rc::malformed_packet},
      {"topic: surrogate U+DFFF", v311, "30 05 00 03 ed bf bf", errc::bad_utf8, rc::malformed_packet},
      {"topic: U+0000", v311, "30 05 00 03 61 00 62", errc::bad_utf8, rc::malformed_packet},
      {"topic: truncated three-byte sequence", v311, "30 04 00 02 e2 82", errc::bad_utf8, rc::malformed_packet},
      {"topic: lone continuation byte", v311, "30 03 00 01 80", errc::bad_utf8, rc::malformed_packet},
      {"topic: 0xFF", v311, "30 03 00 01 ff", errc::bad_utf8, rc::malformed_packet},
      {"topic: above U+10FFFF", v311, "30 06 00 04 f4 90 80 80", errc::bad_utf8, rc::malformed_packet},
      {"client id", v311, "10 0d " CONNECT_V311 " 02 00 3c 00 01 ff", errc::bad_utf8, rc::malformed_packet},
      {"user name", v311, "10 10 " CONNECT_V311 " 82 00 3c 00 01 61 00 01 ff", errc::bad_utf8,
       rc::malformed_packet},
      {"will topic", v311, "10 12 " CONNECT_V311 " 06 00 3c 00 01 61 00 01 ff 00 00", errc::bad_utf8,
       rc::malformed_packet},
      {"string property", v5, "30 08 00 01 61 04 03 00 01 ff", errc::bad_utf8, rc::malformed_packet},
      {"user property name", v5, "30 0a 00 01 61 06 26 00 01 c0 00 00", errc::bad_utf8, rc::malformed_packet},
      {"user property value", v5, "30 0a 00 01 61 06 26 00 00 00 01 c0", errc::bad_utf8, rc::malformed_packet},
      {"subscription filter", v311, "82 06 00 01 00 01 ff 00", errc::bad_utf8, rc::malformed_packet},
      {"unsubscribe filter", v5, "a2 06 00 01 00 00 01 ff", errc::bad_utf8, rc::malformed_packet},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: a property given twice is a Protocol Error") {
  const bad_frame rows[] = {
      {"PUBLISH Content Type twice", v5, "30 0c 00 01 61 08 03 00 01 78 03 00 01 79", errc::duplicate_property,
       rc::protocol_error},
      {"CONNACK Receive Maximum twice", v5, "20 09 00 00 06 21 00 01 21 00 02", errc::duplicate_property,
       rc::protocol_error},
      {"CONNECT Session Expiry Interval twice", v5,
       "10 17 " CONNECT_V5 " 02 00 3c 0a 11 00 00 00 01 11 00 00 00 02 00 00", errc::duplicate_property,
       rc::protocol_error},
      {"SUBSCRIBE Subscription Identifier twice", v5, "82 0b 00 01 04 0b 01 0b 02 00 01 61 00",
       errc::duplicate_property, rc::protocol_error},
      {"PUBLISH Topic Alias twice", v5, "30 0a 00 01 61 06 23 00 01 23 00 02", errc::duplicate_property,
       rc::protocol_error},
      {"DISCONNECT Reason String twice", v5, "e0 0a 00 08 1f 00 01 61 1f 00 01 62", errc::duplicate_property,
       rc::protocol_error},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: a property not allowed in the packet (one per packet type)") {
  const bad_frame rows[] = {
      {"CONNECT: Topic Alias", v5, "10 10 " CONNECT_V5 " 02 00 3c 03 23 00 01 00 00", errc::property_not_allowed,
       rc::malformed_packet},
      {"will properties: Topic Alias", v5, "10 16 " CONNECT_V5 " 06 00 3c 00 00 00 03 23 00 01 00 01 61 00 00",
       errc::property_not_allowed, rc::malformed_packet},
      {"will properties: Session Expiry Interval", v5,
       "10 18 " CONNECT_V5 " 06 00 3c 00 00 00 05 11 00 00 00 01 00 01 61 00 00", errc::property_not_allowed,
       rc::malformed_packet},
      {"CONNACK: Will Delay Interval", v5, "20 08 00 00 05 18 00 00 00 01", errc::property_not_allowed,
       rc::malformed_packet},
      {"PUBLISH: Session Expiry Interval", v5, "30 09 00 01 61 05 11 00 00 00 01", errc::property_not_allowed,
       rc::malformed_packet},
      {"PUBACK: Content Type", v5, "40 08 00 01 00 04 03 00 01 78", errc::property_not_allowed,
       rc::malformed_packet},
      {"PUBREC: Topic Alias", v5, "50 07 00 01 00 03 23 00 01", errc::property_not_allowed, rc::malformed_packet},
      {"PUBREL: Response Topic", v5, "62 08 00 01 00 04 08 00 01 61", errc::property_not_allowed,
       rc::malformed_packet},
      {"PUBCOMP: Session Expiry Interval", v5, "70 09 00 01 00 05 11 00 00 00 01", errc::property_not_allowed,
       rc::malformed_packet},
      {"SUBSCRIBE: Reason String", v5, "82 0b 00 01 04 1f 00 01 78 00 01 61 00", errc::property_not_allowed,
       rc::malformed_packet},
      {"SUBACK: Subscription Identifier", v5, "90 06 00 01 02 0b 01 00", errc::property_not_allowed,
       rc::malformed_packet},
      {"UNSUBSCRIBE: Subscription Identifier", v5, "a2 08 00 01 02 0b 01 00 01 61", errc::property_not_allowed,
       rc::malformed_packet},
      {"UNSUBACK: Server Reference", v5, "b0 08 00 01 04 1c 00 01 61 00", errc::property_not_allowed,
       rc::malformed_packet},
      {"DISCONNECT: Receive Maximum", v5, "e0 05 00 03 21 00 01", errc::property_not_allowed, rc::malformed_packet},
      {"AUTH: Server Keep Alive", v5, "f0 05 18 03 13 00 01", errc::property_not_allowed, rc::malformed_packet},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: unknown property identifiers") {
  const bad_frame rows[] = {
      {"identifier 0x00", v5, "30 05 00 01 61 01 00", errc::bad_property, rc::malformed_packet},
      {"identifier 0x04", v5, "30 05 00 01 61 01 04", errc::bad_property, rc::malformed_packet},
      {"identifier 0x2B", v5, "30 05 00 01 61 01 2b", errc::bad_property, rc::malformed_packet},
      {"identifier 0x7F", v5, "30 05 00 01 61 01 7f", errc::bad_property, rc::malformed_packet},
      {"identifier 128 (two-byte varint)", v5, "30 06 00 01 61 02 80 01", errc::bad_property, rc::malformed_packet},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: property values outside their range") {
  // MQTT 5 §3.1.2.11 and §3.2.2.3: "It is a Protocol Error ... for it to have the value 0" and "a value
  // other than 0 or 1"; §3.3.2.3.4: a Topic Alias of 0 is Topic Alias invalid.
  const bad_frame rows[] = {
      {"CONNECT Receive Maximum 0", v5, "10 10 " CONNECT_V5 " 02 00 3c 03 21 00 00 00 00", errc::protocol_error,
       rc::protocol_error},
      {"CONNACK Receive Maximum 0", v5, "20 06 00 00 03 21 00 00", errc::protocol_error, rc::protocol_error},
      {"PUBLISH Topic Alias 0", v5, "30 07 00 01 61 03 23 00 00", errc::topic_alias_invalid,
       rc::topic_alias_invalid},
      {"CONNACK Maximum QoS 2", v5, "20 05 00 00 02 24 02", errc::protocol_error, rc::protocol_error},
      {"PUBLISH Payload Format Indicator 2", v5, "30 06 00 01 61 02 01 02", errc::protocol_error,
       rc::protocol_error},
      {"will Payload Format Indicator 2", v5, "10 15 " CONNECT_V5 " 06 00 3c 00 00 00 02 01 02 00 01 61 00 00",
       errc::protocol_error, rc::protocol_error},
      {"CONNACK Maximum Packet Size 0", v5, "20 08 00 00 05 27 00 00 00 00", errc::protocol_error,
       rc::protocol_error},
      {"SUBSCRIBE Subscription Identifier 0", v5, "82 09 00 01 02 0b 00 00 01 61 00", errc::protocol_error,
       rc::protocol_error},
      {"PUBLISH Subscription Identifier 0", v5, "30 06 00 01 61 02 0b 00", errc::protocol_error,
       rc::protocol_error},
      {"CONNECT Request Problem Information 2", v5, "10 0f " CONNECT_V5 " 02 00 3c 02 17 02 00 00",
       errc::protocol_error, rc::protocol_error},
      {"CONNECT Request Response Information 2", v5, "10 0f " CONNECT_V5 " 02 00 3c 02 19 02 00 00",
       errc::protocol_error, rc::protocol_error},
      {"CONNACK Retain Available 2", v5, "20 05 00 00 02 25 02", errc::protocol_error, rc::protocol_error},
      {"CONNACK Wildcard Subscription Available 2", v5, "20 05 00 00 02 28 02", errc::protocol_error,
       rc::protocol_error},
      {"CONNACK Subscription Identifiers Available 2", v5, "20 05 00 00 02 29 02", errc::protocol_error,
       rc::protocol_error},
      {"CONNACK Shared Subscription Available 0xFF", v5, "20 05 00 00 02 2a ff", errc::protocol_error,
       rc::protocol_error},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: reserved bits set") {
  const bad_frame rows[] = {
      {"CONNECT reserved flag (bit 0), 3.1.1", v311, "10 0e " CONNECT_V311 " 03 00 3c 00 02 74 77",
       errc::bad_connect_flags, rc::malformed_packet},
      {"CONNECT reserved flag (bit 0), 5", v5, "10 0f " CONNECT_V5 " 03 00 3c 00 00 02 74 77",
       errc::bad_connect_flags, rc::malformed_packet},
      {"CONNACK acknowledge flags bit 1, 3.1.1", v311, "20 02 02 00", errc::malformed_packet, rc::malformed_packet},
      {"CONNACK acknowledge flags bit 7, 5", v5, "20 03 80 00 00", errc::malformed_packet, rc::malformed_packet},
      {"SUBSCRIBE options bit 6, 5", v5, "82 07 00 01 00 00 01 61 40", errc::bad_subscription_options,
       rc::malformed_packet},
      {"SUBSCRIBE options bit 7, 5", v5, "82 07 00 01 00 00 01 61 80", errc::bad_subscription_options,
       rc::malformed_packet},
      {"SUBSCRIBE options bit 2 (No Local) in 3.1.1", v311, "82 06 00 01 00 01 61 04",
       errc::bad_subscription_options, rc::malformed_packet},
      {"SUBSCRIBE options bit 4 in 3.1.1", v311, "82 06 00 01 00 01 61 10", errc::bad_subscription_options,
       rc::malformed_packet},
      {"SUBSCRIBE options bit 7 in 3.1.1", v311, "82 06 00 01 00 01 61 81", errc::bad_subscription_options,
       rc::malformed_packet},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: QoS 3 and DUP on QoS 0") {
  const bad_frame rows[] = {
      {"PUBLISH QoS 3", v311, "36 05 00 01 61 00 01", errc::bad_qos, rc::malformed_packet},
      {"PUBLISH QoS 3 with DUP and RETAIN", v5, "3f 06 00 01 61 00 01 00", errc::bad_qos, rc::malformed_packet},
      {"will QoS 3", v311, "10 13 " CONNECT_V311 " 1e 00 3c 00 02 74 77 00 01 61 00 00", errc::bad_qos,
       rc::malformed_packet},
      {"SUBSCRIBE maximum QoS 3, 3.1.1 (malformed)", v311, "82 06 00 01 00 01 61 03", errc::bad_qos,
       rc::malformed_packet},
      {"SUBSCRIBE maximum QoS 3, 5 (protocol error)", v5, "82 07 00 01 00 00 01 61 03", errc::protocol_error,
       rc::protocol_error},
      {"PUBLISH DUP on QoS 0", v311, "38 03 00 01 61", errc::protocol_error, rc::protocol_error},
      {"PUBLISH DUP on QoS 0, 5", v5, "38 04 00 01 61 00", errc::protocol_error, rc::protocol_error},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: packet identifier 0 where one is required") {
  const bad_frame rows[] = {
      {"PUBLISH QoS 1", v311, "32 05 00 01 61 00 00", errc::bad_packet_id, rc::protocol_error},
      {"PUBLISH QoS 2", v5, "34 06 00 01 61 00 00 00", errc::bad_packet_id, rc::protocol_error},
      {"PUBACK", v311, "40 02 00 00", errc::bad_packet_id, rc::protocol_error},
      {"PUBREC", v5, "50 02 00 00", errc::bad_packet_id, rc::protocol_error},
      {"PUBREL", v311, "62 02 00 00", errc::bad_packet_id, rc::protocol_error},
      {"PUBCOMP", v5, "70 02 00 00", errc::bad_packet_id, rc::protocol_error},
      {"SUBSCRIBE", v311, "82 06 00 00 00 01 61 00", errc::bad_packet_id, rc::protocol_error},
      {"SUBACK", v311, "90 03 00 00 00", errc::bad_packet_id, rc::protocol_error},
      {"UNSUBSCRIBE", v5, "a2 06 00 00 00 00 01 61", errc::bad_packet_id, rc::protocol_error},
      {"UNSUBACK", v311, "b0 02 00 00", errc::bad_packet_id, rc::protocol_error},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: invalid topic names and topic filters") {
  const bad_frame rows[] = {
      {"PUBLISH topic with '+'", v311, "30 05 00 03 61 2f 2b", errc::bad_topic_name, rc::topic_name_invalid},
      {"PUBLISH topic '#'", v311, "30 03 00 01 23", errc::bad_topic_name, rc::topic_name_invalid},
      {"PUBLISH topic with '+' inside a level", v5, "30 05 00 02 61 2b 00", errc::bad_topic_name,
       rc::topic_name_invalid},
      {"PUBLISH empty topic, 3.1.1", v311, "30 02 00 00", errc::bad_topic_name, rc::topic_name_invalid},
      {"PUBLISH empty topic without a topic alias", v5, "30 03 00 00 00", errc::bad_topic_name,
       rc::topic_name_invalid},
      {"will topic with '#'", v311, "10 13 " CONNECT_V311 " 06 00 3c 00 02 74 77 00 01 23 00 00",
       errc::bad_topic_name, rc::topic_name_invalid},
      {"empty will topic", v311, "10 12 " CONNECT_V311 " 06 00 3c 00 02 74 77 00 00 00 00", errc::bad_topic_name,
       rc::topic_name_invalid},
      {"SUBSCRIBE '#' not last", v311, "82 0a 00 01 00 05 61 2f 23 2f 62 00", errc::bad_topic_filter,
       rc::protocol_error},
      {"SUBSCRIBE '+' inside a level", v311, "82 07 00 01 00 02 61 2b 00", errc::bad_topic_filter,
       rc::protocol_error},
      {"SUBSCRIBE empty filter", v311, "82 05 00 01 00 00 00", errc::bad_topic_filter, rc::protocol_error},
      {"SUBSCRIBE shared filter without a filter", v5, "82 0e 00 01 00 00 08 24 73 68 61 72 65 2f 67 00",
       errc::bad_topic_filter, rc::protocol_error},
      {"UNSUBSCRIBE '#' not last", v5, "a2 08 00 01 00 00 03 23 2f 61", errc::bad_topic_filter,
       rc::protocol_error},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: subscription options that are Protocol Errors in MQTT 5") {
  const bad_frame rows[] = {
      {"No Local on a shared subscription", v5, "82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 23 04",
       errc::protocol_error, rc::protocol_error},
      {"Retain Handling 3", v5, "82 07 00 01 00 00 01 61 30", errc::protocol_error, rc::protocol_error},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: SUBSCRIBE, UNSUBSCRIBE, SUBACK and UNSUBACK without a payload") {
  // MQTT 5 §3.8.3 / §3.10.3: "A SUBSCRIBE [UNSUBSCRIBE] packet with no Payload is a Protocol Error."
  const bad_frame rows[] = {
      {"SUBSCRIBE, 3.1.1", v311, "82 02 00 01", errc::empty_payload, rc::protocol_error},
      {"SUBSCRIBE, 5", v5, "82 03 00 01 00", errc::empty_payload, rc::protocol_error},
      {"UNSUBSCRIBE, 3.1.1", v311, "a2 02 00 01", errc::empty_payload, rc::protocol_error},
      {"UNSUBSCRIBE, 5", v5, "a2 03 00 01 00", errc::empty_payload, rc::protocol_error},
      {"SUBACK, 3.1.1", v311, "90 02 00 01", errc::empty_payload, rc::protocol_error},
      {"SUBACK, 5", v5, "90 03 00 01 00", errc::empty_payload, rc::protocol_error},
      {"UNSUBACK, 5", v5, "b0 03 00 01 00", errc::empty_payload, rc::protocol_error},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: reason codes the packet may not carry") {
  const bad_frame rows[] = {
      {"CONNACK 0x04", v5, "20 03 00 04 00", errc::bad_reason_code, rc::malformed_packet},
      {"CONNACK granted QoS 1", v5, "20 03 00 01 00", errc::bad_reason_code, rc::malformed_packet},
      {"PUBACK 0x04", v5, "40 03 00 01 04", errc::bad_reason_code, rc::malformed_packet},
      {"PUBACK packet identifier not found", v5, "40 03 00 01 92", errc::bad_reason_code, rc::malformed_packet},
      {"PUBREC no subscription existed", v5, "50 03 00 01 11", errc::bad_reason_code, rc::malformed_packet},
      {"PUBREL no matching subscribers", v5, "62 03 00 01 10", errc::bad_reason_code, rc::malformed_packet},
      {"PUBCOMP unspecified error", v5, "70 03 00 01 80", errc::bad_reason_code, rc::malformed_packet},
      {"SUBACK no subscription existed", v5, "90 04 00 01 00 11", errc::bad_reason_code, rc::malformed_packet},
      {"SUBACK 0x87 in 3.1.1", v311, "90 03 00 01 87", errc::bad_reason_code, rc::malformed_packet},
      {"SUBACK QoS 3 in 3.1.1", v311, "90 03 00 01 03", errc::bad_reason_code, rc::malformed_packet},
      {"UNSUBACK granted QoS 1", v5, "b0 04 00 01 00 01", errc::bad_reason_code, rc::malformed_packet},
      {"DISCONNECT no matching subscribers", v5, "e0 01 10", errc::bad_reason_code, rc::malformed_packet},
      {"DISCONNECT unassigned 0x03", v5, "e0 01 03", errc::bad_reason_code, rc::malformed_packet},
      {"AUTH not authorized", v5, "f0 01 87", errc::bad_reason_code, rc::malformed_packet},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: CONNACK with session present and a failure code") {
  // MQTT 5 [MQTT-3.2.2-6], MQTT 3.1.1 [MQTT-3.2.2-4].
  const bad_frame rows[] = {
      {"MQTT 5", v5, "20 03 01 87 00", errc::protocol_error, rc::protocol_error},
      {"MQTT 3.1.1", v311, "20 02 01 05", errc::protocol_error, rc::protocol_error},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: CONNECT protocol name, level and flag combinations") {
  const bad_frame rows[] = {
      {"protocol name MQTX", v311, "10 0e 00 04 4d 51 54 58 04 02 00 3c 00 02 74 77", errc::bad_protocol_name,
       rc::malformed_packet},
      {"MQTT 3.1 (MQIsdp, level 3)", v311, "10 10 00 06 4d 51 49 73 64 70 03 02 00 3c 00 02 74 77",
       errc::unsupported_protocol_version, rc::protocol_error},
      {"level 6", v5, "10 0e 00 04 4d 51 54 54 06 02 00 3c 00 02 74 77", errc::unsupported_protocol_version,
       rc::protocol_error},
      {"will QoS without the will flag", v311, "10 0e " CONNECT_V311 " 0a 00 3c 00 02 74 77",
       errc::bad_connect_flags, rc::malformed_packet},
      {"will retain without the will flag", v5, "10 0f " CONNECT_V5 " 22 00 3c 00 00 02 74 77",
       errc::bad_connect_flags, rc::malformed_packet},
      {"password without user name, 3.1.1", v311, "10 12 " CONNECT_V311 " 42 00 3c 00 02 74 77 00 02 70 77",
       errc::bad_connect_flags, rc::malformed_packet},
      {"empty client id without clean session, 3.1.1", v311, "10 0c " CONNECT_V311 " 00 00 3c 00 00",
       errc::client_id_invalid, rc::unspecified_error},
  };
  check_table(rows);
}

TEST_CASE("mqtt malformed: a typed decoder given another packet type") {
  const byte_vector pingreq = from_hex("c0 00");
  auto r = mqtt::decode_connack(pingreq, v5);
  REQUIRE_FALSE(r.has_value());
  CHECK(error_text(r.error()) == error_text(errc::unexpected_packet));
  CHECK(mqtt::disconnect_reason_for(r.error()) == rc::protocol_error);
  CHECK(error_text(mqtt::decode_connect(pingreq).error()) == error_text(errc::unexpected_packet));
  CHECK(error_text(mqtt::decode_publish(pingreq, v5).error()) == error_text(errc::unexpected_packet));
  CHECK(error_text(mqtt::decode_puback(pingreq, v5).error()) == error_text(errc::unexpected_packet));
  CHECK(error_text(mqtt::decode_subscribe(pingreq, v5).error()) == error_text(errc::unexpected_packet));
  CHECK(error_text(mqtt::decode_suback(pingreq, v5).error()) == error_text(errc::unexpected_packet));
  CHECK(error_text(mqtt::decode_unsubscribe(pingreq, v5).error()) == error_text(errc::unexpected_packet));
  CHECK(error_text(mqtt::decode_unsuback(pingreq, v5).error()) == error_text(errc::unexpected_packet));
  CHECK(error_text(mqtt::decode_pingresp(pingreq).error()) == error_text(errc::unexpected_packet));
  CHECK(error_text(mqtt::decode_disconnect(pingreq, v5).error()) == error_text(errc::unexpected_packet));
  CHECK(error_text(mqtt::decode_auth(pingreq, v5).error()) == error_text(errc::unexpected_packet));
  CHECK(mqtt::decode_pingreq(pingreq).has_value());
}

TEST_CASE("mqtt malformed: wrong fixed header flags for every packet type") {
  // §2.2.2 (both versions): PUBREL, SUBSCRIBE and UNSUBSCRIBE carry 0010, PUBLISH its own flags, every
  // other packet 0000. One valid frame per type, tried with each of the 16 flag values.
  struct sample {
    protocol_version version;
    const char* frame;
  };
  const sample samples[] = {
      {v5, "10 0f " CONNECT_V5 " 02 00 3c 00 00 02 74 77"},
      {v5, "20 03 00 00 00"},
      {v5, "30 04 00 01 61 00"},  // QoS 0; other flags change the layout and are checked below
      {v5, "40 02 00 01"},
      {v5, "50 02 00 01"},
      {v5, "62 02 00 01"},
      {v5, "70 02 00 01"},
      {v5, "82 07 00 01 00 00 01 61 00"},
      {v5, "90 04 00 01 00 00"},
      {v5, "a2 06 00 01 00 00 01 61"},
      {v5, "b0 04 00 01 00 00"},
      {v5, "c0 00"},
      {v5, "d0 00"},
      {v5, "e0 00"},
      {v5, "f0 00"},
      {v311, "b0 02 00 01"},
      {v311, "e0 00"},
  };
  for (const sample& s : samples) {
    const byte_vector valid = from_hex(s.frame);
    const auto type = static_cast<mqtt::packet_type>(valid[0] >> 4);
    CAPTURE(mqtt::to_string(type));
    REQUIRE(mqtt::decode(valid, s.version).has_value());
    const unsigned required = valid[0] & 0x0F;
    for (unsigned flags = 0; flags < 16; ++flags) {
      if (flags == required || type == mqtt::packet_type::publish) continue;
      CAPTURE(flags);
      byte_vector frame = valid;
      frame[0] = static_cast<thingwell::byte>((valid[0] & 0xF0) | flags);
      check_refused(frame, s.version, errc::bad_header_flags, rc::malformed_packet);
    }
  }
}

TEST_CASE("mqtt malformed: PUBLISH fixed header flags, all sixteen") {
  // PUBLISH flags are DUP, QoS (two bits) and RETAIN: every combination is legal except QoS 3, and DUP
  // with QoS 0. The body is built for the QoS so that only the flags decide.
  for (unsigned flags = 0; flags < 16; ++flags) {
    CAPTURE(flags);
    const unsigned q = (flags >> 1) & 3;
    byte_vector frame = q == 0 ? from_hex("30 04 00 01 61 00") : from_hex("30 06 00 01 61 00 07 00");
    frame[0] = static_cast<thingwell::byte>(0x30 | flags);
    auto r = mqtt::decode(frame, v5);
    if (q == 3) {
      check_refused(frame, v5, errc::bad_qos, rc::malformed_packet);
    } else if (q == 0 && (flags & 0x08) != 0) {
      check_refused(frame, v5, errc::protocol_error, rc::protocol_error);
    } else {
      REQUIRE(r.has_value());
      const auto& p = std::get<mqtt::publish>(*r);
      CHECK(static_cast<unsigned>(p.qos) == q);
      CHECK(p.retain == ((flags & 1) != 0));
      CHECK(p.dup == ((flags & 8) != 0));
    }
  }
}

TEST_CASE("mqtt malformed: every proper prefix of a valid frame is truncated") {
  // A frame that stops early always claims more than it has: the fixed header (or what there is of it)
  // says so before any field is read.
  packet_generator gen(0x7121C);
  for (int i = 0; i < 300; ++i) {
    gen.clear();
    const protocol_version v = i % 2 ? v5 : v311;
    const encoding e = encode_any(gen.make_any(v), v);
    REQUIRE_FALSE(e.bytes.empty());
    for (std::size_t n = 0; n < e.bytes.size(); ++n) {
      auto r = mqtt::decode(thingwell::bytes_view(e.bytes.data(), n), v);
      if (r.has_value() || r.error() != make_error_code(errc::truncated)) {
        FAIL_CHECK("prefix of ", n, " bytes of ", hex(e.bytes), ": ", error_text(r.error()));
        return;
      }
    }
  }
}

TEST_CASE("mqtt malformed: CONNECT cut anywhere inside its fields is truncated") {
  // CONNECT has no optional tail: with the remaining length made to agree with a shorter body, every
  // cut leaves a field incomplete. This covers each length prefix and each fixed-size field.
  packet_generator gen(0xC077EC7);
  for (int i = 0; i < 200; ++i) {
    gen.clear();
    const protocol_version v = i % 2 ? v5 : v311;
    const mqtt::packet p = gen.make(mqtt::packet_type::connect, v);
    const encoding e = encode_any(p, v);
    REQUIRE_FALSE(e.bytes.empty());
    // Re-frame every shorter body with its own (minimal) remaining length.
    const std::size_t header = mqtt::peek_fixed_header(e.bytes)->size;
    const thingwell::bytes_view body(e.bytes.data() + header, e.bytes.size() - header);
    for (std::size_t n = 0; n < body.size(); ++n) {
      byte_vector frame{0x10};
      thingwell::byte len[4];
      const std::size_t len_size = mqtt::write_varint(len, static_cast<std::uint32_t>(n));
      frame.insert(frame.end(), len, len + len_size);
      frame.insert(frame.end(), body.begin(), body.begin() + static_cast<std::ptrdiff_t>(n));
      auto r = mqtt::decode(frame, v);
      if (r.has_value() || r.error() != make_error_code(errc::truncated)) {
        FAIL_CHECK("body cut at ", n, " of ", hex(e.bytes), ": ", error_text(r.error()));
        return;
      }
    }
  }
}

TEST_CASE("mqtt malformed: any packet cut inside its body either fails cleanly or decodes to a valid packet") {
  // Packets with lists or optional tails (PUBLISH payload, v5 short forms, SUBSCRIBE lists) may still be
  // valid when cut; whatever decodes must then survive its own round trip.
  packet_generator gen(0xB0D7);
  for (int i = 0; i < 400; ++i) {
    gen.clear();
    const protocol_version v = i % 2 ? v5 : v311;
    const encoding e = encode_any(gen.make_any(v), v);
    REQUIRE_FALSE(e.bytes.empty());
    if (e.bytes.size() > 2000) continue;  // the long payloads add nothing here but time
    const std::size_t header = mqtt::peek_fixed_header(e.bytes)->size;
    const thingwell::bytes_view body(e.bytes.data() + header, e.bytes.size() - header);
    for (std::size_t n = 0; n < body.size(); ++n) {
      byte_vector frame{e.bytes[0]};
      thingwell::byte len[4];
      frame.insert(frame.end(), len, len + mqtt::write_varint(len, static_cast<std::uint32_t>(n)));
      frame.insert(frame.end(), body.begin(), body.begin() + static_cast<std::ptrdiff_t>(n));
      auto r = mqtt::decode(frame, v);
      if (!r) continue;
      const encoding again = encode_any(*r, v);
      if (again.error) {
        FAIL_CHECK("decoded but cannot be encoded: ", hex(frame), ": ", error_text(again.error));
        return;
      }
      auto back = mqtt::decode(again.bytes, v);
      if (!back || difference(*r, *back) != "") {
        FAIL_CHECK("decoded but does not round trip: ", hex(frame));
        return;
      }
    }
  }
}
