// Byte-exact MQTT 5.0 packets, worked out from the OASIS MQTT 5.0 specification (section numbers in the
// comments). Each vector is checked both ways: the packet encodes to exactly these bytes, and these bytes
// decode to exactly this packet. The encoder writes properties in identifier order; decoding accepts any
// order (see the captured broker packets in mqtt_peer_captures.cpp).
#include <doctest/doctest.h>

#include <cstdint>
#include <string_view>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;
using mqtt::qos;
using mqtt::reason_code;
using thingwell::as_bytes;
constexpr auto v5 = protocol_version::v5;

}  // namespace

TEST_CASE("mqtt v5 vector: CONNECT with an empty property block") {
  mqtt::connect p;
  p.version = v5;
  p.client_id = "tw";
  p.keep_alive = 60;
  check_vector(p, v5,
               bytes({0x10, 0x0F, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05,  // protocol level 5 (§3.1.2.2)
                      0x02, 0x00, 0x3C,
                      0x00,  // property length 0 (§3.1.2.11)
                      0x00, 0x02, 't', 'w'}));
}

TEST_CASE("mqtt v5 vector: CONNECT with properties, will properties, user name and password") {
  const mqtt::user_property user[] = {{"a", "b"}};
  mqtt::connect p;
  p.version = v5;
  p.client_id = "c1";
  p.keep_alive = 30;
  p.props.session_expiry_interval = 3600;
  p.props.receive_maximum = 10;
  p.props.user_properties = user;
  mqtt::will_message will;
  will.topic = "w";
  will.payload = as_bytes("x");
  will.qos = qos::at_least_once;
  will.props.will_delay_interval = 5;
  will.props.payload_format_indicator = 1;
  will.props.content_type = "t";
  p.will = will;
  p.username = "u";
  const thingwell::byte password[] = {0x01, 0x02};
  p.password = thingwell::bytes_view(password);
  check_vector(p, v5,
               bytes({0x10, 0x37, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05,
                      0xCE,  // user name | password | will QoS 1 | will flag | clean start
                      0x00, 0x1E,
                      0x0F,                          // property length 15
                      0x11, 0x00, 0x00, 0x0E, 0x10,  // Session Expiry Interval 3600
                      0x21, 0x00, 0x0A,              // Receive Maximum 10
                      0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b',  // User Property a=b
                      0x00, 0x02, 'c', '1',          // client identifier
                      0x0B,                          // will property length 11 (§3.1.3.2)
                      0x01, 0x01,                    // Payload Format Indicator 1
                      0x03, 0x00, 0x01, 't',         // Content Type "t"
                      0x18, 0x00, 0x00, 0x00, 0x05,  // Will Delay Interval 5
                      0x00, 0x01, 'w',               // will topic
                      0x00, 0x01, 'x',               // will payload
                      0x00, 0x01, 'u',               // user name
                      0x00, 0x02, 0x01, 0x02}));     // password
}

TEST_CASE("mqtt v5 vector: CONNECT with a password and no user name") {
  // MQTT 5 dropped 3.1.1's rule that a password needs a user name (§3.1.2.9).
  mqtt::connect p;
  p.version = v5;
  p.client_id = "c";
  p.clean_start = false;
  p.keep_alive = 0;
  p.password = as_bytes("pw");
  check_vector(p, v5,
               bytes({0x10, 0x12, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x40, 0x00, 0x00, 0x00, 0x00, 0x01, 'c',
                      0x00, 0x02, 'p', 'w'}));
}

TEST_CASE("mqtt v5 vector: CONNACK short, with session present and properties, and refused") {
  check_vector(mqtt::connack{}, v5, bytes({0x20, 0x03, 0x00, 0x00, 0x00}));

  mqtt::connack p;
  p.session_present = true;
  p.props.assigned_client_identifier = "id";
  p.props.server_keep_alive = 60;
  p.props.maximum_qos = 1;
  p.props.retain_available = 0;
  check_vector(p, v5,
               bytes({0x20, 0x0F, 0x01, 0x00, 0x0C,
                      0x12, 0x00, 0x02, 'i', 'd',  // Assigned Client Identifier
                      0x13, 0x00, 0x3C,            // Server Keep Alive 60
                      0x24, 0x01,                  // Maximum QoS 1
                      0x25, 0x00}));               // Retain Available 0

  mqtt::connack refused;
  refused.reason = reason_code::not_authorized;
  refused.props.reason_string = "no";
  check_vector(refused, v5, bytes({0x20, 0x08, 0x00, 0x87, 0x05, 0x1F, 0x00, 0x02, 'n', 'o'}));
}

TEST_CASE("mqtt v5 vector: PUBLISH at QoS 0 with an empty property block") {
  mqtt::publish p;
  p.topic = "a/b";
  p.payload = as_bytes("hi");
  check_vector(p, v5, bytes({0x30, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 'h', 'i'}));
}

TEST_CASE("mqtt v5 vector: PUBLISH with a topic alias and an empty topic name") {
  // §3.3.2.3.4: a zero-length topic name with a Topic Alias uses the topic the alias was set to.
  mqtt::publish p;
  p.qos = qos::at_least_once;
  p.packet_id = 10;
  p.props.topic_alias = 5;
  p.payload = as_bytes("p");
  check_vector(p, v5, bytes({0x32, 0x09, 0x00, 0x00, 0x00, 0x0A, 0x03, 0x23, 0x00, 0x05, 'p'}));
}

TEST_CASE("mqtt v5 vector: PUBLISH at QoS 2, retained duplicate, with several subscription identifiers") {
  const std::uint32_t ids[] = {1, 16384};
  const mqtt::user_property user[] = {{"k", "v1"}, {"k", "v2"}};  // same name twice: allowed, order kept
  const thingwell::byte correlation[] = {0xAB};
  mqtt::publish p;
  p.topic = "t";
  p.qos = qos::exactly_once;
  p.retain = true;
  p.dup = true;
  p.packet_id = 256;
  p.props.payload_format_indicator = 1;
  p.props.message_expiry_interval = 60;
  p.props.response_topic = "r";
  p.props.correlation_data = thingwell::bytes_view(correlation);
  p.props.subscription_identifiers = ids;
  p.props.user_properties = user;
  check_vector(p, v5,
               bytes({0x3D, 0x2B,  // DUP 0x08 | QoS 2 0x04 | RETAIN 0x01
                      0x00, 0x01, 't', 0x01, 0x00,
                      0x25,                          // property length 37
                      0x01, 0x01,                    // Payload Format Indicator
                      0x02, 0x00, 0x00, 0x00, 0x3C,  // Message Expiry Interval 60
                      0x08, 0x00, 0x01, 'r',         // Response Topic
                      0x09, 0x00, 0x01, 0xAB,        // Correlation Data
                      0x0B, 0x01,                    // Subscription Identifier 1
                      0x0B, 0x80, 0x80, 0x01,        // Subscription Identifier 16384 (three-byte varint)
                      0x26, 0x00, 0x01, 'k', 0x00, 0x02, 'v', '1',
                      0x26, 0x00, 0x01, 'k', 0x00, 0x02, 'v', '2'}));  // no payload
}

TEST_CASE("mqtt v5 vector: PUBACK in its two-byte, three-byte and property forms") {
  // §3.4.2.1: reason code and property length may be left out when they are 0x00 and empty.
  check_vector(mqtt::puback{1, reason_code::success, {}}, v5, bytes({0x40, 0x02, 0x00, 0x01}));
  check_vector(mqtt::puback{1, reason_code::no_matching_subscribers, {}}, v5, bytes({0x40, 0x03, 0x00, 0x01, 0x10}));
  mqtt::puback with_props{1, reason_code::unspecified_error, {}};
  with_props.props.reason_string = "no";
  check_vector(with_props, v5, bytes({0x40, 0x09, 0x00, 0x01, 0x80, 0x05, 0x1F, 0x00, 0x02, 'n', 'o'}));
  // A success code with properties keeps the reason code byte.
  mqtt::puback success_with_props{2, reason_code::success, {}};
  success_with_props.props.reason_string = "";
  check_vector(success_with_props, v5, bytes({0x40, 0x07, 0x00, 0x02, 0x00, 0x03, 0x1F, 0x00, 0x00}));
}

TEST_CASE("mqtt v5 vector: PUBACK longer forms that carry nothing still decode") {
  // A sender may include the reason code and an empty property block it could have left out.
  check_decodes_to(bytes({0x40, 0x03, 0x00, 0x01, 0x00}), v5, mqtt::puback{1, reason_code::success, {}});
  check_decodes_to(bytes({0x40, 0x04, 0x00, 0x01, 0x00, 0x00}), v5, mqtt::puback{1, reason_code::success, {}});
  check_decodes_to(bytes({0x40, 0x04, 0x00, 0x01, 0x10, 0x00}), v5,
                   mqtt::puback{1, reason_code::no_matching_subscribers, {}});
}

TEST_CASE("mqtt v5 vector: PUBREC, PUBREL and PUBCOMP") {
  check_vector(mqtt::pubrec{2, reason_code::packet_identifier_in_use, {}}, v5, bytes({0x50, 0x03, 0x00, 0x02, 0x91}));
  check_vector(mqtt::pubrel{3, reason_code::packet_identifier_not_found, {}}, v5,
               bytes({0x62, 0x03, 0x00, 0x03, 0x92}));
  check_vector(mqtt::pubcomp{4, reason_code::success, {}}, v5, bytes({0x70, 0x02, 0x00, 0x04}));
  const mqtt::user_property user[] = {{"a", "b"}};
  mqtt::pubcomp with_user{4, reason_code::success, {}};
  with_user.props.user_properties = user;
  check_vector(with_user, v5,
               bytes({0x70, 0x0B, 0x00, 0x04, 0x00, 0x07, 0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b'}));
}

TEST_CASE("mqtt v5 vector: SUBSCRIBE with every subscription option and a subscription identifier") {
  const mqtt::subscription subs[] = {
      // §3.8.3.1: QoS bits 0-1, No Local bit 2, Retain As Published bit 3, Retain Handling bits 4-5.
      {"a/+", qos::exactly_once, true, true, mqtt::retain_handling::do_not_send},          // 0x2E
      {"$share/g/#", qos::at_least_once, false, false, mqtt::retain_handling::send_if_new_subscription}};  // 0x11
  mqtt::subscribe p;
  p.packet_id = 10;
  p.subscriptions = subs;
  const std::uint32_t id[] = {7};
  p.props.subscription_identifiers = id;
  check_vector(p, v5,
               bytes({0x82, 0x18, 0x00, 0x0A,
                      0x02, 0x0B, 0x07,  // Subscription Identifier 7
                      0x00, 0x03, 'a', '/', '+', 0x2E,
                      0x00, 0x0A, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', '#', 0x11}));
}

TEST_CASE("mqtt v5 vector: SUBACK with granted QoS and failure codes") {
  const reason_code codes[] = {reason_code::granted_qos_2, reason_code::topic_filter_invalid,
                               reason_code::shared_subscriptions_not_supported};
  mqtt::suback p;
  p.packet_id = 10;
  p.reasons = codes;
  check_vector(p, v5, bytes({0x90, 0x06, 0x00, 0x0A, 0x00, 0x02, 0x8F, 0x9E}));
}

TEST_CASE("mqtt v5 vector: UNSUBSCRIBE and UNSUBACK with reason codes") {
  const std::string_view filters[] = {"a/"};
  mqtt::unsubscribe p;
  p.packet_id = 11;
  p.filters = filters;
  check_vector(p, v5, bytes({0xA2, 0x07, 0x00, 0x0B, 0x00, 0x00, 0x02, 'a', '/'}));

  // §3.11.3: MQTT 5 UNSUBACK has one reason code per filter (3.1.1 has none).
  const reason_code codes[] = {reason_code::no_subscription_existed, reason_code::not_authorized};
  mqtt::unsuback ack;
  ack.packet_id = 11;
  ack.reasons = codes;
  check_vector(ack, v5, bytes({0xB0, 0x05, 0x00, 0x0B, 0x00, 0x11, 0x87}));
}

TEST_CASE("mqtt v5 vector: PINGREQ and PINGRESP are the same as in 3.1.1") {
  check_vector(mqtt::pingreq{}, v5, bytes({0xC0, 0x00}));
  check_vector(mqtt::pingresp{}, v5, bytes({0xD0, 0x00}));
}

TEST_CASE("mqtt v5 vector: DISCONNECT in its zero-byte, one-byte and property forms") {
  // §3.14.2.1: Remaining Length 0 means Normal disconnection without properties.
  check_vector(mqtt::disconnect{}, v5, bytes({0xE0, 0x00}));
  check_vector(mqtt::disconnect{reason_code::disconnect_with_will_message, {}}, v5, bytes({0xE0, 0x01, 0x04}));
  mqtt::disconnect moved{reason_code::use_another_server, {}};
  moved.props.server_reference = "b";
  check_vector(moved, v5, bytes({0xE0, 0x06, 0x9C, 0x04, 0x1C, 0x00, 0x01, 'b'}));
  mqtt::disconnect expiry{};
  expiry.props.session_expiry_interval = 0;
  check_vector(expiry, v5, bytes({0xE0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00}));
  // The one-byte form of a normal disconnection decodes too.
  check_decodes_to(bytes({0xE0, 0x01, 0x00}), v5, mqtt::disconnect{});
}

TEST_CASE("mqtt v5 vector: AUTH in its short form and with authentication method and data") {
  check_vector(mqtt::auth{}, v5, bytes({0xF0, 0x00}));
  mqtt::auth p{reason_code::continue_authentication, {}};
  p.props.authentication_method = "SCRAM";
  const thingwell::byte data[] = {0x01, 0x02};
  p.props.authentication_data = thingwell::bytes_view(data);
  check_vector(p, v5,
               bytes({0xF0, 0x0F, 0x18, 0x0D,
                      0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M',  // Authentication Method
                      0x16, 0x00, 0x02, 0x01, 0x02}));            // Authentication Data
  check_vector(mqtt::auth{reason_code::re_authenticate, {}}, v5, bytes({0xF0, 0x01, 0x19}));
}

TEST_CASE("mqtt v5 vector: every property identifier encodes with its own type") {
  // One property per packet, checked against the type Table 2-4 gives it.
  mqtt::connack p;
  p.props.session_expiry_interval = 0x01020304;       // Four Byte Integer
  p.props.receive_maximum = 0x0506;                   // Two Byte Integer
  p.props.maximum_packet_size = 0x0708090A;           // Four Byte Integer
  p.props.topic_alias_maximum = 0x0B0C;               // Two Byte Integer
  p.props.wildcard_subscription_available = 0;        // Byte
  p.props.subscription_identifier_available = 1;      // Byte
  p.props.shared_subscription_available = 0;          // Byte
  p.props.response_information = "ri";                // UTF-8 string
  p.props.server_reference = "sr";                    // UTF-8 string
  p.props.authentication_method = "m";
  p.props.authentication_data = as_bytes("d");        // Binary Data
  check_vector(p, v5,
               bytes({0x20, 0x2B, 0x00, 0x00, 0x28,
                      0x11, 0x01, 0x02, 0x03, 0x04,
                      0x15, 0x00, 0x01, 'm',
                      0x16, 0x00, 0x01, 'd',
                      0x1A, 0x00, 0x02, 'r', 'i',
                      0x1C, 0x00, 0x02, 's', 'r',
                      0x21, 0x05, 0x06,
                      0x22, 0x0B, 0x0C,
                      0x27, 0x07, 0x08, 0x09, 0x0A,
                      0x28, 0x00,
                      0x29, 0x01,
                      0x2A, 0x00}));

  mqtt::connect c;
  c.version = v5;
  c.client_id = "";
  c.props.request_problem_information = 0;
  c.props.request_response_information = 1;
  c.props.topic_alias_maximum = 0;  // 0 is legal here: "no topic aliases"
  check_vector(c, v5,
               bytes({0x10, 0x14, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3C, 0x07,
                      0x17, 0x00,          // Request Problem Information
                      0x19, 0x01,          // Request Response Information
                      0x22, 0x00, 0x00,    // Topic Alias Maximum 0
                      0x00, 0x00}));
}

TEST_CASE("mqtt v5 vector: decoded fields of a PUBLISH are exact and point into the frame") {
  const byte_vector frame = bytes({0x3D, 0x2B, 0x00, 0x01, 't', 0x01, 0x00, 0x25, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00,
                                   0x3C, 0x08, 0x00, 0x01, 'r', 0x09, 0x00, 0x01, 0xAB, 0x0B, 0x01, 0x0B, 0x80, 0x80,
                                   0x01, 0x26, 0x00, 0x01, 'k', 0x00, 0x02, 'v', '1', 0x26, 0x00, 0x01, 'k', 0x00,
                                   0x02, 'v', '2'});
  auto decoded = mqtt::decode_publish(frame, v5);
  REQUIRE(decoded.has_value());
  const mqtt::publish& p = *decoded;
  CHECK(p.topic == "t");
  CHECK(p.qos == qos::exactly_once);
  CHECK(p.retain);
  CHECK(p.dup);
  CHECK(p.packet_id == 256);
  CHECK(p.payload.empty());
  CHECK(p.props.payload_format_indicator == std::optional<std::uint8_t>(1));
  CHECK(p.props.message_expiry_interval == std::optional<std::uint32_t>(60));
  CHECK(p.props.response_topic == std::optional<std::string_view>("r"));
  REQUIRE(p.props.correlation_data.has_value());
  CHECK(p.props.correlation_data->size() == 1);
  CHECK((*p.props.correlation_data)[0] == 0xAB);
  REQUIRE(p.props.subscription_identifiers.size() == 2);
  auto id = p.props.subscription_identifiers.begin();
  CHECK(*id == 1u);
  ++id;
  CHECK(*id == 16384u);
  REQUIRE(p.props.user_properties.size() == 2);
  auto up = p.props.user_properties.begin();
  CHECK(up->name == "k");
  CHECK(up->value == "v1");
  ++up;
  CHECK(up->value == "v2");
  CHECK(up->value.data() == reinterpret_cast<const char*>(frame.data() + 43));
  CHECK_FALSE(p.props.topic_alias.has_value());
  CHECK_FALSE(p.props.content_type.has_value());
}
