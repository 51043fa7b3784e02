// thingwell — MQTT packet encoder (sans-I/O, no allocation).
//
//   auto size = mqtt::encoded_size(packet, version);          // exact bytes needed, or why it cannot be sent
//   auto n    = mqtt::encode(packet, version, buffer);          // writes into the caller's buffer
//
// Every packet is validated before a byte is written: strings are MQTT UTF-8, topics and filters are
// well-formed, properties belong to the packet, reason codes are allowed there. A buffer that is too
// small is reported (errc::buffer_too_small) and left untouched.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "packets.hpp"
#include "properties.hpp"
#include "topic.hpp"
#include "varint.hpp"

namespace thingwell::mqtt {

namespace detail {

// Sizes found while validating, reused while writing so nothing is computed twice.
struct measured {
  std::uint32_t remaining = 0;   // Remaining Length
  std::uint32_t props = 0;       // property block size (without its length prefix)
  std::uint32_t will_props = 0;  // CONNECT only
};

constexpr std::size_t packet_size(std::uint32_t remaining) noexcept { return 1 + varint_size(remaining) + remaining; }
constexpr std::uint32_t block_with_prefix(std::uint32_t block) noexcept {
  return static_cast<std::uint32_t>(varint_size(block)) + block;
}

inline bool has_properties(const properties& p) noexcept { return !no_properties(p); }

// MQTT 3.1.1 has no properties; MQTT 5 validates them for the packet.
inline std::error_code measure_properties(const properties& p, protocol_version v, property_context ctx,
                                          std::uint32_t& size) noexcept {
  if (v != protocol_version::v5) return has_properties(p) ? make_error_code(errc::property_not_allowed) : std::error_code{};
  auto r = property_block_size(p, ctx);
  if (!r) return r.error();
  size = *r;
  return {};
}

inline std::error_code check_text(std::string_view s) noexcept {
  if (s.size() > max_field_length) return errc::string_too_long;
  if (!is_valid_utf8(s)) return errc::bad_utf8;
  return {};
}

inline result<std::uint32_t> checked_total(std::uint64_t remaining) noexcept {
  if (remaining > max_varint) return errc::packet_too_large;
  return static_cast<std::uint32_t>(remaining);
}

inline void write_fixed_header(byte_writer& w, packet_type t, std::uint8_t flags, std::uint32_t remaining) noexcept {
  w.u8(static_cast<std::uint8_t>((static_cast<unsigned>(t) << 4) | flags));
  write_varint(w, remaining);
}

// ---- CONNECT -----------------------------------------------------------------------------------------

inline result<measured> measure(const connect& p) noexcept {
  const protocol_version v = p.version;
  if (v != protocol_version::v311 && v != protocol_version::v5) return errc::unsupported_protocol_version;
  measured m;
  std::uint64_t rl = 6 /* "MQTT" */ + 1 /* level */ + 1 /* flags */ + 2 /* keep alive */;
  if (auto ec = measure_properties(p.props, v, context_of(packet_type::connect), m.props)) return ec;
  if (v == protocol_version::v5) rl += block_with_prefix(m.props);

  if (auto ec = check_text(p.client_id)) return ec;
  if (v == protocol_version::v311 && p.client_id.empty() && !p.clean_start) return errc::client_id_invalid;
  rl += 2 + p.client_id.size();

  if (p.will) {
    const will_message& w = *p.will;
    if (auto ec = validate_topic_name(w.topic)) return ec;
    if (static_cast<unsigned>(w.qos) > 2) return errc::bad_qos;
    if (w.payload.size() > max_field_length) return errc::string_too_long;
    if (auto ec = measure_properties(w.props, v, will_context, m.will_props)) return ec;
    if (v == protocol_version::v5) rl += block_with_prefix(m.will_props);
    rl += 2 + w.topic.size() + 2 + w.payload.size();
  }
  if (p.username) {
    if (auto ec = check_text(*p.username)) return ec;
    rl += 2 + p.username->size();
  }
  if (p.password) {
    if (v == protocol_version::v311 && !p.username) return errc::bad_connect_flags;  // [MQTT-3.1.2-22]
    if (p.password->size() > max_field_length) return errc::string_too_long;
    rl += 2 + p.password->size();
  }
  auto total = checked_total(rl);
  if (!total) return total.error();
  m.remaining = *total;
  return m;
}

inline void write(const connect& p, const measured& m, byte_writer& w) noexcept {
  write_fixed_header(w, packet_type::connect, 0, m.remaining);
  w.prefixed(std::string_view("MQTT"));
  w.u8(static_cast<std::uint8_t>(p.version));
  std::uint8_t flags = p.clean_start ? 0x02 : 0x00;
  if (p.will) {
    flags |= 0x04;
    flags |= static_cast<std::uint8_t>(static_cast<unsigned>(p.will->qos) << 3);
    if (p.will->retain) flags |= 0x20;
  }
  if (p.password) flags |= 0x40;
  if (p.username) flags |= 0x80;
  w.u8(flags);
  w.u16(p.keep_alive);
  if (p.version == protocol_version::v5) write_property_block(w, p.props, m.props);
  w.prefixed(p.client_id);
  if (p.will) {
    if (p.version == protocol_version::v5) write_property_block(w, p.will->props, m.will_props);
    w.prefixed(p.will->topic);
    w.prefixed(p.will->payload);
  }
  if (p.username) w.prefixed(*p.username);
  if (p.password) w.prefixed(*p.password);
}

// ---- CONNACK -----------------------------------------------------------------------------------------

inline result<measured> measure(const connack& p, protocol_version v) noexcept {
  measured m;
  if (p.session_present && is_failure(p.reason)) return errc::protocol_error;  // [MQTT-3.2.2-6]
  if (v == protocol_version::v311) {
    if (auto ec = measure_properties(p.props, v, 0, m.props)) return ec;
    m.remaining = 2;
    return m;
  }
  if (!is_allowed(p.reason, packet_type::connack)) return errc::bad_reason_code;
  if (auto ec = measure_properties(p.props, v, context_of(packet_type::connack), m.props)) return ec;
  auto total = checked_total(2ull + block_with_prefix(m.props));
  if (!total) return total.error();
  m.remaining = *total;
  return m;
}

inline void write(const connack& p, protocol_version v, const measured& m, byte_writer& w) noexcept {
  write_fixed_header(w, packet_type::connack, 0, m.remaining);
  w.u8(p.session_present ? 1 : 0);
  if (v == protocol_version::v311) {
    w.u8(to_v311_connack(p.reason));
    return;
  }
  w.u8(static_cast<std::uint8_t>(p.reason));
  write_property_block(w, p.props, m.props);
}

// ---- PUBLISH -----------------------------------------------------------------------------------------

inline result<measured> measure(const publish& p, protocol_version v) noexcept {
  measured m;
  if (static_cast<unsigned>(p.qos) > 2) return errc::bad_qos;
  if (p.qos == qos::at_most_once) {
    if (p.dup) return errc::protocol_error;  // [MQTT-3.3.1-2]
  } else if (p.packet_id == 0) {
    return errc::bad_packet_id;
  }
  if (p.topic.empty()) {
    // MQTT 5 allows an empty topic when a Topic Alias names it.
    if (v != protocol_version::v5 || !p.props.topic_alias) return errc::bad_topic_name;
  } else if (auto ec = validate_topic_name(p.topic)) {
    return ec;
  }
  if (auto ec = measure_properties(p.props, v, context_of(packet_type::publish), m.props)) return ec;
  std::uint64_t header = 2 + p.topic.size() + (p.qos != qos::at_most_once ? 2 : 0);
  if (v == protocol_version::v5) header += block_with_prefix(m.props);
  auto total = checked_total(header + p.payload.size());
  if (!total) return total.error();
  m.remaining = *total;
  return m;
}

inline void write_publish_header(const publish& p, protocol_version v, const measured& m, byte_writer& w) noexcept {
  const std::uint8_t flags = static_cast<std::uint8_t>((p.dup ? 0x08 : 0) | (static_cast<unsigned>(p.qos) << 1) |
                                                       (p.retain ? 0x01 : 0));
  write_fixed_header(w, packet_type::publish, flags, m.remaining);
  w.prefixed(p.topic);
  if (p.qos != qos::at_most_once) w.u16(p.packet_id);
  if (v == protocol_version::v5) write_property_block(w, p.props, m.props);
}

inline void write(const publish& p, protocol_version v, const measured& m, byte_writer& w) noexcept {
  write_publish_header(p, v, m, w);
  w.raw(p.payload);
}

// ---- PUBACK, PUBREC, PUBREL, PUBCOMP -----------------------------------------------------------------

template <packet_type T>
result<measured> measure(const publish_response<T>& p, protocol_version v) noexcept {
  measured m;
  if (p.packet_id == 0) return errc::bad_packet_id;
  if (v == protocol_version::v311) {
    if (p.reason != reason_code::success) return errc::bad_reason_code;
    if (auto ec = measure_properties(p.props, v, 0, m.props)) return ec;
    m.remaining = 2;
    return m;
  }
  if (!is_allowed(p.reason, T)) return errc::bad_reason_code;
  if (auto ec = measure_properties(p.props, v, context_of(T), m.props)) return ec;
  // The reason code and the property length may be left out when they carry nothing (MQTT 5 §3.4.2.1).
  if (m.props != 0) {
    auto total = checked_total(3ull + block_with_prefix(m.props));
    if (!total) return total.error();
    m.remaining = *total;
  } else {
    m.remaining = p.reason == reason_code::success ? 2 : 3;
  }
  return m;
}

template <packet_type T>
void write(const publish_response<T>& p, protocol_version, const measured& m, byte_writer& w) noexcept {
  write_fixed_header(w, T, T == packet_type::pubrel ? 0x02 : 0x00, m.remaining);
  w.u16(p.packet_id);
  if (m.remaining >= 3) w.u8(static_cast<std::uint8_t>(p.reason));
  if (m.remaining >= 4) write_property_block(w, p.props, m.props);
}

// ---- SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK -----------------------------------------------------

inline result<measured> measure(const subscribe& p, protocol_version v) noexcept {
  measured m;
  if (p.packet_id == 0) return errc::bad_packet_id;
  if (p.subscriptions.empty()) return errc::empty_payload;
  if (auto ec = measure_properties(p.props, v, context_of(packet_type::subscribe), m.props)) return ec;
  std::uint64_t rl = 2 + (v == protocol_version::v5 ? block_with_prefix(m.props) : 0);
  for (const subscription& s : p.subscriptions) {
    if (auto ec = validate_topic_filter(s.filter)) return ec;
    if (static_cast<unsigned>(s.max_qos) > 2 || static_cast<unsigned>(s.retain_handling) > 2)
      return errc::bad_subscription_options;
    if (v == protocol_version::v311 &&
        (s.no_local || s.retain_as_published || s.retain_handling != retain_handling::send_on_subscribe))
      return errc::bad_subscription_options;
    if (s.no_local && !split_shared(s.filter).share_name.empty()) return errc::bad_subscription_options;  // [MQTT-3.8.3-4]
    rl += 2 + s.filter.size() + 1;
  }
  auto total = checked_total(rl);
  if (!total) return total.error();
  m.remaining = *total;
  return m;
}

inline void write(const subscribe& p, protocol_version v, const measured& m, byte_writer& w) noexcept {
  write_fixed_header(w, packet_type::subscribe, 0x02, m.remaining);
  w.u16(p.packet_id);
  if (v == protocol_version::v5) write_property_block(w, p.props, m.props);
  for (const subscription& s : p.subscriptions) {
    w.prefixed(s.filter);
    w.u8(subscription_options_byte(s));
  }
}

inline result<measured> measure(const suback& p, protocol_version v) noexcept {
  measured m;
  if (p.packet_id == 0) return errc::bad_packet_id;
  if (p.reasons.empty()) return errc::empty_payload;
  for (reason_code rc : p.reasons)
    if (!suback_code_allowed(rc, v)) return errc::bad_reason_code;
  if (auto ec = measure_properties(p.props, v, context_of(packet_type::suback), m.props)) return ec;
  auto total = checked_total(2ull + (v == protocol_version::v5 ? block_with_prefix(m.props) : 0) + p.reasons.size());
  if (!total) return total.error();
  m.remaining = *total;
  return m;
}

inline void write(const suback& p, protocol_version v, const measured& m, byte_writer& w) noexcept {
  write_fixed_header(w, packet_type::suback, 0, m.remaining);
  w.u16(p.packet_id);
  if (v == protocol_version::v5) write_property_block(w, p.props, m.props);
  for (reason_code rc : p.reasons) w.u8(static_cast<std::uint8_t>(rc));
}

inline result<measured> measure(const unsubscribe& p, protocol_version v) noexcept {
  measured m;
  if (p.packet_id == 0) return errc::bad_packet_id;
  if (p.filters.empty()) return errc::empty_payload;
  if (auto ec = measure_properties(p.props, v, context_of(packet_type::unsubscribe), m.props)) return ec;
  std::uint64_t rl = 2 + (v == protocol_version::v5 ? block_with_prefix(m.props) : 0);
  for (std::string_view f : p.filters) {
    if (auto ec = validate_topic_filter(f)) return ec;
    rl += 2 + f.size();
  }
  auto total = checked_total(rl);
  if (!total) return total.error();
  m.remaining = *total;
  return m;
}

inline void write(const unsubscribe& p, protocol_version v, const measured& m, byte_writer& w) noexcept {
  write_fixed_header(w, packet_type::unsubscribe, 0x02, m.remaining);
  w.u16(p.packet_id);
  if (v == protocol_version::v5) write_property_block(w, p.props, m.props);
  for (std::string_view f : p.filters) w.prefixed(f);
}

inline result<measured> measure(const unsuback& p, protocol_version v) noexcept {
  measured m;
  if (p.packet_id == 0) return errc::bad_packet_id;
  if (v == protocol_version::v311) {
    if (!p.reasons.empty()) return errc::bad_reason_code;  // MQTT 3.1.1 UNSUBACK has no payload
    if (auto ec = measure_properties(p.props, v, 0, m.props)) return ec;
    m.remaining = 2;
    return m;
  }
  if (p.reasons.empty()) return errc::empty_payload;
  for (reason_code rc : p.reasons)
    if (!is_allowed(rc, packet_type::unsuback)) return errc::bad_reason_code;
  if (auto ec = measure_properties(p.props, v, context_of(packet_type::unsuback), m.props)) return ec;
  auto total = checked_total(2ull + block_with_prefix(m.props) + p.reasons.size());
  if (!total) return total.error();
  m.remaining = *total;
  return m;
}

inline void write(const unsuback& p, protocol_version v, const measured& m, byte_writer& w) noexcept {
  write_fixed_header(w, packet_type::unsuback, 0, m.remaining);
  w.u16(p.packet_id);
  if (v == protocol_version::v311) return;
  write_property_block(w, p.props, m.props);
  for (reason_code rc : p.reasons) w.u8(static_cast<std::uint8_t>(rc));
}

// ---- PINGREQ / PINGRESP / DISCONNECT / AUTH ----------------------------------------------------------

inline result<measured> measure(const pingreq&, protocol_version) noexcept { return measured{}; }
inline result<measured> measure(const pingresp&, protocol_version) noexcept { return measured{}; }
inline void write(const pingreq&, protocol_version, const measured&, byte_writer& w) noexcept {
  write_fixed_header(w, packet_type::pingreq, 0, 0);
}
inline void write(const pingresp&, protocol_version, const measured&, byte_writer& w) noexcept {
  write_fixed_header(w, packet_type::pingresp, 0, 0);
}

// DISCONNECT and AUTH: reason code and properties, both omitted when they say nothing.
template <class P>
result<measured> measure_reason_only(const P& p, protocol_version v) noexcept {
  measured m;
  if (v == protocol_version::v311) {
    if (P::type == packet_type::auth) return errc::bad_packet_type;
    if (p.reason != reason_code::success) return errc::bad_reason_code;
    if (auto ec = measure_properties(p.props, v, 0, m.props)) return ec;
    return m;
  }
  if (!is_allowed(p.reason, P::type)) return errc::bad_reason_code;
  if (auto ec = measure_properties(p.props, v, context_of(P::type), m.props)) return ec;
  if (m.props != 0) {
    // A block near the Variable Byte Integer limit leaves no room for the reason code and its prefix.
    auto total = checked_total(1ull + block_with_prefix(m.props));
    if (!total) return total.error();
    m.remaining = *total;
  } else {
    m.remaining = p.reason == reason_code::success ? 0 : 1;
  }
  return m;
}

inline result<measured> measure(const disconnect& p, protocol_version v) noexcept { return measure_reason_only(p, v); }
inline result<measured> measure(const auth& p, protocol_version v) noexcept { return measure_reason_only(p, v); }

template <class P>
void write_reason_only(const P& p, const measured& m, byte_writer& w) noexcept {
  write_fixed_header(w, P::type, 0, m.remaining);
  if (m.remaining >= 1) w.u8(static_cast<std::uint8_t>(p.reason));
  if (m.remaining >= 2) write_property_block(w, p.props, m.props);
}
inline void write(const disconnect& p, protocol_version, const measured& m, byte_writer& w) noexcept {
  write_reason_only(p, m, w);
}
inline void write(const auth& p, protocol_version, const measured& m, byte_writer& w) noexcept {
  write_reason_only(p, m, w);
}

// CONNECT carries its own version; these overloads give every packet the same shape.
inline result<measured> measure(const connect& p, protocol_version) noexcept { return measure(p); }
inline void write(const connect& p, protocol_version, const measured& m, byte_writer& w) noexcept { write(p, m, w); }

}  // namespace detail

// Exact number of bytes `p` encodes to, or why it cannot be encoded. CONNECT uses its own `version`.
template <class Packet>
result<std::size_t> encoded_size(const Packet& p, protocol_version v) noexcept {
  auto m = detail::measure(p, v);
  if (!m) return m.error();
  return detail::packet_size(m->remaining);
}

// Encodes `p` into `out`; returns the number of bytes written.
template <class Packet>
result<std::size_t> encode(const Packet& p, protocol_version v, mutable_bytes out) noexcept {
  auto m = detail::measure(p, v);
  if (!m) return m.error();
  const std::size_t size = detail::packet_size(m->remaining);
  if (out.size() < size) return errc::buffer_too_small;
  byte_writer w(out);
  detail::write(p, v, *m, w);
  THINGWELL_ASSERT(w.written() == size);
  return size;
}

inline result<std::size_t> encode(const packet& p, protocol_version v, mutable_bytes out) noexcept {
  return std::visit([&](const auto& pk) { return encode(pk, v, out); }, p);
}

// The bytes of a PUBLISH before its payload, so a large payload can be sent from where it lies
// (scatter/gather) instead of being copied. The whole packet is `header + p.payload.size()` bytes.
struct publish_header_size {
  std::size_t header;  // bytes written by encode_publish_header
  std::size_t total;   // header + payload
};

inline result<publish_header_size> measure_publish(const publish& p, protocol_version v) noexcept {
  auto m = detail::measure(p, v);
  if (!m) return m.error();
  const std::size_t total = detail::packet_size(m->remaining);
  return publish_header_size{total - p.payload.size(), total};
}

inline result<std::size_t> encode_publish_header(const publish& p, protocol_version v, mutable_bytes out) noexcept {
  auto m = detail::measure(p, v);
  if (!m) return m.error();
  const std::size_t header = detail::packet_size(m->remaining) - p.payload.size();
  if (out.size() < header) return errc::buffer_too_small;
  byte_writer w(out);
  detail::write_publish_header(p, v, *m, w);
  THINGWELL_ASSERT(w.written() == header);
  return header;
}

}  // namespace thingwell::mqtt
