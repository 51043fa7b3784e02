// MQTT 5 properties (§2.2.2): where each may appear, how the block is read and written, and the value
// rules the encoder enforces.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;
using thingwell::errc;
using pid = mqtt::property_id;
using pt = mqtt::packet_type;
constexpr auto v5 = protocol_version::v5;

// Table 2-4, written out again from the specification: identifier, one valid encoded value, and the
// places it may appear. Letters: N CONNECT, C CONNACK, P PUBLISH, W Will Properties, A PUBACK, R PUBREC,
// L PUBREL, M PUBCOMP, S SUBSCRIBE, K SUBACK, U UNSUBSCRIBE, B UNSUBACK, D DISCONNECT, T AUTH.
const struct {
  int id;
  const char* value;  // hex
  const char* places;
} table_2_4[] = {
    {0x01, "01", "PW"},                 // Payload Format Indicator
    {0x02, "00 00 00 3c", "PW"},        // Message Expiry Interval
    {0x03, "00 01 61", "PW"},           // Content Type
    {0x08, "00 01 61", "PW"},           // Response Topic
    {0x09, "00 01 ff", "PW"},           // Correlation Data
    {0x0B, "07", "PS"},                 // Subscription Identifier
    {0x11, "00 00 00 3c", "NCD"},       // Session Expiry Interval
    {0x12, "00 01 61", "C"},            // Assigned Client Identifier
    {0x13, "00 3c", "C"},               // Server Keep Alive
    {0x15, "00 01 61", "NCT"},          // Authentication Method
    {0x16, "00 01 ff", "NCT"},          // Authentication Data
    {0x17, "01", "N"},                  // Request Problem Information
    {0x18, "00 00 00 3c", "W"},         // Will Delay Interval
    {0x19, "01", "N"},                  // Request Response Information
    {0x1A, "00 01 61", "C"},            // Response Information
    {0x1C, "00 01 61", "CD"},           // Server Reference
    {0x1F, "00 01 61", "CARLMKBDT"},    // Reason String
    {0x21, "00 0a", "NC"},              // Receive Maximum
    {0x22, "00 0a", "NC"},              // Topic Alias Maximum
    {0x23, "00 0a", "P"},               // Topic Alias
    {0x24, "01", "C"},                  // Maximum QoS
    {0x25, "01", "C"},                  // Retain Available
    {0x26, "00 01 6b 00 01 76", "NCPWARLMSKUBDT"},  // User Property
    {0x27, "00 00 10 00", "NC"},        // Maximum Packet Size
    {0x28, "01", "C"},                  // Wildcard Subscription Available
    {0x29, "01", "C"},                  // Subscription Identifier Available
    {0x2A, "01", "C"},                  // Shared Subscription Available
};

struct place {
  char letter;
  mqtt::property_context context;
};
const place places[] = {
    {'N', mqtt::context_of(pt::connect)},     {'C', mqtt::context_of(pt::connack)},
    {'P', mqtt::context_of(pt::publish)},     {'W', mqtt::will_context},
    {'A', mqtt::context_of(pt::puback)},      {'R', mqtt::context_of(pt::pubrec)},
    {'L', mqtt::context_of(pt::pubrel)},      {'M', mqtt::context_of(pt::pubcomp)},
    {'S', mqtt::context_of(pt::subscribe)},   {'K', mqtt::context_of(pt::suback)},
    {'U', mqtt::context_of(pt::unsubscribe)}, {'B', mqtt::context_of(pt::unsuback)},
    {'D', mqtt::context_of(pt::disconnect)},  {'T', mqtt::context_of(pt::auth)},
};

// A property block (with its length) holding the given properties.
byte_vector block(const byte_vector& properties) {
  byte_vector out;
  thingwell::byte len[4];
  const std::size_t n = mqtt::write_varint(len, static_cast<std::uint32_t>(properties.size()));
  out.insert(out.end(), len, len + n);
  out.insert(out.end(), properties.begin(), properties.end());
  return out;
}

std::string read_block(const byte_vector& bytes, mqtt::property_context context, mqtt::properties& out) {
  thingwell::byte_reader r(bytes);
  const std::error_code ec = mqtt::detail::read_property_block(r, context, out);
  if (!ec && !r.empty()) return "bytes left after the block";
  return error_text(ec);
}

}  // namespace

TEST_CASE("mqtt properties: each identifier is accepted exactly where Table 2-4 allows it") {
  for (const auto& row : table_2_4) {
    const byte_vector one = block(concat({bytes({row.id}), from_hex(row.value)}));
    for (const place& p : places) {
      CAPTURE(row.id);
      CAPTURE(p.letter);
      mqtt::properties props;
      const bool allowed = std::strchr(row.places, p.letter) != nullptr;
      CHECK(read_block(one, p.context, props) == (allowed ? "success" : error_text(errc::property_not_allowed)));
    }
  }
}

TEST_CASE("mqtt properties: identifiers Table 2-4 does not list are refused everywhere") {
  for (int id = 0; id < 128; ++id) {
    bool listed = false;
    for (const auto& row : table_2_4) listed |= row.id == id;
    if (listed) continue;
    CAPTURE(id);
    for (const place& p : places) {
      mqtt::properties props;
      CHECK(read_block(block(bytes({id, 0, 0, 0, 0})), p.context, props) == error_text(errc::bad_property));
    }
  }
}

TEST_CASE("mqtt properties: repeatable properties keep their order among the others") {
  // User properties and (in PUBLISH) subscription identifiers become lists over the block: they must
  // be found wherever they sit, in order, whatever surrounds them.
  const byte_vector b = block(from_hex("26 00 01 61 00 01 31  0b 05  03 00 02 63 74  26 00 01 62 00 01 32"
                                       "  0b ff 7f  02 00 00 00 01  26 00 01 61 00 01 33"));
  mqtt::properties props;
  REQUIRE(read_block(b, mqtt::context_of(pt::publish), props) == "success");
  REQUIRE(props.user_properties.size() == 3);
  std::string joined;
  for (const auto& up : props.user_properties) joined += std::string(up.name) + "=" + std::string(up.value) + ";";
  CHECK(joined == "a=1;b=2;a=3;");
  REQUIRE(props.subscription_identifiers.size() == 2);
  std::vector<std::uint32_t> ids(props.subscription_identifiers.begin(), props.subscription_identifiers.end());
  CHECK(ids == std::vector<std::uint32_t>{5, 16383});
  CHECK(props.content_type == std::optional<std::string_view>("ct"));
  CHECK(props.message_expiry_interval == std::optional<std::uint32_t>(1));

  // The lists stay valid in a copy of the properties: they refer to the received bytes, not to the
  // object they were read into.
  const mqtt::properties copy = props;
  props = mqtt::properties{};
  CHECK(copy.user_properties.size() == 3);
  CHECK(copy.user_properties.begin()->value == "1");
}

TEST_CASE("mqtt properties: only PUBLISH may repeat the Subscription Identifier") {
  const byte_vector two = block(from_hex("0b 01 0b 02"));
  mqtt::properties props;
  CHECK(read_block(two, mqtt::context_of(pt::publish), props) == "success");
  mqtt::properties again;
  CHECK(read_block(two, mqtt::context_of(pt::subscribe), again) == error_text(errc::duplicate_property));
}

TEST_CASE("mqtt properties: an empty block and the largest single-byte identifier") {
  mqtt::properties props;
  CHECK(read_block(from_hex("00"), mqtt::context_of(pt::connect), props) == "success");
  CHECK(props == mqtt::properties{});
  CHECK_FALSE(mqtt::detail::has_properties(props));
}

TEST_CASE("mqtt properties: the encoder refuses what the decoder would refuse") {
  // Each case in a PUBACK, the packet with the smallest fixed part.
  auto refused = [](const mqtt::properties& props, errc expected) {
    mqtt::puback p{1, mqtt::reason_code::success, props};
    check_encode_refused(p, v5, expected);
  };
  mqtt::properties p;
  p.topic_alias = 3;  // a PUBLISH property
  refused(p, errc::property_not_allowed);

  p = {};
  p.reason_string = "\xC0\x80";
  refused(p, errc::bad_utf8);

  p = {};
  const std::string long_text(mqtt::max_field_length + 1, 'x');
  p.reason_string = long_text;
  refused(p, errc::string_too_long);

  p = {};
  const mqtt::user_property bad_name[] = {{"\xFF", "v"}};
  p.user_properties = bad_name;
  refused(p, errc::bad_utf8);

  p = {};
  const mqtt::user_property long_value[] = {{"k", long_text}};
  p.user_properties = long_value;
  refused(p, errc::string_too_long);

  p = {};
  const std::vector<thingwell::byte> long_data(mqtt::max_field_length + 1);
  mqtt::auth a{mqtt::reason_code::continue_authentication, {}};
  a.props.authentication_data = thingwell::bytes_view(long_data);
  check_encode_refused(a, v5, errc::string_too_long);
}

TEST_CASE("mqtt properties: the encoder refuses values outside their range") {
  mqtt::connect c;
  c.version = v5;
  c.client_id = "c";
  c.props.receive_maximum = 0;
  check_encode_refused(c, v5, errc::bad_property);
  c.props = {};
  c.props.maximum_packet_size = 0;
  check_encode_refused(c, v5, errc::bad_property);
  c.props = {};
  c.props.request_problem_information = 2;
  check_encode_refused(c, v5, errc::bad_property);

  mqtt::connack ack;
  ack.props.maximum_qos = 2;
  check_encode_refused(ack, v5, errc::bad_property);

  mqtt::publish pub;
  pub.topic = "t";
  pub.props.topic_alias = 0;
  check_encode_refused(pub, v5, errc::topic_alias_invalid);
  pub.props = {};
  pub.props.payload_format_indicator = 2;
  check_encode_refused(pub, v5, errc::bad_property);
  const std::uint32_t zero[] = {0};
  pub.props = {};
  pub.props.subscription_identifiers = zero;
  check_encode_refused(pub, v5, errc::bad_property);
  const std::uint32_t too_big[] = {mqtt::max_varint + 1};
  pub.props.subscription_identifiers = too_big;
  check_encode_refused(pub, v5, errc::bad_property);

  // SUBSCRIBE carries at most one Subscription Identifier.
  const std::uint32_t two[] = {1, 2};
  const mqtt::subscription subs[] = {{"a", mqtt::qos::at_most_once}};
  mqtt::subscribe s{1, subs, {}};
  s.props.subscription_identifiers = two;
  check_encode_refused(s, v5, errc::duplicate_property);

  // Will Properties are checked for their own context.
  mqtt::connect w;
  w.version = v5;
  w.client_id = "c";
  w.will = mqtt::will_message{"t", {}, mqtt::qos::at_most_once, false, {}};
  w.will->props.session_expiry_interval = 1;
  check_encode_refused(w, v5, errc::property_not_allowed);
}

TEST_CASE("mqtt properties: MQTT 3.1.1 packets carry none") {
  mqtt::properties p;
  p.reason_string = "r";
  check_encode_refused(mqtt::puback{1, mqtt::reason_code::success, p}, protocol_version::v311,
                       errc::property_not_allowed);
  check_encode_refused(mqtt::connack{false, mqtt::reason_code::success, p}, protocol_version::v311,
                       errc::property_not_allowed);
  mqtt::connect c;
  c.version = protocol_version::v311;
  c.client_id = "c";
  c.will = mqtt::will_message{"t", {}, mqtt::qos::at_most_once, false, {}};
  c.will->props.will_delay_interval = 1;
  check_encode_refused(c, protocol_version::v311, errc::property_not_allowed);
  mqtt::unsuback u{1, {}, {}};
  const mqtt::user_property up[] = {{"a", "b"}};
  u.props.user_properties = up;
  check_encode_refused(u, protocol_version::v311, errc::property_not_allowed);
  mqtt::disconnect d;
  d.props.user_properties = up;
  check_encode_refused(d, protocol_version::v311, errc::property_not_allowed);
}

TEST_CASE("mqtt properties: random property sets measure, write and read back unchanged") {
  packet_generator gen(0x960);
  int non_empty = 0;
  for (int i = 0; i < 3000; ++i) {
    gen.clear();
    const place& where = places[gen.rng().below(sizeof places / sizeof places[0])];
    const mqtt::properties props = gen.properties(where.context);
    auto size = mqtt::detail::property_block_size(props, where.context);
    REQUIRE(size.has_value());
    byte_vector out(mqtt::varint_size(*size) + *size);
    thingwell::byte_writer w(out);
    mqtt::detail::write_property_block(w, props, *size);
    REQUIRE(w.written() == out.size());
    mqtt::properties back;
    if (read_block(out, where.context, back) != "success") {
      FAIL_CHECK("block does not read back: ", hex(out));
      return;
    }
    const std::string diff = property_difference(props, back);
    if (!diff.empty()) {
      FAIL_CHECK("differs in ", diff, ": ", hex(out));
      return;
    }
    non_empty += *size != 0;
  }
  CHECK(non_empty > 1000);  // most sets are not empty (some places allow only a user property)
}
