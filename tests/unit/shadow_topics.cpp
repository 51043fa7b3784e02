// Shadow topics built and parsed (classic and named, every operation and answer, invalid names), the
// AWS name limits, and clientToken generation.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include <thingwell/aws/client_token.hpp>
#include <thingwell/aws/limits.hpp>
#include <thingwell/aws/topics.hpp>

namespace {

namespace aws = thingwell::aws;
using aws::shadow_operation;
using aws::shadow_response;
using thingwell::errc;
using thingwell::make_error_code;

struct topic_case {
  std::string_view thing;
  std::string_view shadow;
  shadow_operation op;
  shadow_response response;
  std::string_view topic;
};

constexpr topic_case topic_table[] = {
    {"lamp-1", "", shadow_operation::get, shadow_response::request, "$aws/things/lamp-1/shadow/get"},
    {"lamp-1", "", shadow_operation::get, shadow_response::accepted, "$aws/things/lamp-1/shadow/get/accepted"},
    {"lamp-1", "", shadow_operation::get, shadow_response::rejected, "$aws/things/lamp-1/shadow/get/rejected"},
    {"lamp-1", "", shadow_operation::update, shadow_response::request, "$aws/things/lamp-1/shadow/update"},
    {"lamp-1", "", shadow_operation::update, shadow_response::accepted, "$aws/things/lamp-1/shadow/update/accepted"},
    {"lamp-1", "", shadow_operation::update, shadow_response::rejected, "$aws/things/lamp-1/shadow/update/rejected"},
    {"lamp-1", "", shadow_operation::update, shadow_response::delta, "$aws/things/lamp-1/shadow/update/delta"},
    {"lamp-1", "", shadow_operation::update, shadow_response::documents, "$aws/things/lamp-1/shadow/update/documents"},
    {"lamp-1", "", shadow_operation::remove, shadow_response::request, "$aws/things/lamp-1/shadow/delete"},
    {"lamp-1", "", shadow_operation::remove, shadow_response::accepted, "$aws/things/lamp-1/shadow/delete/accepted"},
    {"lamp-1", "", shadow_operation::remove, shadow_response::rejected, "$aws/things/lamp-1/shadow/delete/rejected"},
    {"lamp-1", "config", shadow_operation::get, shadow_response::request, "$aws/things/lamp-1/shadow/name/config/get"},
    {"lamp-1", "config", shadow_operation::update, shadow_response::delta,
     "$aws/things/lamp-1/shadow/name/config/update/delta"},
    {"lamp-1", "config", shadow_operation::remove, shadow_response::accepted,
     "$aws/things/lamp-1/shadow/name/config/delete/accepted"},
    {"a:b_c-D9", "$reserved:x_y-Z", shadow_operation::update, shadow_response::documents,
     "$aws/things/a:b_c-D9/shadow/name/$reserved:x_y-Z/update/documents"},
    // A named shadow called "name" and a thing called "shadow" are ordinary names.
    {"shadow", "name", shadow_operation::get, shadow_response::accepted, "$aws/things/shadow/shadow/name/name/get/accepted"},
};

TEST_CASE("shadow topics: built and parsed back, classic and named") {
  for (const topic_case& c : topic_table) {
    INFO(c.topic);
    aws::topic_buffer buf;
    auto t = aws::make_shadow_topic(buf, c.thing, c.shadow, c.op, c.response);
    REQUIRE(t);
    CHECK(*t == c.topic);
    auto p = aws::parse_shadow_topic(c.topic);
    REQUIRE(p);
    CHECK(p->thing == c.thing);
    CHECK(p->shadow == c.shadow);
    CHECK(p->operation == c.op);
    CHECK(p->response == c.response);
  }
}

TEST_CASE("shadow topics: the longest one fits AWS's topic limits") {
  const std::string thing(128, 't');
  const std::string shadow(64, 's');
  aws::topic_buffer buf;
  auto t = aws::make_shadow_topic(buf, thing, shadow, shadow_operation::update, shadow_response::documents);
  REQUIRE(t);
  CHECK(t->size() == 234);
  std::size_t slashes = 0;
  for (char c : *t) slashes += c == '/';
  CHECK(slashes == 7);
  char small[20];
  CHECK(aws::make_shadow_topic(small, "lamp-1", "", shadow_operation::get).error() == make_error_code(errc::buffer_too_small));
}

TEST_CASE("shadow topics: invalid names and combinations are refused") {
  aws::topic_buffer buf;
  const std::string long_thing(129, 't');
  const std::string long_shadow(65, 's');
  const auto bad_thing = make_error_code(errc::thing_name_invalid);
  const auto bad_shadow = make_error_code(errc::shadow_name_invalid);
  CHECK(aws::make_shadow_topic(buf, "", "", shadow_operation::get).error() == bad_thing);
  CHECK(aws::make_shadow_topic(buf, long_thing, "", shadow_operation::get).error() == bad_thing);
  CHECK(aws::make_shadow_topic(buf, "a/b", "", shadow_operation::get).error() == bad_thing);
  CHECK(aws::make_shadow_topic(buf, "a+", "", shadow_operation::get).error() == bad_thing);
  CHECK(aws::make_shadow_topic(buf, "$lamp", "", shadow_operation::get).error() == bad_thing);  // $ only in shadow names
  CHECK(aws::make_shadow_topic(buf, "lamp é", "", shadow_operation::get).error() == bad_thing);
  CHECK(aws::make_shadow_topic(buf, "lamp", long_shadow, shadow_operation::get).error() == bad_shadow);
  CHECK(aws::make_shadow_topic(buf, "lamp", "a/b", shadow_operation::get).error() == bad_shadow);
  CHECK(aws::make_shadow_topic(buf, "lamp", "#", shadow_operation::get).error() == bad_shadow);
  CHECK(aws::make_shadow_topic(buf, "lamp", "", shadow_operation::get, shadow_response::delta).error() ==
        make_error_code(errc::invalid_argument));
  CHECK(aws::make_shadow_topic(buf, "lamp", "", shadow_operation::remove, shadow_response::documents).error() ==
        make_error_code(errc::invalid_argument));
  CHECK(aws::make_shadow_topic(buf, std::string(128, 'x'), std::string(64, 'y'), shadow_operation::get));

  CHECK(!aws::check_thing_name("Thing_1:a-b"));
  CHECK(!aws::check_shadow_name("$x"));
}

TEST_CASE("shadow topics: anything that is not a shadow topic is refused by the parser") {
  constexpr std::string_view not_shadow[] = {
      "",
      "$aws/things/lamp-1/shadow",
      "$aws/things/lamp-1/shadow/",
      "$aws/things/lamp-1/shadow/get/",
      "$aws/things/lamp-1/shadow/list",
      "$aws/things/lamp-1/shadow/get/delta",
      "$aws/things/lamp-1/shadow/delete/documents",
      "$aws/things/lamp-1/shadow/update/accepted/x",
      "$aws/things/lamp-1/shadow/update/everything",
      "$aws/things/lamp-1/shadow/name/get",
      "$aws/things/lamp-1/shadow/name//get",
      "$aws/things/lamp-1/shadow/name/a+b/get",
      "$aws/things/lamp-1/jobs/get",
      "$aws/things//shadow/get",
      "$aws/things/lamp 1/shadow/get",
      "aws/things/lamp-1/shadow/get",
      "$aws/things/lamp-1/shadowy/get",
  };
  for (std::string_view t : not_shadow) {
    INFO(t);
    CHECK(aws::parse_shadow_topic(t).error() == make_error_code(errc::bad_topic_name));
  }
}

TEST_CASE("client tokens: unique, bounded, prefixed with the end of the client id") {
  aws::client_token_generator g("device/with spaces", 0x1234);
  const auto a = g.next();
  const auto b = g.next();
  CHECK(a.view() == "device_with_spaces-1234-1");
  CHECK(b.view() == "device_with_spaces-1234-2");
  CHECK(a.matches("device_with_spaces-1234-1"));
  CHECK(!a.matches("device_with_spaces-1234-2"));
  CHECK(!aws::client_token{}.matches(""));

  aws::client_token_generator longest(std::string(100, 'p'), 0xffffffffu);
  for (int i = 0; i < 1000; ++i) (void)longest.next();
  CHECK(longest.next().size <= aws::max_client_token);
  aws::client_token_generator bare("", 7);
  CHECK(bare.next().view() == "7-1");
}

}  // namespace
