// The shadow service's life on a connection: subscribe before anything is published, get on every
// ready event, reconcile, report; deltas with version tracking; clientTokens and timeouts.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/shadow_testing.hpp"

namespace {

using namespace shadow_testing;

TEST_CASE("shadow: subscribes to the response topics, then get, then reports what differs (SH-01)") {
  rig<> r;
  recorder rec;
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  CHECK(r.client.filters() == std::vector<std::string>{
                                  "$aws/things/lamp-1/shadow/get/accepted", "$aws/things/lamp-1/shadow/get/rejected",
                                  "$aws/things/lamp-1/shadow/update/accepted", "$aws/things/lamp-1/shadow/update/rejected",
                                  "$aws/things/lamp-1/shadow/update/delta"});
  CHECK(r.client.published.empty());  // nothing before the connection

  r.client.connect();
  r.poll();
  auto get = r.client.take();
  REQUIRE(get.size() == 1);
  CHECK(get[0].topic == "$aws/things/lamp-1/shadow/get");
  const std::string token = token_of(get[0].payload);
  CHECK(get[0].payload == R"({"clientToken":")" + token + R"("})");
  CHECK(token == "lamp-1-abc-1");

  // Desired Color=red differs from the device's green: the handler gets only that key. The device
  // applies it (reports red) and its state is otherwise what the cloud has: one update with Color.
  rec.on_delta_hook = [&](const value&, std::uint64_t) {
    rec.state = R"({"Color":"red","Status":"Great"})";
    CHECK(!r.shadows->report(*lamp, R"({"Color":"red"})"));
  };
  r.client.deliver(topic("lamp-1", "", "get/accepted"), with_token(std::string(sample_get_accepted), token));
  CHECK(rec.take() == R"(delta v8 {"Color":"red"})");
  auto update = r.client.take();
  REQUIRE(update.size() == 1);  // within the same round trip, no window
  CHECK(update[0].topic == "$aws/things/lamp-1/shadow/update");
  CHECK(update[0].payload == R"({"state":{"reported":{"Color":"red"}},"clientToken":"lamp-1-abc-2"})");
  CHECK(r.client.take_wire() ==
        "subscribe $aws/things/lamp-1/shadow/get/accepted | subscribe $aws/things/lamp-1/shadow/get/rejected | "
        "subscribe $aws/things/lamp-1/shadow/update/accepted | subscribe $aws/things/lamp-1/shadow/update/rejected | "
        "subscribe $aws/things/lamp-1/shadow/update/delta | suback | publish $aws/things/lamp-1/shadow/get | "
        "publish $aws/things/lamp-1/shadow/update");

  r.accept(update[0], 9);
  CHECK(rec.take() == "reported v9");
  CHECK(r.shadows->version(*lamp) == 9);
  CHECK(r.shadows->reported(*lamp) == R"({"Color":"red","Status":"Great"})");
  CHECK(!r.shadows->update_in_flight(*lamp));
}

TEST_CASE("shadow: in sync at connect, nothing is reported") {
  rig<> r;
  recorder rec;
  rec.state = R"({"Color":"green","Status":"Great"})";
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  auto after = r.connect_and_sync(R"({"state":{"reported":{"Color":"green","Status":"Great"}},"version":3,"clientToken":"{TOKEN}"})");
  CHECK(after.empty());
  CHECK(rec.take() == "");
  CHECK(r.shadows->synced(*lamp));
  CHECK(r.shadows->metrics().reports_unchanged == 1);
}

TEST_CASE("shadow: every reconnection subscribes (restored by the client), gets and reconciles again") {
  rig<> r;
  recorder rec;
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  (void)r.connect_and_sync(R"({"state":{"reported":{"Color":"green","Status":"Great"}},"version":3,"clientToken":"{TOKEN}"})");
  r.client.disconnect();
  CHECK(!r.shadows->synced(*lamp));
  rec.state = R"({"Color":"blue","Status":"Great"})";  // changed while offline
  auto after = r.connect_and_sync(R"({"state":{"reported":{"Color":"green","Status":"Great"}},"version":3,"clientToken":"{TOKEN}"})");
  REQUIRE(after.size() == 1);
  CHECK(after[0].payload.starts_with(R"({"state":{"reported":{"Color":"blue"}},"clientToken":)"));
}

TEST_CASE("shadow: a delta reaches the handler with only the changed keys; the report acknowledges it (SH-03)") {
  rig<> r;
  recorder rec;
  rec.state = R"({"temp_set":20,"mode":"auto"})";
  auto th = r.shadows->add("", record(&rec));
  REQUIRE(th);
  (void)r.connect_and_sync(R"({"state":{"desired":{"temp_set":20,"mode":"auto"},"reported":{"temp_set":20,"mode":"auto"}},"version":4,"clientToken":"{TOKEN}"})");
  rec.on_delta_hook = [&](const value& delta, std::uint64_t) {
    auto t = delta.find("temp_set");
    REQUIRE(t);
    CHECK(t->get_int64().value_or(0) == 22);
    CHECK(!delta.find("mode"));
    CHECK(!r.shadows->report(*th, R"({"temp_set":22})"));
  };
  r.client.deliver(topic("lamp-1", "", "update/delta"),
                   R"({"version":5,"timestamp":1719857563,"state":{"temp_set":22},"metadata":{"temp_set":{"timestamp":1719856710}}})");
  CHECK(rec.take() == R"(delta v5 {"temp_set":22})");
  auto update = r.client.take();
  REQUIRE(update.size() == 1);
  CHECK(update[0].payload.starts_with(R"({"state":{"reported":{"temp_set":22}})"));
}

TEST_CASE("shadow: keys the device already reported are filtered out of a delta") {
  rig<> r;
  recorder rec;
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  (void)r.connect_and_sync(R"({"state":{"reported":{"Color":"green","Status":"Great"}},"version":3,"clientToken":"{TOKEN}"})");
  // The device turned red on its own; its report is in flight when a delta names Color (still out of
  // sync in the cloud) and a new key.
  CHECK(!r.shadows->report(*lamp, R"({"Color":"red"})"));
  r.advance(100ms);
  REQUIRE(r.client.take().size() == 1);
  r.client.deliver(topic("lamp-1", "", "update/delta"), R"({"version":4,"state":{"Color":"red","Power":"on"}})");
  CHECK(rec.take() == R"(delta v4 {"Power":"on"})");
  // A delta that holds nothing new is not delivered at all.
  r.client.deliver(topic("lamp-1", "", "update/delta"), R"({"version":5,"state":{"Color":"red"}})");
  CHECK(rec.take() == "");
}

TEST_CASE("shadow: stale deltas are ignored, a version gap triggers a full get (SH-04)") {
  rig<> r;
  recorder rec;
  rec.state = R"({"Color":"green","Status":"Awful"})";
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  (void)r.connect_and_sync(R"({"state":{"reported":{"Color":"green","Status":"Awful"}},"version":4,"clientToken":"{TOKEN}"})");

  r.client.deliver(topic("lamp-1", "", "update/delta"), with_token(std::string(sample_delta), "", 5));
  CHECK(rec.take() == R"(delta v5 {"Status":"Great"})");
  r.client.deliver(topic("lamp-1", "", "update/delta"), with_token(std::string(sample_delta), "", 4));  // v4 after v5
  r.client.deliver(topic("lamp-1", "", "update/delta"), with_token(std::string(sample_delta), "", 5));  // duplicate
  CHECK(rec.take() == "");
  CHECK(r.shadows->metrics().deltas_stale == 2);
  CHECK(r.client.take().empty());

  r.client.deliver(topic("lamp-1", "", "update/delta"), with_token(std::string(sample_delta), "", 7));  // v6 missed
  CHECK(rec.take() == "");
  auto get = r.client.take();
  REQUIRE(get.size() == 1);
  CHECK(get[0].topic == "$aws/things/lamp-1/shadow/get");
  CHECK(r.shadows->metrics().version_gaps == 1);
  // The get answer carries the whole desired state and the new version.
  r.client.deliver(topic("lamp-1", "", "get/accepted"),
                   R"({"state":{"desired":{"Status":"Great","Color":"red"},"reported":{"Color":"green","Status":"Awful"}},"version":7,"clientToken":")" +
                       token_of(get[0].payload) + "\"}");
  CHECK(rec.take() == R"(delta v7 {"Status":"Great","Color":"red"})");
  CHECK(r.shadows->version(*lamp) == 7);
}

TEST_CASE("shadow: deltas before the get answer are left to the get") {
  rig<> r;
  recorder rec;
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  r.client.connect();
  r.poll();
  auto get = r.client.take();
  REQUIRE(get.size() == 1);
  r.client.deliver(topic("lamp-1", "", "update/delta"), with_token(std::string(sample_delta), "", 9));
  CHECK(rec.take() == "");
  CHECK(r.client.take().empty());  // no second get
}

TEST_CASE("shadow: answers are matched by clientToken, foreign ones ignored (SH-05)") {
  rig<> r;
  recorder rec;
  rec.state = R"({"Color":"red","Status":"Great"})";
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  r.client.connect();
  r.poll();
  auto get = r.client.take();
  REQUIRE(get.size() == 1);
  // Another client's get answer (same thing, same topic) and one without a token.
  r.client.deliver(topic("lamp-1", "", "get/accepted"), with_token(std::string(sample_get_accepted), "someone-else-1"));
  r.client.deliver(topic("lamp-1", "", "get/accepted"), R"({"state":{},"version":8})");
  CHECK(!r.shadows->synced(*lamp));
  CHECK(r.shadows->metrics().foreign_answers == 2);
  r.client.deliver(topic("lamp-1", "", "get/accepted"), with_token(std::string(sample_get_accepted), token_of(get[0].payload)));
  CHECK(r.shadows->synced(*lamp));

  // Our update, then someone else's accepted update at a higher version: ours stays in flight, the
  // cloud's reported picture takes the other writer's keys.
  auto update = r.client.take();
  REQUIRE(update.size() == 1);
  r.client.deliver(topic("lamp-1", "", "update/accepted"), with_token(std::string(sample_update_accepted), "other-7", 9));
  CHECK(r.shadows->update_in_flight(*lamp));
  CHECK(r.shadows->reported(*lamp) == R"({"Color":"green","Status":"Awful"})");
  r.accept(update[0], 10);
  CHECK(!r.shadows->update_in_flight(*lamp));
  CHECK(rec.take() == R"(delta v8 {"Color":"red"} | reported v10)");
}

TEST_CASE("shadow: every request has its own token of at most 64 bytes") {
  aws::shadow_config c = test_config();
  c.token_prefix = "a-very-long-mqtt-client-identifier-of-a-device-in-a-large-fleet-0123456789";
  c.token_nonce = 0xffffffffu;
  rig<> r(c);
  recorder rec;
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  r.client.connect();
  r.poll();
  std::vector<std::string> tokens;
  for (int i = 0; i < 20; ++i) {
    auto get = r.client.take();
    REQUIRE(get.size() == 1);
    tokens.push_back(token_of(get[0].payload));
    r.advance(c.request_timeout);  // times out and asks again
  }
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    CHECK(tokens[i].size() <= 64);
    // The last 40 bytes of the prefix, the nonce, the counter.
    CHECK(tokens[i].find("-in-a-large-fleet-0123456789-ffffffff-") == 40 - std::string_view("-in-a-large-fleet-0123456789").size());
    for (std::size_t j = 0; j < i; ++j) CHECK(tokens[i] != tokens[j]);
  }
}

TEST_CASE("shadow: a request without an answer times out through the handler (SH-05)") {
  rig<> r;
  recorder rec;
  rec.state = R"({"Color":"red","Status":"Great"})";
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  r.client.connect();
  r.poll();
  auto get = r.client.take();
  REQUIRE(get.size() == 1);
  CHECK(r.shadows->next_deadline() == r.clock.now() + 5s);
  r.advance(4999ms);
  CHECK(rec.take() == "");
  r.advance(1ms);
  CHECK(rec.take() == "error get 0 timed_out");
  // The get is asked again with a new token; the late answer to the old one is ignored.
  auto again = r.client.take();
  REQUIRE(again.size() == 1);
  CHECK(token_of(again[0].payload) != token_of(get[0].payload));
  r.client.deliver(topic("lamp-1", "", "get/accepted"), with_token(std::string(sample_get_accepted), token_of(get[0].payload)));
  CHECK(!r.shadows->synced(*lamp));
  r.client.deliver(topic("lamp-1", "", "get/accepted"), with_token(std::string(sample_get_accepted), token_of(again[0].payload)));
  r.poll();
  CHECK(r.shadows->synced(*lamp));
  auto update = r.client.take();
  REQUIRE(update.size() == 1);
  rec.take();

  // An update without an answer: reported as timed out, kept, sent again with the next report.
  r.advance(5s);
  CHECK(rec.take() == "error update 0 timed_out");
  CHECK(r.shadows->pending(*lamp) == R"({"Color":"red"})");
  r.advance(1s);
  CHECK(r.client.take().empty());  // no resend loop
  CHECK(!r.shadows->report(*lamp, R"({"Status":"Fine"})"));
  r.advance(100ms);
  auto resent = r.client.take();
  REQUIRE(resent.size() == 1);
  CHECK(resent[0].payload.starts_with(R"({"state":{"reported":{"Color":"red","Status":"Fine"}})"));
}

}  // namespace
