// The packet vocabulary: type names, the variant's type_of(), and reading a fixed header from the front
// of a partial frame.
#include <doctest/doctest.h>

#include <string>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;
using thingwell::errc;
using pt = mqtt::packet_type;

}  // namespace

TEST_CASE("mqtt packets: type_of names the packet a variant holds, and every type has a name") {
  packet_generator gen(7);
  const char* const names[] = {"CONNECT",     "CONNACK",  "PUBLISH",  "PUBACK",   "PUBREC",
                               "PUBREL",      "PUBCOMP",  "SUBSCRIBE", "SUBACK",  "UNSUBSCRIBE",
                               "UNSUBACK",    "PINGREQ",  "PINGRESP", "DISCONNECT", "AUTH"};
  for (unsigned t = 1; t <= 15; ++t) {
    CAPTURE(t);
    gen.clear();
    const mqtt::packet p = gen.make(static_cast<pt>(t), protocol_version::v5);
    CHECK(mqtt::type_of(p) == static_cast<pt>(t));
    CHECK(std::string(mqtt::to_string(static_cast<pt>(t))) == names[t - 1]);
  }
  CHECK(std::string(mqtt::to_string(static_cast<pt>(0))) == "RESERVED");
}

TEST_CASE("mqtt packets: peek_fixed_header reads the header of a partial frame") {
  auto h = mqtt::peek_fixed_header(from_hex("32 80 01 00"));  // a PUBLISH announcing 128 bytes
  REQUIRE(h.has_value());
  CHECK(h->type == pt::publish);
  CHECK(h->flags == 0x02);
  CHECK(h->remaining_length == 128);
  CHECK(h->size == 3);

  CHECK(error_text(mqtt::peek_fixed_header({}).error()) == error_text(errc::truncated));
  CHECK(error_text(mqtt::peek_fixed_header(from_hex("32")).error()) == error_text(errc::truncated));
  CHECK(error_text(mqtt::peek_fixed_header(from_hex("32 80")).error()) == error_text(errc::truncated));
  CHECK(error_text(mqtt::peek_fixed_header(from_hex("32 80 00")).error()) == error_text(errc::bad_varint));
  CHECK(error_text(mqtt::peek_fixed_header(from_hex("32 ff ff ff ff")).error()) == error_text(errc::bad_varint));
  CHECK(error_text(mqtt::peek_fixed_header(from_hex("02 00")).error()) == error_text(errc::bad_packet_type));
}

TEST_CASE("mqtt packets: protocol constants") {
  CHECK(static_cast<int>(protocol_version::v311) == 4);
  CHECK(static_cast<int>(protocol_version::v5) == 5);
  CHECK(mqtt::max_field_length == 65'535u);
  CHECK(mqtt::max_varint == 268'435'455u);
}
