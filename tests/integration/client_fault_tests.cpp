// The MQTT client under network faults, through a proxy that delays, drops, cuts and blackholes.
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <string>

#include "client_harness.hpp"
#include "fault_proxy.hpp"
#include "mosquitto.hpp"

using namespace std::chrono_literals;
using namespace thingwell;
namespace tt = thingwell::testing;

namespace {

struct plain_broker : tt::mosquitto_broker {
  static tt::mosquitto_options options() {
    tt::mosquitto_options o;
    o.plain_listener = true;
    o.max_queued_messages = 0;
    o.max_inflight_messages = 0;
    return o;
  }
  plain_broker() : tt::mosquitto_broker(options()) { start(); }
};

mqtt::session_config config_for(const char* id, mqtt::protocol_version v) {
  mqtt::session_config c;
  c.client_id = id;
  c.version = v;
  c.keep_alive = 30;
  c.reconnect = {.base = duration{20}, .cap = duration{200}, .reset_after = duration{1000}};
  return c;
}

}  // namespace

TEST_CASE("a blackholed connection is declared dead within 1.5 x keep-alive and the client reconnects") {
  plain_broker broker;
  INFO(broker.log_tail());
  tt::fault_proxy link(broker.plain_port());
  for (auto version : {mqtt::protocol_version::v311, mqtt::protocol_version::v5}) {
    CAPTURE(int(version));
    link.heal();
    tt::recorder events;
    auto config = config_for("blackholed", version);
    config.keep_alive = 2;  // seconds: the smallest that keeps the test short and robust
    tt::test_client client{net::tcp{"127.0.0.1", link.port()}, config, events, tt::test_limits()};
    REQUIRE_FALSE(client.start(system_clock{}.now()));
    REQUIRE(tt::run_until({&client}, [&] { return events.ready == 1; }));

    // Traffic in one direction only keeps the link "busy" without proving the broker is alive.
    link.blackhole(true);
    const auto blackholed_at = std::chrono::steady_clock::now();
    int sent = 0;
    REQUIRE(tt::run_until({&client}, [&] {
      if (sent < 50) (void)client.publish("bh/telemetry", as_bytes("still here?"), {}), ++sent;
      return events.disconnected == 1;
    }, 10s));
    const auto detected_after = std::chrono::steady_clock::now() - blackholed_at;
    CHECK(events.last_disconnect == mqtt::disconnect_reason::keep_alive_timeout);
    CHECK(events.last_error == errc::keep_alive_timeout);
    // 1.5 x keep-alive = 3 s; the scheduler may add a little on a loaded machine.
    CHECK(detected_after <= 3500ms);
    CHECK(detected_after >= 1000ms);  // not a false alarm either

    link.blackhole(false);
    REQUIRE(tt::run_until({&client}, [&] { return events.ready == 2; }, 10s));
    client.stop(system_clock{}.now());
    REQUIRE(tt::run_until({&client}, [&] { return events.stopped == 1; }));
  }
}

TEST_CASE("PUBACKs lost before a link cut: the messages are resent with DUP and all complete") {
  plain_broker broker;
  INFO(broker.log_tail());
  for (auto version : {mqtt::protocol_version::v311, mqtt::protocol_version::v5}) {
    CAPTURE(int(version));
    tt::fault_proxy link(broker.plain_port());

    // Count the publishes on the wire, and those flagged as duplicates.
    std::atomic<int> publishes{0}, duplicates{0};
    link.set_frame_filter(tt::direction::client_to_server, [&](std::uint8_t first, const std::vector<std::uint8_t>&) {
      if ((first >> 4) == 3) {
        ++publishes;
        if (first & 0x08) ++duplicates;
      }
      return true;
    });
    link.set_frame_filter(tt::direction::server_to_client, tt::drop_packet_type(tt::mqtt_packet::puback));

    // The receiving side connects straight to the broker.
    tt::recorder sub_events;
    const auto sub_config = config_for("dup-subscriber", version);
    tt::test_client subscriber{net::tcp{"127.0.0.1", broker.plain_port()}, sub_config, sub_events, tt::test_limits()};
    std::vector<std::string> received;
    REQUIRE(subscriber.subscribe("dup/#", [&](const mqtt::publish& p) { received.push_back(tt::text(p.payload)); }));
    REQUIRE_FALSE(subscriber.start(system_clock{}.now()));

    tt::recorder events;
    auto config = config_for("dup-publisher", version);
    config.mode = mqtt::session_mode::resume_if_present;  // the broker keeps our session across the cut
    config.session_expiry = 60;
    tt::test_client publisher{net::tcp{"127.0.0.1", link.port()}, config, events, tt::test_limits()};
    REQUIRE_FALSE(publisher.start(system_clock{}.now()));
    REQUIRE(tt::run_until({&publisher, &subscriber}, [&] { return events.ready == 1 && sub_events.ready == 1; }));

    for (int i = 0; i < 10; ++i)
      REQUIRE(publisher.publish("dup/n", as_bytes(std::to_string(i)), {.qos = mqtt::qos::at_least_once}));
    // The broker delivers them, but every PUBACK is dropped on its way back.
    REQUIRE(tt::run_until({&publisher, &subscriber}, [&] { return received.size() >= 10; }));
    CHECK(events.publish_acks == 0);
    CHECK(publisher.session().metrics().in_flight == 10);

    link.set_frame_filter(tt::direction::server_to_client, nullptr);
    link.cut();
    REQUIRE(tt::run_until({&publisher, &subscriber}, [&] { return events.publish_acks == 10; }, 15s));
    CHECK(events.last_session_present);
    CHECK(duplicates >= 10);  // each unacknowledged message went out again with DUP=1
    CHECK(events.publish_failures == 0);
    // Every message arrived; duplicates are allowed (QoS 1), losses are not.
    std::set<std::string> distinct(received.begin(), received.end());
    CHECK(distinct.size() == 10);

    publisher.stop(system_clock{}.now());
    subscriber.stop(system_clock{}.now());
    REQUIRE(tt::run_until({&publisher, &subscriber}, [&] { return events.stopped == 1 && sub_events.stopped == 1; }));
  }
}

TEST_CASE("10,000 QoS 1 publishes through a link that is cut at random all arrive") {
  plain_broker broker;
  INFO(broker.log_tail());
  tt::fault_proxy link(broker.plain_port());

  tt::recorder sub_events;
  const auto sub_config = config_for("cuts-subscriber", mqtt::protocol_version::v5);
  tt::test_client subscriber{net::tcp{"127.0.0.1", broker.plain_port()}, sub_config, sub_events, tt::test_limits()};
  std::vector<bool> seen(10000, false);
  int distinct = 0;
  REQUIRE(subscriber.subscribe("cuts/#", [&](const mqtt::publish& p) {
    const int n = std::stoi(tt::text(p.payload));
    if (n >= 0 && n < 10000 && !seen[n]) {
      seen[n] = true;
      ++distinct;
    }
  }));
  REQUIRE_FALSE(subscriber.start(system_clock{}.now()));

  tt::recorder events;
  auto config = config_for("cuts-publisher", mqtt::protocol_version::v5);
  config.mode = mqtt::session_mode::resume_if_present;
  config.session_expiry = 60;
  tt::test_client publisher{net::tcp{"127.0.0.1", link.port()}, config, events, tt::test_limits()};
  REQUIRE_FALSE(publisher.start(system_clock{}.now()));
  REQUIRE(tt::run_until({&publisher, &subscriber}, [&] { return events.ready == 1 && sub_events.ready == 1; }));

  // A cut on average every 8 KB of traffic (about 400 bytes of MQTT per 10 messages each way): dozens
  // of cuts over the run, at random points, mid-packet included.
  link.random_cuts(20261122, std::uint64_t{8 * 1024});
  int next = 0;
  REQUIRE(tt::run_until({&publisher, &subscriber}, [&] {
    // Keep up to 500 messages queued: publish() never blocks, it queues while the link is down.
    while (next < 10000 && publisher.session().metrics().queued + publisher.session().metrics().in_flight < 500) {
      const std::string payload = std::to_string(next);
      if (!publisher.publish("cuts/seq", as_bytes(payload), {.qos = mqtt::qos::at_least_once})) break;
      ++next;
    }
    return next == 10000 && events.publish_acks == 10000 && distinct == 10000;
  }, 120s));
  link.stop_random_cuts();
  MESSAGE("link cuts: " << link.counters().connections_cut << ", reconnections: " << events.connected - 1
                        << ", retransmitted: " << publisher.session().metrics().publishes_retransmitted);
  CHECK(link.counters().connections_cut >= 10);
  CHECK(events.publish_failures == 0);
  CHECK(distinct == 10000);

  publisher.stop(system_clock{}.now());
  subscriber.stop(system_clock{}.now());
  REQUIRE(tt::run_until({&publisher, &subscriber}, [&] { return events.stopped == 1 && sub_events.stopped == 1; }));
}
