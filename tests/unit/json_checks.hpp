// Reader-independent JSON checks, instantiated for the compact reader in tests/unit/json_compact.cpp and
// for every reader by the typed tests in tests/unit/host/json_readers.cpp. R is a json::reader; `exact`
// says whether error codes are compared even for documents where simdjson reports another json_* code.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <thingwell/codec/json_reader.hpp>
#include <thingwell/codec/json_writer.hpp>

#include "json_cases.hpp"

namespace json_checks {

namespace json = thingwell::json;
using thingwell::errc;

inline std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  return out;
}

template <class R>
void rfc8259_table(R& reader, bool exact) {
  for (const auto& c : json_cases::rfc8259) {
    const std::string shown = printable(c.text);
    CAPTURE(shown);
    auto r = reader.parse(c.text);
    if (c.expected == errc{}) {
      CHECK(r.has_value());
    } else {
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().category() == thingwell::thingwell_category());
      if (exact || c.same_code) CHECK(r.error() == c.expected);
    }
  }
}

template <class R>
void shadow_documents(R& reader) {
  char scratch[256];
  auto str = [&](auto v) { return std::string(v.get_string(scratch).value()); };
  {
    auto doc = reader.parse(json_cases::shadow_get_accepted);
    REQUIRE(doc);
    CHECK(str(*json::find_path(*doc, {"state", "desired", "Color"})) == "red");
    CHECK(str(*json::find_path(*doc, {"state", "reported", "Color"})) == "green");
    CHECK(str(*json::find_path(*doc, {"state", "delta", "Color"})) == "red");
    CHECK(*json::find_path(*doc, {"metadata", "reported", "Status", "timestamp"})->get_int64() == 1719856694);
    CHECK(*doc->find("version")->get_uint64() == 8u);
    CHECK(*doc->find("timestamp")->get_int64() == 1719856723);
    CHECK(str(*doc->find("clientToken")) == "e6e3123c-...");
    // Members in document order, keys as written.
    std::string keys;
    for (const auto& m : json::find_path(*doc, {"state", "desired"})->members()) keys += std::string(*m.key(scratch)) + ",";
    CHECK(keys == "Color,Status,");
    CHECK(*json::count(*doc) == 5);
    CHECK(json::find_path(*doc, {"state", "absent"}).error() == errc::not_found);
    CHECK(json::find_path(*doc, {"version", "x"}).error() == errc::json_type_mismatch);
  }
  {
    auto doc = reader.parse(json_cases::shadow_update_accepted);
    REQUIRE(doc);
    CHECK(str(*json::find_path(*doc, {"state", "reported", "Status"})) == "Awful");
    CHECK(*doc->find("version")->get_int64() == 9);
    CHECK(json::find_path(*doc, {"state", "desired"}).error() == errc::not_found);
  }
  {
    auto doc = reader.parse(json_cases::shadow_delta);
    REQUIRE(doc);
    CHECK(str(*json::find_path(*doc, {"state", "Status"})) == "Great");
    CHECK(*json::find_path(*doc, {"metadata", "Status", "timestamp"})->get_int64() == 1719856710);
  }
  {
    auto doc = reader.parse(json_cases::shadow_documents);
    REQUIRE(doc);
    CHECK(*json::find_path(*doc, {"previous", "version"})->get_int64() == 4);
    CHECK(*json::find_path(*doc, {"current", "version"})->get_int64() == 5);
    CHECK(str(*json::find_path(*doc, {"current", "state", "desired", "Color"})) == "red");
    CHECK(*json::find_path(*doc, {"current", "metadata", "desired", "Color", "timestamp"})->get_int64() == 1719855498);
  }
  {
    auto doc = reader.parse(json_cases::shadow_delete_accepted);
    REQUIRE(doc);
    CHECK(*doc->find("version")->get_int64() == 13);
    auto err = reader.parse(json_cases::shadow_rejected);
    REQUIRE(err);
    CHECK(*err->find("code")->get_int64() == 409);
    CHECK(str(*err->find("message")) == "Version conflict");
    auto req = reader.parse(json_cases::shadow_update_request);
    REQUIRE(req);
    CHECK(str(*json::find_path(*req, {"state", "desired", "power"})) == "on");
    CHECK(*req->find("version")->get_int64() == 17);
  }
}

template <class R>
void value_access(R& reader) {
  char scratch[64];
  auto doc = reader.parse(R"({"i":-42,"u":18446744073709551615,"big":9223372036854775808,"min":-9223372036854775808,
    "d":2.5,"e":1e2,"z":-0,"zd":-0.0,"tiny":1e-400,"sub":2.5e-320,"t":true,"f":false,"n":null,
    "s":"plain","esc":"a\"b\\c\u00e9\uD834\uDD1E\n","nul":"x\u0000y","dup":1,"dup":2,"arr":[1,"two",[],{}],"obj":{}})");
  REQUIRE(doc);
  const auto& d = *doc;
  CHECK(d.kind() == json::type::object);

  auto i = *d.find("i");
  CHECK(i.kind() == json::type::number);
  CHECK(i.is_integer());
  CHECK(*i.get_int64() == -42);
  CHECK(i.get_uint64().error() == errc::json_number_out_of_range);
  CHECK(*i.get_double() == -42.0);
  CHECK(i.get_string(scratch).error() == errc::json_type_mismatch);
  CHECK(i.get_bool().error() == errc::json_type_mismatch);

  auto u = *d.find("u");
  CHECK(*u.get_uint64() == std::numeric_limits<std::uint64_t>::max());
  CHECK(u.get_int64().error() == errc::json_number_out_of_range);
  CHECK(*u.get_double() == 18446744073709551616.0);
  CHECK(*d.find("big")->get_uint64() == 9223372036854775808u);
  CHECK(d.find("big")->get_int64().error() == errc::json_number_out_of_range);
  CHECK(*d.find("min")->get_int64() == std::numeric_limits<std::int64_t>::min());
  CHECK(d.find("min")->get_uint64().error() == errc::json_number_out_of_range);

  auto dbl = *d.find("d");
  CHECK_FALSE(dbl.is_integer());
  CHECK(*dbl.get_double() == 2.5);
  CHECK(dbl.get_int64().error() == errc::json_type_mismatch);
  CHECK(dbl.get_uint64().error() == errc::json_type_mismatch);
  CHECK(*d.find("e")->get_double() == 100.0);
  CHECK(d.find("e")->get_int64().error() == errc::json_type_mismatch);  // 1e2 is a double literal
  CHECK(*d.find("z")->get_int64() == 0);
  CHECK(*d.find("z")->get_uint64() == 0u);
  CHECK(*d.find("zd")->get_double() == 0.0);
  CHECK(std::signbit(*d.find("zd")->get_double()));
  CHECK(*d.find("tiny")->get_double() == 0.0);
  CHECK(*d.find("sub")->get_double() == 2.5e-320);  // subnormal, not flushed

  CHECK(*d.find("t")->get_bool() == true);
  CHECK(*d.find("f")->get_bool() == false);
  CHECK(d.find("t")->kind() == json::type::boolean);
  CHECK(d.find("n")->is_null());
  CHECK(d.find("n")->kind() == json::type::null);
  CHECK_FALSE(d.find("t")->is_null());
  CHECK(d.find("n")->get_bool().error() == errc::json_type_mismatch);

  CHECK(*d.find("s")->get_string(scratch) == "plain");
  CHECK(*d.find("esc")->get_string(scratch) == "a\"b\\c\xC3\xA9\xF0\x9D\x84\x9E\n");
  CHECK(*d.find("nul")->get_string(scratch) == std::string_view("x\0y", 3));
  CHECK(d.find("s")->get_int64().error() == errc::json_type_mismatch);
  CHECK(d.find("s")->find("x").error() == errc::json_type_mismatch);
  CHECK(d.find("s")->get_object().error() == errc::json_type_mismatch);
  CHECK(d.find("s")->get_array().error() == errc::json_type_mismatch);

  CHECK(*d.find("dup")->get_int64() == 1);  // first wins
  int dups = 0;
  for (const auto& m : d.members()) dups += m.key_is("dup");
  CHECK(dups == 2);

  auto arr = *d.find("arr");
  CHECK(arr.kind() == json::type::array);
  CHECK(*json::count(arr) == 4);
  std::string kinds;
  for (const auto& e : arr.elements()) kinds += std::string(json::to_string(e.kind())) + ",";
  CHECK(kinds == "number,string,array,object,");
  CHECK(d.find("s")->members().begin() == d.find("s")->members().end());
  CHECK(d.find("s")->elements().begin() == d.find("s")->elements().end());
  CHECK(d.find("obj")->members().begin() == d.find("obj")->members().end());
  CHECK(arr.members().begin() == arr.members().end());
  CHECK(d.elements().begin() == d.elements().end());
  CHECK(arr.find("x").error() == errc::json_type_mismatch);
  CHECK(*json::count(*d.find("obj")) == 0);
  CHECK(d.find("obj")->find("x").error() == errc::not_found);
  CHECK(json::count(i).error() == errc::json_type_mismatch);
  CHECK(d.find("missing").error() == errc::not_found);
  // Keys are compared unescaped.
  auto k = reader.parse(R"({"a\u0062":1,"\u00e9":2})");
  REQUIRE(k);
  CHECK(*k->find("ab")->get_int64() == 1);
  CHECK(*k->find("\xC3\xA9")->get_int64() == 2);
  CHECK(k->find("a\\u0062").error() == errc::not_found);
  CHECK(k->find("a").error() == errc::not_found);
  CHECK(k->find("abc").error() == errc::not_found);

  // Scalar roots.
  CHECK(*reader.parse(" 7 ")->get_int64() == 7);
  CHECK(*reader.parse("\"s\"")->get_string(scratch) == "s");
}

template <class R>
void limits(R& reader) {
  const json::limits three{1024, 3};
  CHECK(reader.parse("[[[]]]", three));
  CHECK(reader.parse("[[[1]]]", three).error() == errc::json_too_deep);
  CHECK(reader.parse("{\"a\":{\"b\":{}}}", three));
  CHECK(reader.parse("{\"a\":{\"b\":{\"c\":1}}}", three).error() == errc::json_too_deep);
  CHECK(reader.parse("[[1],[2],[[]]]", three));
  const json::limits one{1024, 1};
  CHECK(reader.parse("1", one));
  CHECK(reader.parse("[]", one));
  CHECK(reader.parse("{}", one));
  CHECK(reader.parse("[1]", one).error() == errc::json_too_deep);
  CHECK(reader.parse("1", json::limits{1024, 0}).error() == errc::json_too_deep);

  // Default depth 32: 31 arrays around a scalar is depth 32.
  const json::limits deflt{};
  std::string ok = std::string(31, '[') + "1" + std::string(31, ']');
  CHECK(reader.parse(ok, deflt));
  std::string deep = std::string(32, '[') + "1" + std::string(32, ']');
  CHECK(reader.parse(deep, deflt).error() == errc::json_too_deep);
  // A hostile nesting is refused without recursion (the reader's stack use does not depend on it).
  std::string hostile = std::string(20000, '[') + std::string(20000, ']');
  CHECK(reader.parse(hostile, json::limits{65536, 32}).error() == errc::json_too_deep);
  CHECK_FALSE(reader.parse(std::string_view(hostile).substr(0, 20000), json::limits{65536, 32}));  // unclosed: any code

  // Size: checked before anything else.
  std::string doc = "[" + std::string(98, ' ') + "]";  // 100 bytes
  CHECK(reader.parse(doc, json::limits{100, 8}));
  CHECK(reader.parse(doc, json::limits{99, 8}).error() == errc::json_too_large);
  CHECK(reader.parse("x", json::limits{0, 8}).error() == errc::json_too_large);
}

// Writes a document with every kind of value, reads it back and copies it through the writer again.
template <class R>
void writer_round_trip(R& reader) {
  char buf[512];
  json::writer w(buf);
  const std::string_view odd("quote\" back\\ nl\n tab\t ctl\x01\x1F del\x7F e\xC3\xA9 emoji\xF0\x9F\x98\x80 nul\0!", 46);
  w.begin_object()
      .member("i", std::int64_t{-9223372036854775807 - 1})
      .member("u", std::uint64_t{18446744073709551615u})
      .member("d", 0.1)
      .member("e", 1e300)
      .member("w", 5.0)
      .member("neg0", -0.0)
      .member("s", odd)
      .member("b", true)
      .key("n").null()
      .key("a").begin_array().number(1).string("x").begin_object().end_object().begin_array().end_array().end_array()
      .key(odd).number(3)
      .end_object();
  auto text = w.finish();
  REQUIRE(text);
  CAPTURE(std::string(*text));
  auto doc = reader.parse(*text);
  REQUIRE(doc);
  char scratch[128];
  CHECK(*doc->find("i")->get_int64() == std::numeric_limits<std::int64_t>::min());
  CHECK(*doc->find("u")->get_uint64() == std::numeric_limits<std::uint64_t>::max());
  CHECK(*doc->find("d")->get_double() == 0.1);
  CHECK(*doc->find("e")->get_double() == 1e300);
  CHECK_FALSE(doc->find("w")->is_integer());  // 5.0 stays a double
  CHECK(*doc->find("w")->get_double() == 5.0);
  CHECK(std::signbit(*doc->find("neg0")->get_double()));
  CHECK(*doc->find("s")->get_string(scratch) == odd);
  CHECK(*doc->find("b")->get_bool());
  CHECK(doc->find("n")->is_null());
  CHECK(*doc->find(odd)->get_int64() == 3);
  CHECK(*json::count(*doc->find("a")) == 4);

  // copy() reproduces the same values.
  std::string first, second;
  static char big_scratch[512];
  REQUIRE(json_cases::dump(*doc, big_scratch, first));
  char copy_buf[512];
  json::writer c(copy_buf);
  c.copy(*doc);
  auto copied = c.finish();
  REQUIRE(copied);
  auto again = reader.parse(*copied);
  REQUIRE(again);
  REQUIRE(json_cases::dump(*again, big_scratch, second));
  CHECK(first == second);

  // Forwarding a sub-document, as the shadow does with "desired".
  auto shadow = reader.parse(json_cases::shadow_get_accepted);
  REQUIRE(shadow);
  char fwd[128];
  json::writer f(fwd);
  f.begin_object().key("desired").copy(*json::find_path(*shadow, {"state", "desired"})).end_object();
  CHECK(*f.finish() == R"({"desired":{"Color":"red","Status":"Great"}})");
}

}  // namespace json_checks
