// MQTT 5 topic aliases: the ones we assign to repeated topics, and the ones the broker assigns to us.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/scripted_broker.hpp"

namespace {

using namespace session_testing;
using mqtt::protocol_version;
using mqtt::qos;
using mqtt::reason_code;

// "topic@alias" for each PUBLISH pending at the broker ("" topic when only the alias is sent).
std::vector<std::string> aliases_sent(scripted_broker& b) {
  std::vector<std::string> out;
  for (const mqtt::publish& p : b.expect_all<mqtt::publish>())
    out.push_back(std::string(p.topic) + "@" + std::to_string(p.props.topic_alias.value_or(0)));
  return out;
}

mqtt::connack with_alias_maximum(std::uint16_t n) {
  mqtt::connack ack;
  ack.props.topic_alias_maximum = n;
  return ack;
}

TEST_CASE("session: outbound topic aliases: topic once, then the alias alone; least recently used replaced") {
  rig r(basic_config(protocol_version::v5));
  r.connect(with_alias_maximum(2));
  (void)token_of(r.publish("a/1", "x"));
  (void)r.broker.expect<mqtt::publish>();
  CHECK(hex(r.broker.last_bytes()) == hex(bytes({0x30, 10, 0, 3, 'a', '/', '1', 3, 0x23, 0, 1, 'x'})));
  (void)token_of(r.publish("a/1", "x"));
  (void)r.broker.expect<mqtt::publish>();
  CHECK(hex(r.broker.last_bytes()) == hex(bytes({0x30, 7, 0, 0, 3, 0x23, 0, 1, 'x'})));

  for (const char* t : {"a/2", "a/1", "a/3", "a/1", "a/2"}) (void)token_of(r.publish(t, "x"));
  CHECK(aliases_sent(r.broker) == std::vector<std::string>{"a/2@2", "@1", "a/3@2", "@1", "a/2@2"});

  // QoS 1 messages are aliased too; the store keeps the full topic for a resend.
  (void)token_of(r.publish("a/2", "y", qos::at_least_once));
  CHECK(aliases_sent(r.broker) == std::vector<std::string>{"@2"});
}

TEST_CASE("session: outbound aliases start over on each connection") {
  mqtt::session_config c = basic_config(protocol_version::v5);
  c.mode = mqtt::session_mode::always_resume;
  rig r(c);
  r.connect(with_alias_maximum(4));
  (void)token_of(r.publish("t/1", "x"));
  (void)token_of(r.publish("t/1", "y", qos::at_least_once));
  CHECK(aliases_sent(r.broker) == std::vector<std::string>{"t/1@1", "@1"});
  r.link.drop();
  r.await_packet();
  mqtt::connack ack = with_alias_maximum(4);
  ack.session_present = true;
  r.accept(ack);
  // The unacknowledged message goes again, naming its topic: the broker forgot the alias.
  const auto resent = r.broker.expect_all<mqtt::publish>();
  REQUIRE(resent.size() == 1);
  if (resent.size() != 1) return;
  CHECK(resent[0].topic == "t/1");
  CHECK(resent[0].dup);
  CHECK(resent[0].props.topic_alias == std::uint16_t{1});
}

TEST_CASE("session: no outbound aliases when the broker allows none or the configuration says so") {
  {
    rig r(basic_config(protocol_version::v5));
    r.connect();  // no Topic Alias Maximum: 0
    (void)token_of(r.publish("a/1", "x"));
    (void)token_of(r.publish("a/1", "x"));
    CHECK(aliases_sent(r.broker) == std::vector<std::string>{"a/1@0", "a/1@0"});
  }
  mqtt::session_config c = basic_config(protocol_version::v5);
  c.auto_topic_aliases = false;
  rig r(c);
  r.connect(with_alias_maximum(10));
  (void)token_of(r.publish("a/1", "x"));
  (void)token_of(r.publish("a/1", "x"));
  CHECK(aliases_sent(r.broker) == std::vector<std::string>{"a/1@0", "a/1@0"});
}

void send_aliased(scripted_broker& b, std::string_view topic, std::uint16_t alias, std::string_view payload) {
  mqtt::publish p;
  p.topic = topic;
  p.props.topic_alias = alias;
  p.payload = view(payload);
  b.send(p);
}

TEST_CASE("session: inbound topic aliases are resolved") {
  rig r(basic_config(protocol_version::v5));
  r.connect();
  std::vector<std::string> got;
  (void)token_of(r.session.subscribe("cmd/#", [p = &got](const mqtt::publish& m) {
    p->push_back(std::string(m.topic) + "=" + text(m.payload));
  }));
  r.link.pump();
  r.broker.grant(r.broker.expect<mqtt::subscribe>());
  send_aliased(r.broker, "cmd/x", 1, "1");
  send_aliased(r.broker, "", 1, "2");
  send_aliased(r.broker, "cmd/y", 16, "3");  // our maximum (the default limits: 16)
  send_aliased(r.broker, "", 16, "4");
  send_aliased(r.broker, "cmd/z", 1, "5");   // alias 1 now names another topic
  send_aliased(r.broker, "", 1, "6");
  r.link.pump();
  CHECK(got == std::vector<std::string>{"cmd/x=1", "cmd/x=2", "cmd/y=3", "cmd/y=4", "cmd/z=5", "cmd/z=6"});
  CHECK(r.session.is_ready());
}

struct bad_alias {
  const char* what;
  byte_vector frame;
};

TEST_CASE("session: an invalid inbound alias ends the connection with DISCONNECT 0x94") {
  const bad_alias cases[] = {
      {"alias 0", bytes({0x30, 7, 0, 0, 3, 0x23, 0, 0, 'x'})},
      {"alias above our maximum of 16", bytes({0x30, 8, 0, 1, 'a', 3, 0x23, 0, 17, 'x'})},
      {"alias never set", bytes({0x30, 7, 0, 0, 3, 0x23, 0, 5, 'x'})},
  };
  for (const bad_alias& c : cases) {
    INFO(c.what);
    rig r(basic_config(protocol_version::v5));
    r.connect();
    r.observer.clear();
    r.broker.send_raw(c.frame);
    r.link.pump();
    CHECK(r.broker.expect<mqtt::disconnect>().reason == reason_code::topic_alias_invalid);
    CHECK(disconnect_reason_byte(r.broker.last_bytes()) == 0x94);
    CHECK(r.observer.names() == "disconnected backoff");
    CHECK(r.observer.last("disconnected").reason == mqtt::disconnect_reason::protocol);
    CHECK(r.observer.last("disconnected").error == error(errc::topic_alias_invalid));
    CHECK(r.observer.count("message") == 0);
    CHECK_FALSE(r.link.is_open());
  }
  SUBCASE("a session that advertises no aliases refuses alias 1") {
    rig r(basic_config(protocol_version::v5), mqtt::compact_session_limits, true);
    r.connect();
    r.broker.send_raw(bytes({0x30, 8, 0, 1, 'a', 3, 0x23, 0, 1, 'x'}));
    r.link.pump();
    CHECK(r.broker.expect<mqtt::disconnect>().reason == reason_code::topic_alias_invalid);
  }
}

}  // namespace

TEST_CASE("session: a stored message gets its alias spliced in: properties, identifier and payload intact at every size") {
  // QoS 1 messages wait in the store in their full form and are aliased on the way out. Property blocks
  // and payloads around 127/128 bytes make both the property length and the Remaining Length cross a
  // varint boundary when the alias property is added.
  for (const std::size_t content_type_length : {0u, 100u, 121u, 122u, 123u, 124u, 125u, 200u}) {
    for (const std::size_t payload_length : {0u, 1u, 60u, 100u, 110u, 115u, 116u, 117u, 118u, 119u, 120u, 300u}) {
      CAPTURE(content_type_length);
      CAPTURE(payload_length);
      rig r(basic_config(protocol_version::v5));
      r.connect(with_alias_maximum(3));
      const std::string content_type(content_type_length, 'c');
      const std::string payload(payload_length, 'p');
      mqtt::publish_options o;
      o.qos = qos::at_least_once;
      if (content_type_length != 0) o.props.content_type = content_type;
      for (int round = 0; round < 2; ++round) {
        auto t = r.link.in_session([&] { return r.session.publish("s/t", view(payload), o); });
        REQUIRE(t.has_value());
        r.link.pump();
        const auto sent = r.broker.expect_all<mqtt::publish>();
        REQUIRE(sent.size() == 1);
        if (sent.size() != 1) return;
        const mqtt::publish& p = sent[0];
        CHECK(p.topic == (round == 0 ? "s/t" : ""));
        CHECK(p.props.topic_alias == std::uint16_t{1});
        CHECK(p.qos == qos::at_least_once);
        CHECK(p.packet_id != 0);
        CHECK(std::string(p.props.content_type.value_or("")) == content_type);
        CHECK(thingwell::as_string(p.payload) == payload);
        CHECK(r.broker.last_bytes().size() ==
              thingwell::mqtt::encoded_size(p, protocol_version::v5).value_or(0));  // minimal lengths
      }
    }
  }
}
