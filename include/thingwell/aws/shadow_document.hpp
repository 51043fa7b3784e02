// thingwell — the JSON operations behind shadow state: equality, merge and difference of state objects.
//
// They work on values of any json::reader and write with json::writer, so the shadow service needs no
// document model of its own and nothing allocates. The semantics are those of the Device Shadow service
// (shared/aws-iot-protocol.md 1.2 and 1.5):
//   - objects merge key by key, recursively; any other value (arrays included) is replaced whole;
//   - null deletes a key when a patch is applied to a state, but is kept when patches are combined,
//     because the service has to see it to delete the key on its side;
//   - a difference keeps only what the left side would change on the right side.
// Recursion is bounded by the depth limit the documents were parsed with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "../codec/json_reader.hpp"
#include "../codec/json_writer.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"

namespace thingwell::aws {

// How a patch's nulls are treated by merge().
enum class nulls : std::uint8_t {
  remove,  // applying a patch to a state: null deletes the key
  keep,    // combining two patches into one: null is a value the service must receive
};

namespace detail {

// Strings compared after unescaping. A string too long for the scratch buffers compares unequal, which
// costs at most a redundant update, never a lost one.
template <json::value V>
bool strings_equal(const V& a, const V& b) noexcept {
  char sa[128];
  char sb[128];
  auto x = a.get_string(sa);
  auto y = b.get_string(sb);
  return x && y && *x == *y;
}

template <json::value V>
bool numbers_equal(const V& a, const V& b) noexcept {
  if (a.is_integer() && b.is_integer()) {
    if (auto x = a.get_int64(), y = b.get_int64(); x && y) return *x == *y;
    if (auto x = a.get_uint64(), y = b.get_uint64(); x && y) return *x == *y;
    return false;
  }
  auto x = a.get_double();
  auto y = b.get_double();
  return x && y && *x == *y;
}

}  // namespace detail

// Deep equality. Objects are equal when they have the same keys with equal values (in any order);
// arrays element by element; numbers by value (1 and 1.0 are equal).
template <json::value V>
bool json_equal(const V& a, const V& b) noexcept {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::type::null: return true;
    case json::type::boolean: return a.get_bool().value_or(false) == b.get_bool().value_or(false);
    case json::type::number: return detail::numbers_equal(a, b);
    case json::type::string: return detail::strings_equal(a, b);
    case json::type::array: {
      auto ia = a.elements().begin(), ea = a.elements().end();
      auto ib = b.elements().begin(), eb = b.elements().end();
      for (; ia != ea && ib != eb; ++ia, ++ib)
        if (!json_equal(*ia, *ib)) return false;
      return ia == ea && ib == eb;
    }
    case json::type::object: {
      std::size_t na = 0;
      for (const auto& m : a.members()) {
        ++na;
        char kb[128];
        auto k = m.key(kb);
        if (!k) return false;
        auto other = b.find(*k);
        if (!other || !json_equal(m.value(), *other)) return false;
      }
      std::size_t nb = 0;
      for (const auto& m : b.members()) (void)m, ++nb;
      return na == nb;
    }
  }
  return false;
}

namespace detail {

// The value under the key of member `m` in `other` (an object or nothing).
template <json::value V, class Member>
bool lookup(const V* other, const Member& m, V& out) noexcept {
  if (other == nullptr || other->kind() != json::type::object) return false;
  char kb[128];
  auto k = m.key(kb);
  if (!k) return false;
  auto v = other->find(*k);
  if (!v) return false;
  out = *v;
  return true;
}

template <class Member>
bool write_key(json::writer& w, const Member& m) noexcept {
  char kb[128];
  auto k = m.key(kb);
  if (!k) return false;
  w.key(*k);
  return true;
}

}  // namespace detail

// Writes `base` with `patch` merged in (both objects, or base null for "nothing yet"). With nulls::remove
// a null in the patch deletes the key, and nulls inside a patch value that is new are dropped as well.
template <json::value V>
void merge(json::writer& w, const V* base, const V& patch, nulls mode) noexcept {
  w.begin_object();
  if (base != nullptr && base->kind() == json::type::object) {
    for (const auto& m : base->members()) {
      V p{};
      if (!detail::lookup(&patch, m, p)) {
        if (!detail::write_key(w, m)) return;
        w.copy(m.value());
        continue;
      }
      if (p.is_null() && mode == nulls::remove) continue;
      if (!detail::write_key(w, m)) return;
      const V bv = m.value();
      if (p.kind() == json::type::object && bv.kind() == json::type::object) merge(w, &bv, p, mode);
      else if (p.kind() == json::type::object && mode == nulls::remove) merge<V>(w, nullptr, p, mode);
      else w.copy(p);
    }
  }
  for (const auto& m : patch.members()) {
    V b{};
    if (detail::lookup(base, m, b)) continue;  // done above
    const V p = m.value();
    if (p.is_null() && mode == nulls::remove) continue;
    if (!detail::write_key(w, m)) return;
    if (p.kind() == json::type::object && mode == nulls::remove) merge<V>(w, nullptr, p, mode);
    else w.copy(p);
  }
  w.end_object();
}

// Whether applying `patch` (an object) to `state` (an object, or null for nothing) would change it.
template <json::value V>
bool changes(const V& patch, const V* state) noexcept {
  for (const auto& m : patch.members()) {
    const V p = m.value();
    V s{};
    if (!detail::lookup(state, m, s)) {
      if (!p.is_null()) return true;  // deleting what is not there changes nothing
      continue;
    }
    if (p.kind() == json::type::object && s.kind() == json::type::object) {
      if (changes(p, &s)) return true;
    } else if (!json_equal(p, s)) {
      return true;
    }
  }
  return false;
}

// Writes the part of `patch` that would change `state`: the keys whose value differs (recursively for
// objects that both sides have). The result may be an empty object.
template <json::value V>
void difference(json::writer& w, const V& patch, const V* state) noexcept {
  w.begin_object();
  for (const auto& m : patch.members()) {
    const V p = m.value();
    V s{};
    const bool present = detail::lookup(state, m, s);
    if (!present) {
      if (p.is_null()) continue;
      if (!detail::write_key(w, m)) return;
      w.copy(p);
      continue;
    }
    if (p.kind() == json::type::object && s.kind() == json::type::object) {
      if (!changes(p, &s)) continue;
      if (!detail::write_key(w, m)) return;
      difference(w, p, &s);
    } else if (!json_equal(p, s)) {
      if (!detail::write_key(w, m)) return;
      w.copy(p);
    }
  }
  w.end_object();
}

// A JSON text kept in a fixed buffer; empty (size 0) means "nothing", not "{}".
template <std::size_t N>
struct text_buffer {
  char data[N];
  std::size_t size = 0;

  std::string_view view() const noexcept { return {data, size}; }
  std::span<char> space() noexcept { return {data, N}; }
  bool empty() const noexcept { return size == 0; }
  void clear() noexcept { size = 0; }
  // Copies `text` in; errc::buffer_too_small (and unchanged) when it does not fit.
  std::error_code assign(std::string_view text) noexcept {
    if (text.size() > N) return errc::buffer_too_small;
    if (!text.empty()) std::memmove(data, text.data(), text.size());
    size = text.size();
    return {};
  }
};

}  // namespace thingwell::aws
