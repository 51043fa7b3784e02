// store::asio_outbox against mosquitto: an Asio client publishes a durable QoS 1 stream through a
// file-log outbox on its strand while the broker is restarted once; a subscriber with a persistent
// session must see every message, in order, duplicates only as repeats.
#include <doctest/doctest.h>

#include <thingwell/core/config.hpp>

#if THINGWELL_WITH_ASIO && THINGWELL_HAS_POSIX

#include <asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include <thingwell/store/asio_outbox.hpp>
#include <thingwell/store/file_log.hpp>

#include "client_harness.hpp"
#include "mosquitto.hpp"
#include "temp_dir.hpp"

using namespace std::chrono_literals;
using namespace thingwell;
namespace tt = thingwell::testing;

TEST_CASE("asio_outbox against mosquitto: broker restarted once, every durable message arrives in order") {
  constexpr std::uint64_t messages = 1000;
  tt::mosquitto_options mo;
  mo.persistence = true;
  mo.debug_log = false;
  mo.max_queued_messages = 0;
  mo.extra_config_lines = {"max_queued_bytes 0"};
  tt::mosquitto_broker broker(mo);
  broker.start();
  tt::temp_dir dir("asio-outbox");

  mqtt::session_config sc;
  sc.version = mqtt::protocol_version::v5;
  sc.client_id = "asio-outbox-sub";
  sc.mode = mqtt::session_mode::always_resume;
  sc.session_expiry = 3600;
  sc.reconnect = backoff_config{.base = duration{50}, .cap = duration{500}, .floor = duration{0},
                                .reset_after = duration{1000}, .mode = jitter::none};
  tt::recorder sub_events;
  tt::test_client sub(net::tcp{"127.0.0.1", broker.plain_port()}, sc, sub_events, tt::test_limits());
  std::uint64_t next = 0, duplicates = 0, disorder = 0;
  REQUIRE(sub.subscribe("asio-outbox/#", [&](const mqtt::publish& p) {
        const std::uint64_t n = std::strtoull(tt::text(p.payload).c_str(), nullptr, 10);
        if (n == next) ++next;
        else if (n < next) ++duplicates;
        else ++disorder;
      }, {.max_qos = mqtt::qos::at_least_once}).has_value());
  system_clock clock;
  REQUIRE(!sub.start(clock.now()));

  asio::io_context io;
  net::client_options co;
  co.host = "127.0.0.1";
  co.port = broker.plain_port();
  co.client_id = "asio-outbox-dev";
  co.mode = mqtt::session_mode::always_resume;
  co.session_expiry = 3600;
  co.reconnect = sc.reconnect;
  co.memory.store_records = 1024;
  net::asio_client<> client(io.get_executor(), co);
  auto log = store::file_log::open(dir.path());  // default policy: every record committed
  REQUIRE(log.has_value());
  store::outbox_config oc;
  oc.max_records = messages + 16;
  oc.max_bytes = (messages + 16) * 64;
  oc.max_message_bytes = 128;
  oc.feed_window = 16;
  store::asio_outbox box(client, *log, oc);
  tt::recorder dev_events;
  box.set_observer(&dev_events);
  REQUIRE(box.open().has_value());
  client.async_connect([](std::error_code) {});

  // One thread: the io_context and the subscriber take turns.
  const auto step = [&] {
    io.restart();
    io.run_for(std::chrono::milliseconds(2));
    const time_point next_poll = sub.poll(clock.now());
    sub.wait(clock.now(), std::min(next_poll, clock.now() + duration{1}));
  };
  const auto run = [&](auto done, std::chrono::milliseconds limit) {
    const time_point give_up = clock.now() + duration{limit.count()};
    while (!done() && clock.now() < give_up) step();
    return done();
  };
  REQUIRE(run([&] { return sub.session().is_ready() && dev_events.ready > 0; }, 10s));

  std::uint64_t completed = 0, durable = 0, failed = 0;
  char payload[32];
  for (std::uint64_t i = 0; i < messages; ++i) {
    const int n = std::snprintf(payload, sizeof payload, "%llu", static_cast<unsigned long long>(i));
    box.async_publish("asio-outbox/seq", std::string_view(payload, static_cast<std::size_t>(n)),
                      {.qos = mqtt::qos::at_least_once, .durable = true},
                      [&](std::error_code ec, store::publish_status s) {
                        ++completed;
                        if (ec || s.state == store::publish_state::dropped) ++failed;
                        if (s.durable) ++durable;
                      });
    if (i % 20 == 0) step();
    if (i == messages / 2) broker.restart();
  }
  // depth() is read on this thread while the io_context is not running: no other thread touches it.
  const bool all = run([&] { return next >= messages && completed == messages && box.box().depth() == 0; }, 30s);
  MESSAGE("asio outbox: messages=" << messages << " completed=" << completed << " durable=" << durable
          << " in_order_unique=" << next << " duplicates=" << duplicates << " out_of_order=" << disorder
          << " device_connections=" << dev_events.connected
          << " retransmitted=" << client.metrics().publishes_retransmitted);
  CHECK(all);
  CHECK(failed == 0);
  CHECK(durable == messages);
  CHECK(next == messages);
  CHECK(disorder == 0);
  CHECK(dev_events.connected >= 2);  // the restart did cut the device's connection
  bool stopped = false;
  client.async_disconnect([&](std::error_code) { stopped = true; });
  run([&] { return stopped; }, 5s);
  sub.stop(clock.now());
}

#endif
