// The minimum interval between reports (SH-08): an application that reports far too often gets one update
// per interval with the newest values, and the misuse shows in a counter. Off by default.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/shadow_testing.hpp"

namespace {

using namespace shadow_testing;

constexpr std::string_view in_sync = R"({"state":{"reported":{"temp":-1}},"version":3,"clientToken":"{TOKEN}"})";

std::string temp(int t) { return R"({"temp":)" + std::to_string(t) + "}"; }

TEST_CASE("shadow rate: 100 reports a second for 10 s with a 5 s interval give 3 updates, newest values (SH-08)") {
  aws::shadow_config c = test_config();
  c.min_report_interval = 5s;
  rig<> r(c);
  recorder rec;
  rec.state = "";
  auto lamp = r.shadows->add("", record(&rec, false));
  REQUIRE(lamp);
  (void)r.connect_and_sync(in_sync);

  std::vector<std::pair<int, std::string>> updates;  // report index when sent, payload
  std::uint64_t version = 3;
  int last = -1;
  for (int i = 0; i < 1000; ++i) {
    CHECK(!r.shadows->report(*lamp, temp(i)));
    last = i;
    r.advance(10ms);
    for (const auto& m : r.client.take()) {
      updates.emplace_back(last, m.payload);
      r.accept(m, ++version);
    }
  }
  CHECK(updates.size() <= 3);
  REQUIRE(updates.size() == 2);  // t = 0.1 s and 5.1 s; the third is due at 10.1 s
  for (const auto& [index, payload] : updates) {
    INFO(payload);
    CHECK(payload.starts_with(R"({"state":{"reported":)" + temp(index) + "}"));  // the newest at that moment
  }
  CHECK(updates[0].first == 9);     // the coalescing window, as without a limit
  CHECK(updates[1].first == 509);   // 5 s after the first
  CHECK(r.shadows->metrics().reports == 1000);
  CHECK(r.shadows->metrics().reports_rate_limited >= 980);
  CHECK(r.shadows->metrics().updates_sent == 2);

  // The last value is not lost: it goes out when the interval allows.
  CHECK(r.shadows->pending(*lamp) == temp(999));
  CHECK(r.shadows->next_deadline() == r.clock.now() + 100ms);
  r.advance(100ms);
  auto final_update = r.client.take();
  REQUIRE(final_update.size() == 1);
  CHECK(final_update[0].payload.starts_with(R"({"state":{"reported":{"temp":999}})"));
  CHECK(rec.take() == "reported v4 | reported v5");
}

TEST_CASE("shadow rate: keys reported within the interval are merged, last value wins per key") {
  aws::shadow_config c = test_config();
  c.min_report_interval = 5s;
  rig<> r(c);
  recorder rec;
  rec.state = "";
  auto lamp = r.shadows->add("", record(&rec, false));
  REQUIRE(lamp);
  (void)r.connect_and_sync(in_sync);
  CHECK(!r.shadows->report(*lamp, temp(1)));
  r.advance(100ms);
  auto first = r.client.take();
  REQUIRE(first.size() == 1);
  r.accept(first[0], 4);
  const auto limited = r.shadows->metrics().reports_rate_limited;
  CHECK(!r.shadows->report(*lamp, R"({"a":1,"temp":2})"));
  r.advance(1s);
  CHECK(!r.shadows->report(*lamp, R"({"b":2})"));
  r.advance(1s);
  CHECK(!r.shadows->report(*lamp, R"({"a":3})"));
  CHECK(r.shadows->metrics().reports_rate_limited == limited + 3);
  r.advance(2900ms);  // 4.9 s after the first update
  CHECK(r.client.take().empty());
  r.advance(100ms);
  auto second = r.client.take();
  REQUIRE(second.size() == 1);
  CHECK(second[0].payload.starts_with(R"({"state":{"reported":{"a":3,"temp":2,"b":2}})"));
}

TEST_CASE("shadow rate: the acknowledgement of a delta is not delayed") {
  aws::shadow_config c = test_config();
  c.min_report_interval = 5s;
  rig<> r(c);
  recorder rec;
  rec.state = "";
  auto lamp = r.shadows->add("", record(&rec, false));
  REQUIRE(lamp);
  rec.on_delta_hook = [&](const value&, std::uint64_t) { CHECK(!r.shadows->report(*lamp, R"({"Status":"Great"})")); };
  (void)r.connect_and_sync(in_sync);
  CHECK(!r.shadows->report(*lamp, temp(1)));
  r.advance(100ms);
  auto first = r.client.take();
  REQUIRE(first.size() == 1);
  r.accept(first[0], 4);
  r.advance(1s);
  r.client.deliver(topic("lamp-1", "", "update/delta"), with_token(std::string(sample_delta), "", 5));
  auto ack = r.client.take();
  REQUIRE(ack.size() == 1);
  CHECK(ack[0].payload.starts_with(R"({"state":{"reported":{"Status":"Great"}})"));
  CHECK(r.shadows->metrics().reports_rate_limited == 0);
}

TEST_CASE("shadow rate: off by default, every coalescing window may send") {
  rig<> r;
  recorder rec;
  rec.state = "";
  auto lamp = r.shadows->add("", record(&rec, false));
  REQUIRE(lamp);
  (void)r.connect_and_sync(in_sync);
  std::uint64_t version = 3;
  int sent = 0;
  for (int i = 0; i < 5; ++i) {
    CHECK(!r.shadows->report(*lamp, temp(i)));
    r.advance(200ms);
    for (const auto& m : r.client.take()) {
      ++sent;
      r.accept(m, ++version);
    }
  }
  CHECK(sent == 5);
  CHECK(r.shadows->metrics().reports_rate_limited == 0);
}

}  // namespace
