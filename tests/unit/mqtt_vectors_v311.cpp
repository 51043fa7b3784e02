// Byte-exact MQTT 3.1.1 packets, worked out from the OASIS MQTT 3.1.1 specification (section numbers in
// the comments). Each vector is checked both ways: the packet encodes to exactly these bytes, and these
// bytes decode to exactly this packet.
#include <doctest/doctest.h>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;
using mqtt::qos;
using mqtt::reason_code;
constexpr auto v311 = protocol_version::v311;

}  // namespace

TEST_CASE("mqtt v3.1.1 vector: CONNECT with client id, clean session and keep-alive only") {
  mqtt::connect p;
  p.version = v311;
  p.client_id = "tw";
  p.clean_start = true;
  p.keep_alive = 60;
  check_vector(p, v311,
               bytes({0x10, 0x0E,                                // CONNECT, remaining length 14
                      0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,     // protocol name, level 4 (§3.1.2.1, §3.1.2.2)
                      0x02,                                     // flags: clean session
                      0x00, 0x3C,                               // keep alive 60 s
                      0x00, 0x02, 't', 'w'}));                  // client identifier
}

TEST_CASE("mqtt v3.1.1 vector: CONNECT with will, user name and password") {
  mqtt::connect p;
  p.version = v311;
  p.client_id = "dev";
  p.clean_start = false;
  p.keep_alive = 1200;
  p.will = mqtt::will_message{"lwt/dev", thingwell::as_bytes("off"), qos::exactly_once, false, {}};
  p.username = "user";
  p.password = thingwell::as_bytes(std::string_view("p\0w", 3));
  check_vector(p, v311,
               bytes({0x10, 0x28,
                      0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
                      0xD4,  // user name 0x80 | password 0x40 | will QoS 2 (0x10) | will flag 0x04; clean 0
                      0x04, 0xB0,  // keep alive 1200
                      0x00, 0x03, 'd', 'e', 'v',
                      0x00, 0x07, 'l', 'w', 't', '/', 'd', 'e', 'v',  // will topic
                      0x00, 0x03, 'o', 'f', 'f',                      // will message
                      0x00, 0x04, 'u', 's', 'e', 'r',
                      0x00, 0x03, 'p', 0x00, 'w'}));  // the password is binary data: a zero byte is fine
}

TEST_CASE("mqtt v3.1.1 vector: CONNECT with a retained QoS 1 will and an empty client id") {
  mqtt::connect p;
  p.version = v311;
  p.client_id = "";  // allowed with clean session = 1 (§3.1.3.1)
  p.keep_alive = 0;
  p.will = mqtt::will_message{"w", {}, qos::at_least_once, true, {}};
  check_vector(p, v311,
               bytes({0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
                      0x2E,  // will retain 0x20 | will QoS 1 (0x08) | will flag 0x04 | clean session 0x02
                      0x00, 0x00,
                      0x00, 0x00,             // empty client identifier
                      0x00, 0x01, 'w',        // will topic
                      0x00, 0x00}));          // empty will message
}

TEST_CASE("mqtt v3.1.1 vector: CONNACK accepted, with session present, and each refusal code") {
  mqtt::connack ok;
  check_vector(ok, v311, bytes({0x20, 0x02, 0x00, 0x00}));

  mqtt::connack resumed;
  resumed.session_present = true;
  check_vector(resumed, v311, bytes({0x20, 0x02, 0x01, 0x00}));

  // §3.2.2.3: return codes 1..5, read as the MQTT 5 reason codes with the same meaning.
  const struct {
    int code;
    reason_code reason;
  } refusals[] = {{1, reason_code::unsupported_protocol_version},
                  {2, reason_code::client_identifier_not_valid},
                  {3, reason_code::server_unavailable},
                  {4, reason_code::bad_user_name_or_password},
                  {5, reason_code::not_authorized}};
  for (const auto& r : refusals) {
    CAPTURE(r.code);
    mqtt::connack refused;
    refused.reason = r.reason;
    check_vector(refused, v311, bytes({0x20, 0x02, 0x00, r.code}));
  }
}

TEST_CASE("mqtt v3.1.1 vector: CONNACK return codes 6..255 are reserved and read as a failure") {
  // §3.2.2.3 reserves them; a client must not mistake one for success.
  check_decodes_to(bytes({0x20, 0x02, 0x00, 0x06}), v311, mqtt::connack{false, reason_code::unspecified_error, {}});
  check_decodes_to(bytes({0x20, 0x02, 0x00, 0xFF}), v311, mqtt::connack{false, reason_code::unspecified_error, {}});
}

TEST_CASE("mqtt v3.1.1 vector: PUBLISH at QoS 0, QoS 1 retained and QoS 2 duplicate") {
  mqtt::publish q0;
  q0.topic = "a/b";
  q0.payload = thingwell::as_bytes("hello");
  check_vector(q0, v311, bytes({0x30, 0x0A, 0x00, 0x03, 'a', '/', 'b', 'h', 'e', 'l', 'l', 'o'}));

  mqtt::publish q1;
  q1.topic = "a/b";
  q1.qos = qos::at_least_once;
  q1.retain = true;
  q1.packet_id = 10;
  q1.payload = thingwell::as_bytes("x");
  check_vector(q1, v311, bytes({0x33, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'x'}));

  mqtt::publish q2;
  q2.topic = "a";
  q2.qos = qos::exactly_once;
  q2.dup = true;
  q2.packet_id = 0xFFFF;
  check_vector(q2, v311, bytes({0x3C, 0x05, 0x00, 0x01, 'a', 0xFF, 0xFF}));  // empty payload
}

TEST_CASE("mqtt v3.1.1 vector: PUBLISH with a multi-byte UTF-8 topic") {
  mqtt::publish p;
  p.topic = "\xC3\xA9t\xC3\xA9/\xF0\x9F\x98\x80";  // "été/😀"
  p.payload = thingwell::as_bytes("1");
  check_vector(p, v311,
               bytes({0x30, 0x0D, 0x00, 0x0A, 0xC3, 0xA9, 't', 0xC3, 0xA9, '/', 0xF0, 0x9F, 0x98, 0x80, '1'}));
}

TEST_CASE("mqtt v3.1.1 vector: PUBACK, PUBREC, PUBREL and PUBCOMP") {
  check_vector(mqtt::puback{1, {}, {}}, v311, bytes({0x40, 0x02, 0x00, 0x01}));
  check_vector(mqtt::pubrec{0x1234, {}, {}}, v311, bytes({0x50, 0x02, 0x12, 0x34}));
  check_vector(mqtt::pubrel{0x1234, {}, {}}, v311, bytes({0x62, 0x02, 0x12, 0x34}));  // flags 0010 (§3.6.1)
  check_vector(mqtt::pubcomp{0xFFFF, {}, {}}, v311, bytes({0x70, 0x02, 0xFF, 0xFF}));
}

TEST_CASE("mqtt v3.1.1 vector: SUBSCRIBE with two filters and their requested QoS") {
  const mqtt::subscription subs[] = {{"a/+/c", qos::at_most_once}, {"#", qos::exactly_once}};
  mqtt::subscribe p;
  p.packet_id = 2;
  p.subscriptions = subs;
  check_vector(p, v311,
               bytes({0x82, 0x0E,  // flags 0010 (§3.8.1)
                      0x00, 0x02,
                      0x00, 0x05, 'a', '/', '+', '/', 'c', 0x00,  // requested QoS 0
                      0x00, 0x01, '#', 0x02}));                   // requested QoS 2
}

TEST_CASE("mqtt v3.1.1 vector: SUBACK with granted QoS values and a failure") {
  const reason_code codes[] = {reason_code::granted_qos_1, reason_code::unspecified_error, mqtt::granted_qos_0};
  mqtt::suback p;
  p.packet_id = 2;
  p.reasons = codes;
  check_vector(p, v311, bytes({0x90, 0x05, 0x00, 0x02, 0x01, 0x80, 0x00}));
}

TEST_CASE("mqtt v3.1.1 vector: UNSUBSCRIBE and UNSUBACK") {
  const std::string_view filters[] = {"a/+", "$SYS/#"};
  mqtt::unsubscribe p;
  p.packet_id = 3;
  p.filters = filters;
  check_vector(p, v311,
               bytes({0xA2, 0x0F, 0x00, 0x03, 0x00, 0x03, 'a', '/', '+', 0x00, 0x06, '$', 'S', 'Y', 'S', '/', '#'}));
  // §3.11: no payload in MQTT 3.1.1.
  check_vector(mqtt::unsuback{3, {}, {}}, v311, bytes({0xB0, 0x02, 0x00, 0x03}));
}

TEST_CASE("mqtt v3.1.1 vector: PINGREQ, PINGRESP and DISCONNECT") {
  check_vector(mqtt::pingreq{}, v311, bytes({0xC0, 0x00}));
  check_vector(mqtt::pingresp{}, v311, bytes({0xD0, 0x00}));
  check_vector(mqtt::disconnect{}, v311, bytes({0xE0, 0x00}));
}

TEST_CASE("mqtt v3.1.1 vector: decoded fields of a CONNECT are exact") {
  // The same frame as the will / user name / password vector, read field by field.
  const byte_vector frame = bytes({0x10, 0x28, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xD4, 0x04, 0xB0, 0x00, 0x03,
                                   'd', 'e', 'v', 0x00, 0x07, 'l', 'w', 't', '/', 'd', 'e', 'v', 0x00, 0x03, 'o',
                                   'f', 'f', 0x00, 0x04, 'u', 's', 'e', 'r', 0x00, 0x03, 'p', 0x00, 'w'});
  auto decoded = mqtt::decode_connect(frame);
  REQUIRE(decoded.has_value());
  const mqtt::connect& c = *decoded;
  CHECK(c.version == v311);
  CHECK(c.client_id == "dev");
  CHECK_FALSE(c.clean_start);
  CHECK(c.keep_alive == 1200);
  REQUIRE(c.will.has_value());
  CHECK(c.will->topic == "lwt/dev");
  CHECK(thingwell::as_string(c.will->payload) == "off");
  CHECK(c.will->qos == qos::exactly_once);
  CHECK_FALSE(c.will->retain);
  REQUIRE(c.username.has_value());
  CHECK(*c.username == "user");
  REQUIRE(c.password.has_value());
  CHECK(thingwell::as_string(*c.password) == std::string_view("p\0w", 3));
  // Views point into the frame: nothing was copied.
  CHECK(c.client_id.data() == reinterpret_cast<const char*>(frame.data() + 14));
}
