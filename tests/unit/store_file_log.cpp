// The file log under failure: power lost at every write boundary (and inside every write), a full disk,
// and a torn tail found at open.
#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through <system_error>'s operator<<, which needs it

#include <thingwell/core/config.hpp>

#if THINGWELL_HAS_POSIX

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <thingwell/store/faulty_file_ops.hpp>
#include <thingwell/store/file_log.hpp>

#include "store_testing.hpp"

namespace tw = thingwell;
namespace st = thingwell::store;
using tw::errc;
using store_testing::payload;

namespace {

st::file_log_config small_config() {
  st::file_log_config c;
  c.segment_bytes = 700;      // several segments in a short run: rotation and removal are exercised
  c.max_segments = 16;
  c.max_record_bytes = 200;
  c.max_key_bytes = 16;
  c.max_value_bytes = 64;
  c.write_buffer_bytes = 256;  // fills before most commits: flushes happen in the middle of a group
  c.commit.every_records = 0;  // the workload commits explicitly, so it knows what is durable
  return c;
}

std::size_t size_of(std::uint64_t id) { return 10 + (id * 29) % 90; }

// What the workload got done before the crash: the durable part and the part in doubt.
struct progress {
  std::uint64_t appended = 0;           // appends that returned a sequence number
  std::uint64_t attempted_appends = 0;  // ... plus the one in flight
  std::uint64_t popped = 0;
  std::uint64_t committed_appends = 0;  // appended before the last successful commit
  std::uint64_t committed_pops = 0;
  int committed_value = -1;  // last put that returned success (-1: none)
  int in_flight_value = -1;
};

// Appends, pops, puts and commits in a fixed pattern until something fails.
template <class Log>
progress workload(Log& log) {
  progress p;
  tw::byte out[256];
  for (std::uint64_t step = 0; step < 40; ++step) {
    ++p.attempted_appends;
    if (!log.append(payload(p.appended, size_of(p.appended)))) return p;
    ++p.appended;
    if (step % 3 == 2) {
      if (!log.peek(out) || !log.pop()) return p;
      ++p.popped;
    }
    if (step % 10 == 5) {
      const int v = static_cast<int>(step);
      p.in_flight_value = v;
      if (!log.put("state", tw::as_bytes("value-" + std::to_string(v)))) return p;
      p.committed_value = v;
    }
    if (step % 4 == 3) {
      if (!log.commit()) return p;
      p.committed_appends = p.appended;
      p.committed_pops = p.popped;
    }
  }
  if (log.commit()) {
    p.committed_appends = p.appended;
    p.committed_pops = p.popped;
  }
  return p;
}

// After the reboot: the queue is a run of consecutive records [first, last) with everything committed in
// it, contents intact, and the key holds a value that was put.
void check_recovered(const store_testing::temp_dir& dir, const progress& p) {
  auto reopened = st::file_log::open(dir.path(), small_config());
  REQUIRE(reopened.has_value());
  auto& log = *reopened;
  tw::byte out[256];

  auto g = log.get("state", out);
  if (p.committed_value < 0 && p.in_flight_value < 0) {
    CHECK(g.error() == errc::not_found);
  } else if (g) {
    const std::string v(tw::as_string({out, *g}));
    CHECK((v == "value-" + std::to_string(p.committed_value) || v == "value-" + std::to_string(p.in_flight_value)));
  } else {
    CHECK(g.error() == errc::not_found);
    CHECK(p.committed_value < 0);  // nothing committed yet: the in-flight put may be lost
  }

  std::optional<std::uint64_t> first;
  std::uint64_t next = 0;
  for (;;) {
    auto r = log.peek(out);
    if (!r) {
      REQUIRE(r.error() == errc::not_found);
      break;
    }
    if (!first) {
      first = r->sequence;
      next = r->sequence;
    }
    CHECK(r->sequence == next);  // no gap, no duplicate, in order
    CHECK(tw::equal({out, r->size}, payload(r->sequence, size_of(r->sequence))));
    ++next;
    REQUIRE(log.pop().has_value());
  }
  if (first) {
    // It starts at a record popped after the last committed pop (a crash after the head was written but
    // before commit() returned makes those pops durable too; before it, they come back) ...
    CHECK(*first >= p.committed_pops);
    CHECK(*first <= p.popped);
    // ... and holds every committed append, plus perhaps some appended after the last commit.
    CHECK(next >= p.committed_appends);
    CHECK(next <= p.attempted_appends);
  } else {
    CHECK(p.popped >= p.committed_appends);  // empty: everything committed had been popped
  }
  CHECK(log.stats().lost_records == 0);
  CHECK(log.stats().damaged_records == 0);

  // The log is usable and never reuses a sequence number that may have been handed out durably.
  auto seq = log.append(payload(0, 5));
  REQUIRE(seq.has_value());
  CHECK(*seq >= p.committed_appends);
  CHECK(*seq >= next);
}

}  // namespace

TEST_CASE("file log: power lost at every write boundary and inside every write") {
  // A clean run first, to count the writes the workload makes.
  std::uint64_t writes = 0;
  {
    store_testing::temp_dir dir;
    REQUIRE(dir.ok());
    st::file_fault_plan plan;
    plan.real_sync = false;
    auto log = st::basic_file_log<st::faulty_file_ops>::open(dir.path(), small_config(), st::faulty_file_ops{plan});
    REQUIRE(log.has_value());
    const progress p = workload(*log);
    CHECK(p.appended == 40);
    CHECK(p.committed_appends == 40);
    REQUIRE(log->close().has_value());
    writes = plan.writes;
    check_recovered(dir, p);
  }
  REQUIRE(writes > 20);

  // keep_bytes: nothing, one byte, inside and just around a record header, and the whole write.
  const std::size_t tears[] = {0, 1, 13, 23, 24, 25, 70, 100000};
  int runs = 0;
  for (std::uint64_t n = 0; n < writes; ++n) {
    for (std::size_t keep : tears) {
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
        progress p;
        {
          auto log = st::basic_file_log<st::faulty_file_ops>::open(dir.path(), small_config(), st::faulty_file_ops{plan});
          REQUIRE(log.has_value());
          p = workload(*log);
        }  // the machine is gone: nothing more is written
        CHECK(plan.crashed);
        check_recovered(dir, p);
        ++runs;
      }
    }
  }
  MESSAGE("crash runs: " << runs << " over " << writes << " write calls");
}

TEST_CASE("file log: a full disk is storage_full, and everything committed before survives") {
  for (std::size_t keep : {std::size_t{0}, std::size_t{30}}) {
    CAPTURE(keep);
    store_testing::temp_dir dir;
    REQUIRE(dir.ok());
    st::file_fault_plan plan;
    plan.kind = st::file_fault_plan::fault::disk_full;
    plan.at_write = 12;  // the disk fills in the middle of the run
    plan.keep_bytes = keep;
    plan.real_sync = false;
    auto config = small_config();
    auto opened = st::basic_file_log<st::faulty_file_ops>::open(dir.path(), config, st::faulty_file_ops{plan});
    REQUIRE(opened.has_value());
    auto& log = *opened;
    REQUIRE(log.put("state", tw::as_bytes("before")).has_value());

    std::uint64_t appended = 0;
    std::uint64_t committed = 0;
    std::error_code failure;
    for (; appended < 200; ++appended) {
      auto r = log.append(payload(appended, size_of(appended)));
      if (!r) {
        failure = r.error();
        break;
      }
      if (appended % 3 == 2) {
        if (auto c = log.commit(); !c) {
          failure = c.error();
          ++appended;
          break;
        }
        committed = appended + 1;
      }
    }
    CHECK(failure == errc::storage_full);
    CHECK(plan.disk_full);
    CHECK(log.put("state", tw::as_bytes("during")).error() == errc::storage_full);

    // Draining works with the disk still full (the head is written in place), and space comes back.
    tw::byte out[256];
    REQUIRE(log.peek(out).has_value());
    REQUIRE(log.pop().has_value());
    CHECK(log.commit().error() == errc::storage_full);  // the buffered appends still cannot be written
    plan.disk_full = false;
    REQUIRE(log.commit().has_value());
    const std::uint64_t durable = appended;  // every append that returned a number is now committed
    CHECK(durable >= committed);
    REQUIRE(log.close().has_value());

    auto reopened = st::file_log::open(dir.path(), config);
    REQUIRE(reopened.has_value());
    auto& again = *reopened;
    CHECK(again.stats().torn_tail_bytes == 0);  // the partial write was cut before anyone could see it
    auto g = again.get("state", out);
    REQUIRE(g.has_value());
    CHECK(tw::as_string({out, *g}) == "before");
    CHECK(again.records() == durable - 1);
    for (std::uint64_t i = 1; i < durable; ++i) {
      auto r = again.peek(out);
      REQUIRE(r.has_value());
      CHECK(r->sequence == i);
      CHECK(tw::equal({out, r->size}, payload(i, size_of(i))));
      REQUIRE(again.pop().has_value());
    }
  }
}

TEST_CASE("file log: an append refused for a full disk leaves no trace") {
  store_testing::temp_dir dir;
  REQUIRE(dir.ok());
  st::file_fault_plan plan;
  plan.kind = st::file_fault_plan::fault::disk_full;
  plan.at_write = 3;
  plan.keep_bytes = 5;
  plan.real_sync = false;
  auto config = small_config();
  config.commit.every_records = 1;  // every append is written and synced before it returns
  auto opened = st::basic_file_log<st::faulty_file_ops>::open(dir.path(), config, st::faulty_file_ops{plan});
  REQUIRE(opened.has_value());
  auto& log = *opened;
  std::uint64_t ok = 0;
  while (ok < 10 && log.append(payload(ok, 40))) ++ok;
  CHECK(ok == 3);
  CHECK(log.records() == 3);
  plan.disk_full = false;
  auto next = log.append(payload(3, 40));
  REQUIRE(next.has_value());
  CHECK(*next == 3);  // the refused append did not use up a sequence number
  REQUIRE(log.close().has_value());

  auto reopened = st::file_log::open(dir.path(), config);
  REQUIRE(reopened.has_value());
  CHECK(reopened->records() == 4);
  CHECK(reopened->stats().torn_tail_bytes == 0);
}

TEST_CASE("file log: a torn tail is cut at open and counted") {
  store_testing::temp_dir dir;
  REQUIRE(dir.ok());
  auto config = small_config();
  config.segment_bytes = 1 << 20;
  {
    auto log = st::file_log::open(dir.path(), config);
    REQUIRE(log.has_value());
    for (std::uint64_t i = 0; i < 10; ++i) REQUIRE(log->append(payload(i, 50)).has_value());
    REQUIRE(log->close().has_value());
  }
  // Half a record at the end of the segment, as an interrupted write leaves it.
  std::string segment;
  for (const std::string& f : dir.files())
    if (f.find("/q-") != std::string::npos) segment = f;
  REQUIRE(!segment.empty());
  std::vector<tw::byte> tail = store_testing::read_file(segment);
  tail.erase(tail.begin(), tail.begin() + 74 + 30);  // one whole record (24 + 50) and 30 bytes more
  tail.resize(40);
  REQUIRE(store_testing::write_file(segment, tail, "ab"));

  {
    auto log = st::file_log::open(dir.path(), config);
    REQUIRE(log.has_value());
    CHECK(log->stats().torn_tail_bytes == 40);
    CHECK(log->stats().lost_records == 0);
    CHECK(log->records() == 10);
    auto seq = log->append(payload(10, 50));
    REQUIRE(seq.has_value());
    CHECK(*seq == 10);
    REQUIRE(log->close().has_value());
  }
  auto log = st::file_log::open(dir.path(), config);
  REQUIRE(log.has_value());
  CHECK(log->stats().torn_tail_bytes == 0);
  CHECK(log->records() == 11);
}

TEST_CASE("file log: a damaged header in the middle is skipped by resynchronising, and counted") {
  store_testing::temp_dir dir;
  REQUIRE(dir.ok());
  auto config = small_config();
  config.segment_bytes = 1 << 20;
  {
    auto log = st::file_log::open(dir.path(), config);
    REQUIRE(log.has_value());
    for (std::uint64_t i = 0; i < 10; ++i) REQUIRE(log->append(payload(i, 50)).has_value());
    REQUIRE(log->close().has_value());
  }
  std::string segment;
  for (const std::string& f : dir.files())
    if (f.find("/q-") != std::string::npos) segment = f;
  std::vector<tw::byte> bytes = store_testing::read_file(segment);
  bytes[3 * 74 + 1] ^= 0x01;  // the length field of record 3
  REQUIRE(store_testing::write_file(segment, bytes));

  auto log = st::file_log::open(dir.path(), config);
  REQUIRE(log.has_value());
  CHECK(log->stats().lost_records == 1);
  CHECK(log->stats().skipped_bytes == 74);
  CHECK(log->records() == 9);
  tw::byte out[64];
  std::vector<std::uint64_t> seen;
  while (auto r = log->peek(out)) {
    CHECK(tw::equal({out, r->size}, payload(r->sequence, 50)));
    seen.push_back(r->sequence);
    REQUIRE(log->pop().has_value());
  }
  CHECK(seen == std::vector<std::uint64_t>{0, 1, 2, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("file log: a half-written key file is removed at open; the old value stays") {
  store_testing::temp_dir dir;
  REQUIRE(dir.ok());
  {
    auto log = st::file_log::open(dir.path(), small_config());
    REQUIRE(log.has_value());
    REQUIRE(log->put("state", tw::as_bytes("old")).has_value());
  }
  REQUIRE(store_testing::write_file(dir.sub("k-7374617465.tmp"), {1, 2, 3}));
  auto log = st::file_log::open(dir.path(), small_config());
  REQUIRE(log.has_value());
  CHECK(log->stats().leftover_files == 1);
  tw::byte out[16];
  auto g = log->get("state", out);
  REQUIRE(g.has_value());
  CHECK(tw::as_string({out, *g}) == "old");
}

TEST_CASE("file log: consumed segments are removed once the head is durable") {
  store_testing::temp_dir dir;
  REQUIRE(dir.ok());
  auto config = small_config();
  config.commit.every_records = 8;
  auto log = st::file_log::open(dir.path(), config);
  REQUIRE(log.has_value());
  for (std::uint64_t i = 0; i < 100; ++i) REQUIRE(log->append(payload(i, 60)).has_value());
  REQUIRE(log->commit().has_value());
  const std::size_t full = log->segments();
  CHECK(full > 5);
  tw::byte out[128];
  for (int i = 0; i < 100; ++i) {
    REQUIRE(log->peek(out).has_value());
    REQUIRE(log->pop().has_value());
  }
  REQUIRE(log->commit().has_value());
  CHECK(log->segments() == 1);
  CHECK(dir.files().size() == 2);  // the newest segment and the head file
}

#endif  // THINGWELL_HAS_POSIX
