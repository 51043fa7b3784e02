// The JSON writer: structure, escaping, numbers, bounded output.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include <thingwell/codec/json_compact.hpp>
#include <thingwell/codec/json_writer.hpp>

#include "json_cases.hpp"

namespace json = thingwell::json;
using thingwell::errc;

namespace {

// Writes the same document into `w`: every structural element and value kind.
void write_sample(json::writer& w) {
  w.begin_object()
      .member("state", "on")
      .key("reported").begin_object().member("t", -12).member("h", 0.25).member("ok", false).key("x").null().end_object()
      .key("list").begin_array().number(1u).string("a\"b").begin_array().end_array().begin_object().end_object().end_array()
      .member("clientToken", "tok-1")
      .end_object();
}

constexpr std::string_view sample_text =
    R"({"state":"on","reported":{"t":-12,"h":0.25,"ok":false,"x":null},"list":[1,"a\"b",[],{}],"clientToken":"tok-1"})";

}  // namespace

TEST_CASE("writer: commas, colons and brackets") {
  char buf[256];
  json::writer w(buf);
  write_sample(w);
  auto r = w.finish();
  REQUIRE(r);
  CHECK(*r == sample_text);
}

TEST_CASE("writer: scalar roots and empty containers") {
  char buf[32];
  auto one = [&](auto&& f) {
    json::writer w(buf);
    f(w);
    auto r = w.finish();
    return r ? std::string(*r) : std::string("error: ") + thingwell::describe(static_cast<errc>(r.error().value()));
  };
  CHECK(one([](json::writer& w) { w.null(); }) == "null");
  CHECK(one([](json::writer& w) { w.boolean(true); }) == "true");
  CHECK(one([](json::writer& w) { w.number(std::numeric_limits<std::int64_t>::min()); }) == "-9223372036854775808");
  CHECK(one([](json::writer& w) { w.number(std::uint64_t{18446744073709551615u}); }) == "18446744073709551615");
  CHECK(one([](json::writer& w) { w.number(std::int8_t{-5}); }) == "-5");
  CHECK(one([](json::writer& w) { w.string(""); }) == R"("")");
  CHECK(one([](json::writer& w) { w.begin_array().end_array(); }) == "[]");
  CHECK(one([](json::writer& w) { w.begin_object().end_object(); }) == "{}");
}

TEST_CASE("writer: doubles are shortest round-trip and stay doubles") {
  char buf[64];
  auto text = [&](double d) {
    json::writer w(buf);
    w.number(d);
    return std::string(w.finish().value());
  };
  CHECK(text(0.1) == "0.1");
  CHECK(text(5.0) == "5.0");
  CHECK(text(-0.0) == "-0.0");
  CHECK(text(1e21) == "1e+21");
  CHECK(text(1.5e-7) == "1.5e-07");
  CHECK(text(std::numeric_limits<double>::max()) == "1.7976931348623157e+308");
  CHECK(text(std::numeric_limits<double>::denorm_min()) == "5e-324");
  CHECK(text(123456789.0) == "123456789.0");
  // Every one reads back to the same double.
  json::compact_reader<4> reader;
  for (double d : {0.1, 1.0 / 3, 2.5e-320, 1e300, -7e-10, 4503599627370497.0, 9007199254740993.0}) {
    const std::string written = text(d);
    auto v = reader.parse(written);
    REQUIRE(v);
    CHECK(*v->get_double() == d);
  }
  json::writer w(buf);
  w.number(std::nan(""));
  CHECK(w.finish().error() == errc::json_bad_number);
  json::writer w2(buf);
  w2.begin_array().number(std::numeric_limits<double>::infinity());
  CHECK(w2.finish().error() == errc::json_bad_number);
}

TEST_CASE("writer: string escaping") {
  char buf[128];
  json::writer w(buf);
  w.string(std::string_view("\"\\/\b\f\n\r\t\x01\x1F\x7F\0\xC3\xA9\xF0\x9F\x98\x80", 18));
  CHECK(*w.finish() == "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7F\\u0000\xC3\xA9\xF0\x9F\x98\x80\"");
  for (std::string_view bad : {"\x80", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "a\xC3", "\xFF"}) {
    json::writer b(buf);
    b.string(bad);
    CHECK(b.finish().error() == errc::json_bad_utf8);
    json::writer k(buf);
    k.begin_object().key(bad);
    CHECK(k.finish().error() == errc::json_bad_utf8);
  }
}

TEST_CASE("writer: misuse is an error, not bad JSON") {
  char buf[64];
  auto err = [&](auto&& f) {
    json::writer w(buf);
    f(w);
    return w.finish().error();
  };
  CHECK(err([](json::writer& w) { w.begin_object().number(1); }) == errc::invalid_argument);  // value without key
  CHECK(err([](json::writer& w) { w.begin_array().key("k"); }) == errc::invalid_argument);
  CHECK(err([](json::writer& w) { w.key("k"); }) == errc::invalid_argument);
  CHECK(err([](json::writer& w) { w.begin_object().key("a").key("b"); }) == errc::invalid_argument);
  CHECK(err([](json::writer& w) { w.begin_object().key("a").end_object(); }) == errc::invalid_argument);
  CHECK(err([](json::writer& w) { w.begin_object().end_array(); }) == errc::invalid_argument);
  CHECK(err([](json::writer& w) { w.begin_array().end_object(); }) == errc::invalid_argument);
  CHECK(err([](json::writer& w) { w.end_array(); }) == errc::invalid_argument);
  CHECK(err([](json::writer& w) { w.number(1).number(2); }) == errc::invalid_argument);      // two roots
  CHECK(err([](json::writer& w) { w.begin_array(); }) == errc::invalid_argument);            // unfinished
  CHECK(err([](json::writer&) {}) == errc::invalid_argument);                               // nothing written
  // The first error sticks.
  json::writer w(buf);
  w.key("k").begin_array().number(1).end_array();
  CHECK(w.failed());
  CHECK(w.error() == errc::invalid_argument);
  CHECK(w.size() == 0);
}

TEST_CASE("writer: nesting is limited") {
  char buf[256];
  json::writer w(buf);
  for (std::size_t i = 0; i < json::writer::max_depth; ++i) w.begin_array();
  CHECK_FALSE(w.failed());
  for (std::size_t i = 0; i < json::writer::max_depth; ++i) w.end_array();
  CHECK(w.finish());
  json::writer deeper(buf);
  for (std::size_t i = 0; i <= json::writer::max_depth; ++i) deeper.begin_array();
  CHECK(deeper.finish().error() == errc::json_too_deep);
}

TEST_CASE("writer: every buffer size below the document fails cleanly and writes nothing past the end") {
  for (std::size_t n = 0; n <= sample_text.size(); ++n) {
    CAPTURE(n);
    // Exact-size heap buffer: AddressSanitizer sees a write one past the end.
    std::unique_ptr<char[]> buf(new char[n == 0 ? 1 : n]);
    json::writer w(std::span<char>(buf.get(), n));
    write_sample(w);
    auto r = w.finish();
    if (n < sample_text.size()) {
      CHECK(r.error() == errc::buffer_too_small);
      CHECK(w.size() <= n);
    } else {
      REQUIRE(r);
      CHECK(*r == sample_text);
    }
  }
}

TEST_CASE("writer: copy() of a compact value at every buffer size") {
  json::compact_reader<128> reader;
  auto doc = reader.parse(json_cases::shadow_get_accepted);
  REQUIRE(doc);
  char full[1024];
  json::writer whole(full);
  whole.copy(*doc);
  auto expected = whole.finish();
  REQUIRE(expected);
  // Whitespace is gone, escapes and number text are kept.
  CHECK(expected->find(' ') == std::string_view::npos);
  CHECK(expected->starts_with(R"({"state":{"desired":{"Color":"red","Status":"Great"},)"));
  for (std::size_t n = 0; n < expected->size(); ++n) {
    std::unique_ptr<char[]> buf(new char[n == 0 ? 1 : n]);
    json::writer w(std::span<char>(buf.get(), n));
    w.copy(*doc);
    CHECK(w.finish().error() == errc::buffer_too_small);
  }
  // A value copied inside an array gets its comma.
  char out[64];
  json::writer w(out);
  w.begin_array().copy(*doc->find("version")).copy(*doc->find("clientToken")).end_array();
  CHECK(*w.finish() == R"([8,"e6e3123c-..."])");
  // copy() under a key, and a key then a copied value of every kind.
  auto all = reader.parse(R"({"k\n":[1.50,"\u00e9",true,null,{"x":[]}]})");
  REQUIRE(all);
  json::writer w2(out);
  w2.copy(*all);
  CHECK(*w2.finish() == R"({"k\n":[1.50,"\u00e9",true,null,{"x":[]}]})");
}
