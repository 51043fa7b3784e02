// The outbox across device restarts: durable messages come back in order, messages the session had
// sent are resent with DUP=1 and their packet identifiers, QoS 2 past PUBREC gets its PUBREL again;
// with a file log, power lost at every write boundary and a full disk (F-02, F-03, F-08, F-11).
#include <doctest/doctest.h>

#include <deque>
#include <set>
#include <string>

#include "outbox_testing.hpp"

#if THINGWELL_HAS_POSIX
#  include <thingwell/store/faulty_file_ops.hpp>
#  include <thingwell/store/file_log.hpp>

#  include "store_testing.hpp"
#endif

using namespace outbox_testing;
using namespace std::chrono_literals;

namespace {

st::message_options durable(mqtt::qos q = mqtt::qos::at_least_once) {
  st::message_options o;
  o.qos = q;
  o.durable = true;
  return o;
}

// First run: connect, publish `n` durable QoS 1 messages, the broker acknowledges the first `acked`;
// then the device dies (nothing is closed). Returns what the broker saw.
template <class Store>
std::vector<seen_publish> first_run(Store& store, int n, int acked) {
  box_rig<Store> b(store);
  REQUIRE(b.box.open(b.r.now()).has_value());
  b.go_online(false, /*auto_ack=*/false);
  for (int i = 0; i < n; ++i) {
    auto s = b.publish("t/seq", "m" + std::to_string(i), durable());
    REQUIRE(s.has_value());
    CHECK(s->durable);
  }
  auto seen = publishes(b.r.broker);
  for (int i = 0; i < acked && i < static_cast<int>(seen.size()); ++i) b.r.broker.send_puback(seen[static_cast<std::size_t>(i)].packet_id);
  b.r.link.pump();
  b.settle();
  return seen;
}

}  // namespace

TEST_CASE("outbox restart: unacknowledged messages are resent with DUP=1 and the same packet ids (F-11)") {
  small_store store;
  const auto before = first_run(store, 5, 2);
  REQUIRE(before.size() == 5);

  box_rig<small_store> b(store);
  REQUIRE(b.box.open(b.r.now()).has_value());
  const auto m = b.box.metrics(b.r.now());
  CHECK(m.restored == 3);
  CHECK(m.resumed == 3);
  b.go_online(/*session_present=*/true);
  const auto after = publishes(b.r.broker);
  REQUIRE(after.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(after[i].payload == before[i + 2].payload);
    CHECK(after[i].packet_id == before[i + 2].packet_id);
    CHECK(after[i].dup);
  }
  CHECK(b.box.depth() == 0);
}

TEST_CASE("outbox restart: without a session on the broker they are published again as new messages") {
  small_store store;
  (void)first_run(store, 3, 0);
  box_rig<small_store> b(store);
  REQUIRE(b.box.open(b.r.now()).has_value());
  b.go_online(/*session_present=*/false);
  const auto after = publishes(b.r.broker);
  REQUIRE(after.size() == 3);
  CHECK(joined(payloads(b.r.broker)) == "m0 m1 m2");
  for (const auto& p : after) CHECK(!p.dup);
}

TEST_CASE("outbox restart: QoS 2 past PUBREC gets only its PUBREL again") {
  small_store store;
  std::uint16_t id = 0;
  {
    box_rig<small_store> b(store);
    REQUIRE(b.box.open(b.r.now()).has_value());
    b.go_online(false, false);
    REQUIRE(b.publish("t/q2", "once", durable(mqtt::qos::exactly_once)).has_value());
    const auto p = b.r.broker.expect<mqtt::publish>();
    id = p.packet_id;
    b.r.broker.send_pubrec(id);
    b.r.link.pump();
    b.settle();
    CHECK(b.r.broker.expect<mqtt::pubrel>().packet_id == id);
  }
  box_rig<small_store> b(store);
  REQUIRE(b.box.open(b.r.now()).has_value());
  b.r.start();
  b.r.accept(true);
  b.settle();
  CHECK(b.r.broker.expect<mqtt::pubrel>().packet_id == id);
  b.r.broker.expect_nothing();
  b.r.broker.send_pubcomp(id);
  b.r.link.pump();
  b.settle();
  CHECK(b.box.depth() == 0);
  CHECK(b.box.metrics(b.r.now()).delivered == 1);
}

TEST_CASE("outbox restart: 2,000 messages persisted offline are delivered in their original order (F-03)") {
  using big_store = st::memory_store<8192, 1 << 20>;
  big_store store;
  st::outbox_config oc;
  oc.max_records = 4000;
  {
    box_rig<big_store> b(store, oc);
    REQUIRE(b.box.open(b.r.now()).has_value());
    for (int i = 0; i < 2000; ++i)
      REQUIRE(b.box.publish("t/seq", view(std::to_string(i)), durable(), b.r.now()).has_value());
  }
  box_rig<big_store> b(store, oc);
  REQUIRE(b.box.open(b.r.now()).has_value());
  CHECK(b.box.metrics(b.r.now()).restored == 2000);
  b.go_online();
  const auto seen = payloads(b.r.broker);
  REQUIRE(seen.size() == 2000);
  bool ordered = true;
  for (std::size_t i = 0; i < seen.size(); ++i) ordered = ordered && seen[i] == std::to_string(i);
  CHECK(ordered);
  // The journal shrank back: only what is live (nothing) plus records not yet worth popping.
  b.settle();
  CHECK(store.records() <= 64);
}

TEST_CASE("outbox: a message waiting behind a long stream is copied to the tail; the journal stays bounded") {
  small_store store;
  st::outbox_config oc;
  oc.max_records = 100;
  {
    box_rig<small_store> b(store, oc);
    REQUIRE(b.box.open(b.r.now()).has_value());
    st::message_options bulk = durable();
    bulk.priority = st::message_priority::bulk;
    REQUIRE(b.publish("t/bulk", "old", bulk).has_value());
    // The bulk message is handed at once (nothing else waits); the stream after it is acknowledged,
    // the bulk one is not, so it holds up the head of the journal.
    b.go_online(false, /*auto_ack=*/false);
    const auto first = b.r.broker.expect<mqtt::publish>();
    b.r.broker.replies.puback = true;
    for (int i = 0; i < 2000; ++i) REQUIRE(b.publish("t/live", std::to_string(i), durable()).has_value());
    CHECK(store.records() < 500);
    CHECK(b.box.metrics(b.r.now()).compactions > 0);
    (void)first;
  }
  box_rig<small_store> b(store, oc);
  REQUIRE(b.box.open(b.r.now()).has_value());
  CHECK(b.box.metrics(b.r.now()).restored == 1);
  b.go_online(true);
  const auto after = publishes(b.r.broker);
  REQUIRE(after.size() == 1);
  CHECK(after[0].payload == "old");
  CHECK(after[0].dup);
}

#if THINGWELL_HAS_POSIX

namespace {

st::file_log_config log_config() {
  st::file_log_config c;
  c.segment_bytes = 4096;
  c.max_record_bytes = 1024;
  c.commit.every_records = 0;  // the outbox commits
  return c;
}

}  // namespace

TEST_CASE("outbox restart over a file log: reopened, resent with DUP and the same packet ids") {
  store_testing::temp_dir dir;
  REQUIRE(dir.ok());
  std::vector<seen_publish> before;
  {
    auto log = st::file_log::open(dir.path(), log_config());
    REQUIRE(log.has_value());
    before = first_run(*log, 6, 3);
  }
  auto log = st::file_log::open(dir.path(), log_config());
  REQUIRE(log.has_value());
  box_rig<st::file_log> b(*log);
  REQUIRE(b.box.open(b.r.now()).has_value());
  b.go_online(true);
  const auto after = publishes(b.r.broker);
  REQUIRE(after.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(after[i].payload == before[i + 3].payload);
    CHECK(after[i].packet_id == before[i + 3].packet_id);
    CHECK(after[i].dup);
  }
}

namespace {

struct crash_progress {
  std::set<std::string> durable;  // publish() said committed
  std::set<std::string> evicted;  // dropped by the outbox itself to make room (a legitimate loss)
  std::set<std::string> reached;  // PUBLISHed to the broker in the first run (arrived, acked or not)
};

// Publishes 16 durable messages with an outbox of 10 (so evictions write done records), a connection
// that acknowledges some of them, and a head that gets tidied.
template <class Log>
crash_progress crash_workload(Log& log) {
  crash_progress p;
  st::outbox_config oc;
  oc.max_records = 10;
  oc.feed_window = 3;
  box_rig<Log> b(log, oc);
  if (!b.box.open(b.r.now())) return p;
  // Offline (before message 12) every kept message waits, so an eviction takes the oldest waiting
  // ones: counted from the overflow counter, which also sees evictions of a publish() whose commit then
  // failed (the status is lost with the error, the eviction is not undone).
  std::deque<std::string> waiting;
  for (int i = 0; i < 16; ++i) {
    if (i == 12) b.go_online();
    const std::string name = "c" + std::to_string(i);
    const std::uint64_t overflow_before = b.box.metrics(b.r.now()).dropped_by(st::drop_reason::overflow);
    auto s = b.box.publish("t/c", view(name), durable(), b.r.now());
    const std::uint64_t evicted = b.box.metrics(b.r.now()).dropped_by(st::drop_reason::overflow) - overflow_before;
    if (i < 12) {
      for (std::uint64_t k = 0; k < evicted && !waiting.empty(); ++k) {
        p.evicted.insert(waiting.front());
        waiting.pop_front();
      }
      // Kept unless the store refused the record before anything changed; a failed commit keeps it.
      if (b.box.depth() > waiting.size()) waiting.push_back(name);
    } else {
      REQUIRE(evicted == 0);  // online with a window of 3 and immediate acks: nothing needs evicting
    }
    if (s && s->durable) p.durable.insert(name);
    b.settle();
  }
  for (const std::string& m : payloads(b.r.broker)) p.reached.insert(m);
  return p;
}

}  // namespace

TEST_CASE("outbox over a file log: power lost at every write boundary; replay always works (F-08)") {
  std::uint64_t writes = 0;
  {
    store_testing::temp_dir dir;
    REQUIRE(dir.ok());
    st::file_fault_plan plan;
    plan.real_sync = false;
    auto log = st::basic_file_log<st::faulty_file_ops>::open(dir.path(), log_config(), st::faulty_file_ops{plan});
    REQUIRE(log.has_value());
    (void)crash_workload(*log);
    writes = plan.writes;
  }
  REQUIRE(writes > 10);
  int runs = 0;
  std::uint64_t durable_checked = 0;
  for (std::uint64_t n = 0; n < writes; ++n) {
    for (std::size_t keep : {std::size_t{0}, std::size_t{11}, std::size_t{100000}}) {
      for (bool lose_unsynced : {false, true}) {
        CAPTURE(n);
        CAPTURE(keep);
        CAPTURE(lose_unsynced);
        store_testing::temp_dir dir;
        REQUIRE(dir.ok());
        st::file_fault_plan plan;
        plan.kind = st::file_fault_plan::fault::crash;
        plan.at_write = n;
        plan.keep_bytes = keep;
        plan.lose_unsynced = lose_unsynced;
        plan.real_sync = false;
        crash_progress p;
        {
          auto log = st::basic_file_log<st::faulty_file_ops>::open(dir.path(), log_config(), st::faulty_file_ops{plan});
          REQUIRE(log.has_value());
          p = crash_workload(*log);
        }
        // Reboot: a new process, plain file operations, everything not yet acknowledged goes out.
        auto log = st::file_log::open(dir.path(), log_config());
        REQUIRE(log.has_value());
        box_rig<st::file_log> b(*log);
        REQUIRE(b.box.open(b.r.now()).has_value());
        b.go_online(false);
        const auto seen = payloads(b.r.broker);
        // In order, no duplicates.
        int last = -1;
        bool ordered = true;
        for (const std::string& s : seen) {
          const int k = std::stoi(s.substr(1));
          ordered = ordered && k > last;
          last = k;
        }
        CHECK(ordered);
        // Nothing committed is lost: every message publish() reported durable either reached the
        // broker before the crash, was evicted by the outbox itself (drop_oldest, offline), or is
        // delivered after the reboot.
        const std::set<std::string> after(seen.begin(), seen.end());
        for (const std::string& m : p.durable) {
          CAPTURE(m);
          CHECK((p.reached.count(m) != 0 || p.evicted.count(m) != 0 || after.count(m) != 0));
        }
        // Evictions are the only way out before the connection (12), so 10 of the first 12 remain.
        CHECK(p.evicted.size() <= 2);
        durable_checked += p.durable.size();
        ++runs;
      }
    }
  }
  MESSAGE("outbox crash runs: " << runs << " over " << writes << " write calls; " << durable_checked
          << " durable messages checked present after reopening");
}

TEST_CASE("outbox over a file log: a full disk is a typed error and nothing already stored is damaged") {
  store_testing::temp_dir dir;
  REQUIRE(dir.ok());
  st::file_fault_plan plan;
  std::vector<std::string> kept;
  {
    auto log = st::basic_file_log<st::faulty_file_ops>::open(dir.path(), log_config(), st::faulty_file_ops{plan});
    REQUIRE(log.has_value());
    box_rig<st::basic_file_log<st::faulty_file_ops>> b(*log);
    REQUIRE(b.box.open(b.r.now()).has_value());
    for (int i = 0; i < 5; ++i) {
      auto s = b.publish("t/d", "d" + std::to_string(i), durable());
      REQUIRE(s.has_value());
      REQUIRE(s->durable);
      kept.push_back("d" + std::to_string(i));
    }
    plan.kind = st::file_fault_plan::fault::disk_full;
    plan.at_write = plan.writes;
    plan.keep_bytes = 7;
    auto s = b.publish("t/d", "full", durable());
    REQUIRE(!s.has_value());
    CHECK(s.error() == thingwell::errc::storage_full);
    CHECK(b.box.last_store_error() == thingwell::errc::storage_full);
  }
  auto log = st::file_log::open(dir.path(), log_config());
  REQUIRE(log.has_value());
  box_rig<st::file_log> b(*log);
  REQUIRE(b.box.open(b.r.now()).has_value());
  b.go_online();
  auto seen = payloads(b.r.broker);
  // The refused message may have reached the file (a full disk fails after the record was buffered):
  // it is then delivered, never half. Everything committed before is there, in order.
  if (!seen.empty() && seen.back() == "full") seen.pop_back();
  CHECK(seen == kept);
}

#endif
