// byte_reader never reads past its end; byte_writer writes big-endian fields.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include <thingwell/core/bytes.hpp>

namespace tw = thingwell;
using tw::byte;
using tw::byte_reader;
using tw::bytes_view;

namespace {

// A heap copy of exactly `n` bytes: a read one byte too far lands outside the allocation, where
// AddressSanitizer reports it even if the accessor's return value looked right.
struct exact_buffer {
  std::unique_ptr<byte[]> data;
  std::size_t size;
  exact_buffer(const byte* src, std::size_t n) : data(new byte[n == 0 ? 1 : n]), size(n) {
    if (n != 0) std::memcpy(data.get(), src, n);
  }
  bytes_view view() const { return {data.get(), size}; }
};

constexpr byte sample[] = {0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0x00, 0x03, 'a', 'b', 'c'};

// One accessor applied to a fresh reader: needs `need` bytes, and on success must leave exactly
// `need` bytes consumed.
struct accessor {
  const char* name;
  std::size_t need;
  bool (*apply)(byte_reader&);
};

const accessor accessors[] = {
    {"u8", 1, [](byte_reader& r) { std::uint8_t v = 0; return r.u8(v) && v == 0x12; }},
    {"u16", 2, [](byte_reader& r) { std::uint16_t v = 0; return r.u16(v) && v == 0x1234; }},
    {"u32", 4, [](byte_reader& r) { std::uint32_t v = 0; return r.u32(v) && v == 0x12345678u; }},
    {"take(0)", 0, [](byte_reader& r) { bytes_view v; return r.take(0, v) && v.empty(); }},
    {"take(3)", 3, [](byte_reader& r) { bytes_view v; return r.take(3, v) && v.size() == 3 && v[2] == 0x56; }},
    {"take(13)", 13, [](byte_reader& r) { bytes_view v; return r.take(13, v) && v.size() == 13 && v[12] == 'c'; }},
    {"skip(0)", 0, [](byte_reader& r) { return r.skip(0); }},
    {"skip(5)", 5, [](byte_reader& r) { return r.skip(5); }},
    {"skip(13)", 13, [](byte_reader& r) { return r.skip(13); }},
    // 0x1234 = 4660 bytes are claimed: never satisfiable by the 13-byte sample.
    {"prefixed(4660)", 2 + 0x1234, [](byte_reader& r) { bytes_view v; return r.prefixed(v); }},
};

}  // namespace

TEST_CASE("byte_reader: every accessor fails at every length below what it needs, and reads nothing beyond") {
  for (const accessor& a : accessors) {
    CAPTURE(a.name);
    const std::size_t longest = a.need < sizeof sample ? a.need : sizeof sample;
    for (std::size_t len = 0; len <= longest; ++len) {
      CAPTURE(len);
      const exact_buffer buf(sample, len);
      byte_reader r(buf.view());
      const bool ok = a.apply(r);
      CHECK(ok == (len >= a.need));
      CHECK(r.remaining() <= len);
      if (ok) CHECK(r.remaining() == len - a.need);
    }
  }
}

TEST_CASE("byte_reader: prefixed reads a length then that many bytes, at every short length") {
  constexpr byte field[] = {0x00, 0x03, 'a', 'b', 'c', 0x7F};
  for (std::size_t len = 0; len <= sizeof field; ++len) {
    CAPTURE(len);
    const exact_buffer buf(field, len);
    byte_reader r(buf.view());
    bytes_view out;
    const bool ok = r.prefixed(out);
    CHECK(ok == (len >= 5));
    if (ok) {
      CHECK(tw::as_string(out) == "abc");
      CHECK(r.remaining() == len - 5);
    }
  }
  // A zero length is a valid, empty field.
  constexpr byte empty_field[] = {0x00, 0x00};
  byte_reader r(empty_field);
  bytes_view out{sample};
  REQUIRE(r.prefixed(out));
  CHECK(out.empty());
  CHECK(r.empty());
}

TEST_CASE("byte_reader: values are big-endian and the cursor walks the input") {
  byte_reader r(sample);
  CHECK(r.remaining() == sizeof sample);
  CHECK_FALSE(r.empty());
  CHECK(r.position() == sample);

  std::uint8_t a = 0;
  std::uint16_t b = 0;
  std::uint32_t c = 0;
  REQUIRE(r.u8(a));
  REQUIRE(r.u16(b));
  REQUIRE(r.u32(c));
  CHECK(a == 0x12);
  CHECK(b == 0x3456);
  CHECK(c == 0x789ABCDEu);
  CHECK(r.position() == sample + 7);
  CHECK(r.rest().size() == sizeof sample - 7);
  CHECK(r.rest().data() == sample + 7);

  REQUIRE(r.skip(1));
  bytes_view text;
  REQUIRE(r.prefixed(text));
  CHECK(tw::as_string(text) == "abc");
  CHECK(text.data() == sample + 10);  // a view into the input, not a copy
  CHECK(r.empty());
  CHECK(r.remaining() == 0);

  // At the end every accessor fails, repeatedly.
  CHECK_FALSE(r.u8(a));
  CHECK_FALSE(r.u16(b));
  CHECK_FALSE(r.u32(c));
  CHECK_FALSE(r.skip(1));
  CHECK(r.skip(0));
  CHECK(r.empty());
}

TEST_CASE("byte_reader: high bytes do not sign-extend") {
  constexpr byte ones[] = {0xFF, 0xFF, 0xFF, 0xFF};
  byte_reader r(ones);
  std::uint16_t v16 = 0;
  REQUIRE(r.u16(v16));
  CHECK(v16 == 0xFFFF);
  byte_reader r2(ones);
  std::uint32_t v32 = 0;
  REQUIRE(r2.u32(v32));
  CHECK(v32 == 0xFFFFFFFFu);
}

TEST_CASE("byte_reader: default-constructed and empty readers") {
  byte_reader none;
  CHECK(none.empty());
  CHECK(none.remaining() == 0);
  CHECK(none.rest().empty());
  std::uint8_t v = 0;
  CHECK_FALSE(none.u8(v));
  bytes_view out;
  CHECK(none.take(0, out));
  CHECK_FALSE(none.take(1, out));

  byte_reader empty{bytes_view{}};
  CHECK(empty.empty());
  CHECK_FALSE(empty.prefixed(out));
}

TEST_CASE("byte_reader: huge lengths cannot wrap the bounds check") {
  byte_reader r(sample);
  bytes_view out;
  CHECK_FALSE(r.take(SIZE_MAX, out));
  CHECK_FALSE(r.skip(SIZE_MAX));
  CHECK_FALSE(r.take(sizeof sample + 1, out));
  CHECK(r.remaining() == sizeof sample);
}

TEST_CASE("byte_writer: fields, counters and a round trip through byte_reader") {
  std::array<byte, 32> buf{};
  tw::byte_writer w(buf);
  CHECK(w.written() == 0);
  CHECK(w.remaining() == buf.size());

  w.u8(0xAB);
  w.u16(0x1234);
  w.u32(0xDEADBEEFu);
  w.prefixed(std::string_view("hi"));
  constexpr byte blob[] = {1, 2, 3};
  w.prefixed(bytes_view(blob));
  w.raw(bytes_view{});  // an empty raw write is allowed and writes nothing
  w.raw(blob);
  CHECK(w.written() == 1 + 2 + 4 + 4 + 5 + 3);
  CHECK(w.remaining() == buf.size() - w.written());

  constexpr byte expected[] = {0xAB, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x02, 'h',
                               'i',  0x00, 0x03, 1,    2,    3,    1,    2,    3};
  CHECK(tw::equal(bytes_view(buf).first(w.written()), expected));
  CHECK(buf[w.written()] == 0);  // nothing written past the end of the fields

  byte_reader r(bytes_view(buf).first(w.written()));
  std::uint8_t a = 0;
  std::uint16_t b = 0;
  std::uint32_t c = 0;
  bytes_view s, bl, raw;
  REQUIRE(r.u8(a));
  REQUIRE(r.u16(b));
  REQUIRE(r.u32(c));
  REQUIRE(r.prefixed(s));
  REQUIRE(r.prefixed(bl));
  REQUIRE(r.take(3, raw));
  CHECK(r.empty());
  CHECK(a == 0xAB);
  CHECK(b == 0x1234);
  CHECK(c == 0xDEADBEEFu);
  CHECK(tw::as_string(s) == "hi");
  CHECK(tw::equal(bl, blob));
  CHECK(tw::equal(raw, blob));
}

TEST_CASE("byte_writer: filling the buffer exactly") {
  std::array<byte, 7> buf{};
  tw::byte_writer w(buf);
  w.u32(0x01020304u);
  w.u16(0x0506);
  w.u8(0x07);
  CHECK(w.remaining() == 0);
  CHECK(w.written() == 7);
  constexpr byte expected[] = {1, 2, 3, 4, 5, 6, 7};
  CHECK(tw::equal(buf, expected));
}

TEST_CASE("as_bytes, as_string and equal") {
  constexpr std::string_view text = "abc";
  const bytes_view b = tw::as_bytes(text);
  CHECK(b.size() == 3);
  CHECK(b[0] == 'a');
  CHECK(static_cast<const void*>(b.data()) == static_cast<const void*>(text.data()));
  CHECK(tw::as_string(b) == text);

  CHECK(tw::equal(bytes_view{}, bytes_view{}));
  CHECK(tw::equal(tw::as_bytes("ab"), tw::as_bytes("ab")));
  CHECK_FALSE(tw::equal(tw::as_bytes("ab"), tw::as_bytes("abc")));
  CHECK_FALSE(tw::equal(tw::as_bytes("ab"), tw::as_bytes("ac")));
  CHECK_FALSE(tw::equal(bytes_view{}, tw::as_bytes("a")));
  CHECK(tw::as_string(bytes_view{}).empty());
}
