// Random interleavings, seeded: publishes at every QoS, acknowledgements late and out of order, traffic
// from the broker, lost links, brokers that keep or lose the session, stop() and start(). A model of
// the broker's side of the session checks every packet as it arrives; at the end every QoS 1/2 publish
// must have completed exactly once and every gauge must be back to zero.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/scripted_broker.hpp"

namespace {

using namespace session_testing;
using mqtt::protocol_version;
using mqtt::qos;

class random_source {
 public:
  explicit random_source(std::uint64_t seed) : state_(seed * 2 + 1) {}
  std::uint32_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return static_cast<std::uint32_t>(state_ >> 11);
  }
  std::uint32_t below(std::uint32_t n) { return next() % n; }
  bool chance(std::uint32_t percent) { return below(100) < percent; }

 private:
  std::uint64_t state_;
};

// What a broker remembers of one client session, and checks against what the client sends.
struct broker_model {
  struct from_client {
    qos q;
    std::string payload;
    std::size_t received_on = 0;  // connection that last carried the PUBLISH
    bool released = false;        // PUBREL seen
    std::size_t released_on = 0;
  };
  struct to_client {
    qos q;
    std::string payload;
    bool received = false;  // PUBREC seen (QoS 2)
  };
  std::map<std::uint16_t, from_client> from;  // client's QoS 1/2 messages not yet complete
  std::map<std::uint16_t, to_client> to;      // our QoS 1/2 messages to the client not yet complete

  void forget() {
    from.clear();
    to.clear();
  }
};

class property_run {
 public:
  property_run(protocol_version v, std::uint64_t seed) : rnd_(seed), r_(config(v), limits(), false, seed) {
    r_.observer.on_publish_done_hook = [this](mqtt::token t, std::error_code ec) {
      // QoS 0 messages still queued when a link drops are reported dropped; nothing else may fail.
      const bool qos0 = qos0_.count(t) != 0;
      CHECK_MESSAGE((!ec || (qos0 && ec == error(errc::not_connected))), "publish ", t, " failed: ", ec.message());
      ++completions_[t];
    };
  }

  void run(int steps) {
    (void)token_of(r_.session.subscribe("in/#", [d = &delivered_](const mqtt::publish& p) { ++(*d)[text(p.payload)]; }));
    r_.start();
    settle();
    for (int step = 0; step < steps; ++step) {
      const std::uint32_t dice = rnd_.below(100);
      if (dice < 30) publish();
      else if (dice < 55) acknowledge_one();
      else if (dice < 68) send_to_client();
      else if (dice < 74) release_one();
      else if (dice < 90) r_.link.advance(duration{rnd_.below(3000)});
      else if (dice < 96) drop();
      else if (dice < 98) stop_and_start();
      else r_.observer.clear();  // keeps the recording small
      // Now and then leave packets in transit: a drop then loses them, as a real link does.
      if (rnd_.chance(75)) settle();
    }
    finish();
  }

 private:
  static mqtt::session_config config(protocol_version v) {
    mqtt::session_config c = basic_config(v);
    c.mode = mqtt::session_mode::always_resume;
    c.reconnect.cap = duration{4000};
    return c;
  }
  static mqtt::session_limits limits() {
    mqtt::session_limits l;
    l.store_records = 24;
    l.store_bytes = 2048;
    l.subscriptions = 4;  // a small identifier pool: identifiers are reused often
    l.inbound_qos2 = 8;
    return l;
  }

  // The broker may talk once it has answered this connection's CONNECT.
  bool connected() const { return r_.link.is_open() && connack_sent_on_ == r_.broker.connection(); }

  void publish() {
    const qos q = static_cast<qos>(rnd_.below(3));
    const std::string payload = "out-" + std::to_string(next_out_++);
    mqtt::publish_options o;
    o.qos = q;
    auto t = r_.session.publish("out/" + std::to_string(rnd_.below(4)), view(payload), o);
    if (!t) {
      const bool expected_error = t.error() == error(errc::capacity_exceeded) || t.error() == error(errc::not_connected);
      CHECK_MESSAGE(expected_error, t.error().message());
      return;
    }
    if (q != qos::at_most_once) expected_.insert(*t);
    else qos0_.insert(*t);
  }

  // The broker acknowledges one message the client sent on this connection: any of them, not the oldest.
  void acknowledge_one() {
    if (!connected() || model_.from.empty()) return;
    auto it = model_.from.begin();
    std::advance(it, rnd_.below(static_cast<std::uint32_t>(model_.from.size())));
    const std::uint16_t id = it->first;
    broker_model::from_client& m = it->second;
    const std::size_t now = r_.broker.connection();
    if (m.q == qos::at_least_once) {
      if (m.received_on != now) return;
      r_.broker.send_puback(id);
      model_.from.erase(it);
    } else if (!m.released) {
      if (m.received_on != now) return;
      r_.broker.send_pubrec(id);
    } else {
      if (m.released_on != now) return;
      r_.broker.send_pubcomp(id);
      model_.from.erase(it);
    }
  }

  void send_to_client() {
    if (!connected()) return;
    const qos q = static_cast<qos>(rnd_.below(3));
    std::uint16_t id = 0;
    if (q != qos::at_most_once) {
      id = static_cast<std::uint16_t>(1 + rnd_.below(30));
      if (model_.to.count(id) != 0) return;  // in use on the broker's side
      if (q == qos::exactly_once && inbound_qos2_outstanding() >= 8) return;  // our advertised Receive Maximum
    }
    const std::string payload = "in-" + std::to_string(next_in_++);
    r_.broker.send_publish("in/x", payload, q, id);
    if (q != qos::at_most_once) {
      model_.to[id] = {q, payload, false};
      used_in_.insert(id);
    }
    sent_in_[payload] = q;
  }

  std::size_t inbound_qos2_outstanding() const {
    std::size_t n = 0;
    for (const auto& [id, m] : model_.to) n += m.q == qos::exactly_once;
    return n;
  }

  void release_one() {
    if (!connected()) return;
    for (auto& [id, m] : model_.to) {
      if (m.q == qos::exactly_once && m.received) {
        r_.broker.send_pubrel(id);
        return;
      }
    }
  }

  void drop() {
    if (!r_.link.is_open()) return;
    // What the client wrote but the broker has not read yet may be lost with the link: the client's
    // answers to what was in transit, for instance.
    if (rnd_.chance(50)) {
      if (rnd_.chance(50)) send_to_client();  // the link dies right after the broker sent something
      r_.link.pump();
      r_.broker.discard_pending();
    }
    r_.link.drop(error(errc::connection_reset));
  }

  void stop_and_start() {
    r_.session.stop(r_.now());
    r_.link.pump();
    if (r_.session.state() == mqtt::connection_state::stopped) CHECK_FALSE(r_.session.start(r_.now()));
  }

  // Moves bytes until neither side has anything more to say; the broker model answers as it goes.
  void settle() {
    for (int round = 0; round < 100; ++round) {
      r_.link.pump();
      bool any = false;
      while (const received_packet* rp = r_.broker.next()) {
        any = true;
        if (rp->packet) handle(*rp->packet, rp->connection);
      }
      if (!any) return;
    }
    FAIL_CHECK("the exchange does not settle");
  }

  // `conn`: the connection that carried the packet. One that arrived on a link since closed still
  // counts for the broker's session, but gets no answer.
  void handle(const mqtt::packet& p, std::size_t conn) {
    const bool live = conn == r_.broker.connection() && r_.link.is_open();
    if (const auto* c = std::get_if<mqtt::connect>(&p)) {
      if (!live) return;
      const bool present = !c->clean_start && rnd_.below(3) != 0;
      if (!present) model_.forget();
      mqtt::connack ack;
      ack.session_present = present;
      if (r_.broker.version() == protocol_version::v5 && rnd_.chance(70))
        ack.props.receive_maximum = static_cast<std::uint16_t>(1 + rnd_.below(10));
      r_.broker.send(ack);
      connack_sent_on_ = conn;
      // A resumed session: our unfinished messages to the client go again.
      for (auto& [id, m] : model_.to) {
        if (m.q == qos::exactly_once && m.received) r_.broker.send_pubrel(id);
        else r_.broker.send_publish("in/x", m.payload, m.q, id, true);
      }
    } else if (const auto* pub = std::get_if<mqtt::publish>(&p)) {
      ++arrived_out_[text(pub->payload)];
      if (pub->qos == qos::at_most_once) return;
      auto it = model_.from.find(pub->packet_id);
      if (!pub->dup) {
        CHECK_MESSAGE(it == model_.from.end(), "identifier ", pub->packet_id, " reused while in flight");
        model_.from[pub->packet_id] = {pub->qos, text(pub->payload), conn, false, 0};
      } else if (it == model_.from.end()) {
        // A resend of a copy the broker never got (lost in transit), or whose PUBACK got lost: new to
        // the broker.
        model_.from[pub->packet_id] = {pub->qos, text(pub->payload), conn, false, 0};
      } else {
        // A resend of a message this session holds: same identifier, same message.
        CHECK(it->second.payload == text(pub->payload));
        CHECK(it->second.q == pub->qos);
        CHECK_FALSE(it->second.released);  // no PUBLISH again after its PUBREL
        it->second.received_on = conn;
      }
    } else if (const auto* rel = std::get_if<mqtt::pubrel>(&p)) {
      auto it = model_.from.find(rel->packet_id);
      if (it == model_.from.end()) {
        // Our PUBCOMP got lost: the client releases again; it still gets its PUBCOMP.
        if (live) r_.broker.send_pubcomp(rel->packet_id);
        return;
      }
      CHECK(it->second.q == qos::exactly_once);
      it->second.released = true;
      it->second.released_on = conn;
    } else if (const auto* ack = std::get_if<mqtt::puback>(&p)) {
      auto it = model_.to.find(ack->packet_id);
      // An acknowledgement that arrives after the broker already finished (it was answered twice: a
      // copy from a lost link, then the resend) is harmless; one for an identifier never used is not.
      if (it == model_.to.end()) {
        CHECK_MESSAGE(used_in_.count(ack->packet_id) != 0, "PUBACK for unknown identifier ", ack->packet_id);
        return;
      }
      CHECK(it->second.q == qos::at_least_once);
      model_.to.erase(it);
    } else if (const auto* rec = std::get_if<mqtt::pubrec>(&p)) {
      auto it = model_.to.find(rec->packet_id);
      if (it == model_.to.end()) {
        CHECK_MESSAGE(used_in_.count(rec->packet_id) != 0, "PUBREC for unknown identifier ", rec->packet_id);
        return;
      }
      CHECK(it->second.q == qos::exactly_once);
      it->second.received = true;
    } else if (const auto* comp = std::get_if<mqtt::pubcomp>(&p)) {
      auto it = model_.to.find(comp->packet_id);
      // A PUBCOMP for an identifier the broker no longer holds (PUBREL resent after a lost link) is fine.
      if (it != model_.to.end()) {
        CHECK(it->second.received);
        model_.to.erase(it);
      }
    } else if (const auto* sub = std::get_if<mqtt::subscribe>(&p)) {
      if (live) r_.broker.grant(*sub);
    } else if (std::holds_alternative<mqtt::pingreq>(p)) {
      if (live) r_.broker.send(mqtt::pingresp{});
    }
  }

  // No more chaos: one stable connection until every exchange has ended.
  void finish() {
    if (r_.session.state() == mqtt::connection_state::stopped) CHECK_FALSE(r_.session.start(r_.now()));
    for (int round = 0; round < 2000; ++round) {
      if (!r_.session.is_ready()) {
        r_.link.advance(1s);
        settle();
        continue;
      }
      for (auto it = model_.from.begin(); it != model_.from.end();) {
        const std::size_t now = r_.broker.connection();
        broker_model::from_client& m = it->second;
        if (m.q == qos::at_least_once && m.received_on == now) {
          r_.broker.send_puback(it->first);
          it = model_.from.erase(it);
          continue;
        }
        if (m.q == qos::exactly_once && !m.released && m.received_on == now) r_.broker.send_pubrec(it->first);
        if (m.q == qos::exactly_once && m.released && m.released_on == now) {
          r_.broker.send_pubcomp(it->first);
          it = model_.from.erase(it);
          continue;
        }
        ++it;
      }
      for (auto& [id, m] : model_.to)
        if (m.received) r_.broker.send_pubrel(id);
      settle();
      r_.link.advance(100ms);
      settle();
      if (model_.from.empty() && model_.to.empty() && r_.session.stored_messages() == 0) break;
    }

    // Every QoS 1/2 publish completed, exactly once.
    std::size_t missing = 0;
    for (mqtt::token t : expected_) {
      const auto it = completions_.find(t);
      if (it == completions_.end()) ++missing;
      else CHECK_MESSAGE(it->second == 1, "publish ", t, " completed ", it->second, " times");
    }
    CHECK(missing == 0);
    std::size_t reported = 0;
    for (const auto& [t, n] : completions_) {
      if (expected_.count(t)) ++reported;
      else CHECK_MESSAGE((qos0_.count(t) != 0 && n == 1), "unexpected report for publish ", t);
    }
    CHECK(reported == expected_.size());
    // Every QoS 1/2 message reached the broker.
    for (const auto& [payload, n] : arrived_out_) CHECK(n >= 1);
    // From the broker: QoS 2 delivered at most once; with the session kept to the end, exactly once.
    for (const auto& [payload, q] : sent_in_) {
      const int n = delivered_.count(payload) ? delivered_[payload] : 0;
      if (q == qos::exactly_once) CHECK_MESSAGE(n <= 1, payload, " delivered ", n, " times");
    }
    CHECK(model_.from.empty());
    CHECK(model_.to.empty());
    const auto& m = r_.session.metrics();
    CHECK(m.in_flight == 0);
    CHECK(m.queued == 0);
    CHECK(r_.session.stored_messages() == 0);
    CHECK(r_.session.stored_bytes() == 0);
    CHECK(expected_.size() > 200);  // the run did something
  }

  random_source rnd_;
  rig r_;
  broker_model model_;
  std::set<mqtt::token> expected_;  // QoS 1/2: must complete exactly once
  std::set<mqtt::token> qos0_;
  std::map<mqtt::token, int> completions_;
  std::map<std::string, int> arrived_out_;
  std::map<std::string, int> delivered_;
  std::map<std::string, qos> sent_in_;
  std::set<std::uint16_t> used_in_;  // identifiers the broker has used for its messages
  std::size_t connack_sent_on_ = 0;
  std::uint64_t next_out_ = 0;
  std::uint64_t next_in_ = 0;
};

TEST_CASE("session: random interleavings keep every promise (property)") {
  for (const protocol_version v : both_versions) {
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      INFO(version_name(v), " seed ", seed);
      property_run run(v, seed);
      run.run(3000);
    }
  }
}

}  // namespace
