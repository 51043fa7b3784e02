// The AWS IoT Core profile: what is refused locally with a typed error before anything reaches the
// wire, and the local rate limiter that keeps a burst within the broker's per-connection rate.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/scripted_broker.hpp"

namespace {

using namespace session_testing;
using mqtt::protocol_version;
using mqtt::qos;

mqtt::session_config aws_config(protocol_version v) {
  mqtt::session_config c = basic_config(v);
  c.limits = mqtt::aws_iot_core_limits;
  return c;
}

// A topic of exactly `bytes` bytes with `slashes` '/' in it.
std::string topic_of(std::size_t bytes, std::size_t slashes) {
  std::string t(bytes, 'x');
  for (std::size_t i = 0; i < slashes; ++i) t[1 + 2 * i] = '/';
  return t;
}

TEST_CASE("session: AWS IoT Core topic limits: 256 bytes, 7 slashes, except the Basic Ingest prefix") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    rig r(aws_config(v));
    r.connect();
    CHECK(r.publish(topic_of(256, 7), "x").has_value());
    CHECK(r.publish(topic_of(257, 0), "x").error() == error(errc::topic_too_long));
    CHECK(r.publish(topic_of(100, 8), "x").error() == error(errc::topic_too_many_levels));
    // "$aws/rules/<rule>/" does not count.
    const std::string rules = "$aws/rules/my_rule/";
    CHECK(r.publish(rules + topic_of(256, 7), "x").has_value());
    CHECK(r.publish(rules + topic_of(257, 0), "x").error() == error(errc::topic_too_long));
    CHECK(r.publish(rules + topic_of(100, 8), "x").error() == error(errc::topic_too_many_levels));
    CHECK(r.session.subscribe(topic_of(257, 0), nullptr).error() == error(errc::topic_too_long));
    CHECK(r.session.subscribe("a/b/c/d/e/f/g/h/i", nullptr).error() == error(errc::topic_too_many_levels));
    r.link.advance(1s);  // 100 publishes per second: paced 10 ms apart
    CHECK(r.broker.expect_all<mqtt::publish>().size() == 2);  // only the two allowed ones went out
  }
}

TEST_CASE("session: AWS IoT Core payload, QoS, subscription and client id limits") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    mqtt::session_limits big;
    big.output_bytes = 256 * 1024;  // room for the largest payload AWS accepts
    rig r(aws_config(v), big);
    r.connect();
    CHECK(r.publish("t", std::string(128 * 1024, 'p'), qos::at_least_once).has_value());
    CHECK(r.publish("t", std::string(128 * 1024 + 1, 'p')).error() == error(errc::payload_too_large));
    CHECK(r.publish("t", "x", qos::exactly_once).error() == error(errc::qos_not_supported));
    mqtt::subscribe_options q2;
    q2.max_qos = qos::exactly_once;
    CHECK(r.session.subscribe("t", nullptr, q2).error() == error(errc::qos_not_supported));
    CHECK(r.broker.expect<mqtt::publish>().payload.size() == 128 * 1024);
    r.broker.expect_nothing();

    for (int i = 0; i < 50; ++i) CHECK(r.session.subscribe("s/" + std::to_string(i), nullptr).has_value());
    CHECK(r.session.subscribe("s/50", nullptr).error() == error(errc::too_many_subscriptions));
    // Replacing an existing subscription is not a new one.
    CHECK(r.session.subscribe("s/7", nullptr).has_value());
  }
  SUBCASE("client id: 128 bytes at most") {
    static const std::string ok(128, 'c');
    static const std::string too_long(129, 'c');
    mqtt::session_config c = aws_config(protocol_version::v5);
    c.client_id = ok;
    {
      rig r(c);
      CHECK_FALSE(r.session.start(r.now()));
    }
    c.client_id = too_long;
    rig r(c);
    CHECK(r.session.start(r.now()) == error(errc::client_id_invalid));
  }
  SUBCASE("the session's own output buffer bounds a message too") {
    // The default 64 KiB output buffer cannot carry AWS's largest payload: refused, not queued forever.
    rig r(aws_config(protocol_version::v5));
    r.connect();
    CHECK(r.publish("t", std::string(100 * 1024, 'p'), qos::at_least_once).error() == error(errc::packet_too_large));
    CHECK(r.session.metrics().queued == 0);
  }
}

// True when no `limit` + 1 PUBLISH packets of the history went out within one second.
bool within_rate(const scripted_broker& b, std::size_t limit, std::size_t& count) {
  std::vector<time_point> times;
  for (const received_packet& rp : b.history())
    if (rp.packet && mqtt::type_of(*rp.packet) == mqtt::packet_type::publish) times.push_back(rp.at);
  count = times.size();
  for (std::size_t i = 0; i + limit < times.size(); ++i) {
    if (times[i + limit] - times[i] < 1000ms) {
      FAIL_CHECK(std::to_string(limit + 1), " publishes within ", (times[i + limit] - times[i]).count(), " ms, from #", i);
      return false;
    }
  }
  return true;
}

TEST_CASE("session: the local rate limiter spreads a burst of 1,000 publishes at 100 per second") {
  for (const protocol_version v : both_versions) {
    for (const qos q : {qos::at_most_once, qos::at_least_once}) {
      INFO(version_name(v), " QoS ", static_cast<int>(q));
      mqtt::session_config c = aws_config(v);
      c.queue_qos0_offline = false;
      rig r(c);
      r.broker.replies.puback = true;
      r.broker.replies.pingresp = true;
      r.connect();
      const time_point t0 = r.now();
      int refused = 0;
      for (int i = 0; i < 1000; ++i) {
        auto t = r.link.in_session([&] {
          mqtt::publish_options o;
          o.qos = q;
          return r.session.publish("things/thing-1/burst", view(std::to_string(i)), o);
        });
        refused += !t.has_value();
      }
      CHECK(refused == 0);
      r.link.advance(20s);
      std::size_t sent = 0;
      CHECK(within_rate(r.broker, 100, sent));
      CHECK(sent == 1000);
      // In order, and not much slower than the rate allows: the last one within ten seconds.
      std::vector<std::string> payloads;
      time_point last{};
      for (const received_packet& rp : r.broker.history()) {
        if (!rp.packet) continue;
        if (const auto* p = std::get_if<mqtt::publish>(&*rp.packet)) {
          payloads.push_back(text(p->payload));
          last = rp.at;
        }
      }
      REQUIRE(payloads.size() == 1000);
      bool in_order = true;
      for (int i = 0; i < 1000; ++i) in_order = in_order && payloads[static_cast<std::size_t>(i)] == std::to_string(i);
      CHECK(in_order);
      CHECK(last - t0 <= 10s);
      CHECK(r.session.metrics().rate_limited > 0);
      if (q == qos::at_least_once) CHECK(r.observer.count("publish_done") == 1000);
      CHECK(r.session.metrics().queued == 0);
    }
  }
}

TEST_CASE("session: the byte rate holds a stream of large messages to its long-run average") {
  mqtt::session_config c = basic_config(protocol_version::v5);
  c.limits.bytes_per_second = 10'000;
  rig r(c);
  r.connect();
  const time_point t0 = r.now();
  for (int i = 0; i < 150; ++i) (void)token_of(r.publish("t", std::string(1000, 'b')));  // 15 s worth
  r.link.advance(10s);
  std::size_t bytes_out = 0;
  for (const received_packet& rp : r.broker.history())
    if (rp.packet && mqtt::type_of(*rp.packet) == mqtt::packet_type::publish) bytes_out += rp.bytes.size();
  // At most the bucket (one second's worth) plus ten seconds at the rate.
  CHECK(bytes_out <= 10'000 + 10 * 10'000);
  CHECK(bytes_out >= 9 * 10'000);
  (void)t0;
}

}  // namespace
