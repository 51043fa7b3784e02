// Back-pressure: a slow transport fills the output buffer, messages wait in the store, a full store
// refuses with capacity_exceeded, and reading pauses while there is no room to acknowledge.
#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "support/scripted_broker.hpp"

namespace {

using namespace session_testing;
using mqtt::protocol_version;
using mqtt::qos;

TEST_CASE("session: a slow transport: the output buffer fills, the store holds the rest, then refuses") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    mqtt::session_limits l;
    l.output_bytes = 512;
    l.store_records = 8;
    l.store_bytes = 4096;
    rig r(basic_config(v), l);
    r.connect();
    r.link.write_limit = 0;  // the transport takes nothing for now
    const std::string payload(100, 'p');
    std::vector<mqtt::token> tokens;
    for (int i = 0; i < 8; ++i) tokens.push_back(token_of(r.publish("t", payload, qos::at_least_once)));
    // Four fit the buffer with room to spare for acknowledgements; the other four wait.
    CHECK(r.session.metrics().in_flight == 4);
    CHECK(r.session.metrics().queued == 4);
    CHECK(r.publish("t", payload, qos::at_least_once).error() == error(errc::capacity_exceeded));
    CHECK(r.publish("t", payload).error() == error(errc::capacity_exceeded));  // QoS 0 too, once the buffer is full
    CHECK(r.session.metrics().publishes_dropped == 2);

    r.link.write_limit = SIZE_MAX;
    r.link.pump();
    const auto sent = r.broker.expect_all<mqtt::publish>();
    CHECK(sent.size() == 8);
    for (const auto& p : sent) r.broker.send_puback(p.packet_id);
    r.link.pump();
    CHECK(r.observer.count("publish_done") == 8);
    CHECK(r.session.metrics().in_flight == 0);
    CHECK(r.session.metrics().queued == 0);
    CHECK(r.session.stored_messages() == 0);
    CHECK(r.session.stored_bytes() == 0);
    // Room again.
    CHECK(r.publish("t", payload, qos::at_least_once).has_value());
  }
}

TEST_CASE("session: reading pauses while acknowledgements have no room, and resumes as the output drains") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    mqtt::session_limits l;
    l.output_bytes = 256;
    rig r(basic_config(v), l);
    r.connect();
    std::size_t delivered = 0;
    (void)token_of(r.session.subscribe("in", [p = &delivered](const mqtt::publish&) { ++*p; }));
    r.link.pump();
    r.broker.grant(r.broker.expect<mqtt::subscribe>());
    r.link.pump();

    r.link.write_limit = 0;
    for (std::uint16_t id = 1; id <= 100; ++id) r.broker.send_publish("in", "m", qos::at_least_once, id);
    r.link.pump();
    // Each PUBACK takes 4 bytes; the session stops reading once fewer than its reserve are free.
    CHECK(delivered > 10);
    CHECK(delivered < 100);
    CHECK(r.session.input_space().empty());
    CHECK(r.session.output(r.now()).size() > 256 - 64);
    const std::size_t paused_at = delivered;
    r.link.advance(1s);  // time alone changes nothing
    CHECK(delivered == paused_at);

    r.link.write_limit = 37;  // the transport drains a little at a time
    r.link.pump();
    CHECK(delivered == 100);
    std::vector<std::uint16_t> acked;
    for (const auto& a : r.broker.expect_all<mqtt::puback>()) acked.push_back(a.packet_id);
    REQUIRE(acked.size() == 100);
    bool in_order = true;
    for (std::size_t i = 0; i < acked.size(); ++i) in_order = in_order && acked[i] == i + 1;
    CHECK(in_order);
    CHECK(r.session.is_ready());
  }
}

TEST_CASE("session: the store's byte ring wraps and reclaims correctly under out-of-order acknowledgements") {
  // Messages of varying sizes, acknowledged in a scrambled order, many times around a small ring: every
  // message reaches the broker intact, exactly once, and the store ends empty.
  mqtt::session_limits l;
  l.store_records = 12;
  l.store_bytes = 1500;
  l.output_bytes = 2048;
  rig r(basic_config(protocol_version::v5), l);
  r.connect();
  std::uint64_t seed = 42;
  auto next = [&seed] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(seed >> 33);
  };
  std::map<std::string, int> expected;  // payload → times it must arrive
  std::map<std::string, int> arrived;
  std::deque<std::uint16_t> outstanding;
  int published = 0;
  int refused = 0;
  for (int step = 0; step < 3000; ++step) {
    if (next() % 3 != 0) {
      std::string payload = std::to_string(published) + ":" + std::string(next() % 300, static_cast<char>('a' + published % 26));
      auto t = r.publish("ring", payload, next() % 4 == 0 ? qos::at_most_once : qos::at_least_once);
      if (t) {
        ++expected[payload];
        ++published;
      } else {
        CHECK(t.error() == error(errc::capacity_exceeded));
        ++refused;
      }
    }
    while (const received_packet* rp = r.broker.next()) {
      if (!rp->packet) continue;
      if (const auto* p = std::get_if<mqtt::publish>(&*rp->packet)) {
        ++arrived[text(p->payload)];
        if (p->qos != qos::at_most_once) outstanding.push_back(p->packet_id);
      }
    }
    if (!outstanding.empty() && next() % 2 == 0) {
      const std::size_t k = next() % outstanding.size();  // any of them, not just the oldest
      r.broker.send_puback(outstanding[k]);
      outstanding.erase(outstanding.begin() + static_cast<std::ptrdiff_t>(k));
      r.link.pump();
    }
  }
  while (!outstanding.empty()) {
    r.broker.send_puback(outstanding.front());
    outstanding.pop_front();
    r.link.pump();
    while (const received_packet* rp = r.broker.next()) {
      if (!rp->packet) continue;
      if (const auto* p = std::get_if<mqtt::publish>(&*rp->packet)) {
        ++arrived[text(p->payload)];
        if (p->qos != qos::at_most_once) outstanding.push_back(p->packet_id);
      }
    }
  }
  CHECK(refused > 0);  // the ring really was full at times
  CHECK(published > 500);
  CHECK(arrived == expected);
  CHECK(r.session.stored_messages() == 0);
  CHECK(r.session.stored_bytes() == 0);
  CHECK(r.session.metrics().queued == 0);
  CHECK(r.session.metrics().in_flight == 0);
}

}  // namespace
