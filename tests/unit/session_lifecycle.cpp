// The connection state machine: lifecycle events and attempt numbers, timeouts, refusals and the two
// retry paces, stop(), and when the backoff sequence starts over.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/scripted_broker.hpp"

namespace {

using namespace session_testing;
using mqtt::connection_state;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason_code;

std::string attempts(const std::vector<event>& events) {
  std::string out;
  for (const event& e : events) {
    if (!out.empty()) out += ' ';
    out += e.name + "(" + std::to_string(e.attempt) + ")";
  }
  return out;
}

TEST_CASE("session: lifecycle events carry attempt numbers; the first connection is retried too") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    r.link.on_open = driver::open_behaviour::refuse;
    r.start();
    r.link.advance(1s);  // first delay: 1 s
    r.link.on_open = driver::open_behaviour::accept;
    r.link.advance(2s);  // second delay: 2 s
    r.accept();
    CHECK(attempts(r.observer.events) ==
          "connecting(1) connect_failed(1) backoff(2) connecting(2) connect_failed(2) backoff(3) connecting(3) "
          "connected(3) ready(0)");
    const auto failed = r.observer.all("connect_failed");
    REQUIRE(failed.size() == 2);
    CHECK(failed[0].error == error(errc::connection_refused));
    CHECK_FALSE(failed[0].fatal);
    const auto delays = r.observer.all("backoff");
    REQUIRE(delays.size() == 2);
    CHECK(delays[0].delay == 1s);
    CHECK(delays[1].delay == 2s);
    CHECK_FALSE(delays[0].fatal);
    CHECK(r.session.metrics().connect_attempts == 3);
    CHECK(r.session.metrics().connections == 1);
    // After a connection the count starts over.
    r.observer.clear();
    r.link.drop();
    CHECK(attempts(r.observer.events) == "disconnected(0) backoff(1)");
    CHECK(r.observer.last("disconnected").reason == mqtt::disconnect_reason::network);
    CHECK(r.observer.last("disconnected").error == error(errc::connection_reset));
  }
}

TEST_CASE("session: connect timeout while the transport opens, and while CONNACK does not come") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    const time_point t0 = r.now();
    r.link.on_open = driver::open_behaviour::hold;
    r.start();
    CHECK(r.link.open_requested());
    CHECK(r.session.state() == connection_state::connecting);
    r.link.advance(10s);
    CHECK(r.observer.take_names() == "connecting connect_failed backoff");
    CHECK(r.now() == t0 + 10s);
    CHECK(r.link.closes == 1);  // the driver was told to abandon the open
    CHECK_FALSE(r.link.open_requested());

    r.link.on_open = driver::open_behaviour::accept;
    r.await_packet();
    (void)r.broker.expect<mqtt::connect>();
    const time_point sent = r.now();
    r.link.advance(9'999ms);
    CHECK(r.observer.take_names() == "connecting");
    r.link.advance(1ms);
    const event failed = r.observer.last("connect_failed");
    CHECK(failed.error == error(errc::connect_timeout));
    CHECK(failed.attempt == 2);
    CHECK_FALSE(failed.fatal);
    CHECK(r.now() == sent + 10s);
    CHECK_FALSE(r.link.is_open());
  }
}

struct refusal {
  protocol_version version;
  byte_vector connack;
  std::error_code error;
  bool fatal;
};

TEST_CASE("session: CONNACK refusals for credentials or policy take the slow retry path") {
  const refusal cases[] = {
      {protocol_version::v311, bytes({0x20, 2, 0, 5}), reason(reason_code::not_authorized), true},
      {protocol_version::v311, bytes({0x20, 2, 0, 4}), reason(reason_code::bad_user_name_or_password), true},
      {protocol_version::v311, bytes({0x20, 2, 0, 2}), reason(reason_code::client_identifier_not_valid), true},
      {protocol_version::v311, bytes({0x20, 2, 0, 3}), reason(reason_code::server_unavailable), false},
      {protocol_version::v5, bytes({0x20, 3, 0, 0x87, 0}), reason(reason_code::not_authorized), true},
      {protocol_version::v5, bytes({0x20, 3, 0, 0x86, 0}), reason(reason_code::bad_user_name_or_password), true},
      {protocol_version::v5, bytes({0x20, 3, 0, 0x8A, 0}), reason(reason_code::banned), true},
      {protocol_version::v5, bytes({0x20, 3, 0, 0x89, 0}), reason(reason_code::server_busy), false},
      {protocol_version::v5, bytes({0x20, 3, 0, 0x9F, 0}), reason(reason_code::connection_rate_exceeded), false},
  };
  for (const refusal& c : cases) {
    INFO(version_name(c.version), " CONNACK ", hex(c.connack));
    rig r(basic_config(c.version));
    r.start();
    (void)r.broker.expect<mqtt::connect>();
    r.broker.send_raw(c.connack);
    r.link.pump();
    CHECK(r.observer.names() == "connecting connect_failed backoff");
    const event failed = r.observer.last("connect_failed");
    CHECK(failed.error == c.error);
    CHECK(failed.fatal == c.fatal);
    CHECK(failed.attempt == 1);
    const event b = r.observer.last("backoff");
    CHECK(b.fatal == c.fatal);
    if (c.fatal) {
      // fatal_reconnect's defaults: equal jitter over 60 s, never below 30 s.
      CHECK(b.delay >= 30s);
      CHECK(b.delay <= 60s);
    } else {
      CHECK(b.delay == 1s);
    }
    CHECK(r.broker.pending_count() == 0);  // no DISCONNECT after a refused CONNACK
    CHECK_FALSE(r.link.is_open());
  }
}

TEST_CASE("session: transport errors: TLS trust problems are fatal, network errors are not") {
  const std::pair<errc, bool> cases[] = {
      {errc::tls_certificate_untrusted, true}, {errc::tls_hostname_mismatch, true}, {errc::host_not_found, false},
      {errc::network_unreachable, false},      {errc::tls_handshake_failed, false},
  };
  for (const auto& [code, fatal] : cases) {
    INFO(thingwell::describe(code));
    rig r(basic_config(protocol_version::v5));
    r.link.on_open = driver::open_behaviour::refuse;
    r.link.refuse_with = error(code);
    r.start();
    CHECK(r.observer.last("connect_failed").error == error(code));
    CHECK(r.observer.last("connect_failed").fatal == fatal);
    CHECK(r.observer.last("backoff").fatal == fatal);
  }
}

TEST_CASE("session: stop() writes what is queued, then DISCONNECT, closes, and never reconnects") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    r.connect();
    r.observer.clear();
    r.link.write_limit = 0;  // the transport is slow: everything waits in the output buffer
    (void)token_of(r.publish("a", "zero"));
    (void)token_of(r.publish("b", "one", qos::at_least_once));
    r.session.stop(r.now());
    r.link.pump();
    CHECK(r.link.is_open());  // not before the buffer is written
    CHECK(r.session.state() == connection_state::disconnecting);
    r.link.write_limit = 5;  // a few bytes per write
    r.link.pump();
    CHECK(text(r.broker.expect<mqtt::publish>().payload) == "zero");
    CHECK(text(r.broker.expect<mqtt::publish>().payload) == "one");
    (void)r.broker.expect<mqtt::disconnect>();
    CHECK(hex(r.broker.last_bytes()) == "e0 00");
    r.broker.expect_nothing();
    CHECK_FALSE(r.link.is_open());
    CHECK(r.session.state() == connection_state::stopped);
    CHECK(r.observer.names() == "disconnected stopped");
    CHECK(r.observer.last("disconnected").reason == mqtt::disconnect_reason::user);
    r.link.advance(3600s);
    CHECK(r.link.opens == 1);
    CHECK(r.observer.count("connecting") == 0);
  }
}

TEST_CASE("session: stop() in every other state") {
  SUBCASE("while backing off: stopped at once") {
    rig r(basic_config(protocol_version::v5));
    r.link.on_open = driver::open_behaviour::refuse;
    r.start();
    r.session.stop(r.now());
    r.link.advance(3600s);
    CHECK(r.observer.names() == "connecting connect_failed backoff stopped");
    CHECK(r.link.refusals == 1);
  }
  SUBCASE("while the transport opens: the open is abandoned") {
    rig r(basic_config(protocol_version::v5));
    r.link.on_open = driver::open_behaviour::hold;
    r.start();
    r.session.stop(r.now());
    r.link.pump();
    CHECK_FALSE(r.link.open_requested());
    CHECK(r.session.state() == connection_state::stopped);
    r.link.advance(3600s);
    CHECK(r.link.opens == 0);
  }
  SUBCASE("while waiting for CONNACK: closed without DISCONNECT") {
    rig r(basic_config(protocol_version::v5));
    r.start();
    (void)r.broker.expect<mqtt::connect>();
    r.session.stop(r.now());
    r.link.pump();
    r.broker.expect_nothing();
    CHECK(r.session.state() == connection_state::stopped);
  }
  SUBCASE("with a transport that takes nothing: closed after a grace period anyway") {
    rig r(basic_config(protocol_version::v5));
    r.connect();
    r.link.write_limit = 0;
    r.session.stop(r.now());
    r.link.pump();
    CHECK(r.link.is_open());
    r.link.advance(2s);
    CHECK_FALSE(r.link.is_open());
    CHECK(r.session.state() == connection_state::stopped);
  }
  SUBCASE("then start() again: a new first connection") {
    rig r(basic_config(protocol_version::v5));
    r.connect();
    r.session.stop(r.now());
    r.link.pump();
    r.observer.clear();
    r.broker.discard_pending();
    r.connect();
    CHECK(r.observer.names() == "connecting connected ready");
    CHECK(r.observer.last("connected").attempt == 1);
  }
}

TEST_CASE("session: without auto_reconnect a lost connection ends in stopped") {
  mqtt::session_config c = basic_config(protocol_version::v311);
  c.auto_reconnect = false;
  rig r(c);
  r.connect();
  r.link.drop();
  CHECK(r.observer.names() == "connecting connected ready disconnected stopped");
  r.link.advance(3600s);
  CHECK(r.link.opens == 1);
}

TEST_CASE("session: the backoff sequence starts over only after a stable connection") {
  rig r(basic_config(protocol_version::v5));  // no jitter: 1 s, 2 s, 4 s...; reset after 30 s up
  r.link.on_open = driver::open_behaviour::refuse;
  r.start();
  r.link.advance(1s);
  r.link.advance(2s);
  r.link.on_open = driver::open_behaviour::accept;
  r.link.advance(4s);
  r.accept();
  // A connection that drops after 5 s is not stable: the next delay keeps growing.
  r.link.advance(5s);
  r.link.drop();
  r.link.advance(8s);
  r.accept();
  // One that lasted 30 s is: back to the first delay.
  r.link.advance(30s);
  r.broker.discard_pending();  // PINGREQs
  r.link.drop();
  std::vector<long long> delays;
  for (const event& e : r.observer.all("backoff")) delays.push_back(e.delay.count());
  CHECK(delays == std::vector<long long>{1000, 2000, 4000, 8000, 1000});
}

TEST_CASE("session: the slow retry path grows too; a connection kicked at once does not reset it") {
  // Two devices sharing a client id keep taking the session over from each other: each is accepted,
  // then disconnected with 0x8E. The retries must slow down, not settle at the first delay.
  mqtt::session_config c = basic_config(protocol_version::v5);
  c.fatal_reconnect = thingwell::backoff_config{.base = duration{60000}, .cap = duration{3600000}, .floor = duration{30000},
                                                .reset_after = duration{30000}, .mode = thingwell::jitter::none};
  rig r(c);
  r.connect();
  std::vector<long long> delays;
  for (int i = 0; i < 4; ++i) {
    r.link.advance(1s);
    mqtt::disconnect d;
    d.reason = reason_code::session_taken_over;
    r.broker.send(d);
    r.link.pump();
    const event b = r.observer.last("backoff");
    CHECK(b.fatal);
    delays.push_back(b.delay.count());
    r.broker.discard_pending();
    r.await_packet(3600s);
    r.accept();
  }
  CHECK(delays == std::vector<long long>{60000, 120000, 240000, 480000});
  // A connection that lasted resets the slow path as well.
  r.link.advance(60s);
  mqtt::disconnect d;
  d.reason = reason_code::session_taken_over;
  r.broker.send(d);
  r.link.pump();
  CHECK(r.observer.last("backoff").delay == 60s);
}

TEST_CASE("session: server DISCONNECT: session taken over is fatal, quota exceeded is not") {
  const std::pair<reason_code, bool> cases[] = {
      {reason_code::session_taken_over, true},
      {reason_code::not_authorized, true},
      {reason_code::quota_exceeded, false},
      {reason_code::server_shutting_down, false},
      {reason_code::keep_alive_timeout, false},
  };
  for (const auto& [code, fatal] : cases) {
    INFO("reason ", static_cast<int>(code));
    rig r(basic_config(protocol_version::v5));
    r.connect();
    r.observer.clear();
    mqtt::disconnect d;
    d.reason = code;
    r.broker.send(d);
    r.link.pump();
    CHECK(r.observer.names() == "disconnected backoff");
    const event e = r.observer.last("disconnected");
    CHECK(e.error == reason(code));
    CHECK(e.reason == (code == reason_code::not_authorized ? mqtt::disconnect_reason::auth : mqtt::disconnect_reason::server));
    CHECK(r.observer.last("backoff").fatal == fatal);
    r.broker.expect_nothing();  // no DISCONNECT back
    CHECK_FALSE(r.link.is_open());
  }
  SUBCASE("a normal server disconnection still reports an error") {
    rig r(basic_config(protocol_version::v5));
    r.connect();
    r.broker.send(mqtt::disconnect{});
    r.link.pump();
    CHECK(r.observer.last("disconnected").error == error(errc::server_disconnected));
  }
}

TEST_CASE("session: next_deadline() says when to poll in every state") {
  rig r(basic_config(protocol_version::v5));
  CHECK(r.session.next_deadline() == thingwell::never);  // idle
  r.link.on_open = driver::open_behaviour::hold;
  r.start();
  CHECK(r.session.next_deadline() == r.now() + 10s);  // connect timeout
  r.link.fail_open(error(errc::connection_refused));
  CHECK(r.session.next_deadline() == r.now() + 1s);  // the backoff delay
  r.link.on_open = driver::open_behaviour::accept;
  r.link.advance(1s);
  r.accept();
  CHECK(r.session.next_deadline() == r.now() + 60s);  // keep-alive
}

}  // namespace

namespace {

// Applications react to lifecycle events by calling back into the session; the session must already be
// in a consistent state when it reports them.
TEST_CASE("session: stop() called from inside on_disconnected and on_connect_failed") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    {
      INFO("after a protocol error");
      rig r(basic_config(v));
      r.connect();
      r.observer.clear();
      r.observer.on_disconnected_hook = [&](const mqtt::disconnected_event&) { r.session.stop(r.now()); };
      r.broker.send_raw(bytes({0x40, 2, 0, 42}));  // PUBACK for nothing
      r.link.pump();
      if (v == protocol_version::v5) CHECK(r.broker.expect<mqtt::disconnect>().reason == reason_code::protocol_error);
      r.broker.expect_nothing();  // one DISCONNECT, nothing after it
      CHECK(r.observer.names() == "disconnected stopped");
      r.link.advance(3600s);
      CHECK(r.link.opens == 1);
    }
    {
      INFO("after the network failed");
      rig r(basic_config(v));
      r.connect();
      r.observer.clear();
      r.observer.on_disconnected_hook = [&](const mqtt::disconnected_event&) { r.session.stop(r.now()); };
      r.link.drop();
      CHECK(r.observer.names() == "disconnected stopped");
      r.link.advance(3600s);
      CHECK(r.link.opens == 1);
      r.broker.expect_nothing();
    }
    {
      INFO("the application's own stop(), whose handler stops again");
      rig r(basic_config(v));
      r.connect();
      r.observer.clear();
      r.observer.on_disconnected_hook = [&](const mqtt::disconnected_event&) { r.session.stop(r.now()); };
      r.session.stop(r.now());
      r.link.pump();
      CHECK(r.observer.names() == "disconnected stopped");
      (void)r.broker.expect<mqtt::disconnect>();
      r.broker.expect_nothing();
    }
    {
      INFO("after a refused connection");
      rig r(basic_config(v));
      r.observer.on_connect_failed_hook = [&](const mqtt::connect_failed_event&) { r.session.stop(r.now()); };
      r.start();
      (void)r.broker.expect<mqtt::connect>();
      r.broker.send_connack(false, reason_code::not_authorized);
      r.link.pump();
      r.broker.expect_nothing();
      CHECK(r.observer.names() == "connecting connect_failed stopped");
      r.link.advance(3600s);
      CHECK(r.link.opens == 1);
    }
    {
      INFO("after a connect timeout");
      rig r(basic_config(v));
      r.observer.on_connect_failed_hook = [&](const mqtt::connect_failed_event&) { r.session.stop(r.now()); };
      r.start();
      r.link.advance(10s);
      r.broker.discard_pending();
      CHECK(r.observer.names() == "connecting connect_failed stopped");
      r.link.advance(3600s);
      CHECK(r.link.opens == 1);
    }
  }
}

}  // namespace
