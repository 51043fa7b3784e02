// State-object operations the shadow service is built on: equality, merge (nulls kept or applied) and
// difference, on values of the compact reader.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include <thingwell/aws/shadow_document.hpp>
#include <thingwell/codec/json_compact.hpp>

namespace {

namespace aws = thingwell::aws;
namespace json = thingwell::json;

std::string merged(std::string_view base, std::string_view patch, aws::nulls mode) {
  json::compact_reader<128> a, b;
  auto bv = a.parse(base);
  auto pv = b.parse(patch);
  if (!bv || !pv) return "<parse>";
  char out[512];
  json::writer w(out);
  const json::compact_value base_value = *bv;
  aws::merge(w, &base_value, *pv, mode);
  auto t = w.finish();
  return t ? std::string(*t) : "<write>";
}

std::string diff(std::string_view patch, std::string_view state) {
  json::compact_reader<128> a, b;
  auto pv = a.parse(patch);
  auto sv = b.parse(state);
  if (!pv || !sv) return "<parse>";
  char out[512];
  json::writer w(out);
  const json::compact_value state_value = *sv;
  aws::difference(w, *pv, &state_value);
  auto t = w.finish();
  return t ? std::string(*t) : "<write>";
}

bool equal(std::string_view x, std::string_view y) {
  json::compact_reader<64> a, b;
  auto xv = a.parse(x);
  auto yv = b.parse(y);
  return xv && yv && aws::json_equal(*xv, *yv);
}

TEST_CASE("shadow document: equality by value") {
  CHECK(equal(R"({"a":1,"b":[1,"x",null]})", R"({"b":[1,"x",null],"a":1})"));
  CHECK(equal("1", "1.0"));
  CHECK(equal(R"("\u0041")", R"("A")"));
  CHECK(!equal(R"({"a":1})", R"({"a":1,"b":2})"));
  CHECK(!equal("[1,2]", "[1,2,3]"));
  CHECK(!equal("true", "1"));
  CHECK(!equal(R"({"a":{"b":1}})", R"({"a":{"b":2}})"));
}

TEST_CASE("shadow document: merge keeps nulls for the service, or applies them to a state") {
  CHECK(merged(R"({"a":1,"b":{"c":1,"d":2}})", R"({"a":2,"b":{"c":null},"e":null})", aws::nulls::keep) ==
        R"({"a":2,"b":{"c":null,"d":2},"e":null})");
  CHECK(merged(R"({"a":1,"b":{"c":1,"d":2}})", R"({"a":2,"b":{"c":null},"e":null})", aws::nulls::remove) ==
        R"({"a":2,"b":{"d":2}})");
  CHECK(merged(R"({"a":[1,2]})", R"({"a":[3]})", aws::nulls::remove) == R"({"a":[3]})");  // arrays whole
  CHECK(merged(R"({"a":1})", R"({"a":{"x":null,"y":1}})", aws::nulls::remove) == R"({"a":{"y":1}})");
  CHECK(merged(R"({"a":{"x":1}})", R"({"a":5})", aws::nulls::keep) == R"({"a":5})");
  CHECK(merged("{}", "{}", aws::nulls::keep) == "{}");
}

TEST_CASE("shadow document: difference keeps only what would change the state") {
  CHECK(diff(R"({"a":1,"b":2})", R"({"a":1,"b":3})") == R"({"b":2})");
  CHECK(diff(R"({"a":{"x":1,"y":2}})", R"({"a":{"x":1,"y":3}})") == R"({"a":{"y":2}})");
  CHECK(diff(R"({"a":{"x":1}})", R"({"a":{"x":1,"y":3}})") == "{}");
  CHECK(diff(R"({"gone":null,"here":null})", R"({"here":1})") == R"({"here":null})");
  CHECK(diff(R"({"a":[1,2]})", R"({"a":[1,2]})") == "{}");
  CHECK(diff(R"({"a":{"x":1}})", R"({"a":7})") == R"({"a":{"x":1}})");
  CHECK(diff(R"({"n":1.0})", R"({"n":1})") == "{}");
}

TEST_CASE("shadow document: text buffers refuse what does not fit") {
  aws::text_buffer<4> b;
  CHECK(b.empty());
  CHECK(!b.assign("{}"));
  CHECK(b.view() == "{}");
  CHECK(b.assign("{\"a\":1}") == thingwell::make_error_code(thingwell::errc::buffer_too_small));
  CHECK(b.view() == "{}");
}

}  // namespace
