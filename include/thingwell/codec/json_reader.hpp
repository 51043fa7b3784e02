// thingwell — the JSON reader policy: what the AWS services (shadow, jobs, provisioning) need from a parsed
// document, and the value model every reader shares.
//
// Two readers implement it: json::compact_reader (codec/json_compact.hpp), strict and non-allocating, for
// MCUs; json::simdjson_reader (codec/json_simdjson.hpp) for hosts. Both accept exactly the same documents,
// enforce the same limits and report the same errc::json_* codes, and a differential fuzz target holds
// them to it (tests/fuzz/fuzz_json.cpp). A service written against the concepts below runs on either.
//
// The value model, and where it is narrower than RFC 8259 (which allows implementations to set limits):
//   - A document is one value of any type, surrounded by optional whitespace (space, tab, LF, CR). A
//     byte-order mark is not whitespace, an empty document is an error.
//   - Integers ("-12", no fraction, no exponent) must fit in int64 or uint64; a number with a fraction or
//     exponent must not overflow a double (it may underflow to zero). Otherwise errc::json_bad_number.
//   - get_int64/get_uint64 succeed only for integer literals: "5.0" and "5e0" are doubles
//     (errc::json_type_mismatch), a literal that the asked type cannot hold is
//     errc::json_number_out_of_range. get_double succeeds for every number.
//   - Strings are UTF-8; escapes are decoded; \u0000 is allowed and ends up inside the string, an unpaired
//     surrogate escape is errc::json_bad_string.
//   - Duplicate keys are accepted and kept: iteration shows every member, find() returns the first one.
//   - Depth: every value has depth 1 + the number of arrays and objects around it, and no value may be
//     deeper than limits::max_depth. So with max_depth 3, [[[]]] is accepted and [[[1]]] is not.
//
// Lifetimes: a value refers to its reader and (for the compact reader) to the parsed text; both must
// outlive it, and the next parse() invalidates every value of the previous one.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"

namespace thingwell::json {

enum class type : std::uint8_t { null, boolean, number, string, object, array };

inline const char* to_string(type t) noexcept {
  switch (t) {
    case type::null: return "null";
    case type::boolean: return "boolean";
    case type::number: return "number";
    case type::string: return "string";
    case type::object: return "object";
    case type::array: return "array";
  }
  return "?";
}

// Checked by parse() before anything else is looked at, so that an oversized or hostile document costs
// nothing. The defaults fit every AWS IoT document a device receives: shadow documents are at most 8 KB of
// state (metadata comes on top), job documents at most 32 KB; the shadow service itself refuses more than
// 6 levels inside desired/reported, which is 9 with "state" and "metadata" wrappers around a leaf.
struct limits {
  std::size_t max_bytes = 32 * 1024;
  std::size_t max_depth = 32;
};

// A parsed value: a small copyable handle.
template <class V>
concept value = std::copyable<V> && requires(const V& v, std::string_view key, std::span<char> scratch) {
  { v.kind() } -> std::same_as<type>;
  { v.is_null() } -> std::same_as<bool>;
  { v.is_integer() } -> std::same_as<bool>;  // a number written without fraction or exponent
  { v.get_bool() } -> std::same_as<result<bool>>;
  { v.get_int64() } -> std::same_as<result<std::int64_t>>;
  { v.get_uint64() } -> std::same_as<result<std::uint64_t>>;
  { v.get_double() } -> std::same_as<result<double>>;
  // The unescaped string. The view points into the input, the reader or `scratch` (used only when the
  // string has escapes and the reader does not keep unescaped text; errc::buffer_too_small if it is too
  // short), and lives as long as the value and the scratch buffer.
  { v.get_string(scratch) } -> std::same_as<result<std::string_view>>;
  // The first member of an object with that (unescaped) key: errc::not_found, errc::json_type_mismatch.
  { v.find(key) } -> std::same_as<result<V>>;
  // Object members have key(scratch) -> result<string_view>, key_is(string_view) -> bool and value() -> V;
  // array elements are V. get_object/get_array return result<range> (errc::json_type_mismatch);
  // members/elements return the range itself, empty for any other type. Prefer the latter in range-for:
  // `for (auto m : *v.get_object())` would iterate a temporary destroyed before the loop body (C++20).
  v.get_object();
  v.get_array();
  { v.members().begin() != v.members().end() } -> std::convertible_to<bool>;
  { v.elements().begin() != v.elements().end() } -> std::convertible_to<bool>;
};

template <class R>
concept reader = value<typename R::value_type> && requires(R& r, std::string_view text, limits lim) {
  { r.parse(text, lim) } -> std::same_as<result<typename R::value_type>>;
};

// Follows a chain of object keys from v, e.g. find_path(doc, {"state", "desired"}).
template <value V>
result<V> find_path(V v, std::initializer_list<std::string_view> keys) noexcept {
  for (std::string_view k : keys) {
    auto next = v.find(k);
    if (!next) return next.error();
    v = *next;
  }
  return v;
}

// Number of members or elements (linear in the size of the container).
template <value V>
result<std::size_t> count(const V& v) noexcept {
  std::size_t n = 0;
  if (v.kind() == type::object) {
    for (const auto& m : v.members()) (void)m, ++n;
    return n;
  }
  if (v.kind() == type::array) {
    for (const auto& e : v.elements()) (void)e, ++n;
    return n;
  }
  return errc::json_type_mismatch;
}

}  // namespace thingwell::json
