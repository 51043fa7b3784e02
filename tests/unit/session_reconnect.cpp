// Reconnecting: what is resent to a resumed session, what is restored when the broker lost it, and
// when the application hears on_ready.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "support/scripted_broker.hpp"

namespace {

using namespace session_testing;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason_code;
using mqtt::session_mode;

// Drops the link and lets the session come back; answers its CONNECT with `session_present`.
mqtt::connect reconnect(rig& r, bool session_present, const mqtt::connack* ack = nullptr) {
  r.link.drop();
  r.await_packet();  // the next attempt's CONNECT
  mqtt::connack a = ack ? *ack : mqtt::connack{};
  a.session_present = session_present;
  return r.accept(a);
}

TEST_CASE("session: a resumed session gets unacknowledged PUBLISH (same ids, DUP) and PUBREL again") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    mqtt::session_config c = basic_config(v);
    c.mode = session_mode::resume_if_present;
    rig r(c);
    r.connect();
    const mqtt::token t1 = token_of(r.publish("m/1", "one", qos::at_least_once));
    const mqtt::token t2 = token_of(r.publish("m/2", "two", qos::at_least_once));
    const mqtt::token t3 = token_of(r.publish("m/3", "three", qos::exactly_once));
    const mqtt::token t4 = token_of(r.publish("m/4", "four", qos::exactly_once));
    const auto first = r.broker.expect_all<mqtt::publish>();
    REQUIRE(first.size() == 4);
    if (first.size() != 4) continue;
    r.broker.send_puback(first[1].packet_id);  // m/2 done
    r.broker.send_pubrec(first[3].packet_id);  // m/4 reached the broker
    r.link.pump();
    CHECK(r.broker.expect<mqtt::pubrel>().packet_id == first[3].packet_id);
    r.observer.clear();

    const mqtt::connect again = reconnect(r, true);
    CHECK_FALSE(again.clean_start);
    CHECK(r.observer.take_names() == "disconnected backoff connecting connected ready");

    CHECK(r.broker.expect<mqtt::pubrel>().packet_id == first[3].packet_id);
    const mqtt::publish m1 = r.broker.expect<mqtt::publish>();
    const mqtt::publish m3 = r.broker.expect<mqtt::publish>();
    r.broker.expect_nothing();
    CHECK(m1.topic == "m/1");
    CHECK(m1.packet_id == first[0].packet_id);
    CHECK(m1.dup);
    CHECK(m3.topic == "m/3");
    CHECK(m3.packet_id == first[2].packet_id);
    CHECK(m3.dup);
    CHECK(r.session.metrics().publishes_retransmitted == 2);

    r.broker.send_puback(m1.packet_id);
    r.broker.send_pubrec(m3.packet_id);
    r.broker.send_pubcomp(first[3].packet_id);
    r.link.pump();
    CHECK(r.broker.expect<mqtt::pubrel>().packet_id == m3.packet_id);
    r.broker.send_pubcomp(m3.packet_id);
    r.link.pump();
    std::vector<mqtt::token> done;
    for (const event& e : r.observer.all("publish_done")) {
      CHECK_FALSE(e.error);
      done.push_back(e.token);
    }
    std::sort(done.begin(), done.end());
    CHECK(done == std::vector<mqtt::token>{t1, t3, t4});
    CHECK(r.session.metrics().in_flight == 0);
    (void)t2;
  }
}

TEST_CASE("session: without a session, subscriptions are restored in batches of 8 and on_ready waits for every SUBACK") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    mqtt::session_config c = basic_config(v);
    c.limits = mqtt::aws_iot_core_limits;
    rig r(c);
    std::vector<std::string> filters;
    for (int i = 0; i < 12; ++i) filters.push_back("things/thing-1/topic/" + std::to_string(i));
    for (const std::string& f : filters) (void)token_of(r.session.subscribe(f, nullptr));

    auto check_restore = [&](const char* when) {
      INFO(when);
      const mqtt::subscribe a = r.broker.expect<mqtt::subscribe>();
      const mqtt::subscribe b = r.broker.expect<mqtt::subscribe>();
      CHECK(a.subscriptions.size() == 8);
      CHECK(b.subscriptions.size() == 4);
      CHECK(a.packet_id != b.packet_id);
      std::vector<std::string> seen;
      for (const auto& s : a.subscriptions) seen.emplace_back(s.filter);
      for (const auto& s : b.subscriptions) seen.emplace_back(s.filter);
      CHECK(seen == filters);
      CHECK(r.observer.count("ready") == 0);
      CHECK(r.session.state() == mqtt::connection_state::connected);
      r.broker.grant(b);  // out of order: the second batch first
      r.link.pump();
      CHECK(r.observer.count("ready") == 0);
      r.broker.grant(a);
      r.link.pump();
      CHECK(r.observer.count("ready") == 1);
      CHECK(r.session.is_ready());
    };

    r.connect();
    check_restore("first connection");
    CHECK(r.observer.count("subscribe_done") == 12);

    const mqtt::token q1 = token_of(r.publish("things/thing-1/out", "a", qos::at_least_once));
    const mqtt::token q2 = token_of(r.publish("things/thing-1/out", "b", qos::at_least_once));
    r.link.advance(1s);  // the AWS profile paces publishes 10 ms apart
    const auto sent = r.broker.expect_all<mqtt::publish>();
    REQUIRE(sent.size() == 2);
    r.observer.clear();

    reconnect(r, false);
    CHECK(r.observer.names() == "disconnected backoff connecting connected");
    check_restore("after reconnecting without a session");
    // Unacknowledged messages go out again as new messages: DUP=0.
    r.link.advance(1s);
    const auto resent = r.broker.expect_all<mqtt::publish>();
    REQUIRE(resent.size() == 2);
    if (resent.size() != 2) continue;
    CHECK(text(resent[0].payload) == "a");
    CHECK(text(resent[1].payload) == "b");
    CHECK_FALSE(resent[0].dup);
    CHECK_FALSE(resent[1].dup);
    CHECK(resent[0].packet_id != resent[1].packet_id);
    r.broker.send_puback(resent[0].packet_id);
    r.broker.send_puback(resent[1].packet_id);
    r.link.pump();
    CHECK(r.observer.count("publish_done") == 2);
    (void)q1;
    (void)q2;
  }
}

TEST_CASE("session: a resumed session keeps its subscriptions without SUBSCRIBE") {
  mqtt::session_config c = basic_config(protocol_version::v5);
  c.mode = session_mode::always_resume;
  rig r(c);
  (void)token_of(r.session.subscribe("a/#", nullptr));
  r.connect();
  r.broker.grant(r.broker.expect<mqtt::subscribe>());
  r.link.pump();
  CHECK(r.session.is_ready());
  r.observer.clear();
  reconnect(r, true);
  r.broker.expect_nothing();
  CHECK(r.observer.names() == "disconnected backoff connecting connected ready");
}

TEST_CASE("session: without a session, a QoS 2 message past PUBREC is complete; the ones after it are sent again") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    r.connect();
    const mqtt::token released = token_of(r.publish("q/2", "released", qos::exactly_once));
    const mqtt::token pending = token_of(r.publish("q/1", "pending", qos::at_least_once));
    const auto sent = r.broker.expect_all<mqtt::publish>();
    REQUIRE(sent.size() == 2);
    if (sent.size() != 2) continue;
    r.broker.send_pubrec(sent[0].packet_id);
    r.link.pump();
    (void)r.broker.expect<mqtt::pubrel>();
    r.observer.clear();

    reconnect(r, false);
    const event done = r.observer.last("publish_done");
    CHECK(done.token == released);
    CHECK_FALSE(done.error);
    // The message behind the completed one must not be skipped.
    const mqtt::publish again = r.broker.expect<mqtt::publish>();
    CHECK(text(again.payload) == "pending");
    CHECK_FALSE(again.dup);
    r.broker.expect_nothing();
    r.broker.send_puback(again.packet_id);
    r.link.pump();
    CHECK(r.observer.last("publish_done").token == pending);
    CHECK(r.session.metrics().in_flight == 0);
    CHECK(r.session.metrics().queued == 0);
  }
}

TEST_CASE("session: a message resumed but not yet resent becomes new when the next broker has no session") {
  // Resumed with its identifier, held back by the window, then the session is lost: the identifier
  // belongs to nobody any more. The message must go out as new (DUP=0, an identifier from the pool),
  // and its old identifier must not end up on two messages at once.
  mqtt::session_config c = basic_config(protocol_version::v5);
  c.mode = session_mode::always_resume;
  mqtt::session_limits l;
  l.store_records = 4;
  l.subscriptions = 1;  // a pool of 6 identifiers: reuse comes quickly
  rig r(c, l);
  r.connect();
  (void)token_of(r.publish("q/2", "released", qos::exactly_once));
  (void)token_of(r.publish("q/1", "held", qos::at_least_once));
  const auto sent = r.broker.expect_all<mqtt::publish>();
  REQUIRE(sent.size() == 2);
  if (sent.size() != 2) return;
  r.broker.send_pubrec(sent[0].packet_id);
  r.link.pump();
  (void)r.broker.expect<mqtt::pubrel>();

  mqtt::connack one;
  one.props.receive_maximum = 1;  // the released QoS 2 message fills the window
  reconnect(r, true, &one);
  CHECK(r.broker.expect<mqtt::pubrel>().packet_id == sent[0].packet_id);
  r.broker.expect_nothing();  // "held" waits for the window

  reconnect(r, false);
  const mqtt::publish held = r.broker.expect<mqtt::publish>();
  CHECK(text(held.payload) == "held");
  CHECK_FALSE(held.dup);
  // While "held" stays unacknowledged, subscription requests cycle through the whole pool: none may
  // take its identifier.
  r.broker.replies.suback = true;
  r.broker.replies.unsuback = true;
  for (int round = 0; round < 8; ++round) {
    (void)token_of(r.session.subscribe("f", nullptr));
    r.link.pump();
    (void)token_of(r.session.unsubscribe("f"));
    r.link.pump();
  }
  std::size_t requests = 0;
  for (const received_packet& rp : r.broker.history()) {
    if (!rp.packet || rp.connection != r.broker.connection()) continue;
    std::uint16_t id = 0;
    if (const auto* sub = std::get_if<mqtt::subscribe>(&*rp.packet)) id = sub->packet_id;
    if (const auto* uns = std::get_if<mqtt::unsubscribe>(&*rp.packet)) id = uns->packet_id;
    if (id == 0) continue;
    ++requests;
    CHECK(id != held.packet_id);
  }
  CHECK(requests == 16);
}

TEST_CASE("session: QoS 0 messages still queued at a disconnect are all dropped and reported") {
  mqtt::session_config c = basic_config(protocol_version::v5);
  c.limits.publishes_per_second = 1;  // only the first goes at once; the others wait in the store
  rig r(c);
  r.connect();
  (void)token_of(r.publish("a", "0"));
  const mqtt::token t1 = token_of(r.publish("a", "1"));
  const mqtt::token t2 = token_of(r.publish("a", "2"));
  const mqtt::token t3 = token_of(r.publish("a", "3"));
  CHECK(text(r.broker.expect<mqtt::publish>().payload) == "0");
  r.broker.expect_nothing();
  r.observer.clear();
  r.link.drop();
  const auto done = r.observer.all("publish_done");
  REQUIRE(done.size() == 3);
  if (done.size() != 3) return;
  CHECK(done[0].token == t1);
  CHECK(done[1].token == t2);
  CHECK(done[2].token == t3);
  for (const event& e : done) CHECK(e.error == error(errc::not_connected));
  CHECK(r.session.metrics().queued == 0);
  CHECK(r.session.metrics().publishes_dropped == 3);
  r.await_packet();
  r.accept();
  r.link.advance(5s);
  r.broker.expect_nothing();
}

}  // namespace
