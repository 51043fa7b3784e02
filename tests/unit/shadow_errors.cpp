// Rejected shadow requests: 409 re-gets, merges and retries a bounded number of times; 400 and 413 are
// reported and never retried; 429 keeps the fragment for later; a 404 on get is an empty shadow.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/shadow_testing.hpp"

namespace {

using namespace shadow_testing;

constexpr std::string_view in_sync =
    R"({"state":{"reported":{"Color":"green","Status":"Great"}},"version":3,"clientToken":"{TOKEN}"})";

// Connected, in sync at version 3, and one update of {"Color":"red"} in flight: returns it.
template <class Rig>
message update_in_flight(Rig& r, recorder& rec, aws::shadow_id id) {
  (void)r.connect_and_sync(in_sync);
  (void)rec.take();
  CHECK(!r.shadows->report(id, R"({"Color":"red"})"));
  r.advance(100ms);
  auto sent = r.client.take();
  if (sent.size() != 1) {
    FAIL_CHECK("expected one update");
    return {};
  }
  return sent[0];
}

TEST_CASE("shadow: 409 gets the document, merges and retries with the new version (SH-06)") {
  aws::shadow_config c = test_config();
  c.send_version = true;
  rig<> r(c);
  recorder rec;
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  const message update = update_in_flight(r, rec, *lamp);
  CHECK(update.payload.ends_with(R"(,"version":3})"));

  // Reported meanwhile: merged with the conflicting fragment, newest wins.
  CHECK(!r.shadows->report(*lamp, R"({"Status":"Fine"})"));
  r.client.deliver(topic("lamp-1", "", "update/rejected"), rejected(409, "Version conflict", token_of(update.payload)));
  r.poll();
  CHECK(rec.take() == "");  // not an error yet
  auto get = r.client.take();
  REQUIRE(get.size() == 1);
  CHECK(get[0].topic == "$aws/things/lamp-1/shadow/get");
  CHECK(r.shadows->pending(*lamp) == R"({"Color":"red","Status":"Fine"})");

  // Someone changed desired in between (version 5).
  rec.state = "";
  r.client.deliver(topic("lamp-1", "", "get/accepted"),
                   R"({"state":{"desired":{"Power":"on"},"reported":{"Color":"green","Status":"Great"}},"version":5,"clientToken":")" +
                       token_of(get[0].payload) + "\"}");
  r.poll();
  CHECK(rec.take() == R"(delta v5 {"Power":"on"})");
  auto retry = r.client.take();
  REQUIRE(retry.size() == 1);
  CHECK(retry[0].payload.starts_with(R"({"state":{"reported":{"Color":"red","Status":"Fine"}})"));
  CHECK(retry[0].payload.ends_with(R"(,"version":5})"));
  r.accept(retry[0], 6);
  CHECK(rec.take() == "reported v6");
  CHECK(r.shadows->metrics().conflicts == 1);
}

TEST_CASE("shadow: 409 retries are bounded") {
  aws::shadow_config c = test_config();
  c.conflict_retries = 2;
  rig<> r(c);
  recorder rec;
  rec.state = "";
  auto lamp = r.shadows->add("", record(&rec, false));
  REQUIRE(lamp);
  message update = update_in_flight(r, rec, *lamp);
  for (int round = 0; round < 2; ++round) {
    r.client.deliver(topic("lamp-1", "", "update/rejected"), rejected(409, "Version conflict", token_of(update.payload)));
    r.poll();
    auto get = r.client.take();
    REQUIRE(get.size() == 1);
    r.client.deliver(topic("lamp-1", "", "get/accepted"), with_token(std::string(in_sync), token_of(get[0].payload)));
    r.poll();
    auto retry = r.client.take();
    REQUIRE(retry.size() == 1);
    update = retry[0];
  }
  CHECK(rec.take() == "");
  r.client.deliver(topic("lamp-1", "", "update/rejected"), rejected(409, "Version conflict", token_of(update.payload)));
  r.advance(10s);
  CHECK(rec.take() == "error update 409 aws_version_conflict");
  CHECK(r.client.take().empty());
  CHECK(r.shadows->pending(*lamp).empty());
  CHECK(r.shadows->metrics().conflicts == 3);
}

TEST_CASE("shadow: 400 and 413 are reported and not retried (SH-06)") {
  struct {
    int code;
    const char* message;
    const char* expected;
  } cases[] = {
      {400, "Invalid JSON", "error update 400 aws_bad_request"},
      {413, "The payload exceeds the maximum size allowed", "error update 413 aws_payload_too_large"},
      {403, "Forbidden", "error update 403 not_authorized"},
  };
  for (const auto& k : cases) {
    INFO(k.code);
    rig<> r;
    recorder rec;
    auto lamp = r.shadows->add("", record(&rec));
    REQUIRE(lamp);
    const message update = update_in_flight(r, rec, *lamp);
    r.client.deliver(topic("lamp-1", "", "update/rejected"), rejected(k.code, k.message, token_of(update.payload)));
    CHECK(rec.take() == k.expected);
    r.advance(60s);
    CHECK(r.client.take().empty());
    CHECK(r.shadows->pending(*lamp).empty());
    CHECK(!r.shadows->update_in_flight(*lamp));
    // A rejection for a token that is not ours changes nothing.
    r.client.deliver(topic("lamp-1", "", "update/rejected"), rejected(k.code, k.message, "someone-else"));
    CHECK(rec.take() == "");
    // The next report goes out normally.
    CHECK(!r.shadows->report(*lamp, R"({"Color":"blue"})"));
    r.advance(100ms);
    CHECK(r.client.take().size() == 1);
  }
}

TEST_CASE("shadow: 429 and 5xx keep the fragment for the next report, without a retry loop") {
  rig<> r;
  recorder rec;
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  const message update = update_in_flight(r, rec, *lamp);
  r.client.deliver(topic("lamp-1", "", "update/rejected"), rejected(429, "Too Many Requests", token_of(update.payload)));
  CHECK(rec.take() == "error update 429 aws_throttled");
  r.advance(60s);
  CHECK(r.client.take().empty());
  CHECK(r.shadows->pending(*lamp) == R"({"Color":"red"})");
  CHECK(!r.shadows->report(*lamp, R"({"Status":"Ok"})"));
  r.advance(100ms);
  auto sent = r.client.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].payload.starts_with(R"({"state":{"reported":{"Color":"red","Status":"Ok"}})"));
  r.client.deliver(topic("lamp-1", "", "update/rejected"), rejected(500, "Internal service failure", token_of(sent[0].payload)));
  CHECK(rec.take() == "error update 500 aws_service_error");
}

TEST_CASE("shadow: 404 on get is an empty shadow; the first report creates it (SH-09)") {
  rig<> r;
  recorder rec;
  rec.state = R"({"power":"off"})";
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  r.client.connect();
  r.poll();
  auto get = r.client.take();
  REQUIRE(get.size() == 1);
  r.client.deliver(topic("lamp-1", "", "get/rejected"), rejected(404, "No shadow exists with name: 'lamp-1'", token_of(get[0].payload)));
  r.poll();
  CHECK(rec.take() == "");
  CHECK(r.shadows->synced(*lamp));
  auto update = r.client.take();
  REQUIRE(update.size() == 1);
  CHECK(update[0].payload.starts_with(R"({"state":{"reported":{"power":"off"}})"));
  r.accept(update[0], 1);
  CHECK(r.shadows->version(*lamp) == 1);
}

TEST_CASE("shadow: other get rejections are reported and the get is asked again later") {
  rig<> r;
  recorder rec;
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  r.client.connect();
  r.poll();
  auto get = r.client.take();
  REQUIRE(get.size() == 1);
  r.client.deliver(topic("lamp-1", "", "get/rejected"), rejected(500, "Internal service failure", token_of(get[0].payload)));
  r.poll();
  CHECK(rec.take() == "error get 500 aws_service_error");
  CHECK(r.client.take().empty());
  r.advance(5s);
  CHECK(rec.take() == "");  // no timeout report for a get that was answered
  auto again = r.client.take();
  REQUIRE(again.size() == 1);
  CHECK(again[0].topic == "$aws/things/lamp-1/shadow/get");
  CHECK(!r.shadows->synced(*lamp));
}

TEST_CASE("shadow: a refused subscription is reported") {
  rig<> r;
  recorder rec;
  r.client.connect();
  auto lamp = r.shadows->add("", record(&rec));
  REQUIRE(lamp);
  r.client.acknowledge(thingwell::make_error_code(errc::not_authorized));
  CHECK(rec.take().starts_with("error get 0 not_authorized"));
  CHECK(r.client.take().empty());
}

}  // namespace
