// An outbox in front of a scripted-broker session (support/scripted_broker.hpp), over a store the test
// owns, so that a test can throw the session and the outbox away and build new ones over the same store
// (a device restart).
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include <thingwell/store/memory_store.hpp>
#include <thingwell/store/outbox.hpp>

#include "support/scripted_broker.hpp"

namespace outbox_testing {

namespace st = thingwell::store;
namespace mqtt = thingwell::mqtt;
using namespace session_testing;

using small_store = st::memory_store<512, 256 * 1024>;

inline mqtt::session_config resume_config() {
  mqtt::session_config c = basic_config(mqtt::protocol_version::v5);
  c.mode = mqtt::session_mode::always_resume;
  c.session_expiry = 3600;
  return c;
}

template <class Store>
struct box_rig {
  box_rig(Store& store, const st::outbox_config& oc = {}, const mqtt::session_config& sc = resume_config())
      : r(sc), box(r.session, store, oc) {}

  rig r;
  st::outbox<Store> box;

  thingwell::result<st::publish_status> publish(std::string_view topic, std::string_view payload,
                                                st::message_options o = {}) {
    auto s = box.publish(topic, view(payload), o, r.now());
    settle();
    return s;
  }

  // Runs the outbox and the link until nothing moves.
  void settle() {
    for (int i = 0; i < 200; ++i) {
      const std::size_t seen = r.broker.history().size();
      const std::size_t depth = box.depth();
      const std::size_t waiting = box.waiting();
      box.pump(r.now());
      r.link.pump();
      if (seen == r.broker.history().size() && depth == box.depth() && waiting == box.waiting()) return;
    }
  }

  // Moves time in steps, running the session's timers and the outbox.
  void advance(duration d, duration step = duration{10}) {
    const time_point end = r.now() + d;
    while (r.now() < end) {
      r.clock.set(std::min(r.now() + step, end));
      r.link.poll();
      settle();
    }
  }

  // Connects with automatic CONNACK (session present as given) and PUBACK.
  void go_online(bool session_present = false, bool auto_ack = true) {
    r.broker.replies.connack = true;
    r.broker.connack_reply.session_present = session_present;
    r.broker.replies.puback = auto_ack;
    r.broker.replies.qos2 = auto_ack;
    r.broker.replies.pingresp = true;
    if (r.session.state() == mqtt::connection_state::idle) {
      const std::error_code ec = r.session.start(r.now());
      REQUIRE_MESSAGE(!ec, ec.message());
    }
    r.link.on_open = driver::open_behaviour::accept;
    r.link.pump();
    settle();
  }
};

struct seen_publish {
  std::string topic;
  std::string payload;
  std::uint16_t packet_id = 0;
  bool dup = false;
  mqtt::qos qos = mqtt::qos::at_most_once;
  std::size_t connection = 0;
  thingwell::time_point at{};
};

// Every PUBLISH the broker received, in order.
inline std::vector<seen_publish> publishes(const scripted_broker& b) {
  std::vector<seen_publish> out;
  for (const received_packet& r : b.history()) {
    if (!r.packet) continue;
    if (const auto* p = std::get_if<mqtt::publish>(&*r.packet))
      out.push_back({std::string(p->topic), text(p->payload), p->packet_id, p->dup, p->qos, r.connection, r.at});
  }
  return out;
}

inline std::vector<std::string> payloads(const scripted_broker& b) {
  std::vector<std::string> out;
  for (const seen_publish& p : publishes(b)) out.push_back(p.payload);
  return out;
}

inline std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

}  // namespace outbox_testing
