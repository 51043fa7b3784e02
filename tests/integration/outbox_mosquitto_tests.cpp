// The outbox against a real mosquitto: the broker is restarted several times while a device publishes
// a QoS 1 stream through a file-log outbox; a subscriber with a persistent session must see every
// message, in order per topic, duplicates only as repeats of a sequence number it already has (F-02).
//
// THINGWELL_SOAK_MESSAGES and THINGWELL_SOAK_RESTARTS scale it up (scripts/soak-outbox.sh).
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <thingwell/store/file_log.hpp>
#include <thingwell/store/outbox.hpp>

#include "client_harness.hpp"
#include "mosquitto.hpp"
#include "temp_dir.hpp"

using namespace std::chrono_literals;
using namespace thingwell;
namespace tt = thingwell::testing;

namespace {

std::size_t env_or(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? static_cast<std::size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

mqtt::session_config persistent(const char* id) {
  mqtt::session_config c;
  c.version = mqtt::protocol_version::v5;
  c.client_id = id;
  c.mode = mqtt::session_mode::always_resume;
  c.session_expiry = 3600;
  c.keep_alive = 30;
  c.reconnect = backoff_config{.base = duration{50}, .cap = duration{500}, .floor = duration{0},
                               .reset_after = duration{1000}, .mode = jitter::none};
  return c;
}

struct per_topic {
  std::uint64_t next = 0;        // next new sequence number expected
  std::uint64_t duplicates = 0;  // repeats of a number already seen
  std::uint64_t out_of_order = 0;
};

}  // namespace

TEST_CASE("outbox against mosquitto: broker restarted during a QoS 1 stream; all arrive in order per topic") {
  const std::size_t messages = env_or("THINGWELL_SOAK_MESSAGES", 3000);
  const std::size_t restarts = env_or("THINGWELL_SOAK_RESTARTS", 3);
  const char* topics[] = {"soak/a", "soak/b"};

  tt::mosquitto_options mo;
  mo.persistence = true;
  mo.debug_log = false;
  mo.max_queued_messages = 0;  // unlimited: the subscriber's session holds what arrives while it is away
  mo.extra_config_lines = {"max_queued_bytes 0"};
  tt::mosquitto_broker broker(mo);
  broker.start();
  tt::temp_dir dir("outbox");

  // Subscriber: persistent session, QoS 1.
  tt::recorder sub_events;
  tt::test_client sub(net::tcp{"127.0.0.1", broker.plain_port()}, persistent("outbox-sub"), sub_events, tt::test_limits());
  std::map<std::string, per_topic> seen;
  std::uint64_t received = 0;
  REQUIRE(sub.subscribe("soak/#", [&](const mqtt::publish& p) {
        ++received;
        per_topic& t = seen[std::string(p.topic)];
        const std::string body = tt::text(p.payload);
        const std::uint64_t n = std::strtoull(body.c_str(), nullptr, 10);
        if (n == t.next) ++t.next;
        else if (n < t.next) ++t.duplicates;
        else ++t.out_of_order;
      }, {.max_qos = mqtt::qos::at_least_once}).has_value());

  // Device: a poll client with a file-log outbox in front of its session.
  tt::recorder dev_events;
  tt::test_client dev(net::tcp{"127.0.0.1", broker.plain_port()}, persistent("outbox-dev"), dev_events, tt::test_limits());
  store::file_log_config lc;
  lc.commit.every_records = 0;
  auto log = store::file_log::open(dir.path(), lc);
  REQUIRE(log.has_value());
  store::outbox_config oc;
  oc.max_records = messages + 16;
  oc.max_bytes = (messages + 16) * 64;
  oc.max_message_bytes = 256;
  oc.feed_window = 32;
  oc.commit_on_publish = false;  // group commit every 20 ms
  oc.commit_interval = duration{20};
  store::outbox box(dev.session(), *log, oc);
  system_clock clock;
  REQUIRE(box.open(clock.now()).has_value());
  REQUIRE(!sub.start(clock.now()));
  REQUIRE(!dev.start(clock.now()));

  const auto step = [&] {
    const time_point now = clock.now();
    box.pump(now);
    time_point next = std::min(dev.poll(now), sub.poll(now));
    box.pump(clock.now());
    next = std::min(next, box.next_deadline(clock.now()));
    dev.wait(clock.now(), std::min(next, clock.now() + duration{2}));
  };
  const auto run = [&](auto done, std::chrono::milliseconds limit) {
    const time_point give_up = clock.now() + duration{limit.count()};
    while (!done() && clock.now() < give_up) step();
    return done();
  };
  REQUIRE(run([&] { return sub.session().is_ready() && dev.session().is_ready(); }, 10s));

  const auto started = std::chrono::steady_clock::now();
  const std::size_t every = messages / (restarts + 1);
  std::size_t done_restarts = 0;
  std::uint64_t sequence[2] = {0, 0};
  char payload[32];
  for (std::size_t i = 0; i < messages; ++i) {
    const std::size_t t = i % 2;
    const int n = std::snprintf(payload, sizeof payload, "%llu", static_cast<unsigned long long>(sequence[t]++));
    store::message_options o;
    o.qos = mqtt::qos::at_least_once;
    o.durable = true;
    auto s = box.publish(topics[t], bytes_view(reinterpret_cast<const byte*>(payload), static_cast<std::size_t>(n)), o,
                         clock.now());
    REQUIRE(s.has_value());
    REQUIRE(s->state != store::publish_state::dropped);
    if (i % 16 == 0) step();
    if (every != 0 && i != 0 && i % every == 0 && done_restarts < restarts) {
      broker.restart();
      ++done_restarts;
    }
  }
  const bool all = run([&] { return seen[topics[0]].next + seen[topics[1]].next >= messages && box.depth() == 0; },
                       std::chrono::milliseconds(env_or("THINGWELL_SOAK_DRAIN_MS", 60000)));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::uint64_t dups = 0, disorder = 0;
  for (auto& [name, t] : seen) {
    dups += t.duplicates;
    disorder += t.out_of_order;
  }
  const auto m = box.metrics(clock.now());
  MESSAGE("outbox soak: messages=" << messages << " restarts=" << done_restarts << " received=" << received
          << " in_order_unique=" << seen[topics[0]].next + seen[topics[1]].next << " duplicates=" << dups
          << " out_of_order=" << disorder << " seconds=" << seconds << " msg_per_s=" << messages / seconds
          << " reconnects=" << dev_events.connected << " retransmitted=" << dev.session().metrics().publishes_retransmitted
          << " journal_compactions=" << m.compactions);
  CHECK(all);
  CHECK(done_restarts == restarts);
  CHECK(seen[topics[0]].next == (messages + 1) / 2);
  CHECK(seen[topics[1]].next == messages / 2);
  CHECK(disorder == 0);
  CHECK(m.dropped_total() == 0);
  dev.stop(clock.now());
  sub.stop(clock.now());
}
