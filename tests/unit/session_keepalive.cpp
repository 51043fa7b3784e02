// Keep-alive: when PINGREQ goes out, how fast a dead link is noticed, and what counts as a sign of life.
#include <doctest/doctest.h>

#include <string>

#include "support/scripted_broker.hpp"

namespace {

using namespace session_testing;
using mqtt::protocol_version;
using mqtt::qos;

TEST_CASE("session: PINGREQ after a keep-alive of silence, again after each PINGRESP") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    const time_point t0 = r.now();
    r.connect();
    r.link.advance(59'999ms);
    r.broker.expect_nothing();
    r.link.advance(1ms);
    (void)r.broker.expect<mqtt::pingreq>();
    CHECK(r.broker.last_time() == t0 + 60s);
    CHECK(hex(r.broker.last_bytes()) == "c0 00");
    r.link.advance(2s);
    r.broker.send(mqtt::pingresp{});
    r.link.pump();
    r.link.advance(58s);  // 60 s after the PINGREQ
    (void)r.broker.expect<mqtt::pingreq>();
    CHECK(r.broker.last_time() == t0 + 120s);
    CHECK(r.session.metrics().pings_sent == 2);
    CHECK(r.session.is_ready());
  }
}

TEST_CASE("session: a dead link is noticed within 1.5 keep-alives, then the session backs off") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    const time_point t0 = r.now();
    r.connect();
    r.observer.clear();
    r.link.advance(89'999ms);
    (void)r.broker.expect<mqtt::pingreq>();
    CHECK(r.observer.names() == "");
    r.link.advance(1ms);
    CHECK(r.observer.names() == "disconnected backoff");
    const event d = r.observer.last("disconnected");
    CHECK(d.reason == mqtt::disconnect_reason::keep_alive_timeout);
    CHECK(d.error == error(errc::keep_alive_timeout));
    CHECK(r.now() == t0 + 90s);
    CHECK_FALSE(r.link.is_open());
    CHECK(r.session.state() == mqtt::connection_state::backing_off);
    CHECK_FALSE(r.observer.last("backoff").fatal);
  }
}

TEST_CASE("session: any byte from the broker counts as a sign of life") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    const time_point t0 = r.now();
    r.connect();
    std::string got;
    (void)token_of(r.session.subscribe("slow/#", [p = &got](const mqtt::publish& m) { *p = text(m.payload); }));
    r.link.pump();
    r.broker.grant(r.broker.expect<mqtt::subscribe>());
    r.link.pump();
    r.link.advance(60s);
    (void)r.broker.expect<mqtt::pingreq>();
    // The broker is busy sending a large message: its first bytes arrive, not yet a whole packet.
    const byte_vector message = v == protocol_version::v5
                                    ? bytes({0x30, 13, 0, 6, 's', 'l', 'o', 'w', '/', 'x', 0, 'd', 'a', 't', 'a'})
                                    : bytes({0x30, 12, 0, 6, 's', 'l', 'o', 'w', '/', 'x', 'd', 'a', 't', 'a'});
    r.link.advance(20s);
    r.broker.send_raw(bytes_view(message).first(3));
    r.link.pump();
    r.link.advance(20s);  // past the PINGREQ's 30 s timeout
    CHECK(r.session.is_ready());
    CHECK(r.observer.count("disconnected") == 0);
    r.broker.send_raw(bytes_view(message).subspan(3));
    r.link.pump();
    CHECK(got == "data");
    // The next PINGREQ is due a keep-alive after the last PINGREQ we sent.
    r.link.advance(t0 + 120s - r.now() - 1ms);
    r.broker.expect_nothing();
    r.link.advance(1ms);
    (void)r.broker.expect<mqtt::pingreq>();
  }
}

TEST_CASE("session: Server Keep Alive replaces ours (MQTT 5)") {
  rig r(basic_config(protocol_version::v5));
  const time_point t0 = r.now();
  mqtt::connack ack;
  ack.props.server_keep_alive = 10;
  r.connect(ack);
  r.link.advance(10s);
  (void)r.broker.expect<mqtt::pingreq>();
  CHECK(r.broker.last_time() == t0 + 10s);
  r.link.advance(5s);
  CHECK(r.observer.last("disconnected").reason == mqtt::disconnect_reason::keep_alive_timeout);
  CHECK(r.now() == t0 + 15s);
}

TEST_CASE("session: a link that carries only our own messages is still checked") {
  // MQTT only asks for PINGREQ after a keep-alive without sending. A device that publishes every few
  // seconds at QoS 0 would never ping, and a dead link would go unnoticed: silence from the broker
  // counts too.
  rig r(basic_config(protocol_version::v5));
  const time_point t0 = r.now();
  r.connect();
  for (int i = 0; i < 5; ++i) {
    r.link.advance(10s);
    (void)token_of(r.publish("telemetry", "x"));
  }
  CHECK(r.broker.expect_all<mqtt::publish>().size() == 5);
  r.link.advance(10s);
  (void)r.broker.expect<mqtt::pingreq>();
  CHECK(r.broker.last_time() == t0 + 60s);
  r.link.advance(30s);
  CHECK(r.observer.last("disconnected").reason == mqtt::disconnect_reason::keep_alive_timeout);
}

TEST_CASE("session: a client that only receives still pings a keep-alive after its last packet") {
  rig r(basic_config(protocol_version::v311));
  const time_point t0 = r.now();
  r.connect();
  for (int i = 0; i < 5; ++i) {
    r.link.advance(11s);
    r.broker.send_publish("x/y", "z");  // on_message; nothing goes back
    r.link.pump();
  }
  r.link.advance(t0 + 60s - r.now());
  (void)r.broker.expect<mqtt::pingreq>();
  CHECK(r.broker.last_time() == t0 + 60s);
}

TEST_CASE("session: keep-alive 0 disables pings") {
  mqtt::session_config c = basic_config(protocol_version::v5);
  c.keep_alive = 0;
  rig r(c);
  r.connect();
  CHECK(r.session.next_deadline() == thingwell::never);
  r.link.advance(3600s);
  r.broker.expect_nothing();
  CHECK(r.session.is_ready());
}

TEST_CASE("session: a full, stuck output buffer does not hide a dead link or spin the driver") {
  // The transport stopped taking bytes and the buffer is full to the last byte, so not even PINGREQ
  // fits. The session must still give up after the ping timeout, and must not ask to be polled again
  // and again at the same instant meanwhile.
  mqtt::session_limits l;
  l.output_bytes = 300;
  l.filter_bytes = 300;
  rig r(basic_config(protocol_version::v311), l);
  const time_point t0 = r.now();
  r.connect();
  r.link.write_limit = 0;
  // A SUBSCRIBE of exactly 300 bytes: 1 + 2 (Remaining Length 297) + 2 (id) + 2 + 292 + 1.
  (void)token_of(r.session.subscribe(std::string(292, 'f'), nullptr));
  r.link.pump();
  CHECK(r.session.output(r.now()).size() == 300);
  r.link.advance(120s);
  CHECK(r.observer.last("disconnected").reason == mqtt::disconnect_reason::keep_alive_timeout);
  CHECK(r.observer.last("disconnected").error == error(errc::keep_alive_timeout));
  CHECK(r.observer.count("disconnected") == 1);
  (void)t0;
}

}  // namespace
