// Publishing in both directions at QoS 0, 1 and 2: exact packets, identifiers, the in-flight window,
// order, duplicates and completion reports.
#include <doctest/doctest.h>

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/scripted_broker.hpp"

namespace {

using namespace session_testing;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason_code;

// A subscription handler that keeps "topic=payload" of each message (captures one pointer).
mqtt::message_handler collect(std::vector<std::string>* into) {
  return [into](const mqtt::publish& p) { into->push_back(std::string(p.topic) + "=" + text(p.payload)); };
}

// Subscribes and completes the SUBACK.
void subscribe(rig& r, std::string_view filter, mqtt::message_handler h, qos q = qos::exactly_once) {
  mqtt::subscribe_options o;
  o.max_qos = q;
  (void)token_of(r.session.subscribe(filter, std::move(h), o));
  r.link.pump();
  r.broker.grant(r.broker.expect<mqtt::subscribe>());
  r.link.pump();
}

TEST_CASE("session: QoS 0 publish goes out as is") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    r.connect();
    (void)token_of(r.publish("a/b", "hi"));
    (void)r.broker.expect<mqtt::publish>();
    if (v == protocol_version::v5)
      CHECK(hex(r.broker.last_bytes()) == hex(bytes({0x30, 8, 0, 3, 'a', '/', 'b', 0, 'h', 'i'})));
    else
      CHECK(hex(r.broker.last_bytes()) == hex(bytes({0x30, 7, 0, 3, 'a', '/', 'b', 'h', 'i'})));
    CHECK(r.observer.count("publish_done") == 0);  // nothing to report for QoS 0
    CHECK(r.session.metrics().publishes_sent == 1);
  }
}

TEST_CASE("session: QoS 0 publish while offline is refused unless queued on request") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    {
      rig r(basic_config(v));
      CHECK(r.publish("a/b", "x").error() == error(errc::not_connected));
      CHECK(r.session.metrics().publishes_dropped == 1);
    }
    mqtt::session_config c = basic_config(v);
    c.queue_qos0_offline = true;
    rig r(c);
    (void)token_of(r.publish("a/b", "kept"));
    r.connect();
    CHECK(text(r.broker.expect<mqtt::publish>().payload) == "kept");
  }
}

TEST_CASE("session: QoS 1 publish, PUBACK, completion") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    r.connect();
    r.observer.clear();
    const mqtt::token t = token_of(r.publish("a/b", "hi", qos::at_least_once));
    const mqtt::publish p = r.broker.expect<mqtt::publish>();
    if (v == protocol_version::v5)
      CHECK(hex(r.broker.last_bytes()) == hex(bytes({0x32, 10, 0, 3, 'a', '/', 'b', 0, 1, 0, 'h', 'i'})));
    else
      CHECK(hex(r.broker.last_bytes()) == hex(bytes({0x32, 9, 0, 3, 'a', '/', 'b', 0, 1, 'h', 'i'})));
    CHECK(r.session.metrics().in_flight == 1);
    CHECK(r.observer.count("publish_done") == 0);
    r.broker.send_puback(p.packet_id);
    r.link.pump();
    const event done = r.observer.last("publish_done");
    CHECK(done.token == t);
    CHECK_FALSE(done.error);
    CHECK(r.session.metrics().in_flight == 0);
    CHECK(r.session.metrics().publishes_acknowledged == 1);
  }
}

TEST_CASE("session: QoS 2 publish: PUBREC, PUBREL, PUBCOMP; a repeated PUBREC gets a repeated PUBREL") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    r.connect();
    r.observer.clear();
    const mqtt::token t = token_of(r.publish("a/b", "hi", qos::exactly_once));
    const mqtt::publish p = r.broker.expect<mqtt::publish>();
    CHECK(p.qos == qos::exactly_once);
    CHECK(p.packet_id == 1);
    CHECK_FALSE(p.dup);
    r.broker.send_pubrec(1);
    r.link.pump();
    CHECK(r.broker.expect<mqtt::pubrel>().packet_id == 1);
    CHECK(hex(r.broker.last_bytes()) == "62 02 00 01");
    r.broker.send_pubrec(1);  // our PUBREL crossed it, or got lost: answer again
    r.link.pump();
    CHECK(r.broker.expect<mqtt::pubrel>().packet_id == 1);
    CHECK(r.observer.count("publish_done") == 0);
    CHECK(r.session.metrics().in_flight == 1);
    r.broker.send_pubcomp(1);
    r.link.pump();
    CHECK(r.observer.take_names() == "publish_done");
    CHECK(r.observer.last("publish_done").token == 0);  // take_names() cleared it
    CHECK(r.session.metrics().in_flight == 0);
    CHECK(r.session.metrics().publishes_acknowledged == 1);
    (void)t;
  }
}

TEST_CASE("session: MQTT 5 acknowledgement reason codes complete publishes with errors") {
  rig r(basic_config(protocol_version::v5));
  r.connect();
  r.observer.clear();
  const mqtt::token denied = token_of(r.publish("a/1", "x", qos::at_least_once));
  const mqtt::token nobody = token_of(r.publish("a/2", "x", qos::at_least_once));
  const mqtt::token quota = token_of(r.publish("a/3", "x", qos::exactly_once));
  const auto pubs = r.broker.expect_all<mqtt::publish>();
  REQUIRE(pubs.size() == 3);
  if (pubs.size() != 3) return;
  r.broker.send_puback(pubs[0].packet_id, reason_code::not_authorized);
  r.broker.send_puback(pubs[1].packet_id, reason_code::no_matching_subscribers);  // success (< 0x80)
  r.broker.send_pubrec(pubs[2].packet_id, reason_code::quota_exceeded);           // ends the exchange
  r.link.pump();
  r.broker.expect_nothing();  // no PUBREL after a failed PUBREC
  const auto done = r.observer.all("publish_done");
  REQUIRE(done.size() == 3);
  if (done.size() != 3) return;
  CHECK(done[0].token == denied);
  CHECK(done[0].error == reason(reason_code::not_authorized));
  CHECK(done[1].token == nobody);
  CHECK_FALSE(done[1].error);
  CHECK(done[2].token == quota);
  CHECK(done[2].error == reason(reason_code::quota_exceeded));
  CHECK(r.session.metrics().publishes_failed == 2);
  CHECK(r.session.metrics().in_flight == 0);
  // The identifiers are free again: the next three publishes reuse the pool without collisions.
  for (int i = 0; i < 3; ++i) (void)token_of(r.publish("a/b", "y", qos::at_least_once));
  std::set<int> ids;
  for (const auto& p : r.broker.expect_all<mqtt::publish>()) ids.insert(p.packet_id);
  CHECK(ids.size() == 3);
}

TEST_CASE("session: the in-flight window honours the broker's Receive Maximum, in order") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    mqtt::session_config c = basic_config(v);
    mqtt::connack ack;
    if (v == protocol_version::v5) ack.props.receive_maximum = 3;
    else c.limits.max_inflight = 3;  // MQTT 3.1.1 has no Receive Maximum: the broker profile says it
    rig r(c);
    r.connect(ack);
    std::vector<mqtt::token> tokens;
    for (int i = 0; i < 10; ++i) tokens.push_back(token_of(r.publish("seq", std::to_string(i), qos::at_least_once)));
    std::vector<mqtt::publish> wire = r.broker.expect_all<mqtt::publish>();
    REQUIRE(wire.size() == 3);
    if (wire.size() != 3) continue;
    CHECK(r.session.metrics().queued == 7);
    CHECK(r.session.metrics().in_flight == 3);
    // Acknowledge the middle one first: one slot frees, exactly one more message goes, the next in order.
    r.broker.send_puback(wire[1].packet_id);
    r.link.pump();
    auto more = r.broker.expect_all<mqtt::publish>();
    REQUIRE(more.size() == 1);
    if (more.size() != 1) continue;
    CHECK(text(more[0].payload) == "3");
    wire.push_back(more[0]);
    std::set<std::uint16_t> outstanding{wire[0].packet_id, wire[2].packet_id, wire[3].packet_id};
    CHECK(outstanding.size() == 3);  // identifiers of messages in flight never collide
    // Then acknowledge everything as it comes; all ten arrive, in publish order.
    std::vector<std::string> order{"0", "1", "2", "3"};
    r.broker.send_puback(wire[0].packet_id);
    r.broker.send_puback(wire[2].packet_id);
    r.broker.send_puback(wire[3].packet_id);
    r.link.pump();
    for (int round = 0; round < 10 && r.broker.has_pending(); ++round) {
      const auto batch = r.broker.expect_all<mqtt::publish>();
      CHECK(batch.size() <= 3);
      for (const auto& p : batch) {
        order.push_back(text(p.payload));
        r.broker.send_puback(p.packet_id);
      }
      r.link.pump();
    }
    CHECK(order == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
    const auto done = r.observer.all("publish_done");
    REQUIRE(done.size() == 10);
    std::set<mqtt::token> completed;
    for (const event& e : done) completed.insert(e.token);
    CHECK(completed == std::set<mqtt::token>(tokens.begin(), tokens.end()));
    CHECK(r.session.metrics().queued == 0);
    CHECK(r.session.metrics().in_flight == 0);
  }
}

TEST_CASE("session: a QoS 0 message does not overtake QoS 1 messages held by the window") {
  // Order between messages is kept whatever their QoS (MQTT 5 §4.6).
  mqtt::session_config c = basic_config(protocol_version::v5);
  rig r(c);
  mqtt::connack ack;
  ack.props.receive_maximum = 1;
  r.connect(ack);
  (void)token_of(r.publish("t", "first", qos::at_least_once));
  (void)token_of(r.publish("t", "second", qos::at_least_once));
  (void)token_of(r.publish("t", "third"));
  const mqtt::publish first = r.broker.expect<mqtt::publish>();
  r.broker.expect_nothing();
  r.broker.send_puback(first.packet_id);
  r.link.pump();
  // The window frees: the second goes, and the QoS 0 message right behind it (QoS 0 is not counted
  // by the window, it only must not overtake).
  const mqtt::publish second = r.broker.expect<mqtt::publish>();
  CHECK(text(second.payload) == "second");
  CHECK(text(r.broker.expect<mqtt::publish>().payload) == "third");
  r.broker.expect_nothing();
}

TEST_CASE("session: inbound messages at QoS 0, 1 and 2 reach the handler once and are acknowledged") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    r.connect();
    std::vector<std::string> got;
    subscribe(r, "cmd/#", collect(&got));
    r.observer.clear();

    r.broker.send_publish("cmd/a", "zero");
    r.broker.send_publish("cmd/b", "one", qos::at_least_once, 7);
    r.broker.send_publish("cmd/c", "two", qos::exactly_once, 8);
    r.link.pump();
    CHECK(got == std::vector<std::string>{"cmd/a=zero", "cmd/b=one", "cmd/c=two"});
    CHECK(r.broker.expect<mqtt::puback>().packet_id == 7);
    CHECK(hex(r.broker.last_bytes()) == "40 02 00 07");
    CHECK(r.broker.expect<mqtt::pubrec>().packet_id == 8);
    CHECK(hex(r.broker.last_bytes()) == "50 02 00 08");

    // The broker did not see our PUBREC and sends the message again: not delivered twice.
    r.broker.send_publish("cmd/c", "two", qos::exactly_once, 8, true);
    r.link.pump();
    CHECK(got.size() == 3);
    CHECK(r.broker.expect<mqtt::pubrec>().packet_id == 8);
    CHECK(r.session.metrics().duplicates_ignored == 1);

    r.broker.send_pubrel(8);
    r.link.pump();
    CHECK(r.broker.expect<mqtt::pubcomp>().packet_id == 8);
    CHECK(hex(r.broker.last_bytes()) == "70 02 00 08");

    // Identifier 8 is free again: a new message with it is a new message.
    r.broker.send_publish("cmd/c", "again", qos::exactly_once, 8);
    r.link.pump();
    CHECK(got.back() == "cmd/c=again");
    CHECK(r.broker.expect<mqtt::pubrec>().packet_id == 8);

    // A PUBREL for an identifier we do not hold still gets its PUBCOMP (MQTT 5 says 0x92).
    r.broker.send_pubrel(99);
    r.link.pump();
    CHECK(r.broker.expect<mqtt::pubcomp>().packet_id == 99);
    if (v == protocol_version::v5) CHECK(hex(r.broker.last_bytes()) == "70 03 00 63 92");
    CHECK(r.session.state() == mqtt::connection_state::ready);
    CHECK(r.observer.count("message") == 0);  // all went to the handler
  }
}

TEST_CASE("session: a message no handler matches goes to on_message") {
  rig r(basic_config(protocol_version::v5));
  r.connect();
  std::vector<std::string> got;
  subscribe(r, "cmd/+", collect(&got));
  r.broker.send_publish("other/x", "lost?", qos::at_least_once, 1);
  r.link.pump();
  CHECK(got.empty());
  const event m = r.observer.last("message");
  CHECK(m.topic == "other/x");
  CHECK(m.payload == "lost?");
  CHECK(r.broker.expect<mqtt::puback>().packet_id == 1);
}

TEST_CASE("session: a handler that stops the session sends nothing after DISCONNECT") {
  // [MQTT-3.14.4-1]: after DISCONNECT the sender sends no more packets on that connection.
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    r.connect();
    r.observer.on_message_hook = [&](const mqtt::publish&) { r.session.stop(r.now()); };
    r.broker.send_publish("x/y", "bye", qos::at_least_once, 5);
    r.link.pump();
    (void)r.broker.expect<mqtt::disconnect>();
    r.broker.expect_nothing();
    CHECK(r.session.state() == mqtt::connection_state::stopped);
  }
}

TEST_CASE("session: packet identifiers of messages in flight never collide") {
  // Acknowledgements arrive late and in bursts; an identifier is reused only after its exchange ended
  // (PUBACK, or PUBCOMP for QoS 2).
  rig r(basic_config(protocol_version::v5));
  r.connect();
  std::map<std::uint16_t, qos> outstanding;
  std::deque<std::uint16_t> unacknowledged;
  std::size_t completed = 0;
  auto drain = [&] {
    while (const received_packet* rp = r.broker.next()) {
      if (!rp->packet) continue;
      if (const auto* p = std::get_if<mqtt::publish>(&*rp->packet)) {
        CHECK_MESSAGE(outstanding.emplace(p->packet_id, p->qos).second, "identifier reused: ", p->packet_id);
        unacknowledged.push_back(p->packet_id);
      } else if (const auto* rel = std::get_if<mqtt::pubrel>(&*rp->packet)) {
        outstanding.erase(rel->packet_id);
        r.broker.send_pubcomp(rel->packet_id);
      }
    }
  };
  for (int i = 0; i < 300; ++i) {
    (void)token_of(r.publish("t", "x", i % 2 ? qos::at_least_once : qos::exactly_once));
    drain();
    if (i % 3 == 2) {
      for (int k = 0; k < 2 && !unacknowledged.empty(); ++k) {
        const std::uint16_t id = unacknowledged.front();
        unacknowledged.pop_front();
        if (outstanding[id] == qos::at_least_once) {
          outstanding.erase(id);
          r.broker.send_puback(id);
        } else {
          r.broker.send_pubrec(id);
        }
      }
      r.link.pump();
      drain();
      r.link.pump();
    }
  }
  completed = r.observer.count("publish_done");
  CHECK(completed + outstanding.size() == 300);
  CHECK(r.session.metrics().in_flight == outstanding.size());
}

}  // namespace
