// Every JSON reader passes the same tests (the typed suite of tests/unit/json_checks.hpp), and the two
// readers agree with each other on every case of the RFC 8259 table.
#include <doctest/doctest.h>

#include <thingwell/core/config.hpp>

#if THINGWELL_WITH_SIMDJSON

#include <string>

#include <thingwell/codec/json_compact.hpp>
#include <thingwell/codec/json_simdjson.hpp>

#include "../json_cases.hpp"
#include "../json_checks.hpp"

namespace json = thingwell::json;
using thingwell::errc;

static_assert(json::reader<json::compact_reader<8>>);
static_assert(json::reader<json::basic_compact_reader>);
static_assert(json::reader<json::simdjson_reader>);

namespace {

using compact = json::compact_reader<1024>;

template <class R>
R& shared_reader() {
  static R reader;  // the compact tape is 8 KB: not on the test's stack
  return reader;
}

}  // namespace

TEST_CASE_TEMPLATE("json readers: the RFC 8259 accept/reject table", R, compact, json::simdjson_reader) {
  json_checks::rfc8259_table(shared_reader<R>(), false);
}

TEST_CASE_TEMPLATE("json readers: AWS shadow documents", R, compact, json::simdjson_reader) {
  json_checks::shadow_documents(shared_reader<R>());
}

TEST_CASE_TEMPLATE("json readers: value access", R, compact, json::simdjson_reader) {
  json_checks::value_access(shared_reader<R>());
}

TEST_CASE_TEMPLATE("json readers: depth and size limits", R, compact, json::simdjson_reader) {
  json_checks::limits(shared_reader<R>());
}

TEST_CASE_TEMPLATE("json readers: writer round trip", R, compact, json::simdjson_reader) {
  json_checks::writer_round_trip(shared_reader<R>());
}

TEST_CASE("json readers: the compact reader and simdjson read every table case the same way") {
  auto& a = shared_reader<compact>();
  auto& b = shared_reader<json::simdjson_reader>();
  static char scratch[1024];
  for (const auto& c : json_cases::rfc8259) {
    const std::string shown = json_checks::printable(c.text);
    CAPTURE(shown);
    auto ra = a.parse(c.text);
    auto rb = b.parse(c.text);
    REQUIRE(ra.has_value() == rb.has_value());
    if (!ra) {
      if (c.same_code) CHECK(ra.error() == rb.error());
      continue;
    }
    std::string da, db;
    CHECK(json_cases::dump(*ra, scratch, da));
    CHECK(json_cases::dump(*rb, scratch, db));
    CHECK(da == db);
  }
  for (std::string_view doc : {json_cases::shadow_get_accepted, json_cases::shadow_update_accepted,
                               json_cases::shadow_delta, json_cases::shadow_documents,
                               json_cases::shadow_delete_accepted, json_cases::shadow_rejected,
                               json_cases::shadow_update_request}) {
    std::string da, db;
    REQUIRE(json_cases::dump(*a.parse(doc), scratch, da));
    REQUIRE(json_cases::dump(*b.parse(doc), scratch, db));
    CHECK(da == db);
  }
}

TEST_CASE("json readers: copy() from simdjson re-encodes, and reads back the same") {
  auto& b = shared_reader<json::simdjson_reader>();
  auto doc = b.parse(R"({"a\n":[1.50,-0,"\u00e9",true,null,{"x":[]},18446744073709551615,1e300]})");
  REQUIRE(doc);
  char out[128];
  json::writer w(out);
  w.copy(*doc);
  CHECK(*w.finish() == "{\"a\\n\":[1.5,0,\"\xC3\xA9\",true,null,{\"x\":[]},18446744073709551615,1e+300]}");
}

#endif  // THINGWELL_WITH_SIMDJSON
