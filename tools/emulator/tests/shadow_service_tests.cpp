// The sans-I/O Device Shadow service against shared/aws-iot-protocol.md §1, with a manual clock.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "command_line.hpp"
#include "json_tree.hpp"
#include "shadow_service.hpp"
#include "shadow_store.hpp"
#include "shadow_topics.hpp"

using namespace thingwell::emulator;

namespace {

constexpr std::int64_t t0 = 1719855000;
const std::string prefix = "$aws/things/dev/shadow";

json_value parse(std::string_view text) {
  auto v = parse_json(text, 1 << 20);
  REQUIRE(v);
  return *v;
}

// The message published on `topic`, parsed; a test failure when there is none.
json_value message_on(const shadow_outcome& o, const std::string& topic) {
  for (const auto& m : o.messages)
    if (m.topic == topic) return parse(m.payload);
  FAIL("nothing published on " << topic);
  return {};
}

bool published_on(const shadow_outcome& o, const std::string& topic) {
  for (const auto& m : o.messages)
    if (m.topic == topic) return true;
  return false;
}

std::int64_t int_of(const json_value* v) {
  REQUIRE(v != nullptr);
  std::int64_t n = -1;
  REQUIRE(v->get_int64(n));
  return n;
}

// The error code and message of a rejected request.
std::pair<std::int64_t, std::string> rejection(const shadow_outcome& o, const std::string& topic) {
  const json_value doc = message_on(o, topic);
  const json_value* message = doc.find("message");
  REQUIRE(message != nullptr);
  return {int_of(doc.find("code")), message->as_string()};
}

}  // namespace

TEST_CASE("delta computation table (§1.5)") {
  struct row {
    const char* desired;
    const char* reported;
    const char* delta;
  };
  const row rows[] = {
      {R"({})", R"({})", R"({})"},
      {R"({"a":1})", R"({})", R"({"a":1})"},
      {R"({"a":1})", R"({"a":1})", R"({})"},
      {R"({"a":1})", R"({"a":1.0})", R"({})"},  // numbers compare by value
      {R"({"a":1})", R"({"a":"1"})", R"({"a":1})"},
      {R"({})", R"({"only_reported":1})", R"({})"},  // reported-only keys never appear
      {R"({"o":{"x":1,"y":2}})", R"({"o":{"x":1,"y":3}})", R"({"o":{"y":2}})"},  // path kept, only the leaf
      {R"({"o":{"x":1}})", R"({"o":{"x":1,"z":9}})", R"({})"},
      {R"({"o":{"p":{"q":true}}})", R"({"o":{"p":{"q":false}}})", R"({"o":{"p":{"q":true}}})"},
      {R"({"arr":[1,2,3]})", R"({"arr":[1,2]})", R"({"arr":[1,2,3]})"},  // arrays are whole values
      {R"({"arr":[1,{"k":2}]})", R"({"arr":[1,{"k":2}]})", R"({})"},
      {R"({"o":{"x":1}})", R"({"o":5})", R"({"o":{"x":1}})"},  // type change: the whole desired value
      {R"({"n":null})", R"({})", R"({"n":null})"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.desired);
    CAPTURE(r.reported);
    CHECK(to_json(compute_delta(parse(r.desired), parse(r.reported))) == to_json(parse(r.delta)));
  }
}

TEST_CASE("get on a missing shadow is 404 with AWS's message, token echoed") {
  shadow_service s;
  auto o = s.handle(prefix + "/get", R"({"clientToken":"t1"})", t0);
  const json_value doc = message_on(o, prefix + "/get/rejected");
  CHECK(int_of(doc.find("code")) == 404);
  CHECK(doc.find("message")->as_string() == "No shadow exists with name: 'dev'");
  CHECK(doc.find("clientToken")->as_string() == "t1");
  CHECK(int_of(doc.find("timestamp")) == t0);
  CHECK_FALSE(o.changed);

  auto named = s.handle(prefix + "/name/cfg/get", "", t0);
  CHECK(rejection(named, prefix + "/name/cfg/get/rejected").second == "No shadow exists with name: 'cfg'");
}

TEST_CASE("update: accepted echo, delta, documents, versions and metadata") {
  shadow_service s;
  auto first = s.handle(prefix + "/update", R"({"state":{"desired":{"color":"red","power":"on"}},"clientToken":"a"})", t0);
  REQUIRE(first.changed);
  REQUIRE(first.messages.size() == 3);
  CHECK(first.messages[0].topic == prefix + "/update/accepted");

  const json_value accepted = message_on(first, prefix + "/update/accepted");
  CHECK(int_of(accepted.find("version")) == 1);
  CHECK(to_json(*accepted.find("state")) == R"({"desired":{"color":"red","power":"on"}})");
  CHECK(to_json(*accepted.find("metadata")) ==
        R"({"desired":{"color":{"timestamp":1719855000},"power":{"timestamp":1719855000}}})");
  CHECK(accepted.find("clientToken")->as_string() == "a");

  const json_value delta = message_on(first, prefix + "/update/delta");
  CHECK(int_of(delta.find("version")) == 1);
  CHECK(to_json(*delta.find("state")) == R"({"color":"red","power":"on"})");
  CHECK(to_json(*delta.find("metadata")) == R"({"color":{"timestamp":1719855000},"power":{"timestamp":1719855000}})");
  CHECK(delta.find("clientToken")->as_string() == "a");

  const json_value documents = message_on(first, prefix + "/update/documents");
  CHECK(documents.find("previous")->is_null());  // the update that creates the shadow
  CHECK(int_of(documents.find("current")->find("version")) == 1);

  // A reported update that leaves one field out of sync: the delta carries every out-of-sync field.
  auto second = s.handle(prefix + "/update", R"({"state":{"reported":{"color":"red"}}})", t0 + 10);
  const json_value delta2 = message_on(second, prefix + "/update/delta");
  CHECK(to_json(*delta2.find("state")) == R"({"power":"on"})");
  CHECK(to_json(*delta2.find("metadata")) == R"({"power":{"timestamp":1719855000}})");  // desired's timestamps
  CHECK(delta2.find("clientToken") == nullptr);
  const json_value documents2 = message_on(second, prefix + "/update/documents");
  CHECK(int_of(documents2.find("previous")->find("version")) == 1);
  CHECK(int_of(documents2.find("current")->find("version")) == 2);
  CHECK(to_json(*documents2.find("current")->find("metadata")->find("reported")) ==
        R"({"color":{"timestamp":1719855010}})");

  // In sync: no delta message at all.
  auto third = s.handle(prefix + "/update", R"({"state":{"reported":{"power":"on"}}})", t0 + 20);
  CHECK_FALSE(published_on(third, prefix + "/update/delta"));
  CHECK(published_on(third, prefix + "/update/documents"));

  auto get = s.handle(prefix + "/get", "", t0 + 30);
  const json_value doc = message_on(get, prefix + "/get/accepted");
  CHECK(int_of(doc.find("version")) == 3);
  CHECK(doc.find("state")->find("delta") == nullptr);
  CHECK(int_of(doc.find("timestamp")) == t0 + 30);
}

TEST_CASE("null deletes a field, a section, or the whole state") {
  shadow_service s;
  (void)s.handle(prefix + "/update", R"({"state":{"desired":{"a":1,"o":{"x":1,"y":2}},"reported":{"a":1}}})", t0);
  auto o = s.handle(prefix + "/update", R"({"state":{"desired":{"a":null,"o":{"x":null}}}})", t0 + 1);
  CHECK(to_json(*message_on(o, prefix + "/update/accepted").find("state")) == R"({"desired":{"a":null,"o":{"x":null}}})");
  const shadow_document* d = s.find({"dev", ""});
  REQUIRE(d != nullptr);
  CHECK(to_json(d->desired()) == R"({"o":{"y":2}})");
  CHECK(to_json(d->desired_metadata()) == R"({"o":{"y":{"timestamp":1719855000}}})");

  // An object emptied by deletes goes away with its metadata.
  (void)s.handle(prefix + "/update", R"({"state":{"desired":{"o":{"y":null}}}})", t0 + 2);
  CHECK(to_json(d->desired()) == "{}");
  CHECK(to_json(d->desired_metadata()) == "{}");

  (void)s.handle(prefix + "/update", R"({"state":{"reported":null}})", t0 + 3);
  CHECK(to_json(d->state()) == "{}");
  CHECK(d->exists());

  (void)s.handle(prefix + "/update", R"({"state":{"desired":{"k":1}}})", t0 + 4);
  auto cleared = s.handle(prefix + "/update", R"({"state":null})", t0 + 5);
  CHECK(int_of(message_on(cleared, prefix + "/update/accepted").find("version")) == 6);
  CHECK(to_json(d->state()) == "{}");
  CHECK(d->exists());
}

TEST_CASE("errors: codes and AWS's messages") {
  shadow_service s;
  const std::string rejected = prefix + "/update/rejected";
  struct row {
    std::string payload;
    std::int64_t code;
    const char* message;
  };
  const row rows[] = {
      {"", 400, "Invalid JSON"},
      {"{not json", 400, "Invalid JSON"},
      {"[1]", 400, "Invalid JSON"},
      {R"({"clientToken":"x"})", 400, "Missing required node: state"},
      {R"({"state":5})", 400, "State node must be an object"},
      {R"({"state":{"desired":[1]}})", 400, "Desired node must be an object"},
      {R"({"state":{"reported":"x"}})", 400, "Reported node must be an object"},
      {R"({"state":{"delta":{"a":1}}})", 400, "State contains an invalid node"},
      {R"({"state":{"desired":{"a":[1,null]}}})", 400, "State contains an invalid node"},
      {R"({"state":{},"version":"3"})", 400, "Invalid version"},
      {R"({"state":{},"clientToken":5})", 400, "Invalid clientToken"},
      {R"({"state":{},"clientToken":")" + std::string(65, 't') + R"("})", 400, "Invalid clientToken"},
      {R"({"state":{"desired":{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}}})", 400,
       "JSON contains too many levels of nesting; maximum is 6"},
      {R"({"state":{"desired":{"big":")" + std::string(8200, 'x') + R"("}}})", 413,
       "The payload exceeds the maximum size allowed"},
      {std::string(130 * 1024, ' '), 413, "The payload exceeds the maximum size allowed"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.payload.substr(0, 80));
    auto o = s.handle(prefix + "/update", r.payload, t0);
    CHECK_FALSE(o.changed);
    REQUIRE(o.messages.size() == 1);
    const auto [code, message] = rejection(o, rejected);
    CHECK(code == r.code);
    CHECK(message == r.message);
  }
  CHECK(s.find({"dev", ""}) == nullptr);

  // Five object levels below desired are fine (the sixth is refused above).
  auto deep = s.handle(prefix + "/update", R"({"state":{"desired":{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}}})", t0);
  CHECK(published_on(deep, prefix + "/update/accepted"));
}

TEST_CASE("the 8 KB limit counts the merged state, and a refused update changes nothing") {
  shadow_service s;
  const std::string half(5000, 'x');
  (void)s.handle(prefix + "/update", R"({"state":{"desired":{"a":")" + half + R"("}}})", t0);
  auto o = s.handle(prefix + "/update", R"({"state":{"reported":{"b":")" + half + R"("}},"clientToken":"big"})", t0);
  const auto [code, message] = rejection(o, prefix + "/update/rejected");
  CHECK(code == 413);
  CHECK(s.find({"dev", ""})->version() == 1);
  CHECK(s.find({"dev", ""})->reported().empty_object());
}

TEST_CASE("version: optimistic locking, delete and re-create") {
  shadow_service s;
  (void)s.handle(prefix + "/update", R"({"state":{"reported":{"a":1}}})", t0);
  auto conflict = s.handle(prefix + "/update", R"({"state":{"reported":{"a":2}},"version":5,"clientToken":"c"})", t0);
  const json_value doc = message_on(conflict, prefix + "/update/rejected");
  CHECK(int_of(doc.find("code")) == 409);
  CHECK(doc.find("message")->as_string() == "Version conflict");
  CHECK(doc.find("clientToken")->as_string() == "c");

  auto ok = s.handle(prefix + "/update", R"({"state":{"reported":{"a":2}},"version":1})", t0);
  CHECK(int_of(message_on(ok, prefix + "/update/accepted").find("version")) == 2);

  auto deleted = s.handle(prefix + "/delete", R"({"clientToken":"d"})", t0 + 1);
  const json_value del = message_on(deleted, prefix + "/delete/accepted");
  CHECK(int_of(del.find("version")) == 2);
  CHECK(del.find("clientToken")->as_string() == "d");
  REQUIRE(deleted.changed);

  CHECK(rejection(s.handle(prefix + "/get", "", t0 + 2), prefix + "/get/rejected").first == 404);
  CHECK(rejection(s.handle(prefix + "/delete", "", t0 + 2), prefix + "/delete/rejected").first == 404);

  // Re-created within 48 h: the version continues, previous is null, the old state is gone.
  auto again = s.handle(prefix + "/update", R"({"state":{"desired":{"b":1}}})", t0 + 3);
  CHECK(int_of(message_on(again, prefix + "/update/accepted").find("version")) == 3);
  CHECK(message_on(again, prefix + "/update/documents").find("previous")->is_null());
  CHECK(to_json(s.find({"dev", ""})->state()) == R"({"desired":{"b":1}})");

  // Deleted more than 48 h ago: the version starts over.
  (void)s.handle(prefix + "/delete", "", t0 + 4);
  auto later = s.handle(prefix + "/update", R"({"state":{"desired":{"b":1}}})", t0 + 4 + 48 * 3600);
  CHECK(int_of(message_on(later, prefix + "/update/accepted").find("version")) == 1);
}

TEST_CASE("named shadows are separate from the classic shadow and from each other") {
  shadow_service s;
  auto named = s.handle(prefix + "/name/config/update", R"({"state":{"desired":{"rate":5}}})", t0);
  CHECK(published_on(named, prefix + "/name/config/update/accepted"));
  CHECK(published_on(named, prefix + "/name/config/update/delta"));
  CHECK(s.find({"dev", ""}) == nullptr);
  CHECK(rejection(s.handle(prefix + "/get", "", t0), prefix + "/get/rejected").first == 404);
  CHECK(rejection(s.handle(prefix + "/name/other/get", "", t0), prefix + "/name/other/get/rejected").first == 404);
}

TEST_CASE("admin requests answer on the admin topics and notify devices like an HTTPS update") {
  shadow_service s;
  const std::string admin = "$thingwell/emulator/things/dev/shadow";
  auto o = s.handle(admin + "/update", R"({"state":{"desired":{"led":"on"}},"clientToken":"adm"})", t0);
  CHECK(published_on(o, admin + "/update/accepted"));
  CHECK_FALSE(published_on(o, prefix + "/update/accepted"));
  CHECK(message_on(o, prefix + "/update/delta").find("clientToken")->as_string() == "adm");
  CHECK(published_on(o, prefix + "/update/documents"));
  CHECK(published_on(s.handle(admin + "/get", "", t0), admin + "/get/accepted"));
}

TEST_CASE("topics: what is a request, what is dropped") {
  CHECK_FALSE(parse_request_topic(prefix + "/update/accepted"));
  CHECK_FALSE(parse_request_topic("$aws/things/dev/jobs/get"));
  CHECK(parse_request_topic(prefix + "/name/x/delete")->operation == shadow_operation::remove);
  shadow_service s;
  auto o = s.handle("$aws/things/bad name/shadow/get", "", t0);
  CHECK(o.messages.empty());
  CHECK_FALSE(o.summary.empty());
  CHECK(valid_shadow_name("$cfg"));
  CHECK_FALSE(valid_thing_name("a.b"));
  CHECK_FALSE(valid_thing_name(std::string(129, 'a')));
}

TEST_CASE("records round-trip, tombstones included") {
  shadow_service s;
  (void)s.handle(prefix + "/update", R"({"state":{"desired":{"a":[1,2]},"reported":{"o":{"x":"y"}}}})", t0);
  (void)s.handle(prefix + "/name/gone/update", R"({"state":{"desired":{"a":1}}})", t0);
  (void)s.handle(prefix + "/name/gone/delete", "", t0);
  for (const auto& [key, document] : s.shadows()) {
    shadow_key k;
    shadow_document back;
    REQUIRE(shadow_document::from_record(document.to_record(key), k, back));
    CHECK(k == key);
    CHECK(back.version() == document.version());
    CHECK(back.exists() == document.exists());
    CHECK(to_json(back.to_record(k)) == to_json(document.to_record(key)));
  }
}

TEST_CASE("command line") {
  std::string error;
  auto serve = parse_command_line({"--broker-port", "1884", "--data-dir", "/d"}, error);
  REQUIRE(serve);
  CHECK(serve->what == command::serve);
  CHECK(serve->broker.effective_port() == 1884);
  auto set = parse_command_line({"shadow", "set-desired", "dev", R"({"a":1})", "--name", "n"}, error);
  REQUIRE(set);
  CHECK(set->what == command::shadow_set_desired);
  CHECK(set->shadow_name == "n");
  CHECK_FALSE(parse_command_line({"--tls-ca", "ca.pem"}, error));
  CHECK_FALSE(parse_command_line({"shadow", "frobnicate", "dev"}, error));
  CHECK_FALSE(parse_command_line({"shadow", "get", "dev", "extra"}, error));
}
