// thingwell — MQTT packet decoder (sans-I/O, no allocation).
//
//   auto p = mqtt::decode(frame, version);   // frame: one whole packet, fixed header included
//
// The result holds views into `frame`. Every rule of the specification that a receiver can check is
// checked, and each violation has its own error (see core/error.hpp); mqtt::disconnect_reason_for()
// turns it into the reason code to send. A claimed length never causes a read past the input, and
// nothing is allocated whatever the input claims.
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

struct fixed_header {
  packet_type type{};
  std::uint8_t flags = 0;
  std::uint32_t remaining_length = 0;
  std::uint8_t size = 0;  // bytes of the fixed header itself (2..5)
};

namespace detail {

// The flags each packet type must carry in the low nibble of byte 0 (PUBLISH varies).
constexpr bool header_flags_valid(packet_type t, std::uint8_t flags) noexcept {
  switch (t) {
    case packet_type::publish: return (flags & 0x06) != 0x06;  // QoS 3 is malformed
    case packet_type::pubrel:
    case packet_type::subscribe:
    case packet_type::unsubscribe: return flags == 0x02;
    default: return flags == 0;
  }
}

// Splits a whole frame into header and body; the frame must be exactly one packet.
inline std::error_code split_frame(bytes_view frame, fixed_header& h, byte_reader& body) noexcept {
  if (frame.size() < 2) return errc::truncated;
  const std::uint8_t first = frame[0];
  const unsigned type = first >> 4;
  if (type == 0) return errc::bad_packet_type;
  h.type = static_cast<packet_type>(type);
  h.flags = first & 0x0F;
  std::size_t varint_bytes = 0;
  switch (read_varint(frame.subspan(1), h.remaining_length, varint_bytes)) {
    case varint_status::ok: break;
    case varint_status::need_more: return errc::truncated;
    case varint_status::malformed: return errc::bad_varint;
  }
  h.size = static_cast<std::uint8_t>(1 + varint_bytes);
  const std::size_t expected = h.size + static_cast<std::size_t>(h.remaining_length);
  if (frame.size() < expected) return errc::truncated;
  if (frame.size() > expected) return errc::trailing_bytes;
  if (!header_flags_valid(h.type, h.flags)) return h.type == packet_type::publish ? errc::bad_qos : errc::bad_header_flags;
  body = byte_reader(frame.subspan(h.size));
  return {};
}

inline std::error_code read_text(byte_reader& r, std::string_view& out) noexcept {
  bytes_view raw;
  if (!r.prefixed(raw)) return errc::truncated;
  out = as_string(raw);
  if (!is_valid_utf8(out)) return errc::bad_utf8;
  return {};
}

inline std::error_code read_packet_id(byte_reader& r, std::uint16_t& id) noexcept {
  if (!r.u16(id)) return errc::truncated;
  if (id == 0) return errc::bad_packet_id;
  return {};
}

inline std::error_code expect_end(const byte_reader& r) noexcept {
  return r.empty() ? std::error_code{} : make_error_code(errc::trailing_bytes);
}

template <class P>
inline std::error_code expect_type(const fixed_header& h) noexcept {
  return h.type == P::type ? std::error_code{} : make_error_code(errc::unexpected_packet);
}

}  // namespace detail

// Reads the fixed header at the front of `in` (a partial frame is fine).
// Returns errc::truncated when more bytes are needed to know the length.
inline result<fixed_header> peek_fixed_header(bytes_view in) noexcept {
  if (in.empty()) return errc::truncated;
  fixed_header h;
  const unsigned type = in[0] >> 4;
  if (type == 0) return errc::bad_packet_type;
  h.type = static_cast<packet_type>(type);
  h.flags = in[0] & 0x0F;
  std::size_t n = 0;
  switch (read_varint(in.subspan(1), h.remaining_length, n)) {
    case varint_status::ok: break;
    case varint_status::need_more: return errc::truncated;
    case varint_status::malformed: return errc::bad_varint;
  }
  h.size = static_cast<std::uint8_t>(1 + n);
  return h;
}

// ---- CONNECT -----------------------------------------------------------------------------------------

// The protocol version comes from the packet itself.
inline result<connect> decode_connect(bytes_view frame) noexcept {
  fixed_header h;
  byte_reader r;
  if (auto ec = detail::split_frame(frame, h, r)) return ec;
  if (auto ec = detail::expect_type<connect>(h)) return ec;

  bytes_view name;
  if (!r.prefixed(name)) return errc::truncated;
  std::uint8_t level = 0;
  if (!r.u8(level)) return errc::truncated;
  if (as_string(name) == "MQIsdp") return errc::unsupported_protocol_version;  // MQTT 3.1
  if (as_string(name) != "MQTT") return errc::bad_protocol_name;
  if (level != 4 && level != 5) return errc::unsupported_protocol_version;

  connect p;
  p.version = static_cast<protocol_version>(level);
  const bool v5 = p.version == protocol_version::v5;
  std::uint8_t flags = 0;
  if (!r.u8(flags) || !r.u16(p.keep_alive)) return errc::truncated;
  const bool has_will = flags & 0x04;
  const unsigned will_qos = (flags >> 3) & 0x03;
  const bool will_retain = flags & 0x20;
  const bool has_password = flags & 0x40;
  const bool has_username = flags & 0x80;
  if (flags & 0x01) return errc::bad_connect_flags;  // reserved [MQTT-3.1.2-3]
  if (will_qos == 3) return errc::bad_qos;
  if (!has_will && (will_qos != 0 || will_retain)) return errc::bad_connect_flags;
  if (!v5 && has_password && !has_username) return errc::bad_connect_flags;
  p.clean_start = flags & 0x02;

  if (v5)
    if (auto ec = detail::read_property_block(r, context_of(packet_type::connect), p.props)) return ec;

  if (auto ec = detail::read_text(r, p.client_id)) return ec;
  if (!v5 && p.client_id.empty() && !p.clean_start) return errc::client_id_invalid;

  if (has_will) {
    will_message w;
    w.qos = static_cast<qos>(will_qos);
    w.retain = will_retain;
    if (v5)
      if (auto ec = detail::read_property_block(r, will_context, w.props)) return ec;
    if (auto ec = detail::read_text(r, w.topic)) return ec;
    if (auto ec = validate_topic_name(w.topic)) return ec;
    if (!r.prefixed(w.payload)) return errc::truncated;
    p.will = w;
  }
  if (has_username) {
    std::string_view user;
    if (auto ec = detail::read_text(r, user)) return ec;
    p.username = user;
  }
  if (has_password) {
    bytes_view pass;
    if (!r.prefixed(pass)) return errc::truncated;
    p.password = pass;
  }
  if (auto ec = detail::expect_end(r)) return ec;
  return p;
}

// ---- CONNACK -----------------------------------------------------------------------------------------

inline result<connack> decode_connack(bytes_view frame, protocol_version v) noexcept {
  fixed_header h;
  byte_reader r;
  if (auto ec = detail::split_frame(frame, h, r)) return ec;
  if (auto ec = detail::expect_type<connack>(h)) return ec;
  connack p;
  std::uint8_t ack_flags = 0, code = 0;
  if (!r.u8(ack_flags) || !r.u8(code)) return errc::truncated;
  if (ack_flags & 0xFE) return errc::malformed_packet;  // reserved bits [MQTT-3.2.2-1]
  p.session_present = ack_flags & 0x01;
  if (v == protocol_version::v5) {
    p.reason = static_cast<reason_code>(code);
    if (!is_allowed(p.reason, packet_type::connack)) return errc::bad_reason_code;
    if (auto ec = detail::read_property_block(r, context_of(packet_type::connack), p.props)) return ec;
  } else {
    p.reason = from_v311_connack(code);
  }
  if (p.session_present && is_failure(p.reason)) return errc::protocol_error;  // [MQTT-3.2.2-6]
  if (auto ec = detail::expect_end(r)) return ec;
  return p;
}

// ---- PUBLISH -----------------------------------------------------------------------------------------

inline result<publish> decode_publish(bytes_view frame, protocol_version v) noexcept {
  fixed_header h;
  byte_reader r;
  if (auto ec = detail::split_frame(frame, h, r)) return ec;
  if (auto ec = detail::expect_type<publish>(h)) return ec;
  publish p;
  p.dup = h.flags & 0x08;
  p.qos = static_cast<qos>((h.flags >> 1) & 0x03);
  p.retain = h.flags & 0x01;
  if (p.dup && p.qos == qos::at_most_once) return errc::protocol_error;  // [MQTT-3.3.1-2]
  bytes_view topic;
  if (!r.prefixed(topic)) return errc::truncated;
  p.topic = as_string(topic);
  if (p.qos != qos::at_most_once)
    if (auto ec = detail::read_packet_id(r, p.packet_id)) return ec;
  if (v == protocol_version::v5)
    if (auto ec = detail::read_property_block(r, context_of(packet_type::publish), p.props)) return ec;
  if (p.topic.empty()) {
    if (v != protocol_version::v5 || !p.props.topic_alias) return errc::bad_topic_name;
  } else if (auto ec = validate_topic_name(p.topic)) {
    return ec;
  }
  p.payload = r.rest();
  return p;
}

// ---- PUBACK, PUBREC, PUBREL, PUBCOMP -----------------------------------------------------------------

template <packet_type T>
result<publish_response<T>> decode_publish_response(bytes_view frame, protocol_version v) noexcept {
  fixed_header h;
  byte_reader r;
  if (auto ec = detail::split_frame(frame, h, r)) return ec;
  if (h.type != T) return errc::unexpected_packet;
  publish_response<T> p;
  if (auto ec = detail::read_packet_id(r, p.packet_id)) return ec;
  if (v == protocol_version::v5 && !r.empty()) {
    std::uint8_t code = 0;
    (void)r.u8(code);
    p.reason = static_cast<reason_code>(code);
    if (!is_allowed(p.reason, T)) return errc::bad_reason_code;
    if (!r.empty())
      if (auto ec = detail::read_property_block(r, context_of(T), p.props)) return ec;
  }
  if (auto ec = detail::expect_end(r)) return ec;
  return p;
}

inline result<puback> decode_puback(bytes_view f, protocol_version v) noexcept {
  return decode_publish_response<packet_type::puback>(f, v);
}
inline result<pubrec> decode_pubrec(bytes_view f, protocol_version v) noexcept {
  return decode_publish_response<packet_type::pubrec>(f, v);
}
inline result<pubrel> decode_pubrel(bytes_view f, protocol_version v) noexcept {
  return decode_publish_response<packet_type::pubrel>(f, v);
}
inline result<pubcomp> decode_pubcomp(bytes_view f, protocol_version v) noexcept {
  return decode_publish_response<packet_type::pubcomp>(f, v);
}

// ---- SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK -----------------------------------------------------

inline result<subscribe> decode_subscribe(bytes_view frame, protocol_version v) noexcept {
  fixed_header h;
  byte_reader r;
  if (auto ec = detail::split_frame(frame, h, r)) return ec;
  if (auto ec = detail::expect_type<subscribe>(h)) return ec;
  subscribe p;
  if (auto ec = detail::read_packet_id(r, p.packet_id)) return ec;
  if (v == protocol_version::v5)
    if (auto ec = detail::read_property_block(r, context_of(packet_type::subscribe), p.props)) return ec;
  const bytes_view list = r.rest();
  std::size_t count = 0;
  while (!r.empty()) {
    std::string_view filter;
    if (auto ec = detail::read_text(r, filter)) return ec;
    std::uint8_t options = 0;
    if (!r.u8(options)) return errc::truncated;
    if (v == protocol_version::v311 ? (options & 0xFC) != 0 : (options & 0xC0) != 0)
      return errc::bad_subscription_options;  // reserved bits [MQTT-3.8.3-5], MQTT 3.1.1 [MQTT-3-8.3-4]
    if ((options & 0x03) == 3)  // a Malformed Packet in MQTT 3.1.1, a Protocol Error in MQTT 5 (§3.8.3.1)
      return v == protocol_version::v311 ? errc::bad_qos : errc::protocol_error;
    // MQTT 5 §3.8.3.1: Retain Handling 3 and No Local on a shared subscription are Protocol Errors.
    if (((options >> 4) & 0x03) == 3) return errc::protocol_error;
    if (auto ec = validate_topic_filter(filter)) return ec;
    if ((options & 0x04) && !split_shared(filter).share_name.empty()) return errc::protocol_error;  // [MQTT-3.8.3-4]
    ++count;
  }
  if (count == 0) return errc::empty_payload;  // [MQTT-3.8.3-2]
  p.subscriptions = subscription_list::from_wire(list, count);
  return p;
}

inline result<suback> decode_suback(bytes_view frame, protocol_version v) noexcept {
  fixed_header h;
  byte_reader r;
  if (auto ec = detail::split_frame(frame, h, r)) return ec;
  if (auto ec = detail::expect_type<suback>(h)) return ec;
  suback p;
  if (auto ec = detail::read_packet_id(r, p.packet_id)) return ec;
  if (v == protocol_version::v5)
    if (auto ec = detail::read_property_block(r, context_of(packet_type::suback), p.props)) return ec;
  const bytes_view codes = r.rest();
  if (codes.empty()) return errc::empty_payload;
  for (byte c : codes)
    if (!suback_code_allowed(static_cast<reason_code>(c), v)) return errc::bad_reason_code;
  p.reasons = reason_code_list::from_wire(codes, codes.size());
  return p;
}

inline result<unsubscribe> decode_unsubscribe(bytes_view frame, protocol_version v) noexcept {
  fixed_header h;
  byte_reader r;
  if (auto ec = detail::split_frame(frame, h, r)) return ec;
  if (auto ec = detail::expect_type<unsubscribe>(h)) return ec;
  unsubscribe p;
  if (auto ec = detail::read_packet_id(r, p.packet_id)) return ec;
  if (v == protocol_version::v5)
    if (auto ec = detail::read_property_block(r, context_of(packet_type::unsubscribe), p.props)) return ec;
  const bytes_view list = r.rest();
  std::size_t count = 0;
  while (!r.empty()) {
    std::string_view filter;
    if (auto ec = detail::read_text(r, filter)) return ec;
    if (auto ec = validate_topic_filter(filter)) return ec;
    ++count;
  }
  if (count == 0) return errc::empty_payload;  // [MQTT-3.10.3-2]
  p.filters = topic_filter_list::from_wire(list, count);
  return p;
}

inline result<unsuback> decode_unsuback(bytes_view frame, protocol_version v) noexcept {
  fixed_header h;
  byte_reader r;
  if (auto ec = detail::split_frame(frame, h, r)) return ec;
  if (auto ec = detail::expect_type<unsuback>(h)) return ec;
  unsuback p;
  if (auto ec = detail::read_packet_id(r, p.packet_id)) return ec;
  if (v == protocol_version::v311) {
    if (auto ec = detail::expect_end(r)) return ec;
    return p;
  }
  if (auto ec = detail::read_property_block(r, context_of(packet_type::unsuback), p.props)) return ec;
  const bytes_view codes = r.rest();
  if (codes.empty()) return errc::empty_payload;
  for (byte c : codes)
    if (!is_allowed(static_cast<reason_code>(c), packet_type::unsuback)) return errc::bad_reason_code;
  p.reasons = reason_code_list::from_wire(codes, codes.size());
  return p;
}

// ---- PINGREQ / PINGRESP / DISCONNECT / AUTH ----------------------------------------------------------

template <class P>
result<P> decode_empty(bytes_view frame) noexcept {
  fixed_header h;
  byte_reader r;
  if (auto ec = detail::split_frame(frame, h, r)) return ec;
  if (auto ec = detail::expect_type<P>(h)) return ec;
  if (auto ec = detail::expect_end(r)) return ec;
  return P{};
}

inline result<pingreq> decode_pingreq(bytes_view frame) noexcept { return decode_empty<pingreq>(frame); }
inline result<pingresp> decode_pingresp(bytes_view frame) noexcept { return decode_empty<pingresp>(frame); }

namespace detail {
template <class P>
result<P> decode_reason_only(bytes_view frame, protocol_version v) noexcept {
  fixed_header h;
  byte_reader r;
  if (auto ec = split_frame(frame, h, r)) return ec;
  if (auto ec = expect_type<P>(h)) return ec;
  P p;
  if (v == protocol_version::v5 && !r.empty()) {
    std::uint8_t code = 0;
    (void)r.u8(code);
    p.reason = static_cast<reason_code>(code);
    if (!is_allowed(p.reason, P::type)) return errc::bad_reason_code;
    if (!r.empty())
      if (auto ec = read_property_block(r, context_of(P::type), p.props)) return ec;
  }
  if (auto ec = expect_end(r)) return ec;
  return p;
}
}  // namespace detail

inline result<disconnect> decode_disconnect(bytes_view frame, protocol_version v) noexcept {
  return detail::decode_reason_only<disconnect>(frame, v);
}
inline result<auth> decode_auth(bytes_view frame, protocol_version v) noexcept {
  if (v != protocol_version::v5) return errc::bad_packet_type;
  return detail::decode_reason_only<auth>(frame, v);
}

// ---- any packet --------------------------------------------------------------------------------------

namespace detail {
template <class P>
result<packet> widen(result<P>&& r) noexcept {
  if (!r) return r.error();
  return packet{std::move(*r)};
}
}  // namespace detail

// Decodes one whole frame. `v` is the version agreed in CONNECT (a CONNECT frame carries its own).
inline result<packet> decode(bytes_view frame, protocol_version v) noexcept {
  if (frame.empty()) return errc::truncated;
  using detail::widen;
  switch (static_cast<packet_type>(frame[0] >> 4)) {
    case packet_type::connect: return widen(decode_connect(frame));
    case packet_type::connack: return widen(decode_connack(frame, v));
    case packet_type::publish: return widen(decode_publish(frame, v));
    case packet_type::puback: return widen(decode_puback(frame, v));
    case packet_type::pubrec: return widen(decode_pubrec(frame, v));
    case packet_type::pubrel: return widen(decode_pubrel(frame, v));
    case packet_type::pubcomp: return widen(decode_pubcomp(frame, v));
    case packet_type::subscribe: return widen(decode_subscribe(frame, v));
    case packet_type::suback: return widen(decode_suback(frame, v));
    case packet_type::unsubscribe: return widen(decode_unsubscribe(frame, v));
    case packet_type::unsuback: return widen(decode_unsuback(frame, v));
    case packet_type::pingreq: return widen(decode_pingreq(frame));
    case packet_type::pingresp: return widen(decode_pingresp(frame));
    case packet_type::disconnect: return widen(decode_disconnect(frame, v));
    case packet_type::auth: return widen(decode_auth(frame, v));
  }
  return errc::bad_packet_type;
}

}  // namespace thingwell::mqtt
