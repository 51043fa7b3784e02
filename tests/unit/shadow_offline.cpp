// Reported state across time: changes made offline merged and sent once on reconnection, changes within
// the coalescing window sent as one partial update, unchanged values not sent at all, the 8 KB limit, and
// many named shadows side by side.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/shadow_testing.hpp"

namespace {

using namespace shadow_testing;

constexpr std::string_view in_sync =
    R"({"state":{"reported":{"temp":20,"mode":"auto","fan":{"speed":1,"swing":true}}},"version":3,"clientToken":"{TOKEN}"})";

TEST_CASE("shadow: changes within the window become one partial update (SH-07)") {
  rig<> r;
  recorder rec;
  auto th = r.shadows->add("", record(&rec, false));
  REQUIRE(th);
  CHECK(r.connect_and_sync(in_sync).empty());
  CHECK(!r.shadows->report(*th, R"({"temp":21})"));
  r.advance(20ms);
  CHECK(!r.shadows->report(*th, R"({"temp":22,"mode":"eco"})"));
  r.advance(20ms);
  CHECK(!r.shadows->report(*th, R"({"fan":{"speed":2}})"));
  CHECK(!r.shadows->report(*th, R"({"extra":null,"mode":"heat"})"));  // deleting what is absent: no-op
  r.advance(20ms);
  CHECK(!r.shadows->report(*th, R"({"fan":{"swing":true},"light":[1,2]})"));
  CHECK(r.client.take().empty());
  r.advance(39ms);
  CHECK(r.client.take().empty());
  r.advance(1ms);  // 100 ms after the first change
  auto sent = r.client.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].payload ==
        R"({"state":{"reported":{"temp":22,"mode":"heat","fan":{"speed":2},"light":[1,2]}},"clientToken":"lamp-1-abc-2"})");
  CHECK(r.shadows->metrics().reports == 5);
  r.accept(sent[0], 4);
  CHECK(r.shadows->reported(*th) == R"({"temp":22,"mode":"heat","fan":{"speed":2,"swing":true},"light":[1,2]})");

  // The same values again: nothing is published.
  CHECK(!r.shadows->report(*th, R"({"temp":22,"fan":{"speed":2}})"));
  r.advance(1s);
  CHECK(r.client.take().empty());
  CHECK(r.shadows->metrics().reports_unchanged == 1);

  // null deletes a key in the cloud: it is sent.
  CHECK(!r.shadows->report(*th, R"({"light":null})"));
  r.advance(100ms);
  sent = r.client.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].payload.starts_with(R"({"state":{"reported":{"light":null}})"));
  r.accept(sent[0], 5);
  CHECK(r.shadows->reported(*th) == R"({"temp":22,"mode":"heat","fan":{"speed":2,"swing":true}})");
}

TEST_CASE("shadow: reports wait for the update in flight, then go out together") {
  rig<> r;
  recorder rec;
  auto th = r.shadows->add("", record(&rec, false));
  REQUIRE(th);
  (void)r.connect_and_sync(in_sync);
  CHECK(!r.shadows->report(*th, R"({"temp":21})"));
  r.advance(100ms);
  auto first = r.client.take();
  REQUIRE(first.size() == 1);
  CHECK(!r.shadows->report(*th, R"({"temp":23})"));
  CHECK(!r.shadows->report(*th, R"({"mode":"eco"})"));
  r.advance(1s);
  CHECK(r.client.take().empty());  // one update in flight per shadow
  r.accept(first[0], 4);
  r.poll();
  auto second = r.client.take();
  REQUIRE(second.size() == 1);
  CHECK(second[0].payload.starts_with(R"({"state":{"reported":{"temp":23,"mode":"eco"}})"));
}

TEST_CASE("shadow: changes made offline are merged and sent once on reconnection (SH-11)") {
  rig<> r;
  recorder rec;
  auto th = r.shadows->add("", record(&rec, false));
  REQUIRE(th);
  (void)r.connect_and_sync(in_sync);
  // An update in flight when the link drops joins the offline changes.
  CHECK(!r.shadows->report(*th, R"({"temp":21})"));
  r.advance(100ms);
  REQUIRE(r.client.take().size() == 1);
  r.client.disconnect();
  CHECK(!r.shadows->update_in_flight(*th));
  CHECK(!r.shadows->report(*th, R"({"temp":22})"));
  r.advance(10s);
  CHECK(!r.shadows->report(*th, R"({"temp":23,"mode":"off"})"));
  r.advance(10s);
  CHECK(!r.shadows->report(*th, R"({"fan":{"speed":3}})"));
  r.advance(10s);
  CHECK(r.shadows->pending(*th) == R"({"temp":23,"mode":"off","fan":{"speed":3}})");
  CHECK(rec.take() == "");  // going offline is not an error

  // Meanwhile the cloud's desired mode changed: it is applied, and the device's changes go out once.
  auto sent = r.connect_and_sync(
      R"({"state":{"desired":{"mode":"eco"},"reported":{"temp":20,"mode":"auto","fan":{"speed":1,"swing":true}}},"version":6,"clientToken":"{TOKEN}"})");
  CHECK(rec.take() == R"(delta v6 {"mode":"eco"})");
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].payload.starts_with(R"({"state":{"reported":{"temp":23,"mode":"off","fan":{"speed":3}}})"));
  r.advance(1s);
  CHECK(r.client.take().empty());
}

TEST_CASE("shadow: the 8 KB document limit is checked before sending") {
  rig<1, 12 * 1024, 256> r;
  recorder rec;
  auto th = r.shadows->add("", record(&rec, false));
  REQUIRE(th);
  (void)r.connect_and_sync(R"({"state":{"reported":{"a":"x"}},"version":1,"clientToken":"{TOKEN}"})");
  const std::string big(4000, 'b');
  CHECK(!r.shadows->report(*th, R"({"b":")" + big + "\"}"));
  CHECK(r.shadows->report(*th, R"({"c":")" + big + "\",\"d\":\"" + std::string(300, 'd') + "\"}") ==
        thingwell::make_error_code(errc::shadow_document_too_large));
  CHECK(r.shadows->pending(*th).size() == big.size() + 8);  // unchanged by the refused report
  // Replacing a value instead of adding one fits.
  CHECK(!r.shadows->report(*th, R"({"b":"small","c":")" + big + "\"}"));
  r.advance(100ms);
  CHECK(r.client.take().size() == 1);

  // A buffer smaller than the fragment is its own error.
  rig<1, 256, 64> small;
  auto s = small.shadows->add("", {});
  REQUIRE(s);
  CHECK(small.shadows->report(*s, R"({"x":")" + std::string(300, 'x') + "\"}") ==
        thingwell::make_error_code(errc::json_too_large));
  CHECK(small.shadows->report(*s, "[1]") == thingwell::make_error_code(errc::json_type_mismatch));
  CHECK(small.shadows->report(*s, "{") == thingwell::make_error_code(errc::json_syntax));
}

TEST_CASE("shadow: many named shadows, each with its own handlers and versions (SH-02)") {
  constexpr std::size_t n = 12;
  rig<n + 1, 256, 128> r;
  recorder classic_rec;
  std::vector<recorder> recs(n);
  auto classic = r.shadows->add("", record(&classic_rec, false));
  REQUIRE(classic);
  std::vector<aws::shadow_id> ids;
  for (std::size_t i = 0; i < n; ++i) {
    recs[i].state = "";
    auto id = r.shadows->add("child-" + std::to_string(i), record(&recs[i], false));
    REQUIRE(id);
    ids.push_back(*id);
  }
  CHECK(r.shadows->add("one-too-many", {}).error() == thingwell::make_error_code(errc::capacity_exceeded));
  CHECK(r.shadows->add("child-3", {}).error() == thingwell::make_error_code(errc::busy));
  CHECK(r.shadows->add("bad/name", {}).error() == thingwell::make_error_code(errc::shadow_name_invalid));
  CHECK(r.client.subscriptions.size() == 5 * (n + 1));

  r.client.connect();
  r.poll();
  auto gets = r.client.take();
  REQUIRE(gets.size() == n + 1);
  for (std::size_t i = 0; i < gets.size(); ++i) {
    const std::string shadow = i == 0 ? "" : "child-" + std::to_string(i - 1);
    CHECK(gets[i].topic == topic("lamp-1", shadow, "get"));
    r.client.deliver(topic("lamp-1", shadow, "get/accepted"),
                     R"({"state":{"reported":{"v":0}},"version":)" + std::to_string(10 + i) + R"(,"clientToken":")" +
                         token_of(gets[i].payload) + "\"}");
  }
  for (std::size_t i = 0; i < n; ++i) CHECK(r.shadows->version(ids[i]) == 11 + i);

  // A delta for child 7 reaches only child 7's handler.
  r.client.deliver(topic("lamp-1", "child-7", "update/delta"), R"({"version":19,"state":{"v":7}})");
  r.client.deliver(topic("lamp-1", "child-2", "update/delta"), R"({"version":14,"state":{"v":2}})");
  for (std::size_t i = 0; i < n; ++i) {
    INFO(i);
    if (i == 7) CHECK(recs[i].take() == R"(delta v19 {"v":7})");
    else if (i == 2) CHECK(recs[i].take() == R"(delta v14 {"v":2})");
    else CHECK(recs[i].take() == "");
  }
  CHECK(classic_rec.take() == "");
  // Another thing's shadow with the same name is not ours.
  r.client.deliver("$aws/things/lamp-2/shadow/name/child-7/update/delta", R"({"version":20,"state":{"v":9}})");
  CHECK(recs[7].take() == "");

  // Independent updates.
  CHECK(!r.shadows->report(ids[3], R"({"v":3})"));
  CHECK(!r.shadows->report(ids[5], R"({"v":5})"));
  r.advance(100ms);
  auto updates = r.client.take();
  REQUIRE(updates.size() == 2);
  CHECK(updates[0].topic == topic("lamp-1", "child-3", "update"));
  CHECK(updates[1].topic == topic("lamp-1", "child-5", "update"));
  r.accept(updates[1], 16, "child-5");
  CHECK(recs[5].take() == "reported v16");
  CHECK(recs[3].take() == "");
  CHECK(r.shadows->update_in_flight(ids[3]));
}

TEST_CASE("shadow: a named shadow added while connected gets after its SUBACKs") {
  rig<> r;
  recorder rec;
  auto classic = r.shadows->add("", record(&rec));
  REQUIRE(classic);
  (void)r.connect_and_sync(in_sync);
  recorder named_rec;
  auto cfg = r.shadows->add("config", record(&named_rec, false, true));
  REQUIRE(cfg);
  CHECK(r.client.unacknowledged.size() == 6);  // with update/documents: it has a documents handler
  r.poll();
  CHECK(r.client.take().empty());
  r.client.acknowledge();
  r.poll();
  auto get = r.client.take();
  REQUIRE(get.size() == 1);
  CHECK(get[0].topic == "$aws/things/lamp-1/shadow/name/config/get");
  r.client.deliver(topic("lamp-1", "config", "update/documents"),
                   R"({"previous":null,"current":{"state":{"desired":{"Color":"red"}},"version":1},"timestamp":1719855498,"clientToken":"x"})");
  CHECK(named_rec.take() == R"(documents null -> {"state":{"desired":{"Color":"red"}},"version":1})");
}

}  // namespace
