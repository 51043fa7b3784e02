#include "json_tree.hpp"

#include <algorithm>
#include <limits>

#include <thingwell/codec/json_simdjson.hpp>

namespace thingwell::emulator {

bool json_value::get_int64(std::int64_t& out) const noexcept {
  if (const auto* i = std::get_if<std::int64_t>(&v_)) {
    out = *i;
    return true;
  }
  if (const auto* u = std::get_if<std::uint64_t>(&v_);
      u != nullptr && *u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    out = static_cast<std::int64_t>(*u);
    return true;
  }
  return false;
}

json_value* json_value::find(std::string_view key) {
  if (!is_object()) return nullptr;
  for (auto& m : as_object())
    if (m.key == key) return &m.value;
  return nullptr;
}

const json_value* json_value::find(std::string_view key) const {
  return const_cast<json_value*>(this)->find(key);
}

json_value& json_value::set(std::string_view key, json_value value) {
  if (!is_object()) v_ = object_type{};
  if (json_value* existing = find(key)) {
    *existing = std::move(value);
    return *existing;
  }
  auto& members = as_object();
  members.push_back(json_member{std::string(key), std::move(value)});
  return members.back().value;
}

bool json_value::erase(std::string_view key) {
  if (!is_object()) return false;
  auto& members = as_object();
  auto it = std::find_if(members.begin(), members.end(), [&](const json_member& m) { return m.key == key; });
  if (it == members.end()) return false;
  members.erase(it);
  return true;
}

namespace {

double as_double(const std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string,
                                    json_value::object_type, json_value::array_type>& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&v)) return static_cast<double>(*u);
  return std::get<double>(v);
}

}  // namespace

bool operator==(const json_value& a, const json_value& b) {
  if (a.is_number() && b.is_number()) {
    const auto* ai = std::get_if<std::int64_t>(&a.v_);
    const auto* bi = std::get_if<std::int64_t>(&b.v_);
    const auto* au = std::get_if<std::uint64_t>(&a.v_);
    const auto* bu = std::get_if<std::uint64_t>(&b.v_);
    if (ai && bi) return *ai == *bi;
    if (au && bu) return *au == *bu;
    // The reader gives uint64 only above INT64_MAX, so an int64 and a uint64 are never equal.
    if ((ai && bu) || (au && bi)) return false;
    return as_double(a.v_) == as_double(b.v_);
  }
  if (a.v_.index() != b.v_.index()) return false;
  if (a.is_object()) {
    const auto& am = a.as_object();
    const auto& bm = b.as_object();
    if (am.size() != bm.size()) return false;
    for (const auto& m : am) {
      const json_value* other = b.find(m.key);
      if (other == nullptr || !(m.value == *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    const auto& ae = a.as_array();
    const auto& be = b.as_array();
    if (ae.size() != be.size()) return false;
    for (std::size_t i = 0; i < ae.size(); ++i)
      if (!(ae[i] == be[i])) return false;
    return true;
  }
  if (a.is_string()) return a.as_string() == b.as_string();
  if (a.is_bool()) return a.as_bool() == b.as_bool();
  return true;  // both null
}

std::size_t json_value::container_depth() const {
  std::size_t deepest = 0;
  if (is_object()) {
    for (const auto& m : as_object()) deepest = std::max(deepest, m.value.container_depth());
    return deepest + 1;
  }
  if (is_array()) {
    for (const auto& e : as_array()) deepest = std::max(deepest, e.container_depth());
    return deepest + 1;
  }
  return 0;
}

void json_value::write(json::writer& w) const {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) w.null();
        else if constexpr (std::is_same_v<T, bool>) w.boolean(v);
        else if constexpr (std::is_same_v<T, std::string>) w.string(v);
        else if constexpr (std::is_same_v<T, object_type>) {
          w.begin_object();
          for (const auto& m : v) {
            w.key(m.key);
            m.value.write(w);
          }
          w.end_object();
        } else if constexpr (std::is_same_v<T, array_type>) {
          w.begin_array();
          for (const auto& e : v) e.write(w);
          w.end_array();
        } else {
          w.number(v);
        }
      },
      v_);
}

namespace {

result<json_value> convert(const json::simdjson_value& v) {
  switch (v.kind()) {
    case json::type::null: return json_value{};
    case json::type::boolean: return json_value(v.get_bool().value_or(false));
    case json::type::string: {
      auto s = v.get_string({});
      if (!s) return s.error();
      return json_value(std::string(*s));
    }
    case json::type::number:
      if (v.is_integer()) {
        if (auto i = v.get_int64()) return json_value(*i);
        auto u = v.get_uint64();
        if (!u) return u.error();
        return json_value(*u);
      } else {
        auto d = v.get_double();
        if (!d) return d.error();
        return json_value(*d);
      }
    case json::type::object: {
      json_value out = json_value::object();
      for (const auto& m : v.members()) {
        auto key = m.key({});
        if (!key) return key.error();
        auto child = convert(m.value());
        if (!child) return child.error();
        out.set(*key, std::move(*child));
      }
      return out;
    }
    case json::type::array: {
      json_value out = json_value::array();
      for (const auto& e : v.elements()) {
        auto child = convert(e);
        if (!child) return child.error();
        out.as_array().push_back(std::move(*child));
      }
      return out;
    }
  }
  return errc::json_syntax;
}

}  // namespace

result<json_value> parse_json(std::string_view text, std::size_t max_bytes) {
  // A generous depth: the shadow service reports nesting beyond its own limit with AWS's message, which
  // needs the document parsed first.
  json::simdjson_reader reader;
  auto root = reader.parse(text, json::limits{.max_bytes = max_bytes, .max_depth = 512});
  if (!root) return root.error();
  return convert(*root);
}

}  // namespace thingwell::emulator
