// thingwell emulator — a small mutable JSON tree.
//
// The library's JSON policy reads (views into a parsed document) and writes (left to right into a buffer);
// neither can edit a document, and the shadow service has to merge, prune and compare them. This tree is
// the emulator's own: it allocates freely, which a development tool may and the library must not. It is
// filled from json::simdjson_reader and written back with json::writer, so that the emulator exercises the
// same JSON code the devices use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <thingwell/codec/json_writer.hpp>
#include <thingwell/core/result.hpp>

namespace thingwell::emulator {

struct json_member;

class json_value {
 public:
  using object_type = std::vector<json_member>;  // members in insertion order, keys unique
  using array_type = std::vector<json_value>;

  json_value() = default;  // null
  json_value(std::nullptr_t) {}
  json_value(bool b) : v_(b) {}
  json_value(std::int64_t i) : v_(i) {}
  json_value(int i) : v_(std::int64_t{i}) {}
  json_value(std::uint64_t u) : v_(u) {}
  json_value(double d) : v_(d) {}
  json_value(std::string s) : v_(std::move(s)) {}
  json_value(const char* s) : v_(std::string(s)) {}
  json_value(object_type o) : v_(std::move(o)) {}
  json_value(array_type a) : v_(std::move(a)) {}

  static json_value object() { return json_value(object_type{}); }
  static json_value array() { return json_value(array_type{}); }

  bool is_null() const noexcept { return std::holds_alternative<std::nullptr_t>(v_); }
  bool is_bool() const noexcept { return std::holds_alternative<bool>(v_); }
  bool is_number() const noexcept {
    return std::holds_alternative<std::int64_t>(v_) || std::holds_alternative<std::uint64_t>(v_) ||
           std::holds_alternative<double>(v_);
  }
  bool is_integer() const noexcept {
    return std::holds_alternative<std::int64_t>(v_) || std::holds_alternative<std::uint64_t>(v_);
  }
  bool is_string() const noexcept { return std::holds_alternative<std::string>(v_); }
  bool is_object() const noexcept { return std::holds_alternative<object_type>(v_); }
  bool is_array() const noexcept { return std::holds_alternative<array_type>(v_); }

  // Preconditions: the value has that type.
  bool as_bool() const { return std::get<bool>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  object_type& as_object() { return std::get<object_type>(v_); }
  const object_type& as_object() const { return std::get<object_type>(v_); }
  array_type& as_array() { return std::get<array_type>(v_); }
  const array_type& as_array() const { return std::get<array_type>(v_); }
  // Integers that fit, or nothing: for "version" and timestamps.
  bool get_int64(std::int64_t& out) const noexcept;

  // Object access; on any other type find() returns nullptr and the others do nothing.
  json_value* find(std::string_view key);
  const json_value* find(std::string_view key) const;
  // Replaces the member with that key, or appends it; turns a non-object into an empty object first.
  json_value& set(std::string_view key, json_value value);
  bool erase(std::string_view key);
  bool empty_object() const noexcept { return is_object() && as_object().empty(); }

  // Same type and content. Numbers compare by value: two integers exactly, otherwise as doubles, so 1 and
  // 1.0 are equal (AWS's rule is not documented; this one never reports a delta that a device cannot see).
  // Object members compare regardless of order.
  friend bool operator==(const json_value& a, const json_value& b);

  // Containers nested in this value, counting itself: a scalar is 0, {} is 1, {"a":[1]} is 2.
  std::size_t container_depth() const;

  void write(json::writer& w) const;

 private:
  std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string, object_type, array_type> v_;
};

struct json_member {
  std::string key;
  json_value value;
};

// Parses one JSON document with the simdjson reader (the library's host reader). Duplicate keys: the last
// one wins, as in most JSON libraries (the reader's find() keeps the first, but it is not used here).
result<json_value> parse_json(std::string_view text, std::size_t max_bytes);

// Writes a document with json::writer into a buffer that grows until it fits. `build` receives the writer.
template <class Build>
std::string write_json(Build&& build) {
  std::vector<char> buffer(512);
  for (;;) {
    json::writer w(buffer);
    build(w);
    auto text = w.finish();
    if (text) return std::string(*text);
    // Only a full buffer is worth a retry; anything else is a bug in the caller's document.
    if (text.error() != errc::buffer_too_small || buffer.size() >= (std::size_t{1} << 30)) return {};
    buffer.resize(buffer.size() * 2);
  }
}

inline std::string to_json(const json_value& v) {
  return write_json([&](json::writer& w) { v.write(w); });
}

}  // namespace thingwell::emulator
