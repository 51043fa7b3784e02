// What the session puts in CONNECT, and what it learns from CONNACK.
#include <doctest/doctest.h>

#include <string>

#include "support/scripted_broker.hpp"

namespace {

using namespace session_testing;
using mqtt::protocol_version;
using mqtt::reason_code;
using mqtt::session_mode;

TEST_CASE("session: CONNECT bytes for a plain configuration") {
  SUBCASE("v3.1.1: clean session, keep-alive, client id; nothing else") {
    rig r(basic_config(protocol_version::v311));
    r.start();
    (void)r.broker.expect<mqtt::connect>();
    CHECK(hex(r.broker.last_bytes()) ==
          hex(bytes({0x10, 0x13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 7, 't', 'h', 'i', 'n', 'g', '-', '1'})));
  }
  SUBCASE("v5: the default limits advertise Receive Maximum 64, Topic Alias Maximum 16, 1 MiB packets") {
    rig r(basic_config(protocol_version::v5));
    r.start();
    (void)r.broker.expect<mqtt::connect>();
    CHECK(hex(r.broker.last_bytes()) ==
          hex(bytes({0x10, 0x1F, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60,
                     11, 0x21, 0, 64, 0x22, 0, 16, 0x27, 0, 0x10, 0, 0,  // properties
                     0, 7, 't', 'h', 'i', 'n', 'g', '-', '1'})));
  }
}

// Connects, drops the link, lets the session reconnect; returns both CONNECT packets.
struct two_connects {
  mqtt::connect first;
  mqtt::connect second;
};

two_connects connect_twice(rig& r, bool second_session_present) {
  two_connects out;
  out.first = r.connect();
  r.link.drop();
  r.await_packet();
  out.second = r.accept(second_session_present);
  return out;
}

TEST_CASE("session: session mode clean: clean start on every connection, no session expiry") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    mqtt::session_config c = basic_config(v);
    c.mode = session_mode::clean;
    c.session_expiry = 7200;  // ignored: a clean session has nothing to keep
    rig r(c);
    const two_connects cc = connect_twice(r, false);
    CHECK(cc.first.clean_start);
    CHECK(cc.second.clean_start);
    CHECK_FALSE(cc.first.props.session_expiry_interval.has_value());
    CHECK_FALSE(cc.second.props.session_expiry_interval.has_value());
  }
}

TEST_CASE("session: session mode resume_if_present: clean once at start() (MQTT 5), then resume") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    mqtt::session_config c = basic_config(v);
    c.mode = session_mode::resume_if_present;
    c.session_expiry = 7200;
    rig r(c);
    // MQTT 3.1.1 keeps a session only when it was created with Clean Session 0, so there the mode
    // resumes from the first connection on.
    const bool v5 = v == protocol_version::v5;
    const two_connects cc = connect_twice(r, true);
    CHECK(cc.first.clean_start == v5);
    CHECK_FALSE(cc.second.clean_start);
    if (v5) {
      CHECK(cc.first.props.session_expiry_interval == 7200u);
      CHECK(cc.second.props.session_expiry_interval == 7200u);
    }
    // start() after stop() is a new start: clean again.
    r.session.stop(r.now());
    r.link.pump();
    r.broker.discard_pending();
    const mqtt::connect third = r.connect();
    CHECK(third.clean_start == v5);
  }
}

TEST_CASE("session: session mode resume_if_present: a first attempt that fails keeps the next one clean") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    mqtt::session_config c = basic_config(v);
    c.mode = session_mode::resume_if_present;
    rig r(c);
    r.start();
    const bool v5 = v == protocol_version::v5;
    CHECK(r.broker.expect<mqtt::connect>().clean_start == v5);
    r.link.drop();  // before any CONNACK
    r.await_packet();
    CHECK(r.broker.expect<mqtt::connect>().clean_start == v5);
  }
}

TEST_CASE("session: session mode always_resume: never clean; MQTT 5 asks for an hour without a configured expiry") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    mqtt::session_config c = basic_config(v);
    c.mode = session_mode::always_resume;
    rig r(c);
    const two_connects cc = connect_twice(r, true);
    CHECK_FALSE(cc.first.clean_start);
    CHECK_FALSE(cc.second.clean_start);
    if (v == protocol_version::v5) CHECK(cc.first.props.session_expiry_interval == 3600u);
  }
}

TEST_CASE("session: CONNECT carries the will (with its delay), user name and password") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    const bool v5 = v == protocol_version::v5;
    mqtt::session_config c = basic_config(v);
    mqtt::will_message will;
    will.topic = "things/thing-1/status";
    will.payload = view("offline");
    will.qos = mqtt::qos::at_least_once;
    will.retain = true;
    if (v5) will.props.will_delay_interval = 30;
    c.will = will;
    c.username = "user?SDK=thingwell";
    static const byte secret[] = {0x00, 0xFF, 0x10};
    c.password = bytes_view(secret);
    rig r(c);
    r.start();
    const mqtt::connect got = r.broker.expect<mqtt::connect>();
    REQUIRE(got.will.has_value());
    if (!got.will) continue;
    CHECK(got.will->topic == "things/thing-1/status");
    CHECK(text(got.will->payload) == "offline");
    CHECK(got.will->qos == mqtt::qos::at_least_once);
    CHECK(got.will->retain);
    if (v5) CHECK(got.will->props.will_delay_interval == 30u);
    CHECK(got.username == std::optional<std::string_view>("user?SDK=thingwell"));
    REQUIRE(got.password.has_value());
    if (got.password) CHECK(hex(*got.password) == "00 ff 10");
  }
}

TEST_CASE("session: CONNECT advertises what the session can receive (MQTT 5)") {
  SUBCASE("configured Receive Maximum, capped by the inbound QoS 2 table") {
    mqtt::session_config c = basic_config(protocol_version::v5);
    c.receive_maximum = 10;
    {
      rig r(c);
      r.start();
      CHECK(r.broker.expect<mqtt::connect>().props.receive_maximum == 10);
    }
    mqtt::session_limits small;
    small.inbound_qos2 = 4;
    rig r(c, small);
    r.start();
    CHECK(r.broker.expect<mqtt::connect>().props.receive_maximum == 4);
  }
  SUBCASE("compact limits: no topic aliases, 2 KiB packets") {
    rig r(basic_config(protocol_version::v5), mqtt::compact_session_limits, true);
    r.start();
    const mqtt::connect got = r.broker.expect<mqtt::connect>();
    CHECK_FALSE(got.props.topic_alias_maximum.has_value());
    CHECK(got.props.maximum_packet_size == 2048u);
    CHECK(got.props.receive_maximum == 4);
  }
  SUBCASE("a fixed receive buffer smaller than max_incoming_packet advertises the buffer") {
    // Advertising more than the buffer holds would make the session refuse packets the broker was
    // allowed to send.
    mqtt::session_limits l;
    l.growable_input = false;
    l.input_bytes = 1024;
    l.max_incoming_packet = 4096;
    rig r(basic_config(protocol_version::v5), l);
    r.start();
    CHECK(r.broker.expect<mqtt::connect>().props.maximum_packet_size == 1024u);
  }
  SUBCASE("authentication method and data, problem information, user properties") {
    mqtt::session_config c = basic_config(protocol_version::v5);
    c.authentication_method = "SCRAM-SHA-1";
    static const byte first[] = {1, 2, 3};
    c.authentication_data = bytes_view(first);
    c.request_problem_information = false;
    static const mqtt::user_property props[] = {{"fw", "1.2.3"}};
    c.connect_user_properties = props;
    rig r(c);
    r.start();
    const mqtt::connect got = r.broker.expect<mqtt::connect>();
    CHECK(got.props.authentication_method == std::optional<std::string_view>("SCRAM-SHA-1"));
    REQUIRE(got.props.authentication_data.has_value());
    if (got.props.authentication_data) CHECK(hex(*got.props.authentication_data) == "01 02 03");
    CHECK(got.props.request_problem_information == std::uint8_t{0});
    REQUIRE(got.props.user_properties.size() == 1);
    for (const mqtt::user_property& p : got.props.user_properties) CHECK((p == mqtt::user_property{"fw", "1.2.3"}));
  }
}

TEST_CASE("session: enhanced authentication answers the broker's challenge before CONNACK") {
  mqtt::session_config c = basic_config(protocol_version::v5);
  c.authentication_method = "SCRAM-SHA-1";
  rig r(c);
  static const byte answer[] = {0xAA, 0xBB};
  r.observer.auth_answer = bytes_view(answer);
  r.start();
  (void)r.broker.expect<mqtt::connect>();
  mqtt::auth challenge;
  challenge.reason = reason_code::continue_authentication;
  challenge.props.authentication_method = "SCRAM-SHA-1";
  static const byte nonce[] = {9, 9};
  challenge.props.authentication_data = bytes_view(nonce);
  r.broker.send(challenge);
  r.link.pump();
  const mqtt::auth reply = r.broker.expect<mqtt::auth>();
  CHECK(reply.reason == reason_code::continue_authentication);
  CHECK(reply.props.authentication_method == std::optional<std::string_view>("SCRAM-SHA-1"));
  REQUIRE(reply.props.authentication_data.has_value());
  if (reply.props.authentication_data) CHECK(hex(*reply.props.authentication_data) == "aa bb");
  r.broker.send(mqtt::connack{});
  r.link.pump();
  CHECK(r.observer.take_names() == "connecting auth_challenge connected ready");

  SUBCASE("no answer: DISCONNECT 0x8C and the slow retry path") {
    rig q(c);
    q.start();
    (void)q.broker.expect<mqtt::connect>();
    q.broker.send(challenge);
    q.link.pump();
    const mqtt::disconnect d = q.broker.expect<mqtt::disconnect>();
    CHECK(d.reason == reason_code::bad_authentication_method);
    CHECK(q.observer.last("connect_failed").fatal);
    CHECK(q.observer.last("backoff").fatal);
  }
}

TEST_CASE("session: CONNACK capabilities bound what the session sends (MQTT 5)") {
  rig r(basic_config(protocol_version::v5));
  mqtt::connack ack;
  ack.props.receive_maximum = 3;
  ack.props.maximum_qos = 0;
  ack.props.retain_available = 0;
  ack.props.maximum_packet_size = 64;
  ack.props.topic_alias_maximum = 5;
  ack.props.server_keep_alive = 10;
  ack.props.wildcard_subscription_available = 0;
  ack.props.shared_subscription_available = 0;
  r.connect(ack);
  CHECK(r.observer.take_names() == "connecting connected ready");

  const auto& b = r.session.broker();
  CHECK(b.receive_maximum == 3);
  CHECK(b.maximum_qos == mqtt::qos::at_most_once);
  CHECK_FALSE(b.retain_available);
  CHECK(b.maximum_packet_size == 64u);
  CHECK(b.topic_alias_maximum == 5);
  CHECK(b.keep_alive == 10);
  CHECK_FALSE(b.wildcard_subscriptions);
  CHECK_FALSE(b.shared_subscriptions);

  CHECK(r.publish("a/b", "x", mqtt::qos::at_least_once).error() == error(errc::qos_not_supported));
  CHECK(r.publish("a/b", "x", mqtt::qos::at_most_once, true).error() == error(errc::retain_not_supported));
  CHECK(r.publish("a/b", std::string(100, 'x')).error() == error(errc::packet_too_large));
  CHECK(r.session.subscribe("a/+", nullptr).error() == error(errc::not_supported));
  CHECK(r.session.subscribe("$share/g/a", nullptr).error() == error(errc::not_supported));
  r.broker.expect_nothing();

  // Server Keep Alive replaces the 60 s we asked for.
  r.link.advance(10s);
  (void)r.broker.expect<mqtt::pingreq>();
}

TEST_CASE("session: messages queued offline that the broker cannot take fail instead of going out (MQTT 5)") {
  // Sending them anyway would break [MQTT-3.1.2-24] or the Maximum QoS and get us disconnected, every
  // time, with the message stuck at the head of the queue.
  rig r(basic_config(protocol_version::v5));
  const mqtt::token big = token_of(r.publish("a/b", std::string(100, 'x'), mqtt::qos::at_least_once));
  const mqtt::token qos2 = token_of(r.publish("a/b", "x", mqtt::qos::exactly_once));
  const mqtt::token retained = token_of(r.publish("a/c", "y", mqtt::qos::at_least_once, true));
  const mqtt::token fine = token_of(r.publish("a/d", "z", mqtt::qos::at_least_once));
  mqtt::connack ack;
  ack.props.maximum_packet_size = 64;
  ack.props.maximum_qos = 1;
  ack.props.retain_available = 0;
  r.connect(ack);
  const auto done = r.observer.all("publish_done");
  REQUIRE(done.size() == 3);
  if (done.size() != 3) return;
  CHECK(done[0].token == big);
  CHECK(done[0].error == error(errc::packet_too_large));
  CHECK(done[1].token == qos2);
  CHECK(done[1].error == error(errc::qos_not_supported));
  CHECK(done[2].token == retained);
  CHECK(done[2].error == error(errc::retain_not_supported));
  const mqtt::publish p = r.broker.expect<mqtt::publish>();
  CHECK(p.topic == "a/d");
  r.broker.expect_nothing();
  r.broker.send_puback(p.packet_id);
  r.link.pump();
  CHECK(r.observer.last("publish_done").token == fine);
  CHECK(r.session.metrics().queued == 0);
  CHECK(r.session.metrics().in_flight == 0);
  CHECK(r.session.metrics().publishes_failed == 3);
}

TEST_CASE("session: the client id the broker assigns is used on reconnect (MQTT 5)") {
  mqtt::session_config c = basic_config(protocol_version::v5);
  c.client_id = "";
  rig r(c);
  mqtt::connack ack;
  ack.props.assigned_client_identifier = "auto-7f3a";
  const mqtt::connect first = r.connect(ack);
  CHECK(first.client_id.empty());
  r.link.drop();
  r.await_packet();
  const mqtt::connect second = r.accept();
  CHECK(second.client_id == "auto-7f3a");
}

TEST_CASE("session: CONNACK with session present after a clean start is a protocol error") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(basic_config(v));
    mqtt::connack ack;
    ack.session_present = true;
    r.connect(ack);
    if (v == protocol_version::v5) CHECK(r.broker.expect<mqtt::disconnect>().reason == reason_code::protocol_error);
    const event failed = r.observer.last("connect_failed");
    CHECK(failed.error == error(errc::protocol_error));
    CHECK(r.observer.count("connected") == 0);
    CHECK_FALSE(r.link.is_open());
  }
}

TEST_CASE("session: start() refuses a configuration the broker profile forbids") {
  mqtt::session_config c = basic_config(protocol_version::v5);
  c.limits = mqtt::aws_iot_core_limits;
  c.client_id = std::string_view("$reserved");
  {
    rig r(c);
    CHECK(r.session.start(r.now()) == error(errc::client_id_invalid));
  }
  c.client_id = "thing-1";
  c.keep_alive = 10;  // AWS IoT Core: 30..1200 s
  {
    rig r(c);
    CHECK(r.session.start(r.now()) == error(errc::keep_alive_out_of_range));
  }
  c.keep_alive = 60;
  c.mode = session_mode::always_resume;
  c.client_id = "";
  {
    rig r(c);
    CHECK(r.session.start(r.now()) == error(errc::client_id_invalid));  // a persistent session needs a name
  }
  // A CONNECT that cannot fit the output buffer would fail on every attempt: refused up front.
  c.client_id = "thing-1";
  c.mode = session_mode::clean;
  static const std::string long_name(3000, 'u');
  c.username = long_name;
  {
    rig r(c, mqtt::compact_session_limits, true);
    CHECK(r.session.start(r.now()) == error(errc::buffer_too_small));
    CHECK(r.session.state() == mqtt::connection_state::idle);
  }
}

}  // namespace
