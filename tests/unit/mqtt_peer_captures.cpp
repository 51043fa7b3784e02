// Packets captured on the wire between independent implementations: the Eclipse Paho Python client
// (1.6.1) and the Mosquitto broker (2.0.11), both versions. They cross-check the hand-made vectors
// against what real peers send: every frame must decode to the fields below, and a frame whose
// properties are in identifier order (the order this encoder writes) must re-encode to the same bytes.
// Mosquitto writes some properties out of identifier order; those must still decode, and re-encode to
// an equal packet.
#include <doctest/doctest.h>

#include <cstdint>
#include <string_view>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;
using mqtt::qos;
using mqtt::reason_code;
using thingwell::as_bytes;
constexpr auto v311 = protocol_version::v311;
constexpr auto v5 = protocol_version::v5;

struct capture {
  const char* what;
  protocol_version version;
  const char* frame;
  bool identifier_order;  // properties (if any) in ascending identifier order
};

// Every frame of the captured sessions, in the order they were sent.
const capture captures[] = {
    // MQTT 3.1.1, Paho to Mosquitto
    {"3.1.1 CONNECT will+user+password", v311,
     "10 2a 00 04 4d 51 54 54 04 ee 00 1e 00 04 74 77 2d 61 00 07 74 77 2f 77 69 6c 6c 00 03 62 79 65 00 04 75 73 "
     "65 72 00 04 70 61 73 73", true},
    {"3.1.1 SUBSCRIBE", v311, "82 12 00 01 00 06 74 77 2f 2b 2f 78 01 00 04 74 77 2f 23 02", true},
    {"3.1.1 PUBLISH QoS 0", v311, "30 0d 00 06 74 77 2f 61 2f 78 68 65 6c 6c 6f", true},
    {"3.1.1 PUBLISH QoS 1 retain", v311, "33 0c 00 06 74 77 2f 61 2f 78 00 03 71 31", true},
    {"3.1.1 PUBACK", v311, "40 02 00 01", true},
    {"3.1.1 PUBLISH QoS 2", v311, "34 0a 00 04 74 77 2f 62 00 04 71 32", true},
    {"3.1.1 PUBREL", v311, "62 02 00 04", true},
    {"3.1.1 PUBREC", v311, "50 02 00 03", true},
    {"3.1.1 PUBCOMP", v311, "70 02 00 03", true},
    {"3.1.1 UNSUBSCRIBE", v311, "a2 08 00 05 00 04 74 77 2f 23", true},
    {"3.1.1 PUBLISH empty retained", v311, "33 0a 00 06 74 77 2f 61 2f 78 00 06", true},
    {"3.1.1 PINGREQ", v311, "c0 00", true},
    {"3.1.1 DISCONNECT", v311, "e0 00", true},
    {"3.1.1 CONNECT empty client id", v311, "10 0c 00 04 4d 51 54 54 04 02 00 00 00 00", true},
    // MQTT 3.1.1, Mosquitto to Paho
    {"3.1.1 CONNACK", v311, "20 02 00 00", true},
    {"3.1.1 SUBACK", v311, "90 04 00 01 01 02", true},
    {"3.1.1 PUBLISH QoS 1", v311, "32 0c 00 06 74 77 2f 61 2f 78 00 01 71 31", true},
    {"3.1.1 PUBLISH QoS 2", v311, "34 0a 00 04 74 77 2f 62 00 03 71 32", true},
    {"3.1.1 PUBREL", v311, "62 02 00 03", true},
    {"3.1.1 UNSUBACK", v311, "b0 02 00 05", true},
    {"3.1.1 PINGRESP", v311, "d0 00", true},
    // MQTT 5, Paho to Mosquitto
    {"5 CONNECT properties+will properties", v5,
     "10 75 00 04 4d 51 54 54 05 d6 00 3c 19 11 00 00 00 78 17 01 21 00 14 22 00 05 26 00 01 6b 00 01 76 27 00 01 "
     "00 00 00 04 74 77 2d 35 31 01 01 02 00 00 00 3c 03 00 0a 74 65 78 74 2f 70 6c 61 69 6e 08 00 07 74 77 2f 72 "
     "65 73 70 09 00 02 01 02 18 00 00 00 0a 26 00 02 77 6b 00 02 77 76 00 08 74 77 2f 77 69 6c 6c 35 00 04 67 6f "
     "6e 65 00 02 75 35 00 03 70 00 77", true},
    {"5 SUBSCRIBE id 7", v5, "82 0e 00 01 02 0b 07 00 06 74 77 2f 35 2f 23 19", true},
    {"5 SUBSCRIBE id 300", v5, "82 0f 00 02 03 0b ac 02 00 06 74 77 2f 35 2f 2b 26", true},
    {"5 PUBLISH alias+user properties", v5,
     "32 21 00 06 74 77 2f 35 2f 78 00 03 11 23 00 01 26 00 01 61 00 01 31 26 00 01 61 00 01 32 66 69 72 73 74", true},
    {"5 PUBLISH empty topic alias", v5, "34 0f 00 00 00 04 03 23 00 01 61 6c 69 61 73 65 64", true},
    {"5 PUBLISH UTF-8 payload", v5, "30 13 00 06 74 77 2f 35 2f 79 00 c3 a9 74 c3 a9 20 f0 9f 98 80", true},
    {"5 UNSUBSCRIBE user property", v5,
     "a2 20 00 06 0c 26 00 03 77 68 79 00 04 74 65 73 74 00 06 74 77 2f 35 2f 23 00 07 74 77 2f 6e 6f 6e 65", true},
    {"5 DISCONNECT with will", v5, "e0 07 04 05 11 00 00 00 00", true},
    {"5 CONNECT keep-alive 0", v5, "10 11 00 04 4d 51 54 54 05 02 00 00 00 00 04 74 77 2d 36", true},
    {"5 SUBSCRIBE $SYS", v5,
     "82 19 00 01 00 00 13 24 53 59 53 2f 62 72 6f 6b 65 72 2f 76 65 72 73 69 6f 6e 00", true},
    {"5 SUBSCRIBE max id", v5, "82 11 00 02 05 0b ff ff ff 7f 00 06 74 77 2f 2b 2f 7a 02", true},
    {"5 PUBLISH all message properties", v5,
     "32 27 00 06 74 77 2f 6d 2f 7a 00 01 1a 01 01 02 00 00 0e 10 03 00 04 6a 73 6f 6e 08 00 04 74 77 2f 72 09 00 02 "
     "63 64 7b 7d", true},
    {"5 CONNECT enhanced authentication", v5,
     "10 31 00 04 4d 51 54 54 05 02 00 3c 1d 15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31 16 00 0c 63 6c 69 65 6e 74 2d "
     "66 69 72 73 74 00 07 74 77 2d 61 75 74 68", true},
    // MQTT 5, Mosquitto to Paho
    {"5 CONNACK", v5, "20 09 00 00 06 22 00 0a 21 00 14", false},
    {"5 CONNACK server keep alive", v5, "20 0c 00 00 09 22 00 0a 13 ff ff 21 00 14", false},
    {"5 CONNACK bad authentication method", v5, "20 03 00 8c 00", true},
    {"5 SUBACK", v5, "90 04 00 01 00 01", true},
    {"5 PUBLISH subscription id+user properties", v5,
     "32 20 00 06 74 77 2f 35 2f 78 00 01 10 0b 07 26 00 01 61 00 01 31 26 00 01 61 00 01 32 66 69 72 73 74", true},
    {"5 PUBLISH forwarded properties", v5,
     "32 29 00 06 74 77 2f 6d 2f 7a 00 01 1c 0b 01 01 01 03 00 04 6a 73 6f 6e 08 00 04 74 77 2f 72 09 00 02 63 64 02 "
     "00 00 0e 10 7b 7d", false},
    {"5 PUBLISH max subscription id", v5,
     "32 2c 00 06 74 77 2f 6d 2f 7a 00 02 1f 0b ff ff ff 7f 01 01 03 00 04 6a 73 6f 6e 08 00 04 74 77 2f 72 09 00 02 "
     "63 64 02 00 00 0e 10 7b 7d", false},
    {"5 PUBACK no matching subscribers", v5, "40 03 00 02 10", true},
    {"5 UNSUBACK", v5, "b0 05 00 06 00 00 11", true},
    {"5 PUBLISH retained $SYS", v5,
     "31 2e 00 13 24 53 59 53 2f 62 72 6f 6b 65 72 2f 76 65 72 73 69 6f 6e 00 6d 6f 73 71 75 69 74 74 6f 20 76 65 "
     "72 73 69 6f 6e 20 32 2e 30 2e 31 31", true},
};

byte_vector frame_of(std::string_view what) {
  for (const capture& c : captures)
    if (what == c.what) return from_hex(c.frame);
  FAIL("no capture named ", what);
  return {};
}

}  // namespace

TEST_CASE("mqtt peer captures: every frame Paho and Mosquitto exchanged decodes and re-encodes") {
  for (const capture& c : captures) {
    INFO(c.what);
    const byte_vector frame = from_hex(c.frame);
    auto decoded = mqtt::decode(frame, c.version);
    REQUIRE_MESSAGE(decoded.has_value(), "decode failed: ", decoded.error().message());
    const encoding again = encode_any(*decoded, c.version);
    REQUIRE(error_text(again.error) == "success");
    if (c.identifier_order) {
      CHECK(hex(again.bytes) == hex(frame));
    } else {
      CHECK(again.bytes.size() == frame.size());
      auto redecoded = mqtt::decode(again.bytes, c.version);
      REQUIRE(redecoded.has_value());
      CHECK(difference(*decoded, *redecoded) == "");
    }
  }
}

TEST_CASE("mqtt peer captures: Paho's MQTT 3.1.1 CONNECT with will, user name and password") {
  mqtt::connect p;
  p.version = v311;
  p.client_id = "tw-a";
  p.keep_alive = 30;
  p.will = mqtt::will_message{"tw/will", as_bytes("bye"), qos::at_least_once, true, {}};
  p.username = "user";
  p.password = as_bytes("pass");
  check_vector(p, v311, frame_of("3.1.1 CONNECT will+user+password"));
}

TEST_CASE("mqtt peer captures: Paho's MQTT 5 CONNECT with properties and will properties") {
  const mqtt::user_property user[] = {{"k", "v"}};
  const mqtt::user_property will_user[] = {{"wk", "wv"}};
  const thingwell::byte correlation[] = {0x01, 0x02};
  mqtt::connect p;
  p.version = v5;
  p.client_id = "tw-5";
  p.keep_alive = 60;
  p.props.session_expiry_interval = 120;
  p.props.request_problem_information = 1;
  p.props.receive_maximum = 20;
  p.props.topic_alias_maximum = 5;
  p.props.user_properties = user;
  p.props.maximum_packet_size = 65536;
  mqtt::will_message w;
  w.topic = "tw/will5";
  w.payload = as_bytes("gone");
  w.qos = qos::exactly_once;
  w.props.payload_format_indicator = 1;
  w.props.message_expiry_interval = 60;
  w.props.content_type = "text/plain";
  w.props.response_topic = "tw/resp";
  w.props.correlation_data = thingwell::bytes_view(correlation);
  w.props.will_delay_interval = 10;
  w.props.user_properties = will_user;
  p.will = w;
  p.username = "u5";
  p.password = as_bytes(std::string_view("p\0w", 3));
  check_vector(p, v5, frame_of("5 CONNECT properties+will properties"));
}

TEST_CASE("mqtt peer captures: Paho's MQTT 5 SUBSCRIBE options and subscription identifiers") {
  const std::uint32_t id7[] = {7};
  const mqtt::subscription first[] = {{"tw/5/#", qos::at_least_once, false, true,
                                       mqtt::retain_handling::send_if_new_subscription}};
  mqtt::subscribe one{1, first, {}};
  one.props.subscription_identifiers = id7;
  check_vector(one, v5, frame_of("5 SUBSCRIBE id 7"));

  const std::uint32_t id300[] = {300};
  const mqtt::subscription second[] = {{"tw/5/+", qos::exactly_once, true, false, mqtt::retain_handling::do_not_send}};
  mqtt::subscribe two{2, second, {}};
  two.props.subscription_identifiers = id300;
  check_vector(two, v5, frame_of("5 SUBSCRIBE id 300"));
}

TEST_CASE("mqtt peer captures: Paho's MQTT 5 PUBLISH setting and then using a topic alias") {
  const mqtt::user_property user[] = {{"a", "1"}, {"a", "2"}};
  mqtt::publish set;
  set.topic = "tw/5/x";
  set.qos = qos::at_least_once;
  set.packet_id = 3;
  set.props.topic_alias = 1;
  set.props.user_properties = user;
  set.payload = as_bytes("first");
  check_vector(set, v5, frame_of("5 PUBLISH alias+user properties"));

  mqtt::publish use;
  use.qos = qos::exactly_once;
  use.packet_id = 4;
  use.props.topic_alias = 1;
  use.payload = as_bytes("aliased");
  check_vector(use, v5, frame_of("5 PUBLISH empty topic alias"));
}

TEST_CASE("mqtt peer captures: Paho's MQTT 5 UNSUBSCRIBE and DISCONNECT with properties") {
  const mqtt::user_property user[] = {{"why", "test"}};
  const std::string_view filters[] = {"tw/5/#", "tw/none"};
  mqtt::unsubscribe unsub{6, filters, {}};
  unsub.props.user_properties = user;
  check_vector(unsub, v5, frame_of("5 UNSUBSCRIBE user property"));
  mqtt::disconnect bye{reason_code::disconnect_with_will_message, {}};
  bye.props.session_expiry_interval = 0;
  check_vector(bye, v5, frame_of("5 DISCONNECT with will"));
}

TEST_CASE("mqtt peer captures: Mosquitto's MQTT 5 CONNACK properties, in the broker's order") {
  mqtt::connack expected;
  expected.props.topic_alias_maximum = 10;
  expected.props.receive_maximum = 20;
  check_decodes_to(frame_of("5 CONNACK"), v5, expected);

  expected.props.server_keep_alive = 0xFFFF;
  check_decodes_to(frame_of("5 CONNACK server keep alive"), v5, expected);

  check_vector(mqtt::connack{false, reason_code::bad_authentication_method, {}}, v5,
               frame_of("5 CONNACK bad authentication method"));
}

TEST_CASE("mqtt peer captures: Mosquitto's MQTT 5 PUBLISH with forwarded properties and subscription identifier") {
  const std::uint32_t ids[] = {268'435'455};  // the largest Variable Byte Integer
  const thingwell::byte correlation[] = {'c', 'd'};
  mqtt::publish p;
  p.topic = "tw/m/z";
  p.qos = qos::at_least_once;
  p.packet_id = 2;
  p.props.subscription_identifiers = ids;
  p.props.payload_format_indicator = 1;
  p.props.content_type = "json";
  p.props.response_topic = "tw/r";
  p.props.correlation_data = thingwell::bytes_view(correlation);
  p.props.message_expiry_interval = 3600;
  p.payload = as_bytes("{}");
  check_decodes_to(frame_of("5 PUBLISH max subscription id"), v5, p);
}

TEST_CASE("mqtt peer captures: Mosquitto's MQTT 5 PUBACK and UNSUBACK reason codes") {
  check_vector(mqtt::puback{2, reason_code::no_matching_subscribers, {}}, v5,
               frame_of("5 PUBACK no matching subscribers"));
  const reason_code codes[] = {reason_code::success, reason_code::no_subscription_existed};
  check_vector(mqtt::unsuback{6, codes, {}}, v5, frame_of("5 UNSUBACK"));
}
