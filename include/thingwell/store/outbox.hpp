// thingwell — the outbox: a bounded store-and-forward queue in front of an MQTT session (F-01..F-13).
//
//   store::file_log log = *store::file_log::open("/var/lib/app/outbox");
//   mqtt::session& s = client.session();             // poll driver, or any session
//   store::outbox box(s, log, {.max_records = 4096, .max_bytes = 1 << 20, .drain_rate = 50});
//   box.open(now);                                    // before s.start(): replays what a restart left
//   client.start(now);
//   box.publish("dt/t/1", payload, {.qos = mqtt::qos::at_least_once, .durable = true}, now);
//   for (;;) { box.pump(now); next = std::min(client.poll(now), box.next_deadline(now)); ... }
//
// publish() never waits for the network: the message is handed to the session at once when it can be
// (sent), kept (queued), or not kept (dropped, with the reason; errc::outbox_full under the reject
// policy). Durable messages are appended to the persistence store (and by default committed) before
// publish() returns. pump() hands waiting messages to the session as its in-flight window frees up:
// critical first, then normal, then bulk, FIFO within a class, paced by drain_rate except critical.
//
// Why the outbox holds messages itself instead of leaving them in the session's queue: priorities,
// coalescing, TTL and eviction need to reach a message that is still waiting, and the session keeps a
// plain FIFO of encoded packets. The session only ever holds feed_window of them.
//
// Durability. The store's queue is a journal (outbox_record.hpp): each durable message is a record,
// followed later by state records (packet identifier assigned, PUBREC, done). The session reports
// those through mqtt::publish_tracker; the identifier is reported from session.output(), before the
// PUBLISH is handed to the driver, so with a store that commits every record it is durable before it
// can reach the broker. open() replays the journal: messages not done come back in their original
// order; those that had an identifier go back into the session (session::restore) so that a resumed
// session resends them with DUP=1 and the same identifier, and PUBREL for QoS 2 past PUBREC. The
// session must use session_mode::always_resume for the broker's session to survive the restart.
// Dead records are popped from the head of the journal; a live record stuck at the head while the
// journal grows is copied to the tail (keeping its id), so the journal stays within a small multiple
// of what is live. A crash between copy and pop leaves two copies: replay keeps the first.
//
// Delivery is at least once: a message whose "done" record was not committed before a crash is sent
// again after the restart (the receiver drops it by its sequence number). Nothing committed is lost.
//
// Memory: every table is allocated once, at construction, from the configured bounds (entries, the
// message bytes, one journal record buffer); nothing is allocated afterwards. The session holds a
// second copy of the messages it was handed (at most feed_window).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

#include "../core/bytes.hpp"
#include "../core/clock.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "../core/token_bucket.hpp"
#include "../mqtt/session.hpp"
#include "outbox_record.hpp"
#include "outbox_types.hpp"
#include "persistence.hpp"

namespace thingwell::store {

template <persistence Store>
class outbox final : private mqtt::publish_tracker {
 public:
  outbox(mqtt::session& session, Store& store, const outbox_config& config = {}) noexcept
      : session_(session), store_(store), config_(config),
        bucket_(config.drain_rate, 1) {
    entry_capacity_ = 2 * config_.max_records + 2;
    arena_capacity_ = config_.max_bytes + std::max(config_.max_bytes / 4, config_.max_message_bytes);
    scratch_capacity_ = detail::journal_message_size(0, config_.max_message_bytes);
    handed_capacity_ = std::max<std::size_t>(config_.feed_window, 1);
    entries_.reset(new (std::nothrow) entry[entry_capacity_]);
    arena_.reset(new (std::nothrow) byte[arena_capacity_]);
    scratch_.reset(new (std::nothrow) byte[scratch_capacity_]);
    handed_.reset(new (std::nothrow) handed_slot[handed_capacity_]);
    if (!entries_ || !arena_ || !scratch_ || !handed_ || config_.max_records == 0 || config_.max_message_bytes == 0)
      construction_error_ = errc::capacity_exceeded;
    session_.set_tracker(this);
  }

  outbox(const outbox&) = delete;
  outbox& operator=(const outbox&) = delete;
  ~outbox() { session_.set_tracker(nullptr); }

  // Replays the store's journal (see above). Call once, before the session's start(). Restored
  // messages count their TTL from `now`.
  result<void> open(time_point now) noexcept {
    if (construction_error_) return construction_error_;
    if (opened_) return errc::busy;
    if (session_.state() != mqtt::connection_state::idle) return errc::busy;
    opened_ = true;
    loading_ = true;
    const std::size_t count = store_.records();
    for (std::size_t i = 0; i < count; ++i) {
      auto info = store_.peek(mutable_bytes(scratch_.get(), scratch_capacity_));
      if (!info) {
        if (info.error() != errc::buffer_too_small) {
          loading_ = false;
          return info.error();
        }
        ++metrics_.journal_errors;  // larger than this configuration allows: cannot be sent anyway
      } else if (auto rec = detail::decode_journal(bytes_view(scratch_.get(), info->size))) {
        replay_sequence_ = info->sequence;
        replay(*rec, now);
      } else {
        ++metrics_.journal_errors;
      }
      if (auto r = store_.pop(); !r) {
        loading_ = false;
        return r.error();
      }
    }
    loading_ = false;
    compact();
    // Written back in order, each message followed by its state: the old records are popped above, and
    // a crash before the commit below leaves both, which the next replay tells apart by id.
    for (std::size_t i = first_; i < end_; ++i) {
      entry& e = entries_[i];
      if (e.state == entry_state::dead) continue;
      if (!write_message(e)) {
        loading_ = false;
        return last_store_error_;
      }
      write_state(e);
    }
    if (auto r = commit(); !r) return r;
    // Messages the session had sent go back into it with their identifiers (a resumed session then
    // resends them with DUP=1); the rest wait for pump().
    for (std::size_t i = first_; i < end_; ++i) {
      entry& e = entries_[i];
      if (e.state == entry_state::dead) continue;
      ++metrics_.restored;
      if (e.packet_id == 0 || e.qos == mqtt::qos::at_most_once || handed_count_ == handed_capacity_) {
        make_waiting(e);
        continue;
      }
      const bool released = e.state == entry_state::released;
      auto t = session_.restore(topic_of(e), payload_of(e), {.qos = e.qos, .retain = e.retain}, e.packet_id, released);
      if (!t) {
        make_waiting(e);
        continue;
      }
      e.token = *t;
      e.state = released ? entry_state::released : entry_state::handed;
      handed_[handed_count_++] = handed_slot{*t, i};
      ++metrics_.resumed;
    }
    return success();
  }

  // Keeps or sends one message (see the file comment). Errors: errc::outbox_full (reject policy),
  // errc::packet_too_large (larger than max_message_bytes), errc::bad_topic_name, and for durable
  // messages the store's errors (errc::storage_full: nothing was stored; a failed commit: the message
  // is kept and will be sent, but is not known to be durable).
  result<publish_status> publish(std::string_view topic, bytes_view payload, const message_options& options,
                                 time_point now) noexcept {
    if (construction_error_) return construction_error_;
    if (topic.empty() || topic.size() > 65535) return errc::bad_topic_name;
    const std::size_t size = topic.size() + payload.size();
    if (size > config_.max_message_bytes) return errc::packet_too_large;
    publish_status status;
    const std::size_t klass_new = static_cast<std::size_t>(options.priority);
    if (klass_new >= priority_classes || static_cast<unsigned>(options.qos) > 2) return errc::invalid_argument;

    // A waiting message with the same key is replaced: it goes, wherever it is in the queue.
    std::size_t replaced = npos;
    if (options.coalesce_key != 0 && keyed_waiting_ != 0) replaced = find_coalesced(options.coalesce_key);

    // Decide first, change nothing yet: a durable message the store refuses must leave everything as it was.
    if (!make_room(size, klass_new, replaced, /*apply=*/false, status.evicted)) {
      if (config_.overflow == overflow_policy::reject) {
        ++metrics_.rejected;
        return errc::outbox_full;
      }
      ++metrics_.dropped[static_cast<std::size_t>(drop_reason::overflow)];
      status.state = publish_state::dropped;
      status.reason = drop_reason::overflow;
      return status;
    }

    entry fresh{};
    fresh.enqueued = now;
    fresh.ttl_ms = static_cast<std::uint32_t>(std::clamp<std::int64_t>(options.ttl.count(), 0, UINT32_MAX));
    fresh.coalesce_key = options.coalesce_key;
    fresh.size = static_cast<std::uint32_t>(size);
    fresh.topic_size = static_cast<std::uint16_t>(topic.size());
    fresh.qos = options.qos;
    fresh.retain = options.retain;
    fresh.durable = options.durable;
    fresh.priority = options.priority;
    fresh.state = entry_state::waiting;

    if (options.durable) {
      detail::journal_record rec;
      rec.kind = detail::journal_kind::message;
      rec.qos = options.qos;
      rec.retain = options.retain;
      rec.priority = options.priority;
      rec.ttl_ms = fresh.ttl_ms;
      rec.coalesce_key = options.coalesce_key;
      rec.topic = topic;
      rec.payload = payload;
      auto seq = append_record(rec, /*id_is_sequence=*/true);
      if (!seq) return seq.error();
      fresh.id = fresh.copy_seq = *seq;
      status.id = *seq;
      durable_end_ = *seq + 1;
    }

    if (replaced != npos) drop(replaced, drop_reason::coalesced);
    status.evicted = 0;
    (void)make_room(size, klass_new, npos, /*apply=*/true, status.evicted);
    const std::size_t index = insert(fresh, topic, payload);
    ++metrics_.enqueued;

    if (options.durable && config_.commit_on_publish) {
      if (auto r = commit(); !r) return r.error();
      status.durable = true;
    }
    feed(now);
    const entry& e = entries_[index];
    status.state = e.state == entry_state::waiting ? publish_state::queued : publish_state::sent;
    return status;
  }

  // Hands waiting messages to the session, expires, commits and tidies the journal. Call from the
  // application loop (it does nothing that blocks beyond the store's own writes).
  void pump(time_point now) noexcept {
    if (construction_error_) return;
    if (ttl_entries_ != 0 && now >= next_expiry_scan_) expire(now);
    feed(now);
    if (tidy_needed_) tidy();
    if (uncommitted_ && now - last_commit_ >= config_.commit_interval) {
      (void)commit();
      last_commit_ = now;
    }
  }

  // When pump() must run at the latest (never: nothing to do until publish() or a session event).
  time_point next_deadline(time_point now) const noexcept {
    time_point t = never;
    if (uncommitted_) t = std::min(t, last_commit_ + config_.commit_interval);
    if (ttl_entries_ != 0) t = std::min(t, next_expiry_scan_);
    if (tidy_needed_) t = now;
    if (session_.is_ready() && waiting() != 0 && handed_count_ < config_.feed_window && !feed_blocked_) {
      if (waiting_[static_cast<std::size_t>(message_priority::critical)] != 0) return now;
      t = std::min(t, std::max(rate_ready_, now));
    }
    return std::max(t, now);
  }

  // Makes every record so far durable (pump() does it every commit_interval).
  result<void> commit() noexcept {
    if (auto r = store_.commit(); !r) {
      last_store_error_ = r.error();
      return r;
    }
    uncommitted_ = false;
    durable_through_ = durable_end_;
    return success();
  }

  // Every durable message with an id below this is committed: it survives a crash.
  std::uint64_t durable_through() const noexcept { return durable_through_; }

  outbox_metrics metrics(time_point now) const noexcept {
    outbox_metrics m = metrics_;
    m.depth = live_records_;
    m.waiting = waiting();
    m.bytes = live_bytes_;
    m.oldest_age = first_ < end_ ? now - entries_[first_].enqueued : duration{0};
    return m;
  }

  std::size_t waiting() const noexcept { return waiting_[0] + waiting_[1] + waiting_[2]; }
  std::size_t depth() const noexcept { return live_records_; }
  std::error_code last_store_error() const noexcept { return last_store_error_; }
  std::error_code construction_error() const noexcept { return construction_error_; }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  enum class entry_state : std::uint8_t { waiting, handed, released, dead };

  struct entry {
    std::uint64_t id = 0;          // durable: the store sequence number of its first record
    std::uint64_t copy_seq = 0;    // durable: the sequence number of its live message record
    std::uint64_t marker_seq = 0;  // durable: of its live state record (0: none)
    time_point enqueued{};
    std::uint32_t ttl_ms = 0;
    std::uint32_t coalesce_key = 0;
    std::uint32_t offset = 0;  // topic then payload, in the arena
    std::uint32_t size = 0;
    std::uint16_t topic_size = 0;
    std::uint16_t packet_id = 0;
    mqtt::token token = 0;
    mqtt::qos qos = mqtt::qos::at_most_once;
    bool retain = false;
    bool durable = false;
    message_priority priority = message_priority::normal;
    entry_state state = entry_state::dead;
  };

  struct handed_slot {
    mqtt::token token = 0;
    std::size_t index = 0;
  };

  static std::size_t klass(const entry& e) noexcept { return static_cast<std::size_t>(e.priority); }
  std::string_view topic_of(const entry& e) const noexcept {
    return {reinterpret_cast<const char*>(arena_.get() + e.offset), e.topic_size};
  }
  bytes_view payload_of(const entry& e) const noexcept {
    return {arena_.get() + e.offset + e.topic_size, e.size - e.topic_size};
  }

  // ---- entries and bytes ---------------------------------------------------------------------------
  //
  // Entries sit in publish order in [first_, end_), their bytes in the same order in the arena; a
  // message that goes in the middle leaves a hole until compact() closes every hole at once (when the
  // end of either array is reached). Both arrays are sized so that compact() always makes room for
  // one more message within the bounds: amortised O(1) per message.

  std::size_t insert(const entry& fresh, std::string_view topic, bytes_view payload) noexcept {
    if (end_ == entry_capacity_ || arena_capacity_ - arena_end_ < fresh.size) compact();
    THINGWELL_ASSERT(end_ < entry_capacity_ && arena_capacity_ - arena_end_ >= fresh.size);
    const std::size_t index = end_++;
    entry& e = entries_[index];
    e = fresh;
    e.offset = static_cast<std::uint32_t>(arena_end_);
    if (!topic.empty()) std::memcpy(arena_.get() + arena_end_, topic.data(), topic.size());
    if (!payload.empty()) std::memcpy(arena_.get() + arena_end_ + topic.size(), payload.data(), payload.size());
    arena_end_ += fresh.size;
    account(e);
    return index;
  }

  void account(const entry& e) noexcept {
    ++live_records_;
    live_bytes_ += e.size;
    if (e.state == entry_state::waiting) ++waiting_[klass(e)];
    if (e.durable) ++durable_live_;
    if (e.ttl_ms != 0) {
      if (ttl_entries_++ == 0) next_expiry_scan_ = e.enqueued + config_.expiry_scan_interval;
    }
    if (e.coalesce_key != 0 && e.state == entry_state::waiting) ++keyed_waiting_;
  }

  void compact() noexcept {
    std::size_t to = 0;
    std::size_t bytes = 0;
    for (std::size_t i = first_; i < end_; ++i) {
      entry& e = entries_[i];
      if (e.state == entry_state::dead) continue;
      if (e.offset != bytes) std::memmove(arena_.get() + bytes, arena_.get() + e.offset, e.size);
      e.offset = static_cast<std::uint32_t>(bytes);
      bytes += e.size;
      if (to != i) {
        entries_[to] = e;
        for (std::size_t h = 0; h < handed_count_; ++h)
          if (handed_[h].index == i) handed_[h].index = to;
      }
      ++to;
    }
    first_ = 0;
    end_ = to;
    arena_end_ = bytes;
    for (std::size_t& c : cursor_) c = 0;
  }

  // The message leaves the outbox: acknowledged, or dropped for `reason`.
  void finish(std::size_t index, drop_reason reason) noexcept {
    entry& e = entries_[index];
    if (e.state == entry_state::dead) return;
    if (e.state == entry_state::waiting) {
      --waiting_[klass(e)];
      if (e.coalesce_key != 0) --keyed_waiting_;
    }
    if (reason != drop_reason::none) ++metrics_.dropped[static_cast<std::size_t>(reason)];
    --live_records_;
    live_bytes_ -= e.size;
    if (e.ttl_ms != 0) --ttl_entries_;
    if (e.durable) {
      --durable_live_;
      if (!loading_) {
        write_marker(e, detail::journal_kind::done);
        tidy_needed_ = true;
      }
    }
    e.state = entry_state::dead;
    while (first_ < end_ && entries_[first_].state == entry_state::dead) ++first_;
    if (first_ == end_) {
      first_ = end_ = arena_end_ = 0;
      for (std::size_t& c : cursor_) c = 0;
    }
  }

  void drop(std::size_t index, drop_reason reason) noexcept { finish(index, reason); }

  void make_waiting(entry& e) noexcept {
    e.packet_id = 0;
    e.state = entry_state::waiting;
    ++waiting_[klass(e)];
    if (e.coalesce_key != 0) ++keyed_waiting_;
  }

  std::size_t find_coalesced(std::uint32_t key) const noexcept {
    for (std::size_t i = first_; i < end_; ++i)
      if (entries_[i].state == entry_state::waiting && entries_[i].coalesce_key == key) return i;
    return npos;
  }

  // Frees room for one message of `size` bytes and class `klass_new` by evicting waiting messages:
  // lower classes first, oldest first; the new message's own class only under drop_oldest; never a
  // higher class, and never what the session already holds. `skip` is going anyway (coalesced).
  // With apply false only answers whether it can be done.
  bool make_room(std::size_t size, std::size_t klass_new, std::size_t skip, bool apply, std::uint32_t& evicted) noexcept {
    std::size_t records = live_records_ + 1;
    std::size_t bytes = live_bytes_ + size;
    if (skip != npos) {
      --records;
      bytes -= entries_[skip].size;
    }
    const auto fits = [&] { return records <= config_.max_records && bytes <= config_.max_bytes; };
    for (std::size_t c = 0; c <= klass_new && !fits(); ++c) {
      if (c == klass_new && config_.overflow != overflow_policy::drop_oldest) break;
      if (waiting_[c] == 0) continue;
      for (std::size_t i = std::max(cursor_[c], first_); i < end_ && !fits(); ++i) {
        entry& e = entries_[i];
        if (e.state != entry_state::waiting || klass(e) != c || i == skip) continue;
        --records;
        bytes -= e.size;
        if (apply) {
          drop(i, drop_reason::overflow);
          ++evicted;
        }
      }
    }
    return fits();
  }

  // ---- feeding the session -------------------------------------------------------------------------

  bool expired(const entry& e, time_point now) const noexcept {
    return e.ttl_ms != 0 && now - e.enqueued > duration{e.ttl_ms};
  }

  void expire(time_point now) noexcept {
    for (std::size_t i = first_; i < end_; ++i)
      if (entries_[i].state == entry_state::waiting && expired(entries_[i], now)) drop(i, drop_reason::expired);
    next_expiry_scan_ = now + config_.expiry_scan_interval;
  }

  // The oldest waiting message of the highest class that has one.
  std::size_t next_waiting() noexcept {
    for (std::size_t c = priority_classes; c-- > 0;) {
      if (waiting_[c] == 0) continue;
      std::size_t& i = cursor_[c];
      if (i < first_) i = first_;
      for (; i < end_; ++i)
        if (entries_[i].state == entry_state::waiting && klass(entries_[i]) == c) return i;
    }
    return npos;
  }

  void feed(time_point now) noexcept {
    if (!session_.is_ready()) return;
    feed_blocked_ = false;
    while (handed_count_ < config_.feed_window) {
      const std::size_t index = next_waiting();
      if (index == npos) return;
      if (expired(entries_[index], now)) {
        drop(index, drop_reason::expired);
        continue;
      }
      if (entries_[index].priority != message_priority::critical && !bucket_.unlimited()) {
        if (!bucket_.try_take(now)) {
          rate_ready_ = bucket_.ready_at(now);
          return;
        }
      }
      if (!hand(index)) {
        feed_blocked_ = true;  // the session is full: on_publish_done makes room
        return;
      }
    }
  }

  bool hand(std::size_t index) noexcept {
    entry& e = entries_[index];
    auto t = session_.publish(topic_of(e), payload_of(e), {.qos = e.qos, .retain = e.retain});
    if (!t) {
      if (t.error() == errc::capacity_exceeded || t.error() == errc::not_connected) return false;
      drop(index, drop_reason::failed);  // it would be refused again: too large, QoS or retain not supported
      return true;
    }
    ++metrics_.handed;
    --waiting_[klass(e)];
    if (e.coalesce_key != 0) --keyed_waiting_;
    if (e.qos == mqtt::qos::at_most_once) {
      // Written or queued by the session; nothing more will be heard of it.
      e.state = entry_state::handed;
      ++metrics_.delivered;
      finish(index, drop_reason::none);
      return true;
    }
    e.state = entry_state::handed;
    e.token = *t;
    handed_[handed_count_++] = handed_slot{*t, index};
    return true;
  }

  std::size_t take_handed(mqtt::token t, bool remove) noexcept {
    for (std::size_t h = 0; h < handed_count_; ++h) {
      if (handed_[h].token != t) continue;
      const std::size_t index = handed_[h].index;
      if (remove) handed_[h] = handed_[--handed_count_];
      return index;
    }
    return npos;
  }

  // ---- publish_tracker ------------------------------------------------------------------------------

  void on_packet_id(mqtt::token t, std::uint16_t packet_id) override {
    const std::size_t index = take_handed(t, false);
    if (index == npos) return;
    entry& e = entries_[index];
    e.packet_id = packet_id;
    if (e.durable) write_state(e);
  }

  void on_released(mqtt::token t) override {
    const std::size_t index = take_handed(t, false);
    if (index == npos) return;
    entry& e = entries_[index];
    e.state = entry_state::released;
    if (e.durable) write_state(e);
  }

  void on_publish_done(mqtt::token t, std::error_code ec) override {
    const std::size_t index = take_handed(t, true);
    if (index == npos) return;
    feed_blocked_ = false;
    // A refusal by the broker is final: sending it again would be refused again.
    if (!ec) ++metrics_.delivered;
    finish(index, ec ? drop_reason::failed : drop_reason::none);
  }

  // ---- the journal ----------------------------------------------------------------------------------

  result<std::uint64_t> append_record(const detail::journal_record& rec, bool id_is_sequence) noexcept {
    detail::journal_record r = rec;
    // A new message's id is the sequence number its record gets; stores number records one by one, so
    // that is the store's next sequence: written as a placeholder here and implied on replay.
    if (id_is_sequence) r.id = detail::journal_self_id;
    const std::size_t n = detail::encode_journal(r, mutable_bytes(scratch_.get(), scratch_capacity_));
    auto seq = store_.append(bytes_view(scratch_.get(), n));
    if (!seq) {
      last_store_error_ = seq.error();
      return seq.error();
    }
    uncommitted_ = true;
    return *seq;
  }

  bool write_message(entry& e) noexcept {
    detail::journal_record rec;
    rec.kind = detail::journal_kind::message;
    rec.id = e.id;
    rec.qos = e.qos;
    rec.retain = e.retain;
    rec.priority = e.priority;
    rec.ttl_ms = e.ttl_ms;
    rec.coalesce_key = e.coalesce_key;
    rec.topic = topic_of(e);
    rec.payload = payload_of(e);
    auto seq = append_record(rec, false);
    if (!seq) return false;
    e.copy_seq = *seq;
    return true;
  }

  void write_marker(entry& e, detail::journal_kind kind) noexcept {
    detail::journal_record rec;
    rec.kind = kind;
    rec.id = e.id;
    rec.packet_id = e.packet_id;
    auto seq = append_record(rec, false);
    if (!seq) {
      ++metrics_.journal_errors;
      return;
    }
    if (kind != detail::journal_kind::done) {
      e.marker_seq = *seq;
      tidy_needed_ = true;  // the previous state record is dead now
    }
  }

  // The state of a message that has one: its identifier, then PUBREC if it came.
  void write_state(entry& e) noexcept {
    if (e.packet_id == 0) return;
    write_marker(e, detail::journal_kind::sent);
    if (e.state == entry_state::released) write_marker(e, detail::journal_kind::released);
  }

  // Durable entries are in id order in [first_, end_) (ids grow; replay sorts them).
  std::size_t find_durable(std::uint64_t id) const noexcept {
    for (std::size_t i = first_; i < end_; ++i) {
      const entry& e = entries_[i];
      if (!e.durable) continue;
      if (e.id == id) return i;
      if (e.id > id) break;
    }
    return npos;
  }

  void replay(const detail::journal_record& rec, time_point now) noexcept {
    // A message record written by publish() has no id of its own yet: its id is its sequence number.
    std::uint64_t id = rec.id;
    if (rec.kind == detail::journal_kind::message && id == detail::journal_self_id) id = replay_sequence_;
    const std::size_t index = find_any(id);
    switch (rec.kind) {
      case detail::journal_kind::message: {
        if (index != npos) return;  // a second copy: a crash came between copying and popping
        entry fresh{};
        fresh.id = id;
        fresh.enqueued = now;
        fresh.ttl_ms = rec.ttl_ms;
        fresh.coalesce_key = rec.coalesce_key;
        fresh.size = static_cast<std::uint32_t>(rec.topic.size() + rec.payload.size());
        fresh.topic_size = static_cast<std::uint16_t>(rec.topic.size());
        fresh.qos = rec.qos;
        fresh.retain = rec.retain;
        fresh.durable = true;
        fresh.priority = rec.priority;
        fresh.state = entry_state::handed;  // not counted as waiting until open() decides
        if (fresh.size > config_.max_message_bytes || live_records_ + 1 > config_.max_records ||
            live_bytes_ + fresh.size > config_.max_bytes) {
          ++metrics_.dropped[static_cast<std::size_t>(drop_reason::overflow)];
          return;
        }
        insert_sorted(fresh, rec.topic, rec.payload);
        return;
      }
      case detail::journal_kind::sent:
        if (index != npos && entries_[index].state != entry_state::dead) {
          entries_[index].packet_id = rec.packet_id;
          entries_[index].state = entry_state::handed;
        }
        return;
      case detail::journal_kind::released:
        if (index != npos && entries_[index].state != entry_state::dead && entries_[index].packet_id != 0)
          entries_[index].state = entry_state::released;
        return;
      case detail::journal_kind::done:
        if (index != npos) finish(index, drop_reason::none);
        else done_before_copy(id);
        return;
    }
  }

  // Replay needs the sequence number of the record being replayed for messages written by publish().
  // peek() reports it; open() keeps it here.
  std::uint64_t replay_sequence_ = 0;

  // Replay: a done record can only follow its message (copies are made of live messages only), so a
  // done for an id not held means the message was already gone. Nothing to do.
  void done_before_copy(std::uint64_t) noexcept {}

  // Replay: entries may be dead (done) but still present so that a later copy is recognised.
  std::size_t find_any(std::uint64_t id) const noexcept {
    // Replay inserts in id order, mostly at the end: search from the end.
    for (std::size_t i = end_; i-- > 0;) {
      if (entries_[i].id == id && entries_[i].durable) return i;
      if (entries_[i].durable && entries_[i].id < id) break;
    }
    return npos;
  }

  // Replay: copies moved to the tail arrive out of id order; they are put back in place, bytes too,
  // so that entries and arena keep the same order.
  void insert_sorted(const entry& fresh, std::string_view topic, bytes_view payload) noexcept {
    std::size_t at = end_;
    while (at > 0 && entries_[at - 1].id > fresh.id) --at;
    if (at == end_) {
      (void)insert(fresh, topic, payload);
      return;
    }
    if (end_ == entry_capacity_ || arena_capacity_ - arena_end_ < fresh.size) {
      compact();
      at = end_;
      while (at > 0 && entries_[at - 1].id > fresh.id) --at;
    }
    const std::size_t offset = at < end_ ? entries_[at].offset : arena_end_;
    std::memmove(arena_.get() + offset + fresh.size, arena_.get() + offset, arena_end_ - offset);
    std::copy_backward(&entries_[at], &entries_[end_], &entries_[end_ + 1]);
    for (std::size_t i = at + 1; i <= end_; ++i) entries_[i].offset += fresh.size;
    ++end_;
    arena_end_ += fresh.size;
    entry& e = entries_[at];
    e = fresh;
    e.offset = static_cast<std::uint32_t>(offset);
    std::memcpy(arena_.get() + offset, topic.data(), topic.size());
    if (!payload.empty()) std::memcpy(arena_.get() + offset + topic.size(), payload.data(), payload.size());
    if (at < first_) first_ = at;
    account(e);
  }

  // Pops dead records from the head of the journal; copies a live one to the tail when the journal
  // has grown well past what is live (a message waiting behind others holds up the head).
  void tidy() noexcept {
    tidy_needed_ = false;
    for (int budget = 0; budget < 1024 && store_.records() != 0; ++budget) {
      auto info = store_.peek(mutable_bytes(scratch_.get(), scratch_capacity_));
      if (!info) {
        if (info.error() == errc::buffer_too_small) (void)store_.pop();
        else return;
        continue;
      }
      auto rec = detail::decode_journal(bytes_view(scratch_.get(), info->size));
      if (!rec) {
        (void)store_.pop();
        continue;
      }
      const std::uint64_t id =
          rec->kind == detail::journal_kind::message && rec->id == detail::journal_self_id ? info->sequence : rec->id;
      const std::size_t index = find_durable(id);
      bool live = index != npos && entries_[index].state != entry_state::dead;
      if (live) {
        const entry& e = entries_[index];
        live = rec->kind == detail::journal_kind::message ? info->sequence == e.copy_seq
                                                          : (rec->kind != detail::journal_kind::done && info->sequence == e.marker_seq);
      }
      if (!live) {
        if (store_.pop()) uncommitted_ = true;
        continue;
      }
      if (store_.records() <= 4 * durable_live_ + 64) return;  // not worth copying yet
      entry& e = entries_[index];
      if (!write_message(e)) return;  // full: try again after more has been popped
      write_state(e);
      ++metrics_.compactions;
      // The record at the head is the old copy (or the old state record): dead now.
      if (store_.pop()) uncommitted_ = true;
    }
    tidy_needed_ = true;  // budget used up: carry on at the next pump()
  }

  mqtt::session& session_;
  Store& store_;
  outbox_config config_;
  std::error_code construction_error_{};
  std::error_code last_store_error_{};

  std::unique_ptr<entry[]> entries_;
  std::unique_ptr<byte[]> arena_;
  std::unique_ptr<byte[]> scratch_;
  std::unique_ptr<handed_slot[]> handed_;
  std::size_t entry_capacity_ = 0;
  std::size_t arena_capacity_ = 0;
  std::size_t scratch_capacity_ = 0;
  std::size_t handed_capacity_ = 0;

  std::size_t first_ = 0;  // oldest entry not dead
  std::size_t end_ = 0;
  std::size_t arena_end_ = 0;
  std::size_t cursor_[priority_classes] = {};  // per class: no waiting message of the class before it
  std::size_t handed_count_ = 0;

  std::size_t live_records_ = 0;
  std::size_t live_bytes_ = 0;
  std::size_t waiting_[priority_classes] = {};
  std::size_t durable_live_ = 0;
  std::size_t ttl_entries_ = 0;
  std::size_t keyed_waiting_ = 0;

  token_bucket bucket_;
  time_point rate_ready_{};
  time_point next_expiry_scan_ = never;
  time_point last_commit_{};
  bool feed_blocked_ = false;
  bool opened_ = false;
  bool loading_ = false;
  bool uncommitted_ = false;
  bool tidy_needed_ = false;
  std::uint64_t durable_end_ = 0;
  std::uint64_t durable_through_ = 0;
  outbox_metrics metrics_{};
};

}  // namespace thingwell::store
