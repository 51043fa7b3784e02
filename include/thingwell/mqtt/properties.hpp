// thingwell — MQTT 5 properties (MQTT 5 §2.2.2 and §3.x.2.x).
//
// One `properties` struct serves every packet: each field is optional and the codec checks, for the
// packet at hand, that only the properties MQTT 5 allows there are present. Strings and binary data are
// views: into the caller's data when encoding, into the received bytes when decoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "types.hpp"
#include "utf8.hpp"
#include "varint.hpp"
#include "wire_list.hpp"

namespace thingwell::mqtt {

enum class property_id : std::uint8_t {
  payload_format_indicator = 0x01,
  message_expiry_interval = 0x02,
  content_type = 0x03,
  response_topic = 0x08,
  correlation_data = 0x09,
  subscription_identifier = 0x0B,
  session_expiry_interval = 0x11,
  assigned_client_identifier = 0x12,
  server_keep_alive = 0x13,
  authentication_method = 0x15,
  authentication_data = 0x16,
  request_problem_information = 0x17,
  will_delay_interval = 0x18,
  request_response_information = 0x19,
  response_information = 0x1A,
  server_reference = 0x1C,
  reason_string = 0x1F,
  receive_maximum = 0x21,
  topic_alias_maximum = 0x22,
  topic_alias = 0x23,
  maximum_qos = 0x24,
  retain_available = 0x25,
  user_property = 0x26,
  maximum_packet_size = 0x27,
  wildcard_subscription_available = 0x28,
  subscription_identifier_available = 0x29,
  shared_subscription_available = 0x2A,
};

struct user_property {
  std::string_view name;
  std::string_view value;
  friend bool operator==(const user_property&, const user_property&) = default;
};

// The places a property may appear: one bit per packet type, and bit 0 for the Will Properties of
// CONNECT (packet type 0 is reserved, so the bit is free).
using property_context = std::uint16_t;
constexpr property_context context_of(packet_type t) noexcept {
  return static_cast<property_context>(1u << static_cast<unsigned>(t));
}
inline constexpr property_context will_context = 1;

namespace detail {

enum class property_kind : std::uint8_t { none, byte, u16, u32, varint, string, binary, string_pair };

struct property_info {
  property_kind kind;
  property_context allowed;
};

// MQTT 5 §2.2.2.2, Table 2-4.
constexpr property_info info_of(std::uint8_t id) noexcept {
  using enum packet_type;
  using k = property_kind;
  constexpr property_context pub = context_of(publish) | will_context;
  constexpr property_context reason_string_ctx = context_of(connack) | context_of(puback) | context_of(pubrec) |
                                                 context_of(pubrel) | context_of(pubcomp) | context_of(suback) |
                                                 context_of(unsuback) | context_of(disconnect) | context_of(auth);
  switch (static_cast<property_id>(id)) {
    case property_id::payload_format_indicator: return {k::byte, pub};
    case property_id::message_expiry_interval: return {k::u32, pub};
    case property_id::content_type: return {k::string, pub};
    case property_id::response_topic: return {k::string, pub};
    case property_id::correlation_data: return {k::binary, pub};
    case property_id::subscription_identifier: return {k::varint, context_of(publish) | context_of(subscribe)};
    case property_id::session_expiry_interval:
      return {k::u32, static_cast<property_context>(context_of(connect) | context_of(connack) | context_of(disconnect))};
    case property_id::assigned_client_identifier: return {k::string, context_of(connack)};
    case property_id::server_keep_alive: return {k::u16, context_of(connack)};
    case property_id::authentication_method:
      return {k::string, static_cast<property_context>(context_of(connect) | context_of(connack) | context_of(auth))};
    case property_id::authentication_data:
      return {k::binary, static_cast<property_context>(context_of(connect) | context_of(connack) | context_of(auth))};
    case property_id::request_problem_information: return {k::byte, context_of(connect)};
    case property_id::will_delay_interval: return {k::u32, will_context};
    case property_id::request_response_information: return {k::byte, context_of(connect)};
    case property_id::response_information: return {k::string, context_of(connack)};
    case property_id::server_reference:
      return {k::string, static_cast<property_context>(context_of(connack) | context_of(disconnect))};
    case property_id::reason_string: return {k::string, reason_string_ctx};
    case property_id::receive_maximum:
      return {k::u16, static_cast<property_context>(context_of(connect) | context_of(connack))};
    case property_id::topic_alias_maximum:
      return {k::u16, static_cast<property_context>(context_of(connect) | context_of(connack))};
    case property_id::topic_alias: return {k::u16, context_of(publish)};
    case property_id::maximum_qos: return {k::byte, context_of(connack)};
    case property_id::retain_available: return {k::byte, context_of(connack)};
    case property_id::user_property: return {k::string_pair, 0xFFFF};
    case property_id::maximum_packet_size:
      return {k::u32, static_cast<property_context>(context_of(connect) | context_of(connack))};
    case property_id::wildcard_subscription_available: return {k::byte, context_of(connack)};
    case property_id::subscription_identifier_available: return {k::byte, context_of(connack)};
    case property_id::shared_subscription_available: return {k::byte, context_of(connack)};
  }
  return {k::none, 0};
}

// Skips one property value of the given kind; false if the bytes run out.
inline bool skip_value(byte_reader& r, property_kind kind) noexcept {
  bytes_view ignored;
  std::uint32_t v = 0;
  switch (kind) {
    case property_kind::byte: return r.skip(1);
    case property_kind::u16: return r.skip(2);
    case property_kind::u32: return r.skip(4);
    case property_kind::varint: return read_varint(r, v);
    case property_kind::string:
    case property_kind::binary: return r.prefixed(ignored);
    case property_kind::string_pair: return r.prefixed(ignored) && r.prefixed(ignored);
    case property_kind::none: return false;
  }
  return false;
}

// Walks a validated property block, yielding the values of one repeatable property.
struct user_property_parser {
  static bool next(byte_reader& r, user_property& out) noexcept {
    while (!r.empty()) {
      std::uint32_t id = 0;
      if (!read_varint(r, id)) return false;
      if (id == static_cast<std::uint32_t>(property_id::user_property)) {
        bytes_view name, value;
        if (!r.prefixed(name) || !r.prefixed(value)) return false;
        out = {as_string(name), as_string(value)};
        return true;
      }
      if (!skip_value(r, info_of(static_cast<std::uint8_t>(id)).kind)) return false;
    }
    return false;
  }
};

struct subscription_identifier_parser {
  static bool next(byte_reader& r, std::uint32_t& out) noexcept {
    while (!r.empty()) {
      std::uint32_t id = 0;
      if (!read_varint(r, id)) return false;
      if (id == static_cast<std::uint32_t>(property_id::subscription_identifier)) return read_varint(r, out);
      if (!skip_value(r, info_of(static_cast<std::uint8_t>(id)).kind)) return false;
    }
    return false;
  }
};

}  // namespace detail

using user_property_list = wire_list<user_property, detail::user_property_parser>;
using subscription_identifier_list = wire_list<std::uint32_t, detail::subscription_identifier_parser>;

struct properties {
  std::optional<std::uint8_t> payload_format_indicator;  // 0 bytes, 1 UTF-8
  std::optional<std::uint32_t> message_expiry_interval;  // seconds
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> response_topic;
  std::optional<bytes_view> correlation_data;
  subscription_identifier_list subscription_identifiers;  // one in SUBSCRIBE, any number in PUBLISH
  std::optional<std::uint32_t> session_expiry_interval;  // seconds; 0xFFFFFFFF = never expires
  std::optional<std::string_view> assigned_client_identifier;
  std::optional<std::uint16_t> server_keep_alive;
  std::optional<std::string_view> authentication_method;
  std::optional<bytes_view> authentication_data;
  std::optional<std::uint8_t> request_problem_information;
  std::optional<std::uint32_t> will_delay_interval;
  std::optional<std::uint8_t> request_response_information;
  std::optional<std::string_view> response_information;
  std::optional<std::string_view> server_reference;
  std::optional<std::string_view> reason_string;
  std::optional<std::uint16_t> receive_maximum;
  std::optional<std::uint16_t> topic_alias_maximum;
  std::optional<std::uint16_t> topic_alias;
  std::optional<std::uint8_t> maximum_qos;
  std::optional<std::uint8_t> retain_available;
  user_property_list user_properties;
  std::optional<std::uint32_t> maximum_packet_size;
  std::optional<std::uint8_t> wildcard_subscription_available;
  std::optional<std::uint8_t> subscription_identifier_available;
  std::optional<std::uint8_t> shared_subscription_available;
};

namespace detail {
template <class T>
constexpr bool same(const std::optional<T>& a, const std::optional<T>& b) noexcept {
  return a == b;
}
inline bool same(const std::optional<bytes_view>& a, const std::optional<bytes_view>& b) noexcept {
  return a.has_value() == b.has_value() && (!a || equal(*a, *b));
}
}  // namespace detail

// Equal when the same properties are present with the same values (lists compared element-wise).
inline bool operator==(const properties& a, const properties& b) noexcept {
  using detail::same;
  return same(a.payload_format_indicator, b.payload_format_indicator) &&
         same(a.message_expiry_interval, b.message_expiry_interval) && same(a.content_type, b.content_type) &&
         same(a.response_topic, b.response_topic) && same(a.correlation_data, b.correlation_data) &&
         a.subscription_identifiers == b.subscription_identifiers &&
         same(a.session_expiry_interval, b.session_expiry_interval) &&
         same(a.assigned_client_identifier, b.assigned_client_identifier) &&
         same(a.server_keep_alive, b.server_keep_alive) && same(a.authentication_method, b.authentication_method) &&
         same(a.authentication_data, b.authentication_data) &&
         same(a.request_problem_information, b.request_problem_information) &&
         same(a.will_delay_interval, b.will_delay_interval) &&
         same(a.request_response_information, b.request_response_information) &&
         same(a.response_information, b.response_information) && same(a.server_reference, b.server_reference) &&
         same(a.reason_string, b.reason_string) && same(a.receive_maximum, b.receive_maximum) &&
         same(a.topic_alias_maximum, b.topic_alias_maximum) && same(a.topic_alias, b.topic_alias) &&
         same(a.maximum_qos, b.maximum_qos) && same(a.retain_available, b.retain_available) &&
         a.user_properties == b.user_properties && same(a.maximum_packet_size, b.maximum_packet_size) &&
         same(a.wildcard_subscription_available, b.wildcard_subscription_available) &&
         same(a.subscription_identifier_available, b.subscription_identifier_available) &&
         same(a.shared_subscription_available, b.shared_subscription_available);
}

namespace detail {

struct varint_value {
  std::uint32_t value;
};

// Calls f(id, value) for every property present, in identifier order. This is the one place that
// lists the fields; size, validation and encoding all walk it.
template <class F>
constexpr void for_each_property(const properties& p, F&& f) {
  using id = property_id;
  if (p.payload_format_indicator) f(id::payload_format_indicator, *p.payload_format_indicator);
  if (p.message_expiry_interval) f(id::message_expiry_interval, *p.message_expiry_interval);
  if (p.content_type) f(id::content_type, *p.content_type);
  if (p.response_topic) f(id::response_topic, *p.response_topic);
  if (p.correlation_data) f(id::correlation_data, *p.correlation_data);
  // The lists are tested first: even an empty list's iterators cost more than the test.
  if (!p.subscription_identifiers.empty())
    for (std::uint32_t v : p.subscription_identifiers) f(id::subscription_identifier, varint_value{v});
  if (p.session_expiry_interval) f(id::session_expiry_interval, *p.session_expiry_interval);
  if (p.assigned_client_identifier) f(id::assigned_client_identifier, *p.assigned_client_identifier);
  if (p.server_keep_alive) f(id::server_keep_alive, *p.server_keep_alive);
  if (p.authentication_method) f(id::authentication_method, *p.authentication_method);
  if (p.authentication_data) f(id::authentication_data, *p.authentication_data);
  if (p.request_problem_information) f(id::request_problem_information, *p.request_problem_information);
  if (p.will_delay_interval) f(id::will_delay_interval, *p.will_delay_interval);
  if (p.request_response_information) f(id::request_response_information, *p.request_response_information);
  if (p.response_information) f(id::response_information, *p.response_information);
  if (p.server_reference) f(id::server_reference, *p.server_reference);
  if (p.reason_string) f(id::reason_string, *p.reason_string);
  if (p.receive_maximum) f(id::receive_maximum, *p.receive_maximum);
  if (p.topic_alias_maximum) f(id::topic_alias_maximum, *p.topic_alias_maximum);
  if (p.topic_alias) f(id::topic_alias, *p.topic_alias);
  if (p.maximum_qos) f(id::maximum_qos, *p.maximum_qos);
  if (p.retain_available) f(id::retain_available, *p.retain_available);
  if (!p.user_properties.empty())
    for (const user_property& up : p.user_properties) f(id::user_property, up);
  if (p.maximum_packet_size) f(id::maximum_packet_size, *p.maximum_packet_size);
  if (p.wildcard_subscription_available) f(id::wildcard_subscription_available, *p.wildcard_subscription_available);
  if (p.subscription_identifier_available)
    f(id::subscription_identifier_available, *p.subscription_identifier_available);
  if (p.shared_subscription_available) f(id::shared_subscription_available, *p.shared_subscription_available);
}

// Value rules beyond the type (MQTT 5 §3.x): flags are 0 or 1; several values may not be 0.
// MQTT 5 calls a value outside these rules a Protocol Error (0x82), not a Malformed Packet; a Topic
// Alias of 0 is reported as Topic Alias invalid (0x94), see value_error().
inline bool value_is_valid(property_id id, std::uint32_t v) noexcept {
  switch (id) {
    case property_id::payload_format_indicator:
    case property_id::request_problem_information:
    case property_id::request_response_information:
    case property_id::maximum_qos:
    case property_id::retain_available:
    case property_id::wildcard_subscription_available:
    case property_id::subscription_identifier_available:
    case property_id::shared_subscription_available: return v <= 1;
    case property_id::receive_maximum:
    case property_id::maximum_packet_size:
    case property_id::topic_alias: return v != 0;
    case property_id::subscription_identifier: return v != 0 && v <= max_varint;
    default: return true;
  }
}

inline bool text_is_valid(std::string_view s) noexcept { return s.size() <= max_field_length && is_valid_utf8(s); }

// The error for a value that value_is_valid() refuses. `received`: the value came from the peer, where
// the reason code sent back matters (Protocol Error); otherwise the caller asked to encode it.
inline errc value_error(property_id id, bool received) noexcept {
  if (id == property_id::topic_alias) return errc::topic_alias_invalid;
  return received ? errc::protocol_error : errc::bad_property;
}

// True when no property is set: most packets carry none, and this test is far cheaper than a walk.
inline bool no_properties(const properties& p) noexcept {
  return !(p.payload_format_indicator || p.message_expiry_interval || p.content_type || p.response_topic ||
           p.correlation_data || !p.subscription_identifiers.empty() || p.session_expiry_interval ||
           p.assigned_client_identifier || p.server_keep_alive || p.authentication_method || p.authentication_data ||
           p.request_problem_information || p.will_delay_interval || p.request_response_information ||
           p.response_information || p.server_reference || p.reason_string || p.receive_maximum ||
           p.topic_alias_maximum || p.topic_alias || p.maximum_qos || p.retain_available ||
           !p.user_properties.empty() || p.maximum_packet_size || p.wildcard_subscription_available ||
           p.subscription_identifier_available || p.shared_subscription_available);
}

// Size of the property block without its length prefix; validates every property for `context`.
inline result<std::uint32_t> property_block_size(const properties& p, property_context context) noexcept {
  if (no_properties(p)) return std::uint32_t{0};
  std::uint64_t size = 0;
  std::error_code error;
  bool seen_subscription_id = false;
  for_each_property(p, [&](property_id id, const auto& value) {
    if (error) return;
    using T = std::remove_cvref_t<decltype(value)>;
    if ((info_of(static_cast<std::uint8_t>(id)).allowed & context) == 0) {
      error = errc::property_not_allowed;
      return;
    }
    size += 1;  // every identifier in use is below 128: a one-byte Variable Byte Integer
    if constexpr (std::is_same_v<T, std::uint8_t>) {
      if (!value_is_valid(id, value)) error = value_error(id, false);
      size += 1;
    } else if constexpr (std::is_same_v<T, std::uint16_t>) {
      if (!value_is_valid(id, value)) error = value_error(id, false);
      size += 2;
    } else if constexpr (std::is_same_v<T, std::uint32_t>) {
      if (!value_is_valid(id, value)) error = value_error(id, false);
      size += 4;
    } else if constexpr (std::is_same_v<T, varint_value>) {
      // SUBSCRIBE carries at most one identifier; a PUBLISH from a broker may carry several.
      if (!value_is_valid(id, value.value)) error = value_error(id, false);
      else if (seen_subscription_id && context != context_of(packet_type::publish)) error = errc::duplicate_property;
      seen_subscription_id = true;
      size += varint_size(value.value);
    } else if constexpr (std::is_same_v<T, std::string_view>) {
      if (value.size() > max_field_length) error = errc::string_too_long;
      else if (!is_valid_utf8(value)) error = errc::bad_utf8;
      size += 2 + value.size();
    } else if constexpr (std::is_same_v<T, bytes_view>) {
      if (value.size() > max_field_length) error = errc::string_too_long;
      size += 2 + value.size();
    } else {
      static_assert(std::is_same_v<T, user_property>);
      if (value.name.size() > max_field_length || value.value.size() > max_field_length) error = errc::string_too_long;
      else if (!is_valid_utf8(value.name) || !is_valid_utf8(value.value)) error = errc::bad_utf8;
      size += 4 + value.name.size() + value.value.size();
    }
  });
  if (error) return error;
  if (size > max_varint) return errc::packet_too_large;
  return static_cast<std::uint32_t>(size);
}

// Writes a block already validated by property_block_size.
inline void write_property_block(byte_writer& w, const properties& p, std::uint32_t block_size) noexcept {
  write_varint(w, block_size);
  if (block_size == 0) return;
  for_each_property(p, [&](property_id id, const auto& value) {
    using T = std::remove_cvref_t<decltype(value)>;
    w.u8(static_cast<std::uint8_t>(id));
    if constexpr (std::is_same_v<T, std::uint8_t>) {
      w.u8(value);
    } else if constexpr (std::is_same_v<T, std::uint16_t>) {
      w.u16(value);
    } else if constexpr (std::is_same_v<T, std::uint32_t>) {
      w.u32(value);
    } else if constexpr (std::is_same_v<T, varint_value>) {
      write_varint(w, value.value);
    } else if constexpr (std::is_same_v<T, std::string_view>) {
      w.prefixed(value);
    } else if constexpr (std::is_same_v<T, bytes_view>) {
      w.prefixed(value);
    } else {
      w.prefixed(value.name);
      w.prefixed(value.value);
    }
  });
}

// Reads a Variable Byte Integer field: errc::truncated when the input ends inside it, errc::bad_varint
// when it is longer than four bytes or not minimal.
inline std::error_code read_varint_field(byte_reader& r, std::uint32_t& value) noexcept {
  std::size_t size = 0;
  switch (read_varint(r.rest(), value, size)) {
    case varint_status::ok: break;
    case varint_status::need_more: return errc::truncated;
    case varint_status::malformed: return errc::bad_varint;
  }
  (void)r.skip(size);
  return {};
}

// Reads a property block (length prefix included) for `context` into `out`, validating identifiers,
// duplicates, value ranges and strings. Repeatable properties become lists over the block's bytes.
inline std::error_code read_property_block(byte_reader& r, property_context context, properties& out) noexcept {
  std::uint32_t length = 0;
  if (auto ec = read_varint_field(r, length)) return ec;
  bytes_view block;
  if (!r.take(length, block)) return errc::truncated;

  byte_reader b(block);
  std::uint64_t seen = 0;  // bit per identifier (all below 64)
  std::size_t user_count = 0;
  std::size_t subscription_id_count = 0;
  while (!b.empty()) {
    std::uint32_t raw_id = 0;
    if (auto ec = read_varint_field(b, raw_id)) return ec;
    const property_info info = raw_id < 64 ? info_of(static_cast<std::uint8_t>(raw_id)) : property_info{};
    if (info.kind == property_kind::none) return errc::bad_property;
    if ((info.allowed & context) == 0) return errc::property_not_allowed;
    const auto id = static_cast<property_id>(raw_id);
    const std::uint64_t bit = std::uint64_t{1} << raw_id;
    const bool repeatable = id == property_id::user_property ||
                            (id == property_id::subscription_identifier && context == context_of(packet_type::publish));
    if ((seen & bit) != 0 && !repeatable) return errc::duplicate_property;
    seen |= bit;

    std::uint8_t u8 = 0;
    std::uint16_t u16 = 0;
    std::uint32_t u32 = 0;
    bytes_view data;
    switch (info.kind) {
      case property_kind::byte:
        if (!b.u8(u8)) return errc::truncated;
        if (!value_is_valid(id, u8)) return value_error(id, true);
        break;
      case property_kind::u16:
        if (!b.u16(u16)) return errc::truncated;
        if (!value_is_valid(id, u16)) return value_error(id, true);
        break;
      case property_kind::u32:
        if (!b.u32(u32)) return errc::truncated;
        if (!value_is_valid(id, u32)) return value_error(id, true);
        break;
      case property_kind::varint:
        if (auto ec = read_varint_field(b, u32)) return ec;
        if (!value_is_valid(id, u32)) return value_error(id, true);
        ++subscription_id_count;
        continue;
      case property_kind::string:
      case property_kind::binary:
        if (!b.prefixed(data)) return errc::truncated;
        if (info.kind == property_kind::string && !is_valid_utf8(as_string(data))) return errc::bad_utf8;
        break;
      case property_kind::string_pair: {
        bytes_view value;
        if (!b.prefixed(data) || !b.prefixed(value)) return errc::truncated;
        if (!is_valid_utf8(as_string(data)) || !is_valid_utf8(as_string(value))) return errc::bad_utf8;
        ++user_count;
        continue;
      }
      case property_kind::none: return errc::bad_property;
    }

    switch (id) {
      case property_id::payload_format_indicator: out.payload_format_indicator = u8; break;
      case property_id::message_expiry_interval: out.message_expiry_interval = u32; break;
      case property_id::content_type: out.content_type = as_string(data); break;
      case property_id::response_topic: out.response_topic = as_string(data); break;
      case property_id::correlation_data: out.correlation_data = data; break;
      case property_id::session_expiry_interval: out.session_expiry_interval = u32; break;
      case property_id::assigned_client_identifier: out.assigned_client_identifier = as_string(data); break;
      case property_id::server_keep_alive: out.server_keep_alive = u16; break;
      case property_id::authentication_method: out.authentication_method = as_string(data); break;
      case property_id::authentication_data: out.authentication_data = data; break;
      case property_id::request_problem_information: out.request_problem_information = u8; break;
      case property_id::will_delay_interval: out.will_delay_interval = u32; break;
      case property_id::request_response_information: out.request_response_information = u8; break;
      case property_id::response_information: out.response_information = as_string(data); break;
      case property_id::server_reference: out.server_reference = as_string(data); break;
      case property_id::reason_string: out.reason_string = as_string(data); break;
      case property_id::receive_maximum: out.receive_maximum = u16; break;
      case property_id::topic_alias_maximum: out.topic_alias_maximum = u16; break;
      case property_id::topic_alias: out.topic_alias = u16; break;
      case property_id::maximum_qos: out.maximum_qos = u8; break;
      case property_id::retain_available: out.retain_available = u8; break;
      case property_id::maximum_packet_size: out.maximum_packet_size = u32; break;
      case property_id::wildcard_subscription_available: out.wildcard_subscription_available = u8; break;
      case property_id::subscription_identifier_available: out.subscription_identifier_available = u8; break;
      case property_id::shared_subscription_available: out.shared_subscription_available = u8; break;
      case property_id::subscription_identifier:
      case property_id::user_property: break;  // handled above
    }
  }
  if (user_count != 0) out.user_properties = user_property_list::from_wire(block, user_count);
  if (subscription_id_count != 0)
    out.subscription_identifiers = subscription_identifier_list::from_wire(block, subscription_id_count);
  return {};
}

}  // namespace detail
}  // namespace thingwell::mqtt
