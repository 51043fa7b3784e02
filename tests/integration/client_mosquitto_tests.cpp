// The MQTT client against a real mosquitto: round trips, persistent sessions, wills, broker restarts.
#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <future>
#include <string>
#include <thread>

#include "client_harness.hpp"
#include "mosquitto.hpp"
#include "mqtt_peer.hpp"
#include "wait_until.hpp"

using namespace std::chrono_literals;
using namespace thingwell;
namespace tt = thingwell::testing;

namespace {

tt::mosquitto_options plain_broker_options() {
  tt::mosquitto_options o;
  o.plain_listener = true;
  o.max_queued_messages = 0;  // unlimited: MQTT 3.1.1 has no receive maximum to pace the broker
  return o;
}

// A started broker with a plain loopback listener.
struct plain_broker : tt::mosquitto_broker {
  plain_broker() : tt::mosquitto_broker(plain_broker_options()) { start(); }
};

mqtt::session_config config_for(const char* id, mqtt::protocol_version v) {
  mqtt::session_config c;
  c.client_id = id;
  c.version = v;
  c.keep_alive = 30;
  c.reconnect = {.base = duration{50}, .cap = duration{500}};
  return c;
}

const char* name_of(mqtt::protocol_version v) { return v == mqtt::protocol_version::v5 ? "MQTT 5" : "MQTT 3.1.1"; }

}  // namespace

TEST_CASE("QoS 0, 1 and 2 round trips through mosquitto with the poll driver, both protocol versions") {
  plain_broker broker;
  INFO(broker.log_tail());
  for (auto version : {mqtt::protocol_version::v311, mqtt::protocol_version::v5}) {
    CAPTURE(name_of(version));
    tt::recorder events;
    const auto config = config_for("roundtrip", version);
    tt::test_client client{net::tcp{"127.0.0.1", broker.plain_port()}, config, events, tt::test_limits()};

    struct seen {
      std::string payload;
      mqtt::qos qos;
    };
    std::vector<seen> received;
    REQUIRE(client.subscribe("rt/#", [&](const mqtt::publish& p) { received.push_back({tt::text(p.payload), p.qos}); },
                             {.max_qos = mqtt::qos::exactly_once}));
    REQUIRE_FALSE(client.start(system_clock{}.now()));
    REQUIRE(tt::run_until({&client}, [&] { return events.ready == 1; }));

    for (auto q : {mqtt::qos::at_most_once, mqtt::qos::at_least_once, mqtt::qos::exactly_once}) {
      const std::string payload = "payload at QoS " + std::to_string(int(q));
      REQUIRE(client.publish("rt/" + std::to_string(int(q)), as_bytes(payload), {.qos = q}));
    }
    REQUIRE(tt::run_until({&client}, [&] { return received.size() == 3 && events.publish_acks == 2; }));
    for (int q = 0; q < 3; ++q) {
      CHECK(received[q].payload == "payload at QoS " + std::to_string(q));
      CHECK(int(received[q].qos) == q);  // granted QoS 2, so each arrives at its own QoS
    }
    CHECK(events.publish_failures == 0);
    client.stop(system_clock{}.now());
    REQUIRE(tt::run_until({&client}, [&] { return events.stopped == 1; }));
  }
}

TEST_CASE("QoS 1 round trips with the Asio driver, callbacks and futures, both protocol versions") {
  plain_broker broker;
  INFO(broker.log_tail());
  for (auto version : {mqtt::protocol_version::v311, mqtt::protocol_version::v5}) {
    CAPTURE(name_of(version));
    asio::io_context io;
    net::client_options o;
    o.host = "127.0.0.1";
    o.port = broker.plain_port();
    o.client_id = "asio-roundtrip";
    o.version = version;
    net::asio_client<net::asio_tcp> client{io.get_executor(), o};
    std::thread runner;
    std::atomic<int> received{0};
    {
      auto guard = asio::make_work_guard(io);
      runner = std::thread([&] { io.run(); });
      client.async_connect(asio::use_future).get();
      const auto granted = client
                                     .async_subscribe("asio/#", [&](const mqtt::publish&) { ++received; },
                                                      {.max_qos = mqtt::qos::at_least_once},
                                                      asio::use_future)
                                     .get();
      CHECK(granted == mqtt::reason_code::granted_qos_1);
      std::vector<std::future<void>> acks;
      for (int i = 0; i < 100; ++i)
        acks.push_back(client.async_publish("asio/x", std::string_view("hello"), {.qos = mqtt::qos::at_least_once},
                                            asio::use_future));
      for (auto& f : acks) f.get();  // throws if any PUBACK failed
      CHECK(tt::wait_until([&] { return received == 100; }, 10s));
      client.async_disconnect(asio::use_future).get();
    }
    runner.join();
  }
}

TEST_CASE("a persistent session delivers the QoS 1 messages published while the device was offline") {
  plain_broker broker;
  INFO(broker.log_tail());
  for (auto version : {mqtt::protocol_version::v311, mqtt::protocol_version::v5}) {
    CAPTURE(name_of(version));
    auto config = config_for(version == mqtt::protocol_version::v5 ? "resumer-5" : "resumer-3", version);
    config.mode = mqtt::session_mode::always_resume;
    config.session_expiry = 300;

    {  // First life: subscribe, then leave.
      tt::recorder events;
      tt::test_client client{net::tcp{"127.0.0.1", broker.plain_port()}, config, events, tt::test_limits()};
      REQUIRE(client.subscribe("offline/#", [](const mqtt::publish&) {}));
      REQUIRE_FALSE(client.start(system_clock{}.now()));
      REQUIRE(tt::run_until({&client}, [&] { return events.ready == 1; }));
      client.stop(system_clock{}.now());
      REQUIRE(tt::run_until({&client}, [&] { return events.stopped == 1; }));
    }

    tt::mqtt_peer_options peer;
    peer.port = broker.plain_port();
    peer.client_id = "offline-publisher";
    const auto published = tt::publish_with_peer(peer, {.topic = "offline/news", .payload = "while you were away", .qos = 1, .count = 5});
    REQUIRE_MESSAGE(published.success(), published.output);

    // Second life: a new client object, as after a device restart. It has no handler for offline/#
    // yet, so the broker's stored messages arrive at the observer.
    tt::recorder events;
    tt::test_client client{net::tcp{"127.0.0.1", broker.plain_port()}, config, events, tt::test_limits()};
    REQUIRE_FALSE(client.start(system_clock{}.now()));
    REQUIRE(tt::run_until({&client}, [&] { return events.unmatched.size() == 5; }));
    CHECK(events.last_session_present);
    for (const auto& payload : events.unmatched_payloads) CHECK(payload == "while you were away");
    client.stop(system_clock{}.now());
    REQUIRE(tt::run_until({&client}, [&] { return events.stopped == 1; }));
  }
}

TEST_CASE("the will is published when the device vanishes, and not after a clean stop") {
  plain_broker broker;
  INFO(broker.log_tail());
  tt::mqtt_peer_options peer;
  peer.port = broker.plain_port();
  peer.client_id = "will-watcher";
  tt::mqtt_subscriber watcher(peer, {"status/#"}, 1);

  for (auto version : {mqtt::protocol_version::v311, mqtt::protocol_version::v5}) {
    CAPTURE(name_of(version));
    const std::string topic = std::string("status/") + (version == mqtt::protocol_version::v5 ? "five" : "three");
    auto config = config_for("will-device", version);
    config.will = mqtt::will_message{topic, as_bytes("offline (unexpected)"), mqtt::qos::at_least_once, false, {}};

    const std::size_t before = watcher.messages().size();
    {  // A clean stop: DISCONNECT tells the broker to discard the will.
      tt::recorder events;
      tt::test_client client{net::tcp{"127.0.0.1", broker.plain_port()}, config, events, tt::test_limits()};
      REQUIRE_FALSE(client.start(system_clock{}.now()));
      REQUIRE(tt::run_until({&client}, [&] { return events.ready == 1; }));
      client.stop(system_clock{}.now());
      REQUIRE(tt::run_until({&client}, [&] { return events.stopped == 1; }));
    }
    std::this_thread::sleep_for(500ms);
    CHECK(watcher.messages().size() == before);

    {  // The device dies: the socket closes without DISCONNECT.
      tt::recorder events;
      tt::test_client client{net::tcp{"127.0.0.1", broker.plain_port()}, config, events, tt::test_limits()};
      REQUIRE_FALSE(client.start(system_clock{}.now()));
      REQUIRE(tt::run_until({&client}, [&] { return events.ready == 1; }));
      client.transport().close();
    }
    REQUIRE(watcher.wait_for_messages(before + 1, 5s));
    const auto last = watcher.messages().back();
    CHECK(last.topic == topic);
    CHECK(last.payload_text() == "offline (unexpected)");
  }
}

TEST_CASE("the client reconnects and restores its subscriptions after the broker restarts") {
  plain_broker broker;
  INFO(broker.log_tail());
  for (auto version : {mqtt::protocol_version::v311, mqtt::protocol_version::v5}) {
    CAPTURE(name_of(version));
    tt::recorder events;
    const auto config = config_for("restart", version);
    tt::test_client client{net::tcp{"127.0.0.1", broker.plain_port()}, config, events, tt::test_limits()};
    int received = 0;
    REQUIRE(client.subscribe("restart/#", [&](const mqtt::publish&) { ++received; }));
    REQUIRE_FALSE(client.start(system_clock{}.now()));
    REQUIRE(tt::run_until({&client}, [&] { return events.ready == 1; }));

    broker.restart();  // same port; clean sessions are gone
    REQUIRE(tt::run_until({&client}, [&] { return events.ready == 2; }, 15s));
    CHECK(events.disconnected == 1);
    CHECK(events.last_disconnect == mqtt::disconnect_reason::network);
    CHECK_FALSE(events.backoffs.empty());

    // The subscription is back on the new broker: a message published now reaches the handler.
    REQUIRE(client.publish("restart/ping", as_bytes("after restart"), {.qos = mqtt::qos::at_least_once}));
    REQUIRE(tt::run_until({&client}, [&] { return received == 1 && events.publish_acks == 1; }));
    client.stop(system_clock{}.now());
    REQUIRE(tt::run_until({&client}, [&] { return events.stopped == 1; }));
  }
}
