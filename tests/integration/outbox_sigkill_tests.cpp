// The outbox across device crashes (F-02, F-08 end to end): a device program (device/outbox_device.cpp)
// publishes numbered durable QoS 1 messages through a file-log outbox to mosquitto; the test SIGKILLs it
// at random moments, 10 times, and starts it again over the same data directory each time, then lets a
// last run drain. Every message the device reported as durably accepted (publish() returned
// status.durable, i.e. committed) must reach a subscriber with a persistent session. Duplicates are
// allowed (at-least-once: a kill between PUBACK and the committed "done" record resends) and counted.
//
// THINGWELL_SIGKILL_KILLS (default 10) and THINGWELL_SIGKILL_SEED scale and replay it.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "client_harness.hpp"
#include "mosquitto.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#ifdef THINGWELL_OUTBOX_DEVICE_PATH

using namespace std::chrono_literals;
using namespace thingwell;
namespace tt = thingwell::testing;

namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// What one run of the device said (see the protocol in outbox_device.cpp).
struct run_report {
  std::vector<std::string> durable;  // "<run>:<n>" payloads reported durable
  bool opened = false;
  bool drained = false;
  std::vector<std::string> errors;
  std::string text;
};

run_report read_report(const std::string& path) {
  run_report r;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    r.text += line + "\n";
    // Only complete lines count: a write cut by the kill would have no newline (never seen with a
    // single write(2) of a short line, but cheap to rule out).
    if (in.eof()) break;
    if (line.rfind("D ", 0) == 0) r.durable.push_back(line.substr(2));
    else if (line.rfind("O ", 0) == 0) r.opened = true;
    else if (line.rfind("X ", 0) == 0) r.drained = true;
    else if (line.rfind("E ", 0) == 0) r.errors.push_back(line);
  }
  return r;
}

}  // namespace

TEST_CASE("outbox device SIGKILLed 10 times mid-stream: every message reported durable arrives") {
  const std::uint64_t kills = env_or("THINGWELL_SIGKILL_KILLS", 10);
  const std::uint64_t seed = env_or("THINGWELL_SIGKILL_SEED", std::random_device{}());
  CAPTURE(seed);
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int> kill_after_ms(80, 600);

  tt::mosquitto_options mo;
  mo.persistence = true;  // not restarted here; the sessions only have to outlive the device's connections
  mo.debug_log = false;
  mo.max_queued_messages = 0;
  mo.extra_config_lines = {"max_queued_bytes 0"};
  tt::mosquitto_broker broker(mo);
  broker.start();
  tt::temp_dir files("outbox-sigkill");
  const std::string data = files.file("data");
  REQUIRE(std::system(("mkdir -p '" + data + "'").c_str()) == 0);

  // Subscriber: a thingwell poll client with a persistent session, on this thread.
  mqtt::session_config sc;
  sc.version = mqtt::protocol_version::v5;
  sc.client_id = "sigkill-sub";
  sc.mode = mqtt::session_mode::always_resume;
  sc.session_expiry = 3600;
  tt::recorder sub_events;
  tt::test_client sub(net::tcp{"127.0.0.1", broker.plain_port()}, sc, sub_events, tt::test_limits());
  std::map<std::string, std::uint64_t> received;  // payload -> times received
  std::uint64_t receptions = 0;
  REQUIRE(sub.subscribe("sigkill/#", [&](const mqtt::publish& p) {
        ++receptions;
        ++received[tt::text(p.payload)];
      }, {.max_qos = mqtt::qos::at_least_once}).has_value());
  system_clock clock;
  REQUIRE(!sub.start(clock.now()));
  REQUIRE(tt::run_until({&sub}, [&] { return sub.session().is_ready(); }, 10s));

  // Polls the subscriber for `d` (or until `done`).
  const auto serve = [&](std::chrono::milliseconds d, auto done) {
    const time_point until = clock.now() + duration{d.count()};
    while (clock.now() < until && !done()) {
      const time_point next = sub.poll(clock.now());
      sub.wait(clock.now(), std::min({next, until, clock.now() + duration{5}}));
    }
    return done();
  };
  const auto device = [&](std::uint64_t run, bool drain) {
    tt::process_options po;
    po.argv = {THINGWELL_OUTBOX_DEVICE_PATH, data, std::to_string(broker.plain_port()), "sigkill-dev",
               std::to_string(run), drain ? "200" : "1000000", "1"};
    if (drain) po.argv.push_back("drain");
    po.log_path = files.file("run-" + std::to_string(run) + ".log");
    return std::make_unique<tt::child_process>(po);
  };

  const auto started = std::chrono::steady_clock::now();
  std::set<std::string> durable;  // every payload any run reported durable
  std::uint64_t reported = 0;
  std::uint64_t killed_before_open = 0;
  for (std::uint64_t run = 0; run < kills; ++run) {
    auto child = device(run, false);
    const int after = kill_after_ms(random);
    serve(std::chrono::milliseconds(after), [] { return false; });
    REQUIRE_MESSAGE(child->running(), "the device ended on its own:\n" << read_report(child->log_path()).text);
    const tt::exit_status st = child->kill();
    CHECK(st.signal == SIGKILL);
    const run_report r = read_report(child->log_path());
    CHECK_MESSAGE(r.errors.empty(), r.text);
    if (!r.opened) ++killed_before_open;
    for (const std::string& p : r.durable) durable.insert(p);
    reported += r.durable.size();
    MESSAGE("run " << run << ": killed after " << after << " ms, " << r.durable.size() << " reported durable");
  }

  // The last run publishes a few more, waits until its outbox is empty and stops cleanly.
  auto last = device(kills, true);
  const bool exited = serve(30s, [&] { return !last->running(); });
  const run_report r = read_report(last->log_path());
  REQUIRE_MESSAGE(exited, r.text);
  CHECK_MESSAGE(last->status()->success(), r.text);
  CHECK(r.drained);
  CHECK_MESSAGE(r.errors.empty(), r.text);
  for (const std::string& p : r.durable) durable.insert(p);
  reported += r.durable.size();
  REQUIRE(reported == durable.size());  // payloads are unique per run by construction

  // Everything the device delivered is at the broker; give the subscriber time to take it all.
  const auto missing = [&] {
    std::vector<std::string> out;
    for (const std::string& p : durable)
      if (received.find(p) == received.end()) out.push_back(p);
    return out;
  };
  serve(15s, [&] { return missing().empty(); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::uint64_t duplicates = 0, unreported = 0;
  for (const auto& [payload, times] : received) {
    duplicates += times - 1;
    if (durable.find(payload) == durable.end()) ++unreported;  // committed, killed before it said so
  }
  const std::vector<std::string> lost = missing();
  std::string lost_list;
  for (std::size_t i = 0; i < lost.size() && i < 20; ++i) lost_list += lost[i] + " ";
  MESSAGE("outbox sigkill: seed=" << seed << " kills=" << kills << " killed_before_open=" << killed_before_open
          << " durable_reported=" << durable.size() << " received_unique=" << received.size()
          << " receptions=" << receptions << " duplicates=" << duplicates
          << " received_unreported=" << unreported << " lost=" << lost.size() << " seconds=" << seconds);
  CHECK_MESSAGE(lost.empty(), "lost: " << lost_list);
  CHECK(durable.size() > kills);  // the kills did land mid-stream, not before the first publish
  sub.stop(clock.now());
}

#endif  // THINGWELL_OUTBOX_DEVICE_PATH
