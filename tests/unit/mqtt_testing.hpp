// Shared by the MQTT codec tests and fuzz targets: byte utilities, a field-by-field packet comparison
// that names the first difference, and a seeded generator of random valid packets.
//
// The generator owns every string, payload and list it hands out (packets are views), until clear().
// It draws from its own splitmix64 stream so that a seed gives the same packets with every compiler
// and standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <variant>
#include <vector>

#include <thingwell/mqtt.hpp>

namespace mqtt_testing {

namespace mqtt = thingwell::mqtt;
using thingwell::byte;
using thingwell::bytes_view;
using byte_vector = std::vector<byte>;
using mqtt::protocol_version;

// ---- bytes -------------------------------------------------------------------------------------------

inline byte_vector bytes(std::initializer_list<int> values) {
  byte_vector out;
  out.reserve(values.size());
  for (int v : values) out.push_back(static_cast<byte>(v));
  return out;
}

inline byte_vector bytes_of(std::string_view s) { return byte_vector(s.begin(), s.end()); }

inline byte_vector concat(std::initializer_list<bytes_view> parts) {
  byte_vector out;
  for (bytes_view p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// "10 0e 00 04": bytes written as hex pairs, spaces ignored.
inline byte_vector from_hex(std::string_view text) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  byte_vector out;
  int high = -1;
  for (char c : text) {
    const int n = nibble(c);
    if (n < 0) continue;
    if (high < 0) {
      high = n;
    } else {
      out.push_back(static_cast<byte>(high << 4 | n));
      high = -1;
    }
  }
  return out;
}

inline std::string hex(bytes_view b) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i != 0) out += ' ';
    out += digits[b[i] >> 4];
    out += digits[b[i] & 0x0F];
  }
  return out;
}

// "thingwell:101 packet truncated": comparable in a CHECK and readable when it fails.
inline std::string error_text(std::error_code ec) {
  if (!ec) return "success";
  return std::string(ec.category().name()) + ":" + std::to_string(ec.value()) + " " + ec.message();
}
inline std::string error_text(thingwell::errc e) { return error_text(make_error_code(e)); }

inline const char* version_name(protocol_version v) { return v == protocol_version::v5 ? "v5" : "v3.1.1"; }

// Encodes through encoded_size() and encode(), and reports a disagreement between the two as an error
// of its own (errc::invalid_argument never comes out of the encoder).
struct encoding {
  std::error_code error;
  byte_vector bytes;
  bool size_mismatch = false;  // encoded_size() differed from what encode() wrote
};

template <class Packet>
encoding encode_packet(const Packet& p, protocol_version v) {
  encoding out;
  auto size = mqtt::encoded_size(p, v);
  if (!size) {
    out.error = size.error();
    return out;
  }
  out.bytes.assign(*size, 0xEE);
  auto written = mqtt::encode(p, v, out.bytes);
  if (!written) {
    out.error = written.error();
    out.bytes.clear();
    return out;
  }
  out.size_mismatch = *written != *size;
  out.bytes.resize(*written);
  return out;
}

inline encoding encode_any(const mqtt::packet& p, protocol_version v) {
  return std::visit([&](const auto& pk) { return encode_packet(pk, v); }, p);
}

// ---- comparison --------------------------------------------------------------------------------------

namespace detail {

inline bool same_bytes(bytes_view a, bytes_view b) { return thingwell::equal(a, b); }

template <class T>
bool same_value(const std::optional<T>& a, const std::optional<T>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  if constexpr (std::is_same_v<T, bytes_view>) return same_bytes(*a, *b);
  else return *a == *b;
}

template <class List>
bool same_list(const List& a, const List& b) {
  if (a.size() != b.size()) return false;
  auto i = a.begin();
  for (const auto& v : b) {
    if (i == a.end() || !(*i == v)) return false;
    ++i;
  }
  return i == a.end();
}

// Appends "<where>.<field>" to `out` for the first property that differs.
inline void compare(const mqtt::properties& a, const mqtt::properties& b, const char* where, std::string& out) {
  if (!out.empty()) return;
  auto field = [&](bool same, const char* name) {
    if (!same && out.empty()) out = std::string(where) + "." + name;
  };
  field(same_value(a.payload_format_indicator, b.payload_format_indicator), "payload_format_indicator");
  field(same_value(a.message_expiry_interval, b.message_expiry_interval), "message_expiry_interval");
  field(same_value(a.content_type, b.content_type), "content_type");
  field(same_value(a.response_topic, b.response_topic), "response_topic");
  field(same_value(a.correlation_data, b.correlation_data), "correlation_data");
  field(same_list(a.subscription_identifiers, b.subscription_identifiers), "subscription_identifiers");
  field(same_value(a.session_expiry_interval, b.session_expiry_interval), "session_expiry_interval");
  field(same_value(a.assigned_client_identifier, b.assigned_client_identifier), "assigned_client_identifier");
  field(same_value(a.server_keep_alive, b.server_keep_alive), "server_keep_alive");
  field(same_value(a.authentication_method, b.authentication_method), "authentication_method");
  field(same_value(a.authentication_data, b.authentication_data), "authentication_data");
  field(same_value(a.request_problem_information, b.request_problem_information), "request_problem_information");
  field(same_value(a.will_delay_interval, b.will_delay_interval), "will_delay_interval");
  field(same_value(a.request_response_information, b.request_response_information), "request_response_information");
  field(same_value(a.response_information, b.response_information), "response_information");
  field(same_value(a.server_reference, b.server_reference), "server_reference");
  field(same_value(a.reason_string, b.reason_string), "reason_string");
  field(same_value(a.receive_maximum, b.receive_maximum), "receive_maximum");
  field(same_value(a.topic_alias_maximum, b.topic_alias_maximum), "topic_alias_maximum");
  field(same_value(a.topic_alias, b.topic_alias), "topic_alias");
  field(same_value(a.maximum_qos, b.maximum_qos), "maximum_qos");
  field(same_value(a.retain_available, b.retain_available), "retain_available");
  field(same_list(a.user_properties, b.user_properties), "user_properties");
  field(same_value(a.maximum_packet_size, b.maximum_packet_size), "maximum_packet_size");
  field(same_value(a.wildcard_subscription_available, b.wildcard_subscription_available),
        "wildcard_subscription_available");
  field(same_value(a.subscription_identifier_available, b.subscription_identifier_available),
        "subscription_identifier_available");
  field(same_value(a.shared_subscription_available, b.shared_subscription_available), "shared_subscription_available");
  // The library's own operator== must agree with the field-by-field walk.
  if (out.empty() && !(a == b)) out = std::string(where) + " (properties operator== disagrees)";
}

class differ {
 public:
  std::string out;

  void field(bool same, const char* name) {
    if (!same && out.empty()) out = name;
  }

  void operator()(const mqtt::connect& a, const mqtt::connect& b) {
    field(a.version == b.version, "version");
    field(a.client_id == b.client_id, "client_id");
    field(a.clean_start == b.clean_start, "clean_start");
    field(a.keep_alive == b.keep_alive, "keep_alive");
    field(a.will.has_value() == b.will.has_value(), "will");
    if (a.will && b.will) {
      field(a.will->topic == b.will->topic, "will.topic");
      field(same_bytes(a.will->payload, b.will->payload), "will.payload");
      field(a.will->qos == b.will->qos, "will.qos");
      field(a.will->retain == b.will->retain, "will.retain");
      compare(a.will->props, b.will->props, "will.props", out);
    }
    field(same_value(a.username, b.username), "username");
    field(same_value(a.password, b.password), "password");
    compare(a.props, b.props, "props", out);
  }
  void operator()(const mqtt::connack& a, const mqtt::connack& b) {
    field(a.session_present == b.session_present, "session_present");
    field(a.reason == b.reason, "reason");
    compare(a.props, b.props, "props", out);
  }
  void operator()(const mqtt::publish& a, const mqtt::publish& b) {
    field(a.topic == b.topic, "topic");
    field(same_bytes(a.payload, b.payload), "payload");
    field(a.qos == b.qos, "qos");
    field(a.retain == b.retain, "retain");
    field(a.dup == b.dup, "dup");
    field(a.packet_id == b.packet_id, "packet_id");
    compare(a.props, b.props, "props", out);
  }
  template <mqtt::packet_type T>
  void operator()(const mqtt::publish_response<T>& a, const mqtt::publish_response<T>& b) {
    field(a.packet_id == b.packet_id, "packet_id");
    field(a.reason == b.reason, "reason");
    compare(a.props, b.props, "props", out);
  }
  void operator()(const mqtt::subscribe& a, const mqtt::subscribe& b) {
    field(a.packet_id == b.packet_id, "packet_id");
    field(same_list(a.subscriptions, b.subscriptions), "subscriptions");
    compare(a.props, b.props, "props", out);
  }
  void operator()(const mqtt::suback& a, const mqtt::suback& b) {
    field(a.packet_id == b.packet_id, "packet_id");
    field(same_list(a.reasons, b.reasons), "reasons");
    compare(a.props, b.props, "props", out);
  }
  void operator()(const mqtt::unsubscribe& a, const mqtt::unsubscribe& b) {
    field(a.packet_id == b.packet_id, "packet_id");
    field(same_list(a.filters, b.filters), "filters");
    compare(a.props, b.props, "props", out);
  }
  void operator()(const mqtt::unsuback& a, const mqtt::unsuback& b) {
    field(a.packet_id == b.packet_id, "packet_id");
    field(same_list(a.reasons, b.reasons), "reasons");
    compare(a.props, b.props, "props", out);
  }
  void operator()(const mqtt::pingreq&, const mqtt::pingreq&) {}
  void operator()(const mqtt::pingresp&, const mqtt::pingresp&) {}
  void operator()(const mqtt::disconnect& a, const mqtt::disconnect& b) {
    field(a.reason == b.reason, "reason");
    compare(a.props, b.props, "props", out);
  }
  void operator()(const mqtt::auth& a, const mqtt::auth& b) {
    field(a.reason == b.reason, "reason");
    compare(a.props, b.props, "props", out);
  }
  template <class A, class B>
  void operator()(const A&, const B&) {
    out = std::string("packet type ") + mqtt::to_string(A::type) + " vs " + mqtt::to_string(B::type);
  }
};

}  // namespace detail

// Empty when `a` and `b` hold the same packet; otherwise the name of the first field that differs.
inline std::string difference(const mqtt::packet& a, const mqtt::packet& b) {
  detail::differ d;
  std::visit(d, a, b);
  return d.out;
}

// Empty when `a` and `b` hold the same properties; otherwise the first property that differs.
inline std::string property_difference(const mqtt::properties& a, const mqtt::properties& b) {
  std::string out;
  detail::compare(a, b, "props", out);
  return out;
}

// ---- reference implementations -----------------------------------------------------------------------

// MQTT UTF-8 rules decoded the long way (code point by code point), to check the library's fast
// validator against.
inline bool reference_utf8_valid(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0;
    std::size_t len = 0;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1Fu;
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0Fu;
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07u;
      len = 4;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    const std::uint32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[len]) return false;  // overlong
    if (cp > 0x10FFFF) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    if (cp == 0) return false;
    i += len;
  }
  return true;
}

inline std::vector<std::string_view> split_levels(std::string_view s) {
  std::vector<std::string_view> levels;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      levels.push_back(s.substr(start));
      return levels;
    }
    levels.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

// Topic matching level by level, written from MQTT 5 §4.7 independently of mqtt::topic_matches().
inline bool reference_topic_matches(std::string_view filter, std::string_view topic) {
  filter = mqtt::split_shared(filter).filter;
  const auto f = split_levels(filter);
  const auto t = split_levels(topic);
  if (!topic.empty() && topic[0] == '$' && (f[0] == "+" || f[0] == "#")) return false;
  std::size_t i = 0;
  for (; i < f.size(); ++i) {
    if (f[i] == "#") return true;  // this level (possibly absent) and everything below
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return i == t.size();
}

// ---- random valid packets ----------------------------------------------------------------------------

class random_stream {
 public:
  explicit random_stream(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0.
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
  // Uniform in [lo, hi].
  std::uint32_t between(std::uint32_t lo, std::uint32_t hi) {
    return lo + static_cast<std::uint32_t>(next() % (std::uint64_t{hi} - lo + 1));
  }
  bool chance(std::uint32_t percent) { return below(100) < percent; }

 private:
  std::uint64_t state_;
};

class packet_generator {
 public:
  explicit packet_generator(std::uint64_t seed) : rng_(seed) {}

  random_stream& rng() { return rng_; }

  // Releases everything the packets made so far point into.
  void clear() {
    strings_.clear();
    blobs_.clear();
    user_lists_.clear();
    id_lists_.clear();
    subscription_lists_.clear();
    filter_lists_.clear();
    reason_lists_.clear();
  }

  // A random packet of type `t` that is valid in version `v` (AUTH only for MQTT 5).
  mqtt::packet make(mqtt::packet_type t, protocol_version v) {
    using pt = mqtt::packet_type;
    switch (t) {
      case pt::connect: return make_connect(v);
      case pt::connack: return make_connack(v);
      case pt::publish: return make_publish(v);
      case pt::puback: return make_response<pt::puback>(v);
      case pt::pubrec: return make_response<pt::pubrec>(v);
      case pt::pubrel: return make_response<pt::pubrel>(v);
      case pt::pubcomp: return make_response<pt::pubcomp>(v);
      case pt::subscribe: return make_subscribe(v);
      case pt::suback: return make_suback(v);
      case pt::unsubscribe: return make_unsubscribe(v);
      case pt::unsuback: return make_unsuback(v);
      case pt::pingreq: return mqtt::pingreq{};
      case pt::pingresp: return mqtt::pingresp{};
      case pt::disconnect: {
        mqtt::disconnect p;
        if (v == protocol_version::v5) {
          p.reason = reason_for(pt::disconnect);
          p.props = properties(mqtt::context_of(pt::disconnect));
        }
        return p;
      }
      case pt::auth: {
        mqtt::auth p;
        p.reason = reason_for(pt::auth);
        p.props = properties(mqtt::context_of(pt::auth));
        return p;
      }
    }
    return mqtt::pingreq{};
  }

  // Any packet type valid in `v`.
  mqtt::packet make_any(protocol_version v) {
    const std::uint32_t types = v == protocol_version::v5 ? 15 : 14;
    return make(static_cast<mqtt::packet_type>(rng_.between(1, types)), v);
  }

  // Text of up to `max_chars` code points, about half of them outside ASCII (two, three and four byte
  // sequences), never U+0000 nor a surrogate. `avoid` lists ASCII characters to leave out.
  std::string text(std::size_t max_chars, std::string_view avoid = {}) {
    std::string s;
    const std::size_t n = rng_.below(static_cast<std::uint32_t>(max_chars + 1));
    for (std::size_t i = 0; i < n; ++i) append_code_point(s, code_point(avoid));
    return s;
  }

  byte_vector blob(std::size_t max_size) {
    byte_vector b(rng_.below(static_cast<std::uint32_t>(max_size + 1)));
    for (byte& x : b) x = static_cast<byte>(rng_.next());
    return b;
  }

  std::string topic_name() {
    std::string s;
    if (rng_.chance(10)) s += '$';
    const std::uint32_t levels = rng_.between(1, 5);
    for (std::uint32_t i = 0; i < levels; ++i) {
      if (i != 0) s += '/';
      s += text(rng_.chance(10) ? 0 : 6, "/+#");
    }
    if (s.empty()) s = "t";
    return s;
  }

  std::string topic_filter(bool allow_shared) {
    std::string s;
    if (allow_shared && rng_.chance(10)) {
      std::string name = text(5, "/+#");
      if (name.empty()) name = "g";
      s = "$share/" + name + "/";
    }
    const std::uint32_t levels = rng_.between(1, 5);
    for (std::uint32_t i = 0; i < levels; ++i) {
      if (i != 0) s += '/';
      if (i + 1 == levels && rng_.chance(15)) {
        s += '#';
      } else if (rng_.chance(20)) {
        s += '+';
      } else {
        s += text(rng_.chance(10) ? 0 : 6, "/+#");
      }
    }
    if (s.empty() || s.back() == '/') s += 'f';
    return s;
  }

  // A random subset of the properties MQTT 5 allows in `context`, with valid values.
  mqtt::properties properties(mqtt::property_context context) {
    mqtt::properties p;
    if (rng_.chance(30)) return p;  // no properties at all: exercises the short forms
    const std::uint32_t density = rng_.between(10, 60);
    auto want = [&](mqtt::property_id id) {
      return allowed(id, context) && rng_.chance(density);
    };
    using id = mqtt::property_id;
    if (want(id::payload_format_indicator)) p.payload_format_indicator = static_cast<std::uint8_t>(rng_.below(2));
    if (want(id::message_expiry_interval)) p.message_expiry_interval = u32();
    if (want(id::content_type)) p.content_type = keep(text(10));
    if (want(id::response_topic)) p.response_topic = keep(topic_name());
    if (want(id::correlation_data)) p.correlation_data = keep(blob(12));
    if (want(id::subscription_identifier)) {
      const bool many = context == mqtt::context_of(mqtt::packet_type::publish);
      std::vector<std::uint32_t> ids(many ? rng_.between(1, 4) : 1);
      for (auto& v : ids) v = varint_value(1);
      p.subscription_identifiers = keep_list(id_lists_, std::move(ids));
    }
    if (want(id::session_expiry_interval)) p.session_expiry_interval = u32();
    if (want(id::assigned_client_identifier)) p.assigned_client_identifier = keep(text(12));
    if (want(id::server_keep_alive)) p.server_keep_alive = u16();
    if (want(id::authentication_method)) p.authentication_method = keep(text(12));
    if (want(id::authentication_data)) p.authentication_data = keep(blob(16));
    if (want(id::request_problem_information)) p.request_problem_information = static_cast<std::uint8_t>(rng_.below(2));
    if (want(id::will_delay_interval)) p.will_delay_interval = u32();
    if (want(id::request_response_information))
      p.request_response_information = static_cast<std::uint8_t>(rng_.below(2));
    if (want(id::response_information)) p.response_information = keep(text(12));
    if (want(id::server_reference)) p.server_reference = keep(text(12));
    if (want(id::reason_string)) p.reason_string = keep(text(16));
    if (want(id::receive_maximum)) p.receive_maximum = static_cast<std::uint16_t>(rng_.between(1, 65535));
    if (want(id::topic_alias_maximum)) p.topic_alias_maximum = u16();
    if (want(id::topic_alias)) p.topic_alias = static_cast<std::uint16_t>(rng_.between(1, 65535));
    if (want(id::maximum_qos)) p.maximum_qos = static_cast<std::uint8_t>(rng_.below(2));
    if (want(id::retain_available)) p.retain_available = static_cast<std::uint8_t>(rng_.below(2));
    if (want(id::user_property)) {
      std::vector<mqtt::user_property> props(rng_.between(1, 4));
      for (auto& up : props) {
        up.name = keep(text(8));
        // A repeated name is legal and must keep its order.
        up.value = rng_.chance(20) && !props.empty() ? props.front().value : keep(text(8));
      }
      p.user_properties = keep_list(user_lists_, std::move(props));
    }
    if (want(id::maximum_packet_size)) p.maximum_packet_size = rng_.between(1, 0xFFFFFFFFu);
    if (want(id::wildcard_subscription_available))
      p.wildcard_subscription_available = static_cast<std::uint8_t>(rng_.below(2));
    if (want(id::subscription_identifier_available))
      p.subscription_identifier_available = static_cast<std::uint8_t>(rng_.below(2));
    if (want(id::shared_subscription_available))
      p.shared_subscription_available = static_cast<std::uint8_t>(rng_.below(2));
    return p;
  }

  static bool allowed(mqtt::property_id id, mqtt::property_context context) {
    return (mqtt::detail::info_of(static_cast<std::uint8_t>(id)).allowed & context) != 0;
  }

  // A reason code MQTT 5 allows in packet type t.
  mqtt::reason_code reason_for(mqtt::packet_type t) {
    std::vector<mqtt::reason_code> codes;
    for (unsigned c = 0; c < 256; ++c)
      if (mqtt::is_allowed(static_cast<mqtt::reason_code>(c), t)) codes.push_back(static_cast<mqtt::reason_code>(c));
    // Success half of the time: the common case and the one with the short encodings.
    if (rng_.chance(50)) return mqtt::reason_code::success;
    return codes[rng_.below(static_cast<std::uint32_t>(codes.size()))];
  }

  std::string_view keep(std::string s) { return strings_.emplace_back(std::move(s)); }
  bytes_view keep(byte_vector b) { return blobs_.emplace_back(std::move(b)); }

 private:
  template <class T>
  static std::span<const T> keep_list(std::deque<std::vector<T>>& store, std::vector<T> v) {
    return store.emplace_back(std::move(v));
  }

  std::uint16_t u16() { return static_cast<std::uint16_t>(rng_.next()); }
  // Mostly small values, sometimes extremes: both ends of every encoding matter.
  std::uint32_t u32() {
    switch (rng_.below(4)) {
      case 0: return rng_.below(300);
      case 1: return 0xFFFFFFFFu - rng_.below(3);
      default: return static_cast<std::uint32_t>(rng_.next());
    }
  }
  // A Variable Byte Integer value of a random encoded length, at least `min`.
  std::uint32_t varint_value(std::uint32_t min) {
    static constexpr std::uint32_t limits[] = {127, 16'383, 2'097'151, mqtt::max_varint};
    const std::uint32_t hi = limits[rng_.below(4)];
    return rng_.chance(20) ? hi : rng_.between(min, hi);
  }

  std::uint32_t code_point(std::string_view avoid) {
    while (true) {
      std::uint32_t cp = 0;
      switch (rng_.below(8)) {
        case 0: cp = rng_.between(0x80, 0x7FF); break;
        case 1: cp = rng_.between(0x800, 0xFFFF); break;
        case 2: cp = rng_.between(0x10000, 0x10FFFF); break;
        case 3: cp = rng_.between(1, 0x7F); break;  // includes control characters: legal in MQTT
        default: cp = rng_.between(0x20, 0x7E); break;
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      if (cp < 0x80 && avoid.find(static_cast<char>(cp)) != std::string_view::npos) continue;
      return cp;
    }
  }

  static void append_code_point(std::string& s, std::uint32_t cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  mqtt::packet make_connect(protocol_version v) {
    const bool v5 = v == protocol_version::v5;
    mqtt::connect p;
    p.version = v;
    p.client_id = keep(text(23));
    p.clean_start = p.client_id.empty() && !v5 ? true : rng_.chance(50);
    p.keep_alive = rng_.chance(20) ? 0 : u16();
    if (rng_.chance(40)) {
      mqtt::will_message w;
      w.topic = keep(topic_name());
      w.payload = keep(blob(rng_.chance(5) ? 400 : 20));
      w.qos = static_cast<mqtt::qos>(rng_.below(3));
      w.retain = rng_.chance(50);
      if (v5) w.props = properties(mqtt::will_context);
      p.will = w;
    }
    if (rng_.chance(50)) p.username = keep(text(12));
    if ((v5 || p.username) && rng_.chance(50)) p.password = keep(blob(12));
    if (v5) p.props = properties(mqtt::context_of(mqtt::packet_type::connect));
    return p;
  }

  mqtt::packet make_connack(protocol_version v) {
    mqtt::connack p;
    if (v == protocol_version::v5) {
      p.reason = reason_for(mqtt::packet_type::connack);
      p.props = properties(mqtt::context_of(mqtt::packet_type::connack));
    } else {
      // The MQTT 5 codes that stand for the MQTT 3.1.1 return codes 0..5, so they survive the trip.
      static constexpr std::uint8_t codes[] = {0x00, 0x84, 0x85, 0x88, 0x86, 0x87};
      p.reason = static_cast<mqtt::reason_code>(codes[rng_.below(6)]);
    }
    p.session_present = !mqtt::is_failure(p.reason) && rng_.chance(50);
    return p;
  }

  mqtt::packet make_publish(protocol_version v) {
    mqtt::publish p;
    p.qos = static_cast<mqtt::qos>(rng_.below(3));
    p.retain = rng_.chance(30);
    if (p.qos != mqtt::qos::at_most_once) {
      p.dup = rng_.chance(30);
      p.packet_id = static_cast<std::uint16_t>(rng_.between(1, 65535));
    }
    p.topic = keep(topic_name());
    if (v == protocol_version::v5) {
      p.props = properties(mqtt::context_of(mqtt::packet_type::publish));
      if (p.props.topic_alias && rng_.chance(50)) p.topic = {};  // the alias names the topic
    }
    // Now and then a payload whose Remaining Length needs three bytes.
    p.payload = keep(blob(rng_.chance(2) ? 20'000 : 64));
    return p;
  }

  template <mqtt::packet_type T>
  mqtt::packet make_response(protocol_version v) {
    mqtt::publish_response<T> p;
    p.packet_id = static_cast<std::uint16_t>(rng_.between(1, 65535));
    if (v == protocol_version::v5) {
      p.reason = reason_for(T);
      p.props = properties(mqtt::context_of(T));
    }
    return p;
  }

  mqtt::packet make_subscribe(protocol_version v) {
    const bool v5 = v == protocol_version::v5;
    mqtt::subscribe p;
    p.packet_id = static_cast<std::uint16_t>(rng_.between(1, 65535));
    std::vector<mqtt::subscription> subs(rng_.between(1, 4));
    for (auto& s : subs) {
      s.filter = keep(topic_filter(true));
      s.max_qos = static_cast<mqtt::qos>(rng_.below(3));
      if (v5) {
        s.no_local = mqtt::split_shared(s.filter).share_name.empty() && rng_.chance(50);
        s.retain_as_published = rng_.chance(50);
        s.retain_handling = static_cast<mqtt::retain_handling>(rng_.below(3));
      }
    }
    p.subscriptions = keep_list(subscription_lists_, std::move(subs));
    if (v5) p.props = properties(mqtt::context_of(mqtt::packet_type::subscribe));
    return p;
  }

  mqtt::packet make_suback(protocol_version v) {
    mqtt::suback p;
    p.packet_id = static_cast<std::uint16_t>(rng_.between(1, 65535));
    std::vector<mqtt::reason_code> codes(rng_.between(1, 5));
    for (auto& c : codes) {
      do c = static_cast<mqtt::reason_code>(rng_.below(256));
      while (!mqtt::suback_code_allowed(c, v));
    }
    p.reasons = keep_list(reason_lists_, std::move(codes));
    if (v == protocol_version::v5) p.props = properties(mqtt::context_of(mqtt::packet_type::suback));
    return p;
  }

  mqtt::packet make_unsubscribe(protocol_version v) {
    mqtt::unsubscribe p;
    p.packet_id = static_cast<std::uint16_t>(rng_.between(1, 65535));
    std::vector<std::string_view> filters(rng_.between(1, 4));
    for (auto& f : filters) f = keep(topic_filter(true));
    p.filters = keep_list(filter_lists_, std::move(filters));
    if (v == protocol_version::v5) p.props = properties(mqtt::context_of(mqtt::packet_type::unsubscribe));
    return p;
  }

  mqtt::packet make_unsuback(protocol_version v) {
    mqtt::unsuback p;
    p.packet_id = static_cast<std::uint16_t>(rng_.between(1, 65535));
    if (v == protocol_version::v5) {
      std::vector<mqtt::reason_code> codes(rng_.between(1, 5));
      for (auto& c : codes) c = reason_for(mqtt::packet_type::unsuback);
      p.reasons = keep_list(reason_lists_, std::move(codes));
      p.props = properties(mqtt::context_of(mqtt::packet_type::unsuback));
    }
    return p;
  }

  random_stream rng_;
  std::deque<std::string> strings_;
  std::deque<byte_vector> blobs_;
  std::deque<std::vector<mqtt::user_property>> user_lists_;
  std::deque<std::vector<std::uint32_t>> id_lists_;
  std::deque<std::vector<mqtt::subscription>> subscription_lists_;
  std::deque<std::vector<std::string_view>> filter_lists_;
  std::deque<std::vector<mqtt::reason_code>> reason_lists_;
};

}  // namespace mqtt_testing
