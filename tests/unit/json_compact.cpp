// The compact JSON reader: strict RFC 8259 validation, the value model of json_reader.hpp, fixed memory.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include <thingwell/codec/json_compact.hpp>

#include "json_cases.hpp"
#include "json_checks.hpp"

namespace json = thingwell::json;
using thingwell::errc;

TEST_CASE("compact reader: the RFC 8259 accept/reject table, with exact error codes") {
  json::compact_reader<64> reader;
  json_checks::rfc8259_table(reader, true);
}

TEST_CASE("compact reader: a rejected document never reads past the end of its text") {
  // Every prefix of every valid case, in an exact-size heap copy that AddressSanitizer guards.
  json::compact_reader<64> reader;
  for (const auto& c : json_cases::rfc8259) {
    for (std::size_t n = 0; n <= c.text.size(); ++n) {
      std::unique_ptr<char[]> copy(new char[n == 0 ? 1 : n]);
      if (n != 0) std::memcpy(copy.get(), c.text.data(), n);
      (void)reader.parse(std::string_view(copy.get(), n));
    }
  }
}

TEST_CASE("compact reader: AWS shadow documents") {
  json::compact_reader<128> reader;
  json_checks::shadow_documents(reader);
}

TEST_CASE("compact reader: value access") {
  json::compact_reader<128> reader;
  json_checks::value_access(reader);
}

TEST_CASE("compact reader: depth and size limits") {
  json::compact_reader<256> reader;
  json_checks::limits(reader);
}

TEST_CASE("compact reader: writer round trip") {
  json::compact_reader<64> reader;
  json_checks::writer_round_trip(reader);
}

TEST_CASE("compact reader: the tape capacity bounds the document, one token per value and key") {
  json::compact_reader<3> reader;
  CHECK(reader.parse(R"({"a":1})"));
  CHECK(reader.size() == 3);
  CHECK(reader.parse(R"([1,2,3])").error() == errc::capacity_exceeded);
  CHECK(reader.parse(R"({"a":1,"b":2})").error() == errc::capacity_exceeded);
  CHECK(reader.parse("[[]]"));
  CHECK(reader.parse("[[[]]]"));
  CHECK(reader.parse("[[[[]]]]").error() == errc::capacity_exceeded);
  // Capacity n always holds a document of n bytes.
  json::compact_reader<7> seven;
  CHECK(seven.parse("[1,2,3]"));
  CHECK(seven.parse(R"({"":0})"));
  json::compact_reader<4> four;
  CHECK(four.parse("[[[[]]]]"));
}

TEST_CASE("compact reader: a caller-provided tape, used through the size-erased base") {
  std::array<json::compact_token, 8> tape{};
  json::basic_compact_reader reader(tape);
  CHECK(reader.capacity() == 8);
  auto doc = reader.parse(R"({"version":8})");
  REQUIRE(doc);
  CHECK(*doc->find("version")->get_int64() == 8);
  json::basic_compact_reader& base = reader;
  CHECK(base.parse("[1,2,3,4,5,6,7,8]").error() == errc::capacity_exceeded);
  CHECK(base.size() == 0);
  CHECK(base.parse("[1,2,3,4,5,6,7]"));
}

TEST_CASE("compact reader: escaped strings need a scratch buffer of their unescaped length") {
  json::compact_reader<8> reader;
  auto doc = reader.parse(R"(["plain","a\u00e9b"])");
  REQUIRE(doc);
  auto range = *doc->get_array();
  auto it = range.begin();
  const auto plain = *it++;
  const auto escaped = *it;
  CHECK(*plain.get_string() == "plain");  // a view into the text: no scratch needed
  CHECK(plain.get_string()->data() > std::string_view(R"(["plain")").data() - 1000);  // (sanity)
  char small[3];
  CHECK(escaped.get_string().error() == errc::buffer_too_small);
  CHECK(escaped.get_string(small).error() == errc::buffer_too_small);
  char exact[4];
  CHECK(*escaped.get_string(exact) == "a\xC3\xA9" "b");
  CHECK(escaped.string_equals("a\xC3\xA9" "b"));
  CHECK_FALSE(escaped.string_equals("a\xC3\xA9"));
  CHECK_FALSE(escaped.string_equals("a\xC3\xA9" "bc"));
  CHECK_FALSE(plain.string_equals("plai"));
  // The source text of scalars is kept exactly.
  CHECK(escaped.raw_text() == R"("a\u00e9b")");
  CHECK(doc->raw_text().empty());
}

TEST_CASE("compact reader: numbers keep their text and convert exactly") {
  json::compact_reader<8> reader;
  auto n = reader.parse("12345678901234567890");
  REQUIRE(n);
  CHECK(n->raw_text() == "12345678901234567890");
  CHECK(*n->get_uint64() == 12345678901234567890u);
  struct {
    const char* text;
    double value;
  } const doubles[] = {
      {"0.1", 0.1}, {"-2.5e-3", -2.5e-3}, {"1.7976931348623157e308", 1.7976931348623157e308},
      {"4.9e-324", 4.9e-324}, {"2.2250738585072014e-308", 2.2250738585072014e-308},
      {"123456789012345678901234567890.0", 123456789012345678901234567890.0},
      {"0.000000000000000000000000000001e330", 1e300}, {"9007199254740993.0", 9007199254740992.0},
  };
  for (const auto& d : doubles) {
    CAPTURE(d.text);
    auto v = reader.parse(d.text);
    REQUIRE(v);
    CHECK(*v->get_double() == d.value);
  }
  // The overflow boundary is exact: the midpoint between DBL_MAX and 2^1024 rounds up to infinity.
  CHECK(reader.parse("1.7976931348623158079372897140530341507993413271004e308").error() == errc::json_bad_number);
  CHECK(*reader.parse("1.7976931348623158079372897140530341507993413271003e308")->get_double() ==
        1.7976931348623157e308);
  const std::string midpoint =
      "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587"
      "207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711"
      "531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093"
      "042880177904174497792";
  CHECK(reader.parse(midpoint + ".0").error() == errc::json_bad_number);
  CHECK(reader.parse(midpoint + "0e-1").error() == errc::json_bad_number);
  const std::string below = midpoint.substr(0, midpoint.size() - 1) + "1.999999";
  CHECK(*reader.parse(below)->get_double() == 1.7976931348623157e308);  // just below the midpoint
  CHECK(reader.parse("-0.0000000000000000000000001797693134862315807937289714053034150799341327101e334").error() ==
        errc::json_bad_number);
  CHECK(reader.parse("-1e309").error() == errc::json_bad_number);
  CHECK(reader.parse("1e99999999999999999999999999").error() == errc::json_bad_number);
  CHECK(*reader.parse("1e-99999999999999999999999999")->get_double() == 0.0);
  CHECK(*reader.parse("0e99999999999999999999999999")->get_double() == 0.0);
}

TEST_CASE("compact reader: a failed parse leaves no document behind, and the reader is reusable") {
  json::compact_reader<16> reader;
  CHECK(reader.parse("[1,2,").error() == errc::json_syntax);
  CHECK(reader.size() == 0);
  auto doc = reader.parse("[true]");
  REQUIRE(doc);
  CHECK(*doc->get_array()->begin().operator*().get_bool());
}
