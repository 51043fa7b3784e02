// Variable Byte Integer (MQTT 5 §1.5.5, MQTT 3.1.1 §2.2.3): the encoding of every Remaining Length,
// property length and Subscription Identifier.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;
using mqtt::varint_status;

// Decodes the long way for comparison: seven bits per byte, least significant group first.
struct reference_result {
  varint_status status;
  std::uint32_t value = 0;
  std::size_t size = 0;
};
reference_result reference_read(thingwell::bytes_view in) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < in.size() && i < 4; ++i) {
    value += std::uint64_t{in[i] & 0x7Fu} << (7 * i);
    if ((in[i] & 0x80) == 0) {
      // Minimal: a multi-byte encoding may not end in a zero group.
      if (i > 0 && in[i] == 0) return {varint_status::malformed};
      return {varint_status::ok, static_cast<std::uint32_t>(value), i + 1};
    }
  }
  return {in.size() >= 4 ? varint_status::malformed : varint_status::need_more};
}

}  // namespace

TEST_CASE("mqtt varint: encodings at every size boundary") {
  const struct {
    std::uint32_t value;
    const char* encoding;
  } rows[] = {
      {0, "00"},
      {1, "01"},
      {127, "7f"},
      {128, "80 01"},
      {16'383, "ff 7f"},
      {16'384, "80 80 01"},
      {2'097'151, "ff ff 7f"},
      {2'097'152, "80 80 80 01"},
      {268'435'455, "ff ff ff 7f"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.value);
    const byte_vector expected = from_hex(row.encoding);
    CHECK(mqtt::varint_size(row.value) == expected.size());

    thingwell::byte raw[4] = {};
    const std::size_t n = mqtt::write_varint(raw, row.value);
    CHECK(hex({raw, n}) == hex(expected));

    thingwell::byte buffer[4] = {};
    thingwell::byte_writer w(buffer);
    mqtt::write_varint(w, row.value);
    CHECK(hex({buffer, w.written()}) == hex(expected));

    std::uint32_t value = 0;
    std::size_t size = 0;
    CHECK(mqtt::read_varint(expected, value, size) == varint_status::ok);
    CHECK(value == row.value);
    CHECK(size == expected.size());

    thingwell::byte_reader r(expected);
    value = 0;
    CHECK(mqtt::read_varint(r, value));
    CHECK(value == row.value);
    CHECK(r.empty());
  }
  CHECK(mqtt::max_varint == 268'435'455u);
}

TEST_CASE("mqtt varint: reading stops after the last byte and leaves the rest") {
  const byte_vector in = from_hex("80 01 ff");
  std::uint32_t value = 0;
  std::size_t size = 0;
  REQUIRE(mqtt::read_varint(in, value, size) == varint_status::ok);
  CHECK(value == 128);
  CHECK(size == 2);
  thingwell::byte_reader r(in);
  REQUIRE(mqtt::read_varint(r, value));
  CHECK(r.remaining() == 1);
}

TEST_CASE("mqtt varint: incomplete input asks for more") {
  for (const char* partial : {"", "80", "ff ff", "80 80 80"}) {
    CAPTURE(partial);
    std::uint32_t value = 0;
    std::size_t size = 0;
    const byte_vector in = from_hex(partial);
    CHECK(mqtt::read_varint(in, value, size) == varint_status::need_more);
    thingwell::byte_reader r(in);
    CHECK_FALSE(mqtt::read_varint(r, value));
  }
}

TEST_CASE("mqtt varint: five bytes and non-minimal encodings are malformed") {
  // [MQTT-1.5.5-1]: the minimum number of bytes. 0x80 0x00 would otherwise be a second spelling of 0.
  for (const char* bad : {"80 00", "ff 00", "80 80 00", "80 80 80 00", "81 80 80 00", "ff ff ff 80", "ff ff ff ff 7f",
                          "80 80 80 80 01"}) {
    CAPTURE(bad);
    std::uint32_t value = 0;
    std::size_t size = 0;
    const byte_vector in = from_hex(bad);
    CHECK(mqtt::read_varint(in, value, size) == varint_status::malformed);
    thingwell::byte_reader r(in);
    CHECK_FALSE(mqtt::read_varint(r, value));
  }
}

TEST_CASE("mqtt varint: every one- and two-byte input agrees with a reference decoder") {
  for (unsigned a = 0; a < 256; ++a) {
    for (unsigned b = 0; b <= 256; ++b) {  // b == 256: the one-byte input
      const thingwell::byte in[2] = {static_cast<thingwell::byte>(a), static_cast<thingwell::byte>(b)};
      const thingwell::bytes_view view(in, b == 256 ? 1 : 2);
      const reference_result expected = reference_read(view);
      std::uint32_t value = 0;
      std::size_t size = 0;
      const varint_status status = mqtt::read_varint(view, value, size);
      const bool same_value = value == expected.value && size == expected.size;
      if (status != expected.status || (status == varint_status::ok && !same_value)) {
        FAIL_CHECK("input ", hex(view));
        return;
      }
    }
  }
}

TEST_CASE("mqtt varint: values round trip through write and read") {
  random_stream rng(0x5A1F);
  auto round_trip = [](std::uint32_t v) {
    thingwell::byte raw[4];
    const std::size_t n = mqtt::write_varint(raw, v);
    std::uint32_t back = 0;
    std::size_t size = 0;
    return n == mqtt::varint_size(v) && mqtt::read_varint({raw, n}, back, size) == varint_status::ok && back == v &&
           size == n;
  };
  bool all = true;
  for (std::uint32_t v = 0; v < 70'000 && all; ++v) all = round_trip(v);
  for (int i = 0; i < 100'000 && all; ++i) all = round_trip(rng.between(0, mqtt::max_varint));
  for (std::uint32_t edge : {2'097'151u, 2'097'152u, 2'097'153u, 268'435'454u, 268'435'455u})
    all = all && round_trip(edge);
  CHECK(all);
}
