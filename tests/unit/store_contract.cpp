// The persistence contract (store/persistence.hpp), run unchanged against every store: RAM, flash (over
// the simulated part) and the file log (POSIX only; with per-record and with group commit).
//
// Each fixture gives the suite the same handful of things: the store, whether it survives a reopen,
// reopen() itself, and a way to damage stored bytes. Capacities differ per store, so the capacity test
// fills until the store refuses instead of assuming a number.
#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through <system_error>'s operator<<, which needs it

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <thingwell/store/flash.hpp>
#include <thingwell/store/flash_store.hpp>
#include <thingwell/store/memory_store.hpp>
#include <thingwell/store/persistence.hpp>
#if THINGWELL_HAS_POSIX
#  include <thingwell/store/file_log.hpp>
#endif

#include "store_testing.hpp"

namespace tw = thingwell;
namespace st = thingwell::store;
using tw::errc;
using store_testing::payload;

namespace {

// ---- fixtures

struct ram_fixture {
  using store_type = st::memory_store<64, 4096, 4, 64, 16>;
  static constexpr bool persistent = false;
  std::unique_ptr<store_type> s = std::make_unique<store_type>();
  store_type& store() { return *s; }
  bool reopen() { return true; }
  bool damage(std::string_view) { return false; }
  std::uint64_t damaged_seen() const { return 0; }
};
static_assert(st::persistence<ram_fixture::store_type>);

struct flash_fixture {
  using flash_type = st::sim_flash<2048, 8>;
  using store_type = st::flash_store<flash_type, 8, 4>;
  static constexpr bool persistent = true;
  static st::flash_store_config config() {
    st::flash_store_config c;
    c.max_key_bytes = 16;
    c.max_value_bytes = 64;
    return c;
  }
  std::unique_ptr<flash_type> flash = std::make_unique<flash_type>();
  std::unique_ptr<store_type> s;
  flash_fixture() { REQUIRE(reopen()); }
  store_type& store() { return *s; }
  bool reopen() {
    s = std::make_unique<store_type>(*flash, config());
    return static_cast<bool>(s->mount());
  }
  bool damage(std::string_view pattern) { return store_testing::flip_in(flash->cells(), pattern); }
  std::uint64_t damaged_seen() const { return s->stats().damaged_records; }
};
static_assert(st::persistence<flash_fixture::store_type>);

#if THINGWELL_HAS_POSIX
template <std::uint32_t EveryRecords>
struct file_fixture {
  using store_type = st::file_log;
  static constexpr bool persistent = true;
  static st::file_log_config config() {
    st::file_log_config c;
    c.segment_bytes = 2048;
    c.max_segments = 8;
    c.max_record_bytes = 512;
    c.max_key_bytes = 16;
    c.max_value_bytes = 64;
    c.write_buffer_bytes = 1024;
    c.commit.every_records = EveryRecords;
    return c;
  }
  store_testing::temp_dir dir;
  std::optional<st::file_log> s;
  file_fixture() {
    REQUIRE(dir.ok());
    REQUIRE(reopen());
  }
  store_type& store() { return *s; }
  bool reopen() {
    s.reset();  // the old log lets go of its files first; what it had not committed is gone
    auto r = st::file_log::open(dir.path(), config());
    if (!r) return false;
    s.emplace(std::move(*r));
    return true;
  }
  bool damage(std::string_view pattern) {
    s.reset();
    return store_testing::flip_in_directory(dir, pattern);
  }
  std::uint64_t damaged_seen() const { return s->stats().damaged_records; }
};
using file_fixture_every_record = file_fixture<1>;
using file_fixture_group_commit = file_fixture<16>;
static_assert(st::persistence<st::file_log>);
#  define STORE_FIXTURES ram_fixture, flash_fixture, file_fixture_every_record, file_fixture_group_commit
#else
#  define STORE_FIXTURES ram_fixture, flash_fixture
#endif

// ---- helpers

template <class S>
std::uint64_t append_id(S& s, std::uint64_t id, std::size_t size) {
  const auto p = payload(id, size);
  auto r = s.append(p);
  REQUIRE(r.has_value());
  return *r;
}

// Peeks and checks the head against the payload its sequence number implies; returns the sequence.
template <class S>
std::uint64_t expect_head(S& s, std::size_t size) {
  tw::byte out[1024];
  auto r = s.peek(out);
  REQUIRE(r.has_value());
  CHECK(r->size == size);
  const auto expected = payload(r->sequence, size);
  CHECK(tw::equal({out, r->size}, expected));
  return r->sequence;
}

std::size_t size_for(std::uint64_t id) { return 1 + (id * 37) % 120; }

}  // namespace

TEST_CASE_TEMPLATE("store: an empty queue reports not_found", F, STORE_FIXTURES) {
  F f;
  auto& s = f.store();
  tw::byte out[16];
  CHECK(s.records() == 0);
  CHECK(s.bytes() == 0);
  CHECK(s.peek(out).error() == errc::not_found);
  CHECK(s.pop().error() == errc::not_found);
  CHECK(s.commit().has_value());
}

TEST_CASE_TEMPLATE("store: FIFO order, sequence numbers, sizes in records and bytes", F, STORE_FIXTURES) {
  F f;
  auto& s = f.store();
  std::size_t total = 0;
  std::uint64_t first = 0;
  for (std::uint64_t i = 0; i < 20; ++i) {
    const std::uint64_t seq = append_id(s, 1000 + i, size_for(i));
    if (i == 0) first = seq;
    CHECK(seq == first + i);  // one more per record
    total += size_for(i);
    CHECK(s.records() == i + 1);
    CHECK(s.bytes() == total);
  }
  // Payloads are keyed by id, not sequence: check content by peeking with the expected id.
  for (std::uint64_t i = 0; i < 20; ++i) {
    tw::byte out[1024];
    auto r = s.peek(out);
    REQUIRE(r.has_value());
    CHECK(r->sequence == first + i);
    CHECK(tw::equal({out, r->size}, payload(1000 + i, size_for(i))));
    // peek does not consume
    auto again = s.peek(out);
    REQUIRE(again.has_value());
    CHECK(again->sequence == r->sequence);
    REQUIRE(s.pop().has_value());
    total -= size_for(i);
    CHECK(s.records() == 19 - i);
    CHECK(s.bytes() == total);
  }
  CHECK(s.peek(tw::mutable_bytes{}).error() == errc::not_found);
}

TEST_CASE_TEMPLATE("store: a buffer too small for the head leaves it queued", F, STORE_FIXTURES) {
  F f;
  auto& s = f.store();
  append_id(s, 0, 40);
  tw::byte small[10];
  CHECK(s.peek(small).error() == errc::buffer_too_small);
  CHECK(s.records() == 1);
  tw::byte out[40];
  auto r = s.peek(out);
  REQUIRE(r.has_value());
  CHECK(r->size == 40);
}

TEST_CASE_TEMPLATE("store: empty records are records", F, STORE_FIXTURES) {
  F f;
  auto& s = f.store();
  REQUIRE(s.append({}).has_value());
  append_id(s, 7, 3);
  CHECK(s.records() == 2);
  CHECK(s.bytes() == 3);
  tw::byte out[8];
  auto r = s.peek(out);
  REQUIRE(r.has_value());
  CHECK(r->size == 0);
  REQUIRE(s.pop().has_value());
  r = s.peek(out);
  REQUIRE(r.has_value());
  CHECK(r->size == 3);
}

TEST_CASE_TEMPLATE("store: keyed put, replace, get, erase", F, STORE_FIXTURES) {
  F f;
  auto& s = f.store();
  tw::byte out[64];
  CHECK(s.get("session", out).error() == errc::not_found);
  REQUIRE(s.put("session", tw::as_bytes("first")).has_value());
  REQUIRE(s.put("shadow", tw::as_bytes("v=7")).has_value());
  auto g = s.get("session", out);
  REQUIRE(g.has_value());
  CHECK(tw::as_string({out, *g}) == "first");

  REQUIRE(s.put("session", tw::as_bytes("second, longer value")).has_value());
  g = s.get("session", out);
  REQUIRE(g.has_value());
  CHECK(tw::as_string({out, *g}) == "second, longer value");
  g = s.get("shadow", out);
  REQUIRE(g.has_value());
  CHECK(tw::as_string({out, *g}) == "v=7");

  tw::byte tiny[4];
  CHECK(s.get("session", tiny).error() == errc::buffer_too_small);

  REQUIRE(s.put("empty", {}).has_value());
  g = s.get("empty", out);
  REQUIRE(g.has_value());
  CHECK(*g == 0);

  REQUIRE(s.erase("session").has_value());
  CHECK(s.get("session", out).error() == errc::not_found);
  CHECK(s.erase("session").has_value());  // erasing what is not there is fine
  CHECK(s.erase("never-was").has_value());
  g = s.get("shadow", out);
  REQUIRE(g.has_value());
  CHECK(tw::as_string({out, *g}) == "v=7");

  // Keys and queue do not interfere.
  append_id(s, 1, 10);
  CHECK(s.records() == 1);
}

TEST_CASE_TEMPLATE("store: bad keys and oversized values are refused without changing anything", F, STORE_FIXTURES) {
  F f;
  auto& s = f.store();
  tw::byte out[64];
  REQUIRE(s.put("k", tw::as_bytes("keep")).has_value());
  CHECK(s.put("", tw::as_bytes("x")).error() == errc::invalid_argument);
  CHECK(s.get("", out).error() == errc::invalid_argument);
  const std::string long_key(300, 'k');
  CHECK(s.put(long_key, tw::as_bytes("x")).error() == errc::invalid_argument);
  const std::vector<tw::byte> huge(100000, 0x55);
  CHECK(s.put("k", huge).error() == errc::storage_full);
  CHECK(s.append(huge).error() == errc::storage_full);
  auto g = s.get("k", out);
  REQUIRE(g.has_value());
  CHECK(tw::as_string({out, *g}) == "keep");
  CHECK(s.records() == 0);
}

TEST_CASE_TEMPLATE("store: the number of keys is bounded", F, STORE_FIXTURES) {
  F f;
  auto& s = f.store();
  // Every store here is built with a small key table (the file log with a small value size only: files
  // are its table), so a long run of distinct keys ends in storage_full or succeeds, but never breaks.
  int stored = 0;
  for (int i = 0; i < 64; ++i) {
    const std::string key = "key-" + std::to_string(i);
    auto r = s.put(key, tw::as_bytes(key));
    if (!r) {
      CHECK(r.error() == errc::storage_full);
      break;
    }
    ++stored;
  }
  CHECK(stored >= 4);
  tw::byte out[64];
  for (int i = 0; i < stored; ++i) {
    const std::string key = "key-" + std::to_string(i);
    auto g = s.get(key, out);
    REQUIRE(g.has_value());
    CHECK(tw::as_string({out, *g}) == key);
  }
}

TEST_CASE_TEMPLATE("store: storage_full when the queue is at capacity; draining makes room", F, STORE_FIXTURES) {
  F f;
  auto& s = f.store();
  REQUIRE(s.put("state", tw::as_bytes("kept through it all")).has_value());
  std::uint64_t appended = 0;
  std::optional<std::uint64_t> first;
  for (; appended < 5000; ++appended) {
    auto r = s.append(payload(appended, 100));
    if (!r) {
      CHECK(r.error() == errc::storage_full);
      break;
    }
    if (!first) first = *r;
  }
  REQUIRE(appended < 5000);  // it did fill up
  REQUIRE(appended > 3);
  CHECK(s.records() == appended);
  CHECK(s.bytes() == appended * 100);
  REQUIRE(s.commit().has_value());

  // Refused again, and nothing already stored changed.
  CHECK(s.append(payload(999, 100)).error() == errc::storage_full);
  CHECK(s.records() == appended);
  tw::byte out[128];
  for (std::uint64_t i = 0; i < appended; ++i) {
    auto r = s.peek(out);
    REQUIRE(r.has_value());
    CHECK(r->sequence == *first + i);
    CHECK(tw::equal({out, r->size}, payload(i, 100)));
    REQUIRE(s.pop().has_value());
  }
  REQUIRE(s.commit().has_value());
  CHECK(s.records() == 0);
  auto again = s.append(payload(appended, 100));
  REQUIRE(again.has_value());
  CHECK(*again == *first + appended);  // sequence numbers never go back
  auto g = s.get("state", out);
  REQUIRE(g.has_value());
  CHECK(tw::as_string({out, *g}) == "kept through it all");
}

TEST_CASE_TEMPLATE("store: reopening keeps what was committed", F, STORE_FIXTURES) {
  F f;
  if constexpr (!F::persistent) return;
  {
    auto& s = f.store();
    for (std::uint64_t i = 0; i < 30; ++i) append_id(s, i, size_for(i));
    for (int i = 0; i < 7; ++i) REQUIRE(s.pop().has_value());
    REQUIRE(s.put("session", tw::as_bytes("present")).has_value());
    REQUIRE(s.put("gone", tw::as_bytes("soon")).has_value());
    REQUIRE(s.erase("gone").has_value());
    REQUIRE(s.commit().has_value());
  }
  REQUIRE(f.reopen());
  auto& s = f.store();
  CHECK(s.records() == 23);
  std::size_t bytes = 0;
  for (std::uint64_t i = 7; i < 30; ++i) bytes += size_for(i);
  CHECK(s.bytes() == bytes);
  tw::byte out[64];
  auto g = s.get("session", out);
  REQUIRE(g.has_value());
  CHECK(tw::as_string({out, *g}) == "present");
  CHECK(s.get("gone", out).error() == errc::not_found);

  // Appends continue the numbering; the queue resumes at the first record not popped.
  CHECK(append_id(s, 30, size_for(30)) == 30);
  for (std::uint64_t i = 7; i <= 30; ++i) {
    CHECK(expect_head(s, size_for(i)) == i);
    REQUIRE(s.pop().has_value());
  }
  REQUIRE(s.commit().has_value());
  REQUIRE(f.reopen());
  CHECK(f.store().records() == 0);
  CHECK(append_id(f.store(), 31, 5) == 31);
}

TEST_CASE_TEMPLATE("store: commit(now) commits once the interval has passed", F, STORE_FIXTURES) {
  F f;
  auto& s = f.store();
  append_id(s, 0, 10);
  CHECK(s.commit(tw::time_point{} + tw::duration{5}).has_value());
  CHECK(s.commit(tw::time_point{} + tw::duration{6}).has_value());
  if constexpr (F::persistent) {
    REQUIRE(f.reopen());
    CHECK(f.store().records() == 1);
  }
}

TEST_CASE_TEMPLATE("store: damaged bytes are reported, never returned", F, STORE_FIXTURES) {
  F f;
  if constexpr (!F::persistent) return;  // RAM keeps no checksums
  {
    auto& s = f.store();
    for (std::uint64_t i = 0; i < 12; ++i) append_id(s, i, 60);
    REQUIRE(s.put("cfg", tw::as_bytes("value-to-be-damaged")).has_value());
    REQUIRE(s.put("other", tw::as_bytes("value-left-alone")).has_value());
    REQUIRE(s.commit().has_value());
  }
  REQUIRE(f.damage("rec-000004-"));       // inside a queue record's value
  REQUIRE(f.damage("value-to-be-damaged"));
  REQUIRE(f.reopen());
  auto& s = f.store();

  tw::byte out[128];
  CHECK(s.get("cfg", out).error() == errc::storage_corrupt);
  auto g = s.get("other", out);
  REQUIRE(g.has_value());
  CHECK(tw::as_string({out, *g}) == "value-left-alone");

  // Every record handed out is exactly what was appended under its sequence number; the damaged one is
  // skipped and counted.
  std::vector<std::uint64_t> seen;
  for (;;) {
    auto r = s.peek(out);
    if (!r) {
      CHECK(r.error() == errc::not_found);
      break;
    }
    CHECK(tw::equal({out, r->size}, payload(r->sequence, 60)));
    seen.push_back(r->sequence);
    REQUIRE(s.pop().has_value());
  }
  CHECK(seen.size() == 11);
  for (std::uint64_t id : seen) CHECK(id != 4);
  CHECK(f.damaged_seen() >= 1);
  CHECK(s.records() == 0);
}
