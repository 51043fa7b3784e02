// thingwell — the outbox's records in a persistence store's queue: a journal of messages and their state.
//
// The store's queue can only be read and removed at its head, but acknowledgements, evictions and
// coalescing remove messages anywhere. So the queue is a journal, replayed at open():
//
//   message  id, qos, retain, priority, ttl, coalescing key, topic, payload
//   sent     id, packet identifier     the session assigned it (the last one counts)
//   released id                        QoS 2: PUBREC received
//   done     id                        acknowledged or dropped: forget it
//
// `id` is the store sequence number of the message's first record; a copy made when a live record is
// moved from the head to the tail keeps it, so replay can drop copies that a crash left twice.
// Integers are little-endian. The store checks each record's integrity; this layer only checks shape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "../core/bytes.hpp"
#include "../mqtt/types.hpp"
#include "outbox_types.hpp"

namespace thingwell::store::detail {

enum class journal_kind : std::uint8_t { message = 1, sent = 2, released = 3, done = 4 };

// The id of a message record publish() wrote: the record's own sequence number (not known before the
// append returns it).
inline constexpr std::uint64_t journal_self_id = ~std::uint64_t{0};

inline constexpr std::size_t journal_header = 9;                    // kind, id
inline constexpr std::size_t journal_message_header = journal_header + 11;  // + flags, ttl, key, topic length

struct journal_record {
  journal_kind kind{};
  std::uint64_t id = 0;
  std::uint16_t packet_id = 0;  // sent
  // message
  mqtt::qos qos = mqtt::qos::at_most_once;
  bool retain = false;
  message_priority priority = message_priority::normal;
  std::uint32_t ttl_ms = 0;
  std::uint32_t coalesce_key = 0;
  std::string_view topic;
  bytes_view payload;
};

inline void put_le(byte* at, std::uint64_t v, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) at[i] = static_cast<byte>(v >> (8 * i));
}
inline std::uint64_t get_le(const byte* at, std::size_t n) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{at[i]} << (8 * i);
  return v;
}

// Encodes into `out` (large enough: journal_message_header + topic + payload); returns the size.
inline std::size_t encode_journal(const journal_record& r, mutable_bytes out) noexcept {
  byte* p = out.data();
  p[0] = static_cast<byte>(r.kind);
  put_le(p + 1, r.id, 8);
  switch (r.kind) {
    case journal_kind::sent: put_le(p + journal_header, r.packet_id, 2); return journal_header + 2;
    case journal_kind::released:
    case journal_kind::done: return journal_header;
    case journal_kind::message: break;
  }
  p[9] = static_cast<byte>(static_cast<unsigned>(r.qos) | (r.retain ? 4u : 0u) |
                           (static_cast<unsigned>(r.priority) << 3));
  put_le(p + 10, r.ttl_ms, 4);
  put_le(p + 14, r.coalesce_key, 4);
  put_le(p + 18, r.topic.size(), 2);
  byte* q = p + journal_message_header;
  for (char c : r.topic) *q++ = static_cast<byte>(c);
  for (byte b : r.payload) *q++ = b;
  return journal_message_header + r.topic.size() + r.payload.size();
}

inline std::size_t journal_message_size(std::size_t topic, std::size_t payload) noexcept {
  return journal_message_header + topic + payload;
}

// Views point into `in`. nullopt: not a record this version wrote.
inline std::optional<journal_record> decode_journal(bytes_view in) noexcept {
  if (in.size() < journal_header) return std::nullopt;
  journal_record r;
  r.kind = static_cast<journal_kind>(in[0]);
  r.id = get_le(in.data() + 1, 8);
  switch (r.kind) {
    case journal_kind::sent:
      if (in.size() != journal_header + 2) return std::nullopt;
      r.packet_id = static_cast<std::uint16_t>(get_le(in.data() + journal_header, 2));
      return r;
    case journal_kind::released:
    case journal_kind::done:
      if (in.size() != journal_header) return std::nullopt;
      return r;
    case journal_kind::message: break;
    default: return std::nullopt;
  }
  if (in.size() < journal_message_header) return std::nullopt;
  const unsigned flags = in[9];
  if ((flags & 3u) > 2u || (flags >> 3) > 2u) return std::nullopt;
  r.qos = static_cast<mqtt::qos>(flags & 3u);
  r.retain = (flags & 4u) != 0;
  r.priority = static_cast<message_priority>(flags >> 3);
  r.ttl_ms = static_cast<std::uint32_t>(get_le(in.data() + 10, 4));
  r.coalesce_key = static_cast<std::uint32_t>(get_le(in.data() + 14, 4));
  const std::size_t topic = static_cast<std::size_t>(get_le(in.data() + 18, 2));
  if (topic == 0 || in.size() < journal_message_header + topic) return std::nullopt;
  r.topic = as_string(in.subspan(journal_message_header, topic));
  r.payload = in.subspan(journal_message_header + topic);
  return r;
}

}  // namespace thingwell::store::detail
