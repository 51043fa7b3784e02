// thingwell — the persistence policy: what a store must do for the offline queue and the session state.
//
// A store holds two things:
//
//  * Keyed records: small values (session state, a shadow version, a job checkpoint) under a short key.
//    put() replaces the whole value atomically: after a crash get() returns the old value or the new one,
//    never a mix. get() copies the value into the caller's buffer and returns its size; a missing key is
//    errc::not_found, a value too large for the buffer errc::buffer_too_small, and a value that fails its
//    checksum errc::storage_corrupt (never the damaged bytes, never an older version). erase() of a key that
//    does not exist succeeds. put() and erase() are durable when they return.
//
//  * A record queue: append() adds a record at the tail and returns its sequence number, which grows by one
//    per record and keeps growing across restarts (a receiver removes duplicates with it). peek() copies
//    the oldest record into the caller's buffer; pop() removes it. records() and bytes() count what is
//    queued (bytes are payload bytes, framing excluded). An empty queue answers peek()/pop() with
//    errc::not_found.
//
// Durability is group commit: append() and pop() may be buffered; commit() makes every append and pop made
// so far durable, and commit(now) does the same when the store's commit interval has passed since the last
// commit (call it from the application loop). A store may also commit on its own (every N records, every
// N bytes: see commit_policy). After a crash the queue holds every record appended before the last
// successful commit and not popped before it; records appended later may or may not be there, in order
// and without gaps; records popped after the last commit may come back (at-least-once delivery).
//
// Capacity is bounded: a record, value or key that does not fit is refused with errc::storage_full and
// changes nothing already stored; an empty or over-long key is errc::invalid_argument.
//
// Corruption is reported, never returned as data. A damaged queue record is skipped and counted (see each
// store's stats(): it cannot be delivered, and stopping the queue behind it would lose everything after
// it); a damaged keyed record makes get() fail with errc::storage_corrupt.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "../core/bytes.hpp"
#include "../core/clock.hpp"
#include "../core/result.hpp"

namespace thingwell::store {

// What peek() found at the head of the queue.
struct record_info {
  std::uint64_t sequence = 0;
  std::size_t size = 0;  // bytes copied into the caller's buffer
};

// When a store commits on its own. Zero switches a trigger off; with every trigger off the store commits
// only when told to. The default is the safest and slowest: every record.
struct commit_policy {
  std::uint32_t every_records = 1;  // appends + pops since the last commit
  std::size_t every_bytes = 0;      // payload bytes appended since the last commit
  duration interval{0};             // commit(now) commits once this much time has passed (0: every call)
};

// What opening or mounting a persistent store found. Everything here was skipped, never delivered.
struct recovery_stats {
  std::uint64_t torn_tail_bytes = 0;   // an interrupted last write, cut off
  std::uint64_t damaged_records = 0;   // queue records whose value failed its checksum (skipped when reached)
  std::uint64_t skipped_bytes = 0;     // bytes with no valid header, passed over to find the next record
  std::uint64_t lost_records = 0;      // sequence numbers missing between valid queue records
  std::uint64_t damaged_keys = 0;      // keyed records whose value failed its checksum (get: storage_corrupt)
  std::uint64_t leftover_files = 0;    // half-written temporary files removed (file log)
};

template <class S>
concept persistence = requires(S& s, const S& cs, std::string_view key, bytes_view value, mutable_bytes out,
                               time_point now) {
  { s.put(key, value) } -> std::same_as<result<void>>;
  { s.get(key, out) } -> std::same_as<result<std::size_t>>;
  { s.erase(key) } -> std::same_as<result<void>>;
  { s.append(value) } -> std::same_as<result<std::uint64_t>>;
  { s.peek(out) } -> std::same_as<result<record_info>>;
  { s.pop() } -> std::same_as<result<void>>;
  { cs.records() } -> std::same_as<std::size_t>;
  { cs.bytes() } -> std::same_as<std::size_t>;
  { s.commit() } -> std::same_as<result<void>>;
  { s.commit(now) } -> std::same_as<result<void>>;
};

namespace detail {

// Counts what has not been committed yet and answers "is a commit due?" for a commit_policy.
class commit_tracker {
 public:
  constexpr explicit commit_tracker(commit_policy policy = {}) noexcept : policy_(policy) {}

  void note(std::size_t payload_bytes) noexcept {
    ++pending_ops_;
    pending_bytes_ += payload_bytes;
  }
  bool pending() const noexcept { return pending_ops_ != 0; }
  bool due() const noexcept {
    return (policy_.every_records != 0 && pending_ops_ >= policy_.every_records) ||
           (policy_.every_bytes != 0 && pending_bytes_ >= policy_.every_bytes);
  }
  bool due_at(time_point now) const noexcept { return pending() && now - last_commit_ >= policy_.interval; }
  void committed() noexcept { pending_ops_ = pending_bytes_ = 0; }
  void committed(time_point now) noexcept {
    committed();
    last_commit_ = now;
  }
  const commit_policy& policy() const noexcept { return policy_; }

 private:
  commit_policy policy_;
  std::size_t pending_ops_ = 0;
  std::size_t pending_bytes_ = 0;
  time_point last_commit_{};
};

}  // namespace detail

}  // namespace thingwell::store
