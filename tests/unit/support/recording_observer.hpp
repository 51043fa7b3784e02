// A session_observer that writes down everything the session reports, in order, so that a test can
// assert the exact sequence of lifecycle events and completions.
//
// Each event keeps its structured fields (for exact checks) and a short name; names() joins the names
// of the events recorded so far, which reads well in a failing CHECK. Optional hooks let a test call
// back into the session from inside a callback, the way an application does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <thingwell/mqtt/session.hpp>

namespace session_testing {

namespace mqtt = thingwell::mqtt;

struct event {
  std::string name;  // connecting, connected, ready, connect_failed, disconnected, backoff, stopped,
                     // message, publish_done, subscribe_done, unsubscribe_done, auth_challenge
  std::uint32_t attempt = 0;
  bool fatal = false;
  bool session_present = false;
  std::error_code error;
  mqtt::disconnect_reason reason = mqtt::disconnect_reason::network;
  thingwell::duration delay{0};
  mqtt::token token = 0;
  mqtt::reason_code code = mqtt::reason_code::success;
  std::string topic;
  std::string payload;
  mqtt::qos qos = mqtt::qos::at_most_once;
  bool dup = false;
};

class recording_observer : public mqtt::session_observer {
 public:
  std::vector<event> events;

  // Called from inside the matching callback, after the event is recorded.
  std::function<void(const mqtt::connected_event&)> on_connected_hook;
  std::function<void(const mqtt::disconnected_event&)> on_disconnected_hook;
  std::function<void(const mqtt::connect_failed_event&)> on_connect_failed_hook;
  std::function<void()> on_ready_hook;
  std::function<void(mqtt::token, std::error_code)> on_publish_done_hook;
  std::function<void(const mqtt::publish&)> on_message_hook;
  // What on_auth_challenge answers (nothing: the session gives up).
  std::optional<thingwell::bytes_view> auth_answer;

  // The names of the events so far, space separated.
  std::string names() const {
    std::string out;
    for (const event& e : events) {
      if (!out.empty()) out += ' ';
      out += e.name;
    }
    return out;
  }

  // names(), then forgets the events: each step of a test checks only what that step caused.
  std::string take_names() {
    std::string out = names();
    events.clear();
    return out;
  }

  std::size_t count(std::string_view name) const {
    std::size_t n = 0;
    for (const event& e : events) n += e.name == name;
    return n;
  }

  // The last event with this name, or an empty one (name "") when there is none.
  event last(std::string_view name) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->name == name) return *it;
    return {};
  }

  std::vector<event> all(std::string_view name) const {
    std::vector<event> out;
    for (const event& e : events)
      if (e.name == name) out.push_back(e);
    return out;
  }

  void clear() { events.clear(); }

  void on_connecting(std::uint32_t attempt) override {
    event e = named("connecting");
    e.attempt = attempt;
    events.push_back(e);
  }
  void on_connected(const mqtt::connected_event& ev) override {
    event e = named("connected");
    e.attempt = ev.attempt;
    e.session_present = ev.session_present;
    events.push_back(e);
    if (on_connected_hook) on_connected_hook(ev);
  }
  void on_ready() override {
    events.push_back(named("ready"));
    if (on_ready_hook) on_ready_hook();
  }
  void on_connect_failed(const mqtt::connect_failed_event& ev) override {
    event e = named("connect_failed");
    e.error = ev.error;
    e.attempt = ev.attempt;
    e.fatal = ev.fatal;
    events.push_back(e);
    if (on_connect_failed_hook) on_connect_failed_hook(ev);
  }
  void on_disconnected(const mqtt::disconnected_event& ev) override {
    event e = named("disconnected");
    e.reason = ev.reason;
    e.error = ev.error;
    events.push_back(e);
    if (on_disconnected_hook) on_disconnected_hook(ev);
  }
  void on_backoff(const mqtt::backoff_event& ev) override {
    event e = named("backoff");
    e.delay = ev.delay;
    e.attempt = ev.attempt;
    e.fatal = ev.fatal;
    events.push_back(e);
  }
  void on_stopped() override { events.push_back(named("stopped")); }
  void on_message(const mqtt::publish& p) override {
    events.push_back(message_event(p));
    if (on_message_hook) on_message_hook(p);
  }
  void on_publish_done(mqtt::token t, std::error_code ec) override {
    event e = named("publish_done");
    e.token = t;
    e.error = ec;
    events.push_back(e);
    if (on_publish_done_hook) on_publish_done_hook(t, ec);
  }
  void on_subscribe_done(mqtt::token t, mqtt::reason_code rc) override {
    event e = named("subscribe_done");
    e.token = t;
    e.code = rc;
    events.push_back(e);
  }
  void on_unsubscribe_done(mqtt::token t, mqtt::reason_code rc) override {
    event e = named("unsubscribe_done");
    e.token = t;
    e.code = rc;
    events.push_back(e);
  }
  std::optional<thingwell::bytes_view> on_auth_challenge(const mqtt::auth&) override {
    events.push_back(named("auth_challenge"));
    return auth_answer;
  }

  static event named(const char* name) {
    event e;
    e.name = name;
    return e;
  }

  static event message_event(const mqtt::publish& p) {
    event e = named("message");
    e.topic = std::string(p.topic);
    e.payload = std::string(thingwell::as_string(p.payload));
    e.qos = p.qos;
    e.dup = p.dup;
    return e;
  }
};

}  // namespace session_testing
