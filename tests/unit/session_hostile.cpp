// A broker that breaks the protocol, on purpose or not: the session disconnects with the right reason
// code, reports it, never crashes, and never lets the broker decide how much memory it uses.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support/scripted_broker.hpp"

namespace {

using namespace session_testing;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason_code;

// After `frame` arrives: MQTT 5 sends DISCONNECT with `rc`, MQTT 3.1.1 just closes; either way the
// application hears why, and the session backs off.
void check_refused(rig& r, const byte_vector& frame, reason_code rc, std::error_code expected) {
  INFO(version_name(r.broker.version()), ": ", hex(frame));
  r.observer.clear();
  r.broker.send_raw(frame);
  r.link.pump();
  if (r.broker.version() == protocol_version::v5) {
    CHECK(r.broker.expect<mqtt::disconnect>().reason == rc);
    CHECK(disconnect_reason_byte(r.broker.last_bytes()) == static_cast<int>(rc));
  }
  r.broker.expect_nothing();
  CHECK(r.observer.names() == "disconnected backoff");
  const event d = r.observer.last("disconnected");
  CHECK(d.reason == mqtt::disconnect_reason::protocol);
  CHECK(d.error == expected);
  CHECK_FALSE(r.link.is_open());
  CHECK(r.session.state() == mqtt::connection_state::backing_off);
}

// A connected session on a fresh rig for each case.
struct case_rig {
  rig r;
  explicit case_rig(protocol_version v, const mqtt::session_limits& l = {}, bool caller_memory = false)
      : r(basic_config(v), l, caller_memory) {
    r.connect();
  }
};

// The recording observer keeps its events in a vector whose capacity survives clear(): once warmed up
// by the connect, recording the failure allocates nothing, so any allocation counted is the session's.
TEST_CASE("session: a Remaining Length above our maximum packet size: DISCONNECT 0x95, nothing allocated") {
  struct announced {
    const char* what;
    bool fixed;
    byte_vector header;
  };
  const announced cases[] = {
      {"fixed receive buffer (compact limits: 2 KiB), 2049 bytes", true, bytes({0x30, 0x81, 0x10})},
      {"growable receive buffer (1 MiB maximum), 1 MiB + 1", false, bytes({0x30, 0x81, 0x80, 0x40})},
      {"growable receive buffer, the largest Remaining Length there is", false, bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F})},
      {"fixed receive buffer, the largest Remaining Length there is", true, bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F})},
  };
  for (const protocol_version v : both_versions) {
    for (const announced& a : cases) {
      INFO(a.what);
      case_rig c(v, a.fixed ? mqtt::compact_session_limits : mqtt::session_limits{}, a.fixed);
      const std::size_t before = c.r.link.session_allocations;
      check_refused(c.r, a.header, reason_code::packet_too_large, error(errc::packet_too_large));
      CHECK(c.r.link.session_allocations == before);
    }
  }
}

TEST_CASE("session: a large packet the limits allow grows the receive buffer only as its bytes arrive") {
  mqtt::session_limits l;
  l.input_bytes = 1024;
  rig r(basic_config(protocol_version::v5), l);
  r.connect();
  std::size_t got = 0;
  (void)token_of(r.session.subscribe("big", [p = &got](const mqtt::publish& m) { *p = m.payload.size(); }));
  r.link.pump();
  r.broker.grant(r.broker.expect<mqtt::subscribe>());
  r.link.pump();
  r.broker.send_publish("big", std::string(200'000, 'b'));
  r.link.pump();
  CHECK(got == 200'000);
  CHECK(r.session.is_ready());
}

TEST_CASE("session: reserved packet types, QoS 3 and other malformed packets: DISCONNECT 0x81") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    {
      case_rig c(v);
      check_refused(c.r, bytes({0x00, 0x00}), reason_code::malformed_packet, error(errc::bad_packet_type));
    }
    {
      case_rig c(v);  // PUBLISH with QoS 3
      check_refused(c.r, bytes({0x36, 5, 0, 1, 'a', 0, 1}), reason_code::malformed_packet, error(errc::bad_qos));
    }
    {
      case_rig c(v);  // a Remaining Length of five bytes
      check_refused(c.r, bytes({0x30, 0x80, 0x80, 0x80, 0x80, 0x01}), reason_code::malformed_packet,
                    error(errc::bad_varint));
    }
    {
      case_rig c(v);  // PUBACK with reserved flags
      check_refused(c.r, bytes({0x41, 2, 0, 1}), reason_code::malformed_packet, error(errc::bad_header_flags));
    }
  }
  SUBCASE("AUTH does not exist in MQTT 3.1.1") {
    case_rig c(protocol_version::v311);
    check_refused(c.r, bytes({0xF0, 0x00}), reason_code::malformed_packet, error(errc::bad_packet_type));
  }
}

TEST_CASE("session: packets a client never receives: DISCONNECT 0x82") {
  const byte_vector frames[] = {
      bytes({0x20, 2, 0, 0}),        // CONNACK twice
      bytes({0xC0, 0}),              // PINGREQ
      bytes({0x82, 6, 0, 1, 0, 1, 'a', 0}),  // SUBSCRIBE (MQTT 3.1.1 layout)
  };
  for (const byte_vector& f : frames) {
    case_rig c(protocol_version::v311);
    check_refused(c.r, f, reason_code::protocol_error, error(errc::unexpected_packet));
  }
  case_rig c(protocol_version::v5);
  check_refused(c.r, bytes({0x20, 3, 0, 0, 0}), reason_code::protocol_error, error(errc::unexpected_packet));
}

TEST_CASE("session: acknowledgements for identifiers we never used: DISCONNECT 0x82") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    {
      case_rig c(v);
      check_refused(c.r, bytes({0x40, 2, 0, 9}), reason_code::protocol_error, error(errc::unknown_packet_id));
    }
    {
      case_rig c(v);  // PUBREC for a QoS 1 message
      (void)token_of(c.r.publish("a", "x", qos::at_least_once));
      const mqtt::publish p = c.r.broker.expect<mqtt::publish>();
      check_refused(c.r, bytes({0x50, 2, 0, static_cast<int>(p.packet_id)}), reason_code::protocol_error,
                    error(errc::unknown_packet_id));
    }
    {
      case_rig c(v);  // PUBCOMP before PUBREC
      (void)token_of(c.r.publish("a", "x", qos::exactly_once));
      const mqtt::publish p = c.r.broker.expect<mqtt::publish>();
      check_refused(c.r, bytes({0x70, 2, 0, static_cast<int>(p.packet_id)}), reason_code::protocol_error,
                    error(errc::unknown_packet_id));
    }
    {
      case_rig c(v);  // SUBACK for nothing
      const byte_vector suback = v == protocol_version::v5 ? bytes({0x90, 4, 0, 4, 0, 0}) : bytes({0x90, 3, 0, 4, 0});
      check_refused(c.r, suback, reason_code::protocol_error, error(errc::unknown_packet_id));
    }
  }
}

TEST_CASE("session: a SUBACK with the wrong number of codes: DISCONNECT 0x82, nothing half-applied") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    case_rig c(v);
    (void)token_of(c.r.session.subscribe("a", nullptr));
    (void)token_of(c.r.session.subscribe("b", nullptr));
    c.r.link.pump();
    const mqtt::subscribe s = c.r.broker.expect<mqtt::subscribe>();
    CHECK(s.subscriptions.size() == 2);
    c.r.observer.clear();
    c.r.broker.send_suback(s.packet_id, {reason_code::granted_qos_1});
    c.r.link.pump();
    if (v == protocol_version::v5) CHECK(c.r.broker.expect<mqtt::disconnect>().reason == reason_code::protocol_error);
    CHECK(c.r.observer.names() == "disconnected backoff");
    CHECK(c.r.observer.last("disconnected").error == error(errc::protocol_error));
    // The two subscriptions are requested again on the next connection.
    c.r.await_packet();
    c.r.accept();
    CHECK(c.r.broker.expect<mqtt::subscribe>().subscriptions.size() == 2);
  }
}

TEST_CASE("session: a packet before CONNACK fails the attempt") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    r.start();
    (void)r.broker.expect<mqtt::connect>();
    r.broker.send_publish("a", "early");
    r.link.pump();
    if (v == protocol_version::v5) CHECK(r.broker.expect<mqtt::disconnect>().reason == reason_code::protocol_error);
    CHECK(r.observer.names() == "connecting connect_failed backoff");
    CHECK(r.observer.last("connect_failed").error == error(errc::unexpected_packet));
    CHECK(r.observer.count("message") == 0);
  }
}

TEST_CASE("session: QoS 2 messages beyond our Receive Maximum: DISCONNECT 0x93, the table stays bounded") {
  mqtt::session_limits l;
  l.inbound_qos2 = 4;
  rig r(basic_config(protocol_version::v5), l);
  r.connect();
  for (std::uint16_t id = 1; id <= 4; ++id) r.broker.send_publish("q", "x", qos::exactly_once, id);
  r.link.pump();
  CHECK(r.broker.expect_all<mqtt::pubrec>().size() == 4);
  CHECK(r.observer.count("message") == 4);
  check_refused(r, bytes({0x34, 6, 0, 1, 'q', 0, 5, 0}), reason_code::receive_maximum_exceeded,
                error(errc::receive_maximum_exceeded));
  CHECK(r.observer.count("message") == 0);  // check_refused() cleared the four; the fifth never came
}

TEST_CASE("session: a protocol error while the driver is still writing leaves those bytes alone") {
  // output() handed the buffer to the driver; until output_sent() the bytes must stay where they are.
  rig r(basic_config(protocol_version::v5));
  r.connect();
  r.link.write_limit = 0;  // the write is in progress
  (void)token_of(r.publish("a", "in flight on the wire", qos::at_least_once));
  const bytes_view writing = r.session.output(r.now());
  const byte_vector snapshot(writing.begin(), writing.end());
  REQUIRE(snapshot.size() > 3);
  r.broker.send_raw(bytes({0x40, 2, 0, 99}));  // PUBACK for an unknown identifier
  r.link.pump();
  CHECK(r.session.state() == mqtt::connection_state::disconnecting);
  CHECK(byte_vector(writing.begin(), writing.end()) == snapshot);
  r.broker.receive(snapshot);  // the write completes
  r.session.output_sent(snapshot.size(), r.now());
  r.link.write_limit = SIZE_MAX;
  r.link.pump();
  CHECK(r.broker.expect<mqtt::publish>().packet_id == 1);
  CHECK(r.broker.expect<mqtt::disconnect>().reason == reason_code::protocol_error);
  CHECK_FALSE(r.link.is_open());
}

TEST_CASE("session: garbage from the broker never crashes the session") {
  // Seeded random bytes after a good CONNACK, in random chunk sizes. Whatever happens, the session
  // ends up either still connected or closed with a reported reason, and stays usable.
  for (const protocol_version v : both_versions) {
    std::uint64_t state = 0x9E3779B97F4A7C15ull ^ static_cast<std::uint64_t>(v);
    auto next = [&state] {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      return state;
    };
    for (int round = 0; round < 60; ++round) {
      INFO(version_name(v), " round ", round);
      mqtt::session_limits l = mqtt::compact_session_limits;
      l.aliases_in = 2;
      l.alias_topic_bytes = 32;
      rig r(basic_config(v), l, true);
      r.connect();
      (void)token_of(r.session.subscribe("#", nullptr));
      (void)token_of(r.publish("a", "x", qos::at_least_once));
      r.link.read_limit = 1 + next() % 7;
      byte_vector junk(16 + next() % 200);
      for (byte& b : junk) b = static_cast<byte>(next());
      // Half the rounds start with a plausible header so the bodies get parsed too.
      if (round % 2 == 0) {
        junk[0] = static_cast<byte>((next() % 15 + 1) << 4);
        junk[1] = static_cast<byte>(next() % 100);
      }
      r.broker.send_raw(junk);
      r.link.pump();
      const auto state_now = r.session.state();
      CHECK((state_now == mqtt::connection_state::ready || state_now == mqtt::connection_state::connected ||
             state_now == mqtt::connection_state::backing_off));
      if (state_now == mqtt::connection_state::backing_off) CHECK(r.observer.count("disconnected") == 1);
      // It comes back and works.
      r.link.read_limit = SIZE_MAX;
      r.broker.discard_pending();
      if (state_now == mqtt::connection_state::backing_off) {
        r.await_packet();
        r.accept();
      }
      r.broker.discard_pending();
      (void)token_of(r.publish("b", "y"));
      CHECK(r.broker.expect<mqtt::publish>().topic == "b");
    }
  }
}

}  // namespace
