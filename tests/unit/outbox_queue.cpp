// The outbox as a bounded queue: statuses, overflow policies, priorities, TTL, coalescing, metrics,
// drain order and pace, and a day offline on a manual clock (requirements F-01, F-05..F-07, F-10, F-13).
#include <doctest/doctest.h>

#include <string>

#include "outbox_testing.hpp"

using namespace outbox_testing;
using namespace std::chrono_literals;

namespace {

st::message_options qos1(st::message_priority p = st::message_priority::normal) {
  st::message_options o;
  o.qos = mqtt::qos::at_least_once;
  o.priority = p;
  return o;
}

}  // namespace

TEST_CASE("outbox: publish answers queued offline, sent when the session can take it, and never waits") {
  small_store store;
  st::outbox_config oc;
  oc.feed_window = 2;
  box_rig<small_store> b(store, oc);
  REQUIRE(b.box.open(b.r.now()).has_value());

  auto s = b.publish("t/a", "1", qos1());
  REQUIRE(s.has_value());
  CHECK(s->state == st::publish_state::queued);
  CHECK(b.box.depth() == 1);

  b.go_online(false, /*auto_ack=*/false);
  auto seen = publishes(b.r.broker);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].payload == "1");

  // The window holds two: the third waits in the outbox, not in the session.
  auto s2 = b.publish("t/a", "2", qos1());
  auto s3 = b.publish("t/a", "3", qos1());
  REQUIRE(s2.has_value());
  REQUIRE(s3.has_value());
  CHECK(s2->state == st::publish_state::sent);
  CHECK(s3->state == st::publish_state::queued);
  CHECK(b.box.waiting() == 1);

  // Acknowledgements free the window; the waiting message follows.
  b.r.broker.send_puback(seen[0].packet_id);
  b.r.link.pump();
  b.settle();
  CHECK(payloads(b.r.broker).size() == 3);
  CHECK(b.box.metrics(b.r.now()).delivered == 1);

  // QoS 0 published while connected and idle goes straight out and is done.
  b.r.broker.replies.puback = true;
  for (const auto& p : publishes(b.r.broker))
    if (p.payload != "1") b.r.broker.send_puback(p.packet_id);
  b.r.link.pump();
  b.settle();
  st::message_options q0;
  q0.qos = mqtt::qos::at_most_once;
  auto s4 = b.publish("t/a", "4", q0);
  REQUIRE(s4.has_value());
  CHECK(s4->state == st::publish_state::sent);
  CHECK(b.box.depth() == 0);
  CHECK(joined(payloads(b.r.broker)) == "1 2 3 4");
}

TEST_CASE("outbox: 1 MB cap with 2 KB messages, 100 more than fit: the oldest 100 are dropped and counted (F-05)") {
  small_store store;
  st::outbox_config oc;
  oc.max_records = 2000;
  oc.max_bytes = 1 << 20;
  oc.max_message_bytes = 4096;
  box_rig<small_store> b(store, oc);
  const std::string payload(2048 - 8, 'x');  // + 8 bytes of topic "t/000000" = 2048
  const std::size_t fit = oc.max_bytes / 2048;
  for (std::size_t i = 0; i < fit + 100; ++i) {
    char topic[32];
    std::snprintf(topic, sizeof topic, "t/%06zu", i);
    auto s = b.box.publish(topic, view(payload), qos1(), b.r.now());
    REQUIRE(s.has_value());
    CHECK(s->state == st::publish_state::queued);
    CHECK(s->evicted == (i < fit ? 0u : 1u));
  }
  const auto m = b.box.metrics(b.r.now());
  CHECK(m.depth == fit);
  CHECK(m.bytes == fit * 2048);
  CHECK(m.dropped_by(st::drop_reason::overflow) == 100);
  CHECK(m.dropped_total() == 100);
  b.go_online();
  const auto seen = publishes(b.r.broker);
  REQUIRE(seen.size() == fit);
  CHECK(seen.front().topic == "t/000100");
  CHECK(seen.back().topic == "t/000" + std::to_string(fit + 99));
}

TEST_CASE("outbox: overflow policies drop_newest and reject keep the oldest") {
  for (auto policy : {st::overflow_policy::drop_newest, st::overflow_policy::reject}) {
    CAPTURE(static_cast<int>(policy));
    small_store store;
    st::outbox_config oc;
    oc.max_records = 5;
    oc.overflow = policy;
    box_rig<small_store> b(store, oc);
    int dropped = 0, rejected = 0;
    for (int i = 0; i < 8; ++i) {
      auto s = b.publish("t", std::to_string(i), qos1());
      if (!s) {
        CHECK(s.error() == thingwell::errc::outbox_full);
        ++rejected;
      } else if (s->state == st::publish_state::dropped) {
        CHECK(s->reason == st::drop_reason::overflow);
        ++dropped;
      }
    }
    const auto m = b.box.metrics(b.r.now());
    if (policy == st::overflow_policy::reject) {
      CHECK(rejected == 3);
      CHECK(m.rejected == 3);
    } else {
      CHECK(dropped == 3);
      CHECK(m.dropped_by(st::drop_reason::overflow) == 3);
    }
    b.go_online();
    CHECK(joined(payloads(b.r.broker)) == "0 1 2 3 4");
  }
}

TEST_CASE("outbox: under pressure only bulk is evicted until none is left; critical drains first (F-07)") {
  small_store store;
  st::outbox_config oc;
  oc.max_records = 9;
  box_rig<small_store> b(store, oc);
  using P = st::message_priority;
  const P order[] = {P::bulk, P::normal, P::critical};
  for (int i = 0; i < 9; ++i) {
    const P p = order[i % 3];
    const char* name = p == P::bulk ? "b" : p == P::normal ? "n" : "c";
    REQUIRE(b.publish("t", name + std::to_string(i), qos1(p)).has_value());
  }
  // Three more normal ones: the three bulk messages go, oldest first.
  for (int i = 9; i < 12; ++i) {
    auto s = b.publish("t", "n" + std::to_string(i), qos1(P::normal));
    REQUIRE(s.has_value());
    CHECK(s->evicted == 1);
  }
  // No bulk left: a new normal one evicts the oldest normal (drop_oldest), never a critical one.
  REQUIRE(b.publish("t", "n12", qos1(P::normal)).has_value());
  // A new bulk message is the lowest thing there is: it is the one dropped.
  auto s = b.publish("t", "b13", qos1(P::bulk));
  REQUIRE(s.has_value());
  CHECK(s->state == st::publish_state::dropped);
  CHECK(b.box.metrics(b.r.now()).dropped_by(st::drop_reason::overflow) == 5);
  b.go_online();
  CHECK(joined(payloads(b.r.broker)) == "c2 c5 c8 n4 n7 n9 n10 n11 n12");
}

TEST_CASE("outbox: messages older than their TTL are never sent, and counted (F-06)") {
  small_store store;
  box_rig<small_store> b(store);
  st::message_options o = qos1();
  o.ttl = 10min;
  for (int minute = 0; minute < 15; ++minute) {
    REQUIRE(b.publish("t", "m" + std::to_string(minute), o).has_value());
    b.advance(1min, 1s);
  }
  // Now 15 minutes after the first: m0..m4 are older than 10 minutes.
  const auto m = b.box.metrics(b.r.now());
  CHECK(m.dropped_by(st::drop_reason::expired) == 5);
  CHECK(m.oldest_age <= duration{10min});
  b.go_online();
  CHECK(joined(payloads(b.r.broker)) == "m5 m6 m7 m8 m9 m10 m11 m12 m13 m14");
}

TEST_CASE("outbox: a coalescing key keeps only the newest waiting status of its kind") {
  small_store store;
  box_rig<small_store> b(store);
  st::message_options status = qos1();
  status.coalesce_key = 7;
  REQUIRE(b.publish("status", "a", status).has_value());
  REQUIRE(b.publish("data", "x", qos1()).has_value());
  REQUIRE(b.publish("status", "b", status).has_value());
  REQUIRE(b.publish("status", "c", status).has_value());
  const auto m = b.box.metrics(b.r.now());
  CHECK(m.depth == 2);
  CHECK(m.dropped_by(st::drop_reason::coalesced) == 2);
  b.go_online();
  CHECK(joined(payloads(b.r.broker)) == "x c");
}

TEST_CASE("outbox: metrics match the ground truth of a scripted scenario (F-13)") {
  small_store store;
  st::outbox_config oc;
  oc.max_records = 4;
  box_rig<small_store> b(store, oc);
  const time_point t0 = b.r.now();
  REQUIRE(b.publish("ab", "1234", qos1()).has_value());  // 6 bytes
  b.advance(5s, 1s);
  REQUIRE(b.publish("ab", "12", qos1()).has_value());  // 4 bytes
  st::message_options ttl = qos1();
  ttl.ttl = 1s;
  REQUIRE(b.publish("ab", "1", ttl).has_value());  // 3 bytes, expires
  auto m = b.box.metrics(b.r.now());
  CHECK(m.depth == 3);
  CHECK(m.waiting == 3);
  CHECK(m.bytes == 13);
  CHECK(m.oldest_age == b.r.now() - t0);
  b.advance(3s, 1s);
  m = b.box.metrics(b.r.now());
  CHECK(m.depth == 2);
  CHECK(m.bytes == 10);
  CHECK(m.dropped_by(st::drop_reason::expired) == 1);
  for (int i = 0; i < 3; ++i) REQUIRE(b.publish("ab", "x", qos1()).has_value());
  m = b.box.metrics(b.r.now());
  CHECK(m.depth == 4);
  CHECK(m.dropped_by(st::drop_reason::overflow) == 1);
  CHECK(m.enqueued == 6);
  b.go_online();
  m = b.box.metrics(b.r.now());
  CHECK(m.depth == 0);
  CHECK(m.bytes == 0);
  CHECK(m.oldest_age == duration{0});
  CHECK(m.handed == 4);
  CHECK(m.delivered == 4);
}

TEST_CASE("outbox: a backlog drains at the configured pace while a live critical message goes first (F-10)") {
  small_store store;
  st::outbox_config oc;
  oc.max_records = 600;
  oc.drain_rate = 50;
  box_rig<small_store> b(store, oc);
  for (int i = 0; i < 500; ++i) REQUIRE(b.box.publish("t/backlog", view(std::to_string(i)), qos1(), b.r.now()).has_value());
  b.go_online();
  const time_point online = b.r.now();
  b.advance(1s);
  auto s = b.publish("t/alarm", "fire", qos1(st::message_priority::critical));
  REQUIRE(s.has_value());
  CHECK(s->state == st::publish_state::sent);
  const time_point alarm_at = b.r.now();
  b.advance(4s);
  const auto seen = publishes(b.r.broker);
  std::size_t backlog = 0;
  time_point alarm_seen = thingwell::never;
  int last = -1;
  bool in_order = true;
  for (const auto& p : seen) {
    if (p.topic == "t/alarm") {
      alarm_seen = p.at;
      continue;
    }
    ++backlog;
    const int n = std::stoi(p.payload);
    in_order = in_order && n == last + 1;
    last = n;
  }
  CHECK(in_order);
  CHECK(alarm_seen - alarm_at <= duration{1s});
  // 5 s at 50 per second, one burst token to start.
  CHECK(backlog <= 5 * 50 + 1);
  CHECK(backlog >= 5 * 50 - 5);
  (void)online;
}

TEST_CASE("outbox: a day offline on a manual clock keeps the cadence and the memory bound (F-01)") {
  small_store store;
  st::outbox_config oc;
  oc.max_records = 100;
  oc.max_bytes = 8 * 1024;
  oc.max_message_bytes = 512;
  box_rig<small_store> b(store, oc);
  b.r.link.on_open = driver::open_behaviour::refuse;  // no network all day
  REQUIRE(!b.r.session.start(b.r.now()));
  b.r.link.pump();
  const std::size_t before = heap_allocations;
  std::size_t max_depth = 0, max_bytes = 0;
  std::uint64_t published = 0;
  std::string payload;
  const time_point end = b.r.now() + duration{24h};
  while (b.r.now() < end) {
    payload = "reading-" + std::to_string(published);  // allocation outside the measured calls is fine
    st::message_options o = qos1(published % 10 == 0 ? st::message_priority::critical : st::message_priority::bulk);
    if (published % 7 == 0) o.coalesce_key = 1;
    if (published % 5 == 0) o.ttl = 1h;
    const std::size_t a0 = heap_allocations;
    auto s = b.box.publish("dt/sensor", view(payload), o, b.r.now());
    b.box.pump(b.r.now());
    // Read before the check: CHECK_MESSAGE itself allocates the first time doctest's context stack grows.
    const std::size_t outbox_allocations = heap_allocations - a0;
    CHECK_MESSAGE(outbox_allocations == 0, "the outbox allocated");
    REQUIRE(s.has_value());
    CHECK(s->state != st::publish_state::sent);
    ++published;
    const auto m = b.box.metrics(b.r.now());
    max_depth = std::max(max_depth, m.depth);
    max_bytes = std::max(max_bytes, m.bytes);
    b.r.clock.advance(1s);
    b.r.link.poll();
  }
  (void)before;
  const auto m = b.box.metrics(b.r.now());
  CHECK(published == 86400);
  CHECK(max_depth <= oc.max_records);
  CHECK(max_bytes <= oc.max_bytes);
  CHECK(m.depth + m.dropped_total() == published);
  CHECK(m.dropped_by(st::drop_reason::overflow) > 0);
  CHECK(m.dropped_by(st::drop_reason::coalesced) > 0);
  // Critical messages were kept over bulk: the last 100 publishes were critical at one in ten, and
  // the outbox still holds critical ones.
  b.go_online();
  b.advance(70s, 1s);  // the session was backing off
  std::size_t critical = 0;
  for (const auto& p : publishes(b.r.broker)) critical += std::stoull(p.payload.substr(8)) % 10 == 0;
  CHECK(critical > 0);
}
