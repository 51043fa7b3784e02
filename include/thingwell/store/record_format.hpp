// thingwell — the on-media framing of one stored record, shared by the file log and the flash store.
//
//   offset  size  field
//        0     4  payload length (little-endian, as every field here)
//        4     8  sequence number (queue records), head sequence (head markers), block number (block starts)
//       12     1  kind (record_kind); 0x00 and 0xFF are never used, so erased flash and zeroed files
//                 never look like a record
//       13     1  key length (keyed records: the payload starts with the key)
//       14     2  reserved, zero
//       16     4  CRC-32 of the value (the payload after the key)
//       20     4  CRC-32 of bytes 0..19 followed by the key
//
// Two checksums instead of one: when only the value is damaged the header is still trusted, so a reader
// knows the record's length and its key, skips exactly that record and can say which key went bad. When
// the header itself fails, its length cannot be trusted and the reader has to search forward for the next
// valid header (resynchronise) instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "../core/bytes.hpp"
#include "crc32.hpp"

namespace thingwell::store {

enum class record_kind : std::uint8_t {
  data = 1,         // a queue record
  head = 2,         // everything with a lower sequence number has been consumed (payload: next sequence)
  put = 3,          // keyed record: key then value
  erase = 4,        // keyed tombstone: key only
  block_start = 5,  // first record of a flash erase block; sequence = the block's place in the log
};

inline constexpr std::size_t record_header_size = 24;

struct record_header {
  std::uint32_t length = 0;  // payload bytes, key included
  std::uint64_t sequence = 0;
  record_kind kind = record_kind::data;
  std::uint8_t key_length = 0;
  std::uint32_t value_crc = 0;

  std::size_t total_size() const noexcept { return record_header_size + length; }
  std::size_t value_length() const noexcept { return length - key_length; }
};

namespace detail {

inline void put_le32(byte* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<byte>(v >> (8 * i));
}
inline void put_le64(byte* p, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<byte>(v >> (8 * i));
}
inline std::uint32_t get_le32(const byte* p) noexcept {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t get_le64(const byte* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline bool known_kind(std::uint8_t k) noexcept {
  return k >= static_cast<std::uint8_t>(record_kind::data) && k <= static_cast<std::uint8_t>(record_kind::block_start);
}

}  // namespace detail

// Writes the 24 header bytes for `payload` (key first, then value) into `out`.
inline void encode_record_header(byte* out, record_kind kind, std::uint64_t sequence, bytes_view key,
                                 bytes_view value) noexcept {
  detail::put_le32(out, static_cast<std::uint32_t>(key.size() + value.size()));
  detail::put_le64(out + 4, sequence);
  out[12] = static_cast<byte>(kind);
  out[13] = static_cast<byte>(key.size());
  out[14] = 0;
  out[15] = 0;
  detail::put_le32(out + 16, crc32_of(value));
  detail::put_le32(out + 20, crc32{}.update({out, 20}).update(key).value());
}

// The header fields when the 24 bytes are self-consistent before the key is checked: a known kind, a
// key no longer than the payload, and a length no greater than `max_length`. The caller then checks the
// header CRC with header_crc_matches() once it has the key.
inline std::optional<record_header> decode_record_header(bytes_view raw, std::size_t max_length) noexcept {
  if (raw.size() < record_header_size) return std::nullopt;
  const byte* p = raw.data();
  record_header h;
  h.length = detail::get_le32(p);
  h.sequence = detail::get_le64(p + 4);
  if (!detail::known_kind(p[12]) || p[14] != 0 || p[15] != 0) return std::nullopt;
  h.kind = static_cast<record_kind>(p[12]);
  h.key_length = p[13];
  if (h.length > max_length || h.key_length > h.length) return std::nullopt;
  h.value_crc = detail::get_le32(p + 16);
  return h;
}

inline bool header_crc_matches(bytes_view raw, bytes_view key) noexcept {
  return crc32{}.update(raw.first(20)).update(key).value() == detail::get_le32(raw.data() + 20);
}

// Header decoding for records without a key (queue records, markers): one call does both checks.
inline std::optional<record_header> decode_keyless_header(bytes_view raw, std::size_t max_length) noexcept {
  auto h = decode_record_header(raw, max_length);
  if (!h || h->key_length != 0 || !header_crc_matches(raw, {})) return std::nullopt;
  return h;
}

}  // namespace thingwell::store
