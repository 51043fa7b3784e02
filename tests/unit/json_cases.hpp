// Shared JSON test data: the RFC 8259 accept/reject table and the AWS IoT shadow documents of
// shared/aws-iot-protocol.md section 1.3. Used by the compact reader tests (tests/unit/json_compact.cpp)
// and by the typed tests that run every reader (tests/unit/host/json_readers.cpp).
#pragma once

#include <string_view>

#include <thingwell/core/error.hpp>

namespace json_cases {

using thingwell::errc;

struct syntax_case {
  std::string_view text;
  errc expected;            // errc{} when the document is valid
  bool same_code = true;    // false: every reader rejects it, but simdjson reports another json_* code
};

using namespace std::string_view_literals;

// Written for this project from RFC 8259 sections 2-8; \x escapes spell out bytes that are not text.
inline constexpr syntax_case rfc8259[] = {
    // --- values and whitespace (sections 2, 3)
    {"null", {}},
    {"true", {}},
    {"false", {}},
    {" \t\r\n1 \t\r\n", {}},
    {"\"\"", {}},
    {"[]", {}},
    {"{}", {}},
    {"[ ]", {}},
    {"{ }", {}},
    {"[1,[2,[3]],{\"a\":{}}]", {}},
    {"{\"a\" : 1 , \"b\" :[ true ,false,null ] }", {}},
    {"", errc::json_syntax},
    {"   ", errc::json_syntax},
    {"\xEF\xBB\xBF{}", errc::json_syntax, false},  // a byte-order mark is not whitespace
    {"\x0B" "1", errc::json_syntax},                 // vertical tab is not JSON whitespace
    {"\f1", errc::json_syntax},
    {"nul", errc::json_syntax},
    {"nulll", errc::json_syntax},
    {"True", errc::json_syntax},
    {"truex", errc::json_syntax},
    {"undefined", errc::json_syntax},
    {"NaN", errc::json_syntax},
    {"Infinity", errc::json_syntax},
    {"'a'", errc::json_syntax},
    {"1 2", errc::json_syntax},
    {"{}{}", errc::json_syntax},
    {"[]]", errc::json_syntax},
    {"1\0"sv, errc::json_syntax, false},
    {"/*c*/1", errc::json_syntax},
    // --- arrays and objects (sections 4, 5)
    {"[1,]", errc::json_syntax},
    {"[,1]", errc::json_syntax},
    {"[1,,2]", errc::json_syntax},
    {"[1 2]", errc::json_syntax},
    {"[", errc::json_syntax},
    {"[1", errc::json_syntax},
    {"[1,", errc::json_syntax},
    {"]", errc::json_syntax},
    {"[}", errc::json_syntax},
    {"{]", errc::json_syntax},
    {"{\"a\":1,}", errc::json_syntax},
    {"{,}", errc::json_syntax},
    {"{\"a\"}", errc::json_syntax},
    {"{\"a\":}", errc::json_syntax},
    {"{\"a\" 1}", errc::json_syntax},
    {"{\"a\":1 \"b\":2}", errc::json_syntax},
    {"{a:1}", errc::json_syntax},
    {"{1:1}", errc::json_syntax},
    {"{\"a\":1", errc::json_syntax},
    {"{\"a\"::1}", errc::json_syntax},
    {"{\"a\":1,\"a\":2}", {}},  // duplicate keys: accepted, both kept, find() returns the first
    // --- numbers (section 6)
    {"0", {}},
    {"-0", {}},
    {"-0.0", {}},
    {"12", {}},
    {"-12", {}},
    {"1.5", {}},
    {"1e5", {}},
    {"1E5", {}},
    {"1e+5", {}},
    {"1e-5", {}},
    {"0.5e-0", {}},
    {"1.25E+02", {}},
    {"9223372036854775807", {}},
    {"-9223372036854775808", {}},
    {"18446744073709551615", {}},
    {"1.7976931348623157e308", {}},
    {"1e-400", {}},  // underflows to zero: representable
    {"0e999999999999", {}},
    {"0.000000000000000000000000000001e330", {}},
    {"18446744073709551616", errc::json_bad_number},   // integer beyond 64 bits
    {"-9223372036854775809", errc::json_bad_number},
    {"123456789012345678901234567890", errc::json_bad_number},
    {"1e309", errc::json_bad_number},                  // overflows a double
    {"1.7976931348623159e308", errc::json_bad_number},
    {"-1e400", errc::json_bad_number},
    {"1.7976931348623158079372897140530341507993413271004e308", errc::json_bad_number},  // just above the midpoint
    {"1.7976931348623158079372897140530341507993413271003e308", {}},                     // to DBL_MAX and 2^1024
    {"2.5e-320", {}},                                                                    // subnormal
    {"01", errc::json_bad_number},
    {"-01", errc::json_bad_number},
    {"00", errc::json_bad_number},
    {"1.", errc::json_bad_number},
    {"1.e5", errc::json_bad_number},
    {"1e", errc::json_bad_number},
    {"1e+", errc::json_bad_number},
    {"-", errc::json_bad_number},
    {"-a", errc::json_bad_number},
    {".5", errc::json_syntax},
    {"+1", errc::json_syntax},
    {"0x10", errc::json_syntax, false},
    {"1.5.5", errc::json_syntax, false},
    {"[01]", errc::json_bad_number},
    {"[1.]", errc::json_bad_number},
    {"[-]", errc::json_bad_number},
    // --- strings (section 7)
    {"\"abc\"", {}},
    {"\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", {}},
    {"\"\\u0041\\u00e9\\u20AC\"", {}},
    {"\"\\u0000\"", {}},
    {"\"\\uD834\\uDD1E\"", {}},  // U+1D11E as a surrogate pair
    {"\"\\udbff\\udfff\"", {}},
    {"\"\x7F\"", {}},            // DEL needs no escape
    {"\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"", {}},
    {"\"\xEF\xBF\xBF\"", {}},    // U+FFFF is a noncharacter but well-formed
    {"\"abc", errc::json_bad_string},
    {"\"", errc::json_bad_string},
    {"\"\\", errc::json_bad_string},
    {"\"\\\"", errc::json_bad_string},
    {"\"\\x41\"", errc::json_bad_string},
    {"\"\\a\"", errc::json_bad_string},
    {"\"\\U0041\"", errc::json_bad_string},
    {"\"\\u004\"", errc::json_bad_string},
    {"\"\\u00G1\"", errc::json_bad_string},
    {"\"\\uD800\"", errc::json_bad_string},           // lone high surrogate
    {"\"\\uD800x\"", errc::json_bad_string},
    {"\"\\uD800\\u0041\"", errc::json_bad_string},    // high surrogate followed by a non-surrogate
    {"\"\\uD800\\uD800\"", errc::json_bad_string},
    {"\"\\uDC00\"", errc::json_bad_string},           // lone low surrogate
    {"\"\\uDC00\\uD800\"", errc::json_bad_string},    // reversed pair
    {"\"a\x01\"", errc::json_bad_string},
    {"\"a\nb\"", errc::json_bad_string},
    {"\"\t\"", errc::json_bad_string},
    {"\"\0\""sv, errc::json_bad_string},
    // --- UTF-8 (section 8.1)
    {"\"\x80\"", errc::json_bad_utf8},                // lone continuation byte
    {"\"\xC0\x80\"", errc::json_bad_utf8},            // overlong NUL
    {"\"\xC1\xBF\"", errc::json_bad_utf8},
    {"\"\xE0\x80\xAF\"", errc::json_bad_utf8},        // overlong '/'
    {"\"\xED\xA0\x80\"", errc::json_bad_utf8},        // encoded surrogate
    {"\"\xF4\x90\x80\x80\"", errc::json_bad_utf8},    // above U+10FFFF
    {"\"\xF5\x80\x80\x80\"", errc::json_bad_utf8},
    {"\"\xFF\"", errc::json_bad_utf8},
    {"\"\xC3\"", errc::json_bad_utf8},                // truncated sequence
    {"\"\xE2\x82\"", errc::json_bad_utf8},
    {"\xC3\xA9", errc::json_syntax, false},           // well-formed, but not a value
    {"[\xFF]", errc::json_syntax, false},
};

// shared/aws-iot-protocol.md 1.3.1: /get/accepted
inline constexpr std::string_view shadow_get_accepted = R"({
  "state": {
    "desired":  { "Color": "red",  "Status": "Great" },
    "reported": { "Color": "green","Status": "Great" },
    "delta":    { "Color": "red" }
  },
  "metadata": {
    "desired":  { "Color": {"timestamp": 1719855498}, "Status": {"timestamp": 1719856710} },
    "reported": { "Color": {"timestamp": 1719853620}, "Status": {"timestamp": 1719856694} }
  },
  "version": 8,
  "timestamp": 1719856723,
  "clientToken": "e6e3123c-..."
})";

// 1.3.2: /update/accepted
inline constexpr std::string_view shadow_update_accepted = R"({
  "state":    { "reported": { "Status": "Awful" } },
  "metadata": { "reported": { "Status": { "timestamp": 1719857563 } } },
  "version": 9,
  "timestamp": 1719857563,
  "clientToken": "05ed8956-..."
})";

// 1.3.3: /update/delta
inline constexpr std::string_view shadow_delta = R"({
  "version": 9,
  "timestamp": 1719857563,
  "state":    { "Status": "Great" },
  "metadata": { "Status": { "timestamp": 1719856710 } },
  "clientToken": "05ed8956-..."
})";

// 1.3.4: /update/documents
inline constexpr std::string_view shadow_documents = R"({
  "previous": {
    "state":    { "desired": {"Color":"green"}, "reported": {"Color":"green"} },
    "metadata": { "desired": {"Color":{"timestamp":1719855311}},
                  "reported": {"Color":{"timestamp":1719853620}} },
    "version": 4
  },
  "current": {
    "state":    { "desired": {"Color":"red"}, "reported": {"Color":"green"} },
    "metadata": { "desired": {"Color":{"timestamp":1719855498}},
                  "reported": {"Color":{"timestamp":1719853620}} },
    "version": 5
  },
  "timestamp": 1719855498,
  "clientToken": "79737dba-..."
})";

// 1.3.5 and 1.6: /delete/accepted and an error document
inline constexpr std::string_view shadow_delete_accepted = R"({"version":13,"timestamp":1719858420,"clientToken":"..."})";
inline constexpr std::string_view shadow_rejected =
    R"({ "code": 409, "message": "Version conflict", "timestamp": 1591057529, "clientToken": "426bfd96-..." })";
// 1.2: an update request
inline constexpr std::string_view shadow_update_request = R"({
  "state": {
    "desired":  { "color": "red", "power": "on" },
    "reported": { "color": "green" }
  },
  "clientToken": "tok-123",
  "version": 17
})";

}  // namespace json_cases

// ---- a canonical dump of a parsed value, to compare readers with each other ------------------------------
#include <cstdio>
#include <span>
#include <string>

#include <thingwell/codec/json_reader.hpp>

namespace json_cases {

// Appends a canonical form of v: every type, string byte, integer and double bit pattern shows, and
// whitespace and escapes of the source do not. `scratch` must hold the longest string of the document.
// Returns false when an accessor fails where the value model says it cannot.
template <thingwell::json::value V>
bool dump(const V& v, std::span<char> scratch, std::string& out) {
  using thingwell::json::type;
  char num[64];
  switch (v.kind()) {
    case type::null: out += 'n'; return v.is_null();
    case type::boolean: {
      auto b = v.get_bool();
      if (!b) return false;
      out += *b ? 't' : 'f';
      return true;
    }
    case type::number: {
      auto d = v.get_double();
      if (!d) return false;
      std::snprintf(num, sizeof num, "d%a", *d == 0 ? 0.0 : *d);  // -0 and 0 are one value
      out += num;
      if (v.is_integer()) {
        auto i = v.get_int64();
        auto u = v.get_uint64();
        if (!i && !u) return false;
        if (i) std::snprintf(num, sizeof num, "i%lld", static_cast<long long>(*i));
        else std::snprintf(num, sizeof num, "u%llu", static_cast<unsigned long long>(*u));
        out += num;
      } else if (v.get_int64() || v.get_uint64()) {
        return false;  // a double must not read as an integer
      }
      return true;
    }
    case type::string: {
      auto s = v.get_string(scratch);
      if (!s) return false;
      out += 's';
      out += std::to_string(s->size());
      out += ':';
      out += *s;
      return true;
    }
    case type::object: {
      auto o = v.get_object();
      if (!o) return false;
      out += '{';
      for (const auto& m : *o) {
        auto k = m.key(scratch);
        if (!k) return false;
        out += 'k';
        out += std::to_string(k->size());
        out += ':';
        out += *k;
        if (!m.key_is(std::string(*k))) return false;
        if (!dump(m.value(), scratch, out)) return false;
      }
      out += '}';
      return true;
    }
    case type::array: {
      auto a = v.get_array();
      if (!a) return false;
      out += '[';
      for (const auto& e : *a)
        if (!dump(e, scratch, out)) return false;
      out += ']';
      return true;
    }
  }
  return false;
}

}  // namespace json_cases
