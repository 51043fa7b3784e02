// Helpers for driving thingwell clients against a real broker in integration tests.
#pragma once

#include <thingwell/thingwell.hpp>

#include <chrono>
#include <initializer_list>
#include <string>
#include <vector>

namespace thingwell::testing {

// Records what a session reports, for assertions. Poll clients run on the test's thread, so no locking.
struct recorder : mqtt::session_observer {
  void on_connecting(std::uint32_t) override { ++connecting; }
  void on_connected(const mqtt::connected_event& e) override {
    ++connected;
    last_session_present = e.session_present;
  }
  void on_ready() override { ++ready; }
  void on_connect_failed(const mqtt::connect_failed_event& e) override {
    ++connect_failures;
    last_error = e.error;
    last_failure_fatal = e.fatal;
  }
  void on_disconnected(const mqtt::disconnected_event& e) override {
    ++disconnected;
    last_disconnect = e.reason;
    last_error = e.error;
  }
  void on_backoff(const mqtt::backoff_event& e) override { backoffs.push_back(e.delay); }
  void on_stopped() override { ++stopped; }
  void on_message(const mqtt::publish& p) override {
    unmatched.emplace_back(p.topic);
    unmatched_payloads.emplace_back(reinterpret_cast<const char*>(p.payload.data()), p.payload.size());
  }
  void on_publish_done(mqtt::token, std::error_code ec) override {
    if (ec) ++publish_failures;
    else ++publish_acks;
  }
  void on_subscribe_done(mqtt::token, mqtt::reason_code rc) override { granted.push_back(rc); }

  int connecting = 0, connected = 0, ready = 0, connect_failures = 0, disconnected = 0, stopped = 0;
  int publish_acks = 0, publish_failures = 0;
  bool last_session_present = false;
  bool last_failure_fatal = false;
  mqtt::disconnect_reason last_disconnect = mqtt::disconnect_reason::user;
  std::error_code last_error;
  std::vector<duration> backoffs;
  std::vector<mqtt::reason_code> granted;
  std::vector<std::string> unmatched;
  std::vector<std::string> unmatched_payloads;
};

// Loopback test brokers speak plaintext; the loopback-only `tcp` transport allows exactly that.
using test_client = net::poll_client<net::tcp>;

// Host-sized limits, but with fixed buffers: the same code path as a device.
inline mqtt::session_limits test_limits() {
  mqtt::session_limits l;
  l.store_records = 16384;
  l.store_bytes = 4 << 20;
  return l;
}

// Polls every client until `done()` holds or `timeout` passes; returns done().
template <class Client, class Done>
bool run_until(std::initializer_list<Client*> clients, Done done,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  system_clock clock;
  const time_point give_up = clock.now() + duration{timeout.count()};
  while (!done()) {
    const time_point now = clock.now();
    if (now >= give_up) return false;
    time_point next = give_up;
    for (Client* c : clients) next = std::min(next, c->poll(now));
    // Short sleeps: several clients share one thread, so none may block the others for long.
    const time_point wake = std::min(next, clock.now() + duration{5});
    (*clients.begin())->wait(clock.now(), wake);
  }
  return true;
}

inline std::string text(bytes_view b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

}  // namespace thingwell::testing
