// The encoder's own checks: a packet that would break a rule is refused with a typed error before any
// byte is written, a short buffer is reported and left untouched, and sizes are exact at every
// Remaining Length boundary.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;
using thingwell::errc;
using mqtt::qos;
using rc = mqtt::reason_code;
constexpr auto v311 = protocol_version::v311;
constexpr auto v5 = protocol_version::v5;

mqtt::connect valid_connect(protocol_version v) {
  mqtt::connect c;
  c.version = v;
  c.client_id = "c";
  return c;
}

mqtt::publish valid_publish() {
  mqtt::publish p;
  p.topic = "t";
  return p;
}

}  // namespace

TEST_CASE("mqtt encode: CONNECT refusals") {
  mqtt::connect c = valid_connect(v5);
  c.version = static_cast<protocol_version>(3);
  check_encode_refused(c, v5, errc::unsupported_protocol_version);

  c = valid_connect(v311);
  c.client_id = "";
  c.clean_start = false;  // [MQTT-3.1.3-7] an empty client id needs a clean session in 3.1.1
  check_encode_refused(c, v311, errc::client_id_invalid);
  c.version = v5;  // ... but not in MQTT 5, where the server assigns one
  CHECK(mqtt::encoded_size(c, v5).has_value());

  c = valid_connect(v5);
  c.client_id = "\xED\xA0\x80";
  check_encode_refused(c, v5, errc::bad_utf8);
  const std::string long_id(mqtt::max_field_length + 1, 'c');
  c.client_id = long_id;
  check_encode_refused(c, v5, errc::string_too_long);

  c = valid_connect(v5);
  c.username = std::string_view("\0", 1);
  check_encode_refused(c, v5, errc::bad_utf8);

  c = valid_connect(v311);
  c.password = thingwell::as_bytes("pw");  // [MQTT-3.1.2-22] a password needs a user name in 3.1.1
  check_encode_refused(c, v311, errc::bad_connect_flags);

  const std::vector<thingwell::byte> long_blob(mqtt::max_field_length + 1);
  c = valid_connect(v5);
  c.password = thingwell::bytes_view(long_blob);
  check_encode_refused(c, v5, errc::string_too_long);

  c = valid_connect(v5);
  c.will = mqtt::will_message{"a/#", {}, qos::at_most_once, false, {}};
  check_encode_refused(c, v5, errc::bad_topic_name);
  c.will->topic = "";
  check_encode_refused(c, v5, errc::bad_topic_name);
  c.will->topic = "w";
  c.will->qos = static_cast<qos>(3);
  check_encode_refused(c, v5, errc::bad_qos);
  c.will->qos = qos::at_most_once;
  c.will->payload = thingwell::bytes_view(long_blob);
  check_encode_refused(c, v5, errc::string_too_long);
}

TEST_CASE("mqtt encode: CONNACK refusals") {
  check_encode_refused(mqtt::connack{true, rc::not_authorized, {}}, v5, errc::protocol_error);
  check_encode_refused(mqtt::connack{true, rc::not_authorized, {}}, v311, errc::protocol_error);
  check_encode_refused(mqtt::connack{false, rc::no_matching_subscribers, {}}, v5, errc::bad_reason_code);
}

TEST_CASE("mqtt encode: PUBLISH refusals") {
  mqtt::publish p = valid_publish();
  p.qos = static_cast<qos>(3);
  check_encode_refused(p, v5, errc::bad_qos);

  p = valid_publish();
  p.dup = true;  // [MQTT-3.3.1-2]
  check_encode_refused(p, v5, errc::protocol_error);

  p = valid_publish();
  p.qos = qos::at_least_once;
  check_encode_refused(p, v311, errc::bad_packet_id);

  p = valid_publish();
  p.topic = "";
  check_encode_refused(p, v311, errc::bad_topic_name);
  check_encode_refused(p, v5, errc::bad_topic_name);
  p.props.topic_alias = 1;  // an alias stands for the topic in MQTT 5 only
  check_encode_refused(p, v311, errc::bad_topic_name);
  CHECK(mqtt::encoded_size(p, v5).has_value());

  p = valid_publish();
  p.topic = "a/+";
  check_encode_refused(p, v5, errc::bad_topic_name);
  const std::string long_topic(mqtt::max_field_length + 1, 't');
  p.topic = long_topic;
  check_encode_refused(p, v5, errc::string_too_long);
}

TEST_CASE("mqtt encode: acknowledgement refusals") {
  check_encode_refused(mqtt::puback{0, rc::success, {}}, v5, errc::bad_packet_id);
  check_encode_refused(mqtt::pubrel{0, rc::success, {}}, v311, errc::bad_packet_id);
  check_encode_refused(mqtt::puback{1, rc::no_matching_subscribers, {}}, v311, errc::bad_reason_code);
  check_encode_refused(mqtt::pubcomp{1, rc::unspecified_error, {}}, v5, errc::bad_reason_code);
  check_encode_refused(mqtt::pubrel{1, rc::no_matching_subscribers, {}}, v5, errc::bad_reason_code);
}

TEST_CASE("mqtt encode: SUBSCRIBE refusals") {
  mqtt::subscribe s{1, {}, {}};
  check_encode_refused(s, v5, errc::empty_payload);

  auto with = [](const mqtt::subscription& sub, protocol_version v, errc expected) {
    const mqtt::subscription subs[] = {sub};
    check_encode_refused(mqtt::subscribe{1, subs, {}}, v, expected);
  };
  with({"a/#/b", qos::at_most_once}, v5, errc::bad_topic_filter);
  with({"", qos::at_most_once}, v5, errc::bad_topic_filter);
  with({"a", static_cast<qos>(3)}, v5, errc::bad_subscription_options);
  with({"a", qos::at_most_once, false, false, static_cast<mqtt::retain_handling>(3)}, v5,
       errc::bad_subscription_options);
  with({"a", qos::at_most_once, true}, v311, errc::bad_subscription_options);
  with({"a", qos::at_most_once, false, true}, v311, errc::bad_subscription_options);
  with({"a", qos::at_most_once, false, false, mqtt::retain_handling::do_not_send}, v311,
       errc::bad_subscription_options);
  with({"$share/g/a", qos::at_most_once, true}, v5, errc::bad_subscription_options);  // [MQTT-3.8.3-4]

  const mqtt::subscription ok[] = {{"a", qos::at_most_once}};
  check_encode_refused(mqtt::subscribe{0, ok, {}}, v5, errc::bad_packet_id);
}

TEST_CASE("mqtt encode: SUBACK, UNSUBSCRIBE and UNSUBACK refusals") {
  check_encode_refused(mqtt::suback{1, {}, {}}, v5, errc::empty_payload);
  const rc not_in_311[] = {rc::not_authorized};
  check_encode_refused(mqtt::suback{1, not_in_311, {}}, v311, errc::bad_reason_code);
  const rc not_in_suback[] = {rc::no_subscription_existed};
  check_encode_refused(mqtt::suback{1, not_in_suback, {}}, v5, errc::bad_reason_code);
  check_encode_refused(mqtt::suback{0, not_in_311, {}}, v5, errc::bad_packet_id);

  check_encode_refused(mqtt::unsubscribe{1, {}, {}}, v311, errc::empty_payload);
  const std::string_view bad[] = {"a", "b#"};
  check_encode_refused(mqtt::unsubscribe{1, bad, {}}, v5, errc::bad_topic_filter);
  const std::string_view ok[] = {"a"};
  check_encode_refused(mqtt::unsubscribe{0, ok, {}}, v5, errc::bad_packet_id);

  const rc codes[] = {rc::success};
  check_encode_refused(mqtt::unsuback{1, codes, {}}, v311, errc::bad_reason_code);  // no payload in 3.1.1
  check_encode_refused(mqtt::unsuback{1, {}, {}}, v5, errc::empty_payload);
  const rc granted[] = {rc::granted_qos_1};
  check_encode_refused(mqtt::unsuback{1, granted, {}}, v5, errc::bad_reason_code);
  check_encode_refused(mqtt::unsuback{0, {}, {}}, v311, errc::bad_packet_id);
}

TEST_CASE("mqtt encode: DISCONNECT and AUTH refusals") {
  check_encode_refused(mqtt::disconnect{rc::disconnect_with_will_message, {}}, v311, errc::bad_reason_code);
  check_encode_refused(mqtt::disconnect{rc::granted_qos_1, {}}, v5, errc::bad_reason_code);
  check_encode_refused(mqtt::auth{}, v311, errc::bad_packet_type);
  check_encode_refused(mqtt::auth{rc::not_authorized, {}}, v5, errc::bad_reason_code);
}

TEST_CASE("mqtt encode: a short buffer is reported and left untouched") {
  mqtt::publish p = valid_publish();
  p.payload = thingwell::as_bytes("payload");
  const std::size_t size = *mqtt::encoded_size(p, v5);
  byte_vector buffer(size - 1, 0xEE);
  auto r = mqtt::encode(p, v5, buffer);
  REQUIRE_FALSE(r.has_value());
  CHECK(error_text(r.error()) == error_text(errc::buffer_too_small));
  CHECK(buffer == byte_vector(size - 1, 0xEE));
  buffer.assign(size + 3, 0xEE);
  REQUIRE(mqtt::encode(p, v5, buffer).value() == size);
  CHECK(buffer[size] == 0xEE);  // nothing written past the packet

  byte_vector empty;
  CHECK(error_text(mqtt::encode(mqtt::pingreq{}, v5, empty).error()) == error_text(errc::buffer_too_small));
}

TEST_CASE("mqtt encode: the packet variant encodes like the packet it holds") {
  packet_generator gen(0xA7);
  for (int i = 0; i < 200; ++i) {
    gen.clear();
    const protocol_version v = i % 2 ? v5 : v311;
    const mqtt::packet p = gen.make_any(v);
    byte_vector direct = encode_any(p, v).bytes;
    byte_vector through_variant(direct.size());
    REQUIRE(mqtt::encode(p, v, through_variant).value() == direct.size());
    CHECK(through_variant == direct);
  }
}

TEST_CASE("mqtt encode: a PUBLISH header for scatter/gather plus its payload is the whole packet") {
  packet_generator gen(0x5C47);
  for (int i = 0; i < 300; ++i) {
    gen.clear();
    const protocol_version v = i % 2 ? v5 : v311;
    const auto p = std::get<mqtt::publish>(gen.make(mqtt::packet_type::publish, v));
    const byte_vector whole = encode_any(p, v).bytes;
    auto sizes = mqtt::measure_publish(p, v);
    REQUIRE(sizes.has_value());
    CHECK(sizes->total == whole.size());
    CHECK(sizes->header + p.payload.size() == whole.size());
    byte_vector header(sizes->header);
    REQUIRE(mqtt::encode_publish_header(p, v, header).value() == sizes->header);
    header.insert(header.end(), p.payload.begin(), p.payload.end());
    CHECK(header == whole);
  }
  mqtt::publish bad = valid_publish();
  bad.topic = "#";
  CHECK(error_text(mqtt::measure_publish(bad, v5).error()) == error_text(errc::bad_topic_name));
  byte_vector small(2);
  CHECK(error_text(mqtt::encode_publish_header(bad, v5, small).error()) == error_text(errc::bad_topic_name));
  CHECK(error_text(mqtt::encode_publish_header(valid_publish(), v5, small).error()) ==
        error_text(errc::buffer_too_small));
}

TEST_CASE("mqtt encode: sizes at each Remaining Length boundary") {
  // PUBLISH "t" at QoS 0 in 3.1.1: Remaining Length = 3 + payload. Payloads are filled in so that the
  // bytes are checked, not only the sizes.
  for (std::uint32_t remaining : {127u, 128u, 16'383u, 16'384u, 2'097'151u, 2'097'152u}) {
    CAPTURE(remaining);
    const std::vector<thingwell::byte> payload(remaining - 3, 0x5A);
    mqtt::publish p = valid_publish();
    p.payload = thingwell::bytes_view(payload);
    const encoding e = encode_packet(p, v311);
    REQUIRE(error_text(e.error) == "success");
    CHECK_FALSE(e.size_mismatch);
    CHECK(e.bytes.size() == 1 + mqtt::varint_size(remaining) + remaining);
    auto h = mqtt::peek_fixed_header(e.bytes);
    REQUIRE(h.has_value());
    CHECK(h->remaining_length == remaining);
    auto back = mqtt::decode(e.bytes, v311);
    REQUIRE(back.has_value());
    CHECK(std::get<mqtt::publish>(*back).payload.size() == payload.size());
  }
}

TEST_CASE("mqtt encode: the largest Remaining Length is measured and one more is refused") {
  // Only measured: the payload memory is never touched, so it is allocated but not filled.
  const std::size_t largest_payload = mqtt::max_varint - 3;
  std::unique_ptr<thingwell::byte[]> storage(new thingwell::byte[largest_payload + 1]);
  mqtt::publish p = valid_publish();
  p.payload = thingwell::bytes_view(storage.get(), largest_payload);
  auto size = mqtt::encoded_size(p, v311);
  REQUIRE(size.has_value());
  CHECK(*size == 1 + 4 + mqtt::max_varint);
  p.payload = thingwell::bytes_view(storage.get(), largest_payload + 1);
  CHECK(error_text(mqtt::encoded_size(p, v311).error()) == error_text(errc::packet_too_large));
  // With properties in MQTT 5 the property block counts too.
  p.payload = thingwell::bytes_view(storage.get(), largest_payload);
  CHECK(error_text(mqtt::encoded_size(p, v5).error()) == error_text(errc::packet_too_large));
}

TEST_CASE("mqtt encode: a DISCONNECT whose properties fill the largest block is refused, not mis-sized") {
  // A property block of exactly 268,435,455 bytes is representable, but with its own length prefix and
  // the reason code the Remaining Length would exceed the maximum. User properties of 131,075 bytes
  // each (identifier, two length prefixes, 65,535 + 65,535 bytes) plus one sized to fill the rest.
  const std::string big(mqtt::max_field_length, 'u');
  std::vector<mqtt::user_property> props(2047, mqtt::user_property{big, big});
  const std::size_t used = 2047u * 131'075u;
  const std::size_t last = mqtt::max_varint - used;  // 124,930: 5 bytes of framing plus text
  const std::string tail(last - 5 - mqtt::max_field_length, 'v');
  props.push_back({big, tail});
  mqtt::disconnect d;
  d.props.user_properties = std::span<const mqtt::user_property>(props);
  auto block = mqtt::detail::property_block_size(d.props, mqtt::context_of(mqtt::packet_type::disconnect));
  REQUIRE(block.has_value());
  CHECK(*block == mqtt::max_varint);
  // (AUTH shares the code; measuring 256 MB of UTF-8 once more would only add time.)
  CHECK(error_text(mqtt::encoded_size(d, v5).error()) == error_text(errc::packet_too_large));
}
