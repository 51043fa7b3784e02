// thingwell — what the outbox is configured with, what publish() answers, and what it reports.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/clock.hpp"
#include "../mqtt/types.hpp"

namespace thingwell::store {

// Under pressure a class is evicted only after every class below it is empty (AWS IoT Lens F-07).
enum class message_priority : std::uint8_t { bulk = 0, normal = 1, critical = 2 };
inline constexpr std::size_t priority_classes = 3;

// What happens when a new message does not fit. Lower classes are always evicted first, whatever the
// policy; the policy decides within the new message's own class.
enum class overflow_policy : std::uint8_t {
  drop_oldest,  // the oldest waiting message of the class goes (the IoT Lens default)
  drop_newest,  // the new message goes (status dropped, reason overflow)
  reject,       // the new message is refused with errc::outbox_full: the caller keeps it
};

enum class drop_reason : std::uint8_t {
  none,
  overflow,   // evicted, or not admitted, because the outbox was full
  expired,    // its time to live passed before it could be sent
  coalesced,  // a newer message with the same coalescing key replaced it
  failed,     // the session or the broker refused it (too large, QoS not supported, broker reason code)
};
inline constexpr std::size_t drop_reasons = 5;

inline constexpr const char* to_string(drop_reason r) noexcept {
  switch (r) {
    case drop_reason::none: return "none";
    case drop_reason::overflow: return "overflow";
    case drop_reason::expired: return "expired";
    case drop_reason::coalesced: return "coalesced";
    case drop_reason::failed: return "failed";
  }
  return "?";
}

struct message_options {
  mqtt::qos qos = mqtt::qos::at_least_once;
  bool retain = false;
  // Written to the persistence store before publish() returns: survives a restart of the device.
  bool durable = false;
  message_priority priority = message_priority::normal;
  // Dropped if not handed to the session within this time (0: no limit). Measured on the monotonic
  // clock; for a message restored after a restart it counts from the restart (the monotonic clock
  // does not survive one, and a wall clock may not be synced yet).
  duration ttl{0};
  // Non-zero: a message with the same key still waiting is dropped, so only the newest status of a
  // kind waits (e.g. one key per sensor state). Messages already handed to the session are not recalled.
  std::uint32_t coalesce_key = 0;
};

enum class publish_state : std::uint8_t {
  sent,     // handed to the session (written or in its in-flight window); completion follows
  queued,   // waiting in the outbox (offline, window full, or paced)
  dropped,  // not kept: see reason
};

inline constexpr const char* to_string(publish_state s) noexcept {
  switch (s) {
    case publish_state::sent: return "sent";
    case publish_state::queued: return "queued";
    case publish_state::dropped: return "dropped";
  }
  return "?";
}

struct publish_status {
  publish_state state = publish_state::queued;
  drop_reason reason = drop_reason::none;
  // Durable messages: the store's sequence number of the message's record, unique across restarts.
  std::uint64_t id = 0;
  // The record was committed before publish() returned (durable messages with commit_on_publish; with
  // group commit see outbox::durable_through()).
  bool durable = false;
  std::uint32_t evicted = 0;  // older messages dropped to make room for this one
};

struct outbox_config {
  std::size_t max_records = 1024;         // messages held (waiting and handed to the session)
  std::size_t max_bytes = 256 * 1024;     // their topic and payload bytes
  std::size_t max_message_bytes = 16 * 1024;  // topic + payload of one message
  overflow_policy overflow = overflow_policy::drop_oldest;
  // Messages handed to the session and not yet complete. The outbox keeps the rest, so priorities,
  // coalescing and TTL still apply to them; keep it near the broker's receive maximum.
  std::size_t feed_window = 16;
  // Messages per second taken from the queue, critical ones excepted (0: no limit): a backlog drains
  // at this pace after a reconnect while live critical messages go first (F-10).
  std::uint32_t drain_rate = 0;
  // Commit the store inside publish() for durable messages, so that "durable" means committed when
  // publish() returns. Off: records reach the store at once and are committed by pump() every
  // commit_interval (group commit; durable_through() says how far).
  bool commit_on_publish = true;
  duration commit_interval{0};
  duration expiry_scan_interval{1000};  // how often pump() looks for expired messages
};

// Gauges and counters (F-13). Gauges are exact at the time of the call.
struct outbox_metrics {
  std::size_t depth = 0;            // messages held: waiting plus handed to the session
  std::size_t waiting = 0;          // of which not yet handed to the session
  std::size_t bytes = 0;            // their topic and payload bytes
  duration oldest_age{0};           // age of the oldest message held (0 when empty)
  std::uint64_t enqueued = 0;       // publish() calls that kept the message
  std::uint64_t handed = 0;         // messages given to the session
  std::uint64_t delivered = 0;      // acknowledged (QoS 1/2) or written (QoS 0)
  std::uint64_t dropped[drop_reasons] = {};  // by drop_reason
  std::uint64_t rejected = 0;       // publish() answered errc::outbox_full
  std::uint64_t restored = 0;       // messages found in the store at open()
  std::uint64_t resumed = 0;        // of which handed back to the session with their packet identifier
  std::uint64_t journal_errors = 0; // state records the store refused (a restart may then resend)
  std::uint64_t compactions = 0;    // live records moved from the head of the store to its tail

  std::uint64_t dropped_total() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t d : dropped) n += d;
    return n;
  }
  std::uint64_t dropped_by(drop_reason r) const noexcept { return dropped[static_cast<std::size_t>(r)]; }
};

}  // namespace thingwell::store
