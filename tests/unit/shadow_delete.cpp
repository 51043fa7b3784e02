// The delete operation (SH-09): the answers are subscribed on first use (or at add() with on_deleted), the
// request is matched by clientToken and timed out, and afterwards the local model of the cloud's
// document is empty, its version forgotten, and a get answered 404 is that empty shadow, not an error.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/shadow_testing.hpp"

namespace {

using namespace shadow_testing;

constexpr std::string_view in_sync =
    R"({"state":{"reported":{"Color":"green","Status":"Great"}},"version":9,"clientToken":"{TOKEN}"})";

std::string delete_accepted(std::uint64_t version, std::string_view token) {
  return R"({"version":)" + std::to_string(version) + R"(,"timestamp":1719858420,"clientToken":")" + std::string(token) +
         "\"}";
}

// remove() on a synced shadow whose delete answers are already subscribed: returns the delete request.
template <class Rig>
message delete_request(Rig& r, aws::shadow_id id) {
  CHECK(!r.shadows->remove(id));
  r.client.acknowledge();  // no-op when subscribed before
  r.poll();
  auto sent = r.client.take();
  if (sent.size() != 1 || sent[0].topic != "$aws/things/lamp-1/shadow/delete") {
    FAIL_CHECK("expected one delete, saw ", sent.size(), " messages");
    return {};
  }
  return sent[0];
}

TEST_CASE("shadow delete: subscribes on first use, publishes after the SUBACKs, then the model is empty (SH-09)") {
  rig<> r;
  recorder rec;
  rec.state = "";
  auto lamp = r.shadows->add("", record(&rec, false));
  REQUIRE(lamp);
  CHECK(r.client.subscriptions.size() == 5);  // nobody pays for delete topics they never use
  (void)r.connect_and_sync(in_sync);
  CHECK(r.shadows->reported(*lamp) == R"({"Color":"green","Status":"Great"})");
  CHECK(r.shadows->version(*lamp) == 9);
  (void)r.client.take_wire();

  CHECK(!r.shadows->remove(*lamp));
  CHECK(r.shadows->delete_in_flight(*lamp));
  r.poll();
  CHECK(r.client.take_wire() ==
        "subscribe $aws/things/lamp-1/shadow/delete/accepted | subscribe $aws/things/lamp-1/shadow/delete/rejected");
  CHECK(r.client.take().empty());  // not before the answers can be heard
  r.client.acknowledge();
  auto sent = r.client.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].topic == "$aws/things/lamp-1/shadow/delete");
  CHECK(sent[0].payload == R"({"clientToken":")" + token_of(sent[0].payload) + "\"}");
  CHECK(token_of(sent[0].payload).starts_with("lamp-1-abc-"));

  // Someone else's answer is not ours: the request stays.
  CHECK(r.client.deliver(topic("lamp-1", "", "delete/rejected"), rejected(404, "No shadow", "other-1")));
  CHECK(r.shadows->delete_in_flight(*lamp));

  CHECK(r.client.deliver(topic("lamp-1", "", "delete/accepted"), delete_accepted(9, token_of(sent[0].payload))));
  CHECK(!r.shadows->delete_in_flight(*lamp));
  CHECK(r.shadows->reported(*lamp) == "{}");
  CHECK(r.shadows->version(*lamp) == 0);
  CHECK(r.shadows->metrics().deletes_sent == 1);
  CHECK(r.shadows->metrics().deletes_accepted == 1);
  CHECK(rec.take() == "");

  // A following get is 404: an empty shadow, no error, nothing to send.
  CHECK(!r.shadows->get(*lamp));
  auto get = r.client.take();
  REQUIRE(get.size() == 1);
  CHECK(r.client.deliver(topic("lamp-1", "", "get/rejected"),
                         rejected(404, "No shadow exists with name: 'lamp-1'", token_of(get[0].payload))));
  r.advance(10s);
  CHECK(rec.take() == "");
  CHECK(r.shadows->synced(*lamp));
  CHECK(r.shadows->reported(*lamp) == "{}");
  CHECK(r.client.take().empty());

  // What the deleted document had is no longer "already there": reporting it creates the shadow again.
  CHECK(!r.shadows->report(*lamp, R"({"Color":"green"})"));
  r.advance(100ms);
  auto update = r.client.take();
  REQUIRE(update.size() == 1);
  CHECK(update[0].payload.starts_with(R"({"state":{"reported":{"Color":"green"}})"));
  // The re-created shadow continues from the deleted version (within 48 h): no gap, no extra get.
  r.accept(update[0], 10);
  CHECK(rec.take() == "reported v10");
  CHECK(r.client.take().empty());
  CHECK(r.shadows->version(*lamp) == 10);
}

TEST_CASE("shadow delete: with on_deleted the answers are subscribed up front and others' deletes are heard") {
  rig<> r;
  recorder rec;
  rec.state = "";
  auto lamp = r.shadows->add("", record(&rec, false, false, true));
  REQUIRE(lamp);
  CHECK(r.client.filters() == std::vector<std::string>{
                                  "$aws/things/lamp-1/shadow/get/accepted",
                                  "$aws/things/lamp-1/shadow/get/rejected",
                                  "$aws/things/lamp-1/shadow/update/accepted",
                                  "$aws/things/lamp-1/shadow/update/rejected",
                                  "$aws/things/lamp-1/shadow/update/delta",
                                  "$aws/things/lamp-1/shadow/delete/accepted",
                                  "$aws/things/lamp-1/shadow/delete/rejected",
                              });
  (void)r.connect_and_sync(in_sync);

  // The console (another client) deletes the shadow.
  CHECK(r.client.deliver(topic("lamp-1", "", "delete/accepted"), delete_accepted(9, "console-7")));
  CHECK(rec.take() == "deleted v9");
  CHECK(r.shadows->reported(*lamp) == "{}");
  CHECK(r.shadows->metrics().foreign_answers == 1);

  // More than 48 h later the cloud creates it again from version 1: not stale.
  CHECK(r.client.deliver(topic("lamp-1", "", "update/delta"), with_token(std::string(sample_delta), "", 1)));
  CHECK(rec.take() == R"(delta v1 {"Status":"Great"})");
  CHECK(r.shadows->version(*lamp) == 1);

  // Our own delete, already subscribed: published at once.
  const message del = delete_request(r, *lamp);
  CHECK(!del.payload.empty());
  CHECK(r.client.deliver(topic("lamp-1", "", "delete/accepted"), delete_accepted(1, token_of(del.payload))));
  CHECK(rec.take() == "deleted v1");
  CHECK(r.shadows->metrics().deletes_accepted == 2);
}

TEST_CASE("shadow delete: 404 means already deleted; other rejections are reported, not retried") {
  rig<> r;
  recorder rec;
  rec.state = "";
  auto lamp = r.shadows->add("", record(&rec, false, false, true));
  REQUIRE(lamp);
  (void)r.connect_and_sync(in_sync);

  message del = delete_request(r, *lamp);
  CHECK(r.client.deliver(topic("lamp-1", "", "delete/rejected"),
                         rejected(404, "No shadow exists with name: 'lamp-1'", token_of(del.payload))));
  CHECK(rec.take() == "deleted v0");
  CHECK(r.shadows->reported(*lamp) == "{}");
  CHECK(r.shadows->metrics().rejected == 0);

  del = delete_request(r, *lamp);
  CHECK(r.client.deliver(topic("lamp-1", "", "delete/rejected"), rejected(403, "Forbidden", token_of(del.payload))));
  CHECK(rec.take() == "error delete 403 not_authorized");
  r.advance(60s);
  CHECK(r.client.take().empty());
  CHECK(!r.shadows->delete_in_flight(*lamp));
}

TEST_CASE("shadow delete: a missing answer times out once; busy and offline are refused") {
  rig<> r;
  recorder rec;
  rec.state = "";
  auto lamp = r.shadows->add("", record(&rec, false, false, true));
  REQUIRE(lamp);
  CHECK(r.shadows->remove(*lamp) == thingwell::make_error_code(errc::not_connected));
  (void)r.connect_and_sync(in_sync);
  (void)delete_request(r, *lamp);
  CHECK(r.shadows->remove(*lamp) == thingwell::make_error_code(errc::busy));
  r.advance(4900ms);
  CHECK(rec.take() == "");
  r.advance(100ms);
  CHECK(rec.take() == "error delete 0 timed_out");
  CHECK(r.shadows->metrics().timeouts == 1);
  r.advance(60s);
  CHECK(r.client.take().empty());
  CHECK(rec.take() == "");
  CHECK(r.shadows->reported(*lamp) == R"({"Color":"green","Status":"Great"})");  // nothing known changed
}

TEST_CASE("shadow delete: reports before it are dropped, reports after it wait for the answer") {
  rig<> r;
  recorder rec;
  rec.state = "";
  auto lamp = r.shadows->add("", record(&rec, false, false, true));
  REQUIRE(lamp);
  (void)r.connect_and_sync(in_sync);
  CHECK(!r.shadows->report(*lamp, R"({"Color":"red"})"));
  const message del = delete_request(r, *lamp);
  CHECK(r.shadows->pending(*lamp).empty());
  CHECK(!r.shadows->report(*lamp, R"({"Status":"New"})"));
  r.advance(1s);
  CHECK(r.client.take().empty());  // no update racing the delete
  CHECK(r.client.deliver(topic("lamp-1", "", "delete/accepted"), delete_accepted(9, token_of(del.payload))));
  r.poll();
  auto update = r.client.take();
  REQUIRE(update.size() == 1);
  CHECK(update[0].payload.starts_with(R"({"state":{"reported":{"Status":"New"}})"));
}

TEST_CASE("shadow delete: lost with the connection, it is sent again before the get") {
  rig<> r;
  recorder rec;
  rec.state = "";
  auto lamp = r.shadows->add("", record(&rec, false, false, true));
  REQUIRE(lamp);
  (void)r.connect_and_sync(in_sync);
  (void)delete_request(r, *lamp);
  r.client.disconnect();
  r.advance(10s);  // no timeout while offline: it is not on its way
  CHECK(rec.take() == "");
  r.client.connect();
  r.poll();
  auto sent = r.client.take();
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].topic == "$aws/things/lamp-1/shadow/delete");
  CHECK(sent[1].topic == "$aws/things/lamp-1/shadow/get");
  // The first delete did reach the cloud: the second is answered 404, which is the same outcome.
  CHECK(r.client.deliver(topic("lamp-1", "", "delete/rejected"), rejected(404, "No shadow", token_of(sent[0].payload))));
  CHECK(r.client.deliver(topic("lamp-1", "", "get/rejected"), rejected(404, "No shadow", token_of(sent[1].payload))));
  r.poll();
  CHECK(rec.take() == "deleted v0");
  CHECK(r.shadows->synced(*lamp));
  CHECK(r.shadows->reported(*lamp) == "{}");
  CHECK(r.client.take().empty());
}

TEST_CASE("shadow delete: named and classic shadows are deleted separately") {
  rig<> r;
  recorder classic, named;
  classic.state = named.state = "";
  auto c = r.shadows->add("", record(&classic, false, false, true));
  auto n = r.shadows->add("cfg", record(&named, false, false, true));
  REQUIRE(c);
  REQUIRE(n);
  r.client.connect();
  r.poll();
  for (const auto& get : r.client.take())
    r.client.deliver(get.topic + "/accepted", with_token(std::string(in_sync), token_of(get.payload)));
  CHECK(!r.shadows->remove(*n));
  auto sent = r.client.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].topic == "$aws/things/lamp-1/shadow/name/cfg/delete");
  CHECK(r.client.deliver(topic("lamp-1", "cfg", "delete/accepted"), delete_accepted(9, token_of(sent[0].payload))));
  CHECK(named.take() == "deleted v9");
  CHECK(classic.take() == "");
  CHECK(r.shadows->reported(*n) == "{}");
  CHECK(r.shadows->reported(*c) == R"({"Color":"green","Status":"Great"})");
  CHECK(r.shadows->version(*c) == 9);
}

}  // namespace
