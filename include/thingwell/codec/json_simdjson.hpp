// thingwell — the JSON reader policy over simdjson, for hosts (gateways, servers, the emulator).
//
// Uses simdjson's DOM parser: it validates the whole document (the on-demand API does not) and picks the
// fastest kernel for the CPU at run time (on-demand would be compiled for the baseline CPU unless the
// whole program is built with -march=...). The values answer exactly as json::compact_value does: same
// types, same limits (enforced before and by simdjson), same errc codes; see json_reader.hpp.
//
// simdjson allocates (a tape and a string buffer sized by the largest document seen), which is why this
// reader is for hosts only; it never throws (the error-code API is used throughout).
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "json_reader.hpp"

namespace thingwell::json {

namespace detail {

inline errc from_simdjson(simdjson::error_code e) noexcept {
  switch (e) {
    case simdjson::SUCCESS: return errc{};
    case simdjson::CAPACITY: return errc::json_too_large;
    case simdjson::MEMALLOC: return errc::capacity_exceeded;
    case simdjson::DEPTH_ERROR: return errc::json_too_deep;
    case simdjson::STRING_ERROR:
    case simdjson::UNESCAPED_CHARS:
    case simdjson::UNCLOSED_STRING: return errc::json_bad_string;
    case simdjson::NUMBER_ERROR: return errc::json_bad_number;
    case simdjson::UTF8_ERROR: return errc::json_bad_utf8;
    case simdjson::INCORRECT_TYPE: return errc::json_type_mismatch;
    case simdjson::NUMBER_OUT_OF_RANGE: return errc::json_number_out_of_range;
    case simdjson::NO_SUCH_FIELD: return errc::not_found;
    default: return errc::json_syntax;  // TAPE_ERROR, atoms, EMPTY, TRAILING_CONTENT, ...
  }
}

template <class T>
result<T> to_result(simdjson::simdjson_result<T>&& r) noexcept {
  T v{};
  if (auto e = std::move(r).get(v)) return from_simdjson(e);
  return v;
}

}  // namespace detail

class simdjson_member;
class simdjson_object_range;
class simdjson_array_range;

class simdjson_value {
 public:
  simdjson_value() noexcept = default;
  explicit simdjson_value(simdjson::dom::element e) noexcept : element_(e) {}

  type kind() const noexcept {
    switch (element_.type()) {
      case simdjson::dom::element_type::ARRAY: return type::array;
      case simdjson::dom::element_type::OBJECT: return type::object;
      case simdjson::dom::element_type::INT64:
      case simdjson::dom::element_type::UINT64:
      case simdjson::dom::element_type::DOUBLE: return type::number;
      case simdjson::dom::element_type::STRING: return type::string;
      case simdjson::dom::element_type::BOOL: return type::boolean;
      case simdjson::dom::element_type::NULL_VALUE: return type::null;
    }
    return type::null;
  }
  bool is_null() const noexcept { return element_.is_null(); }
  // simdjson refuses integer literals beyond 64 bits, so a DOUBLE element was written with a fraction or
  // an exponent, as the value model defines.
  bool is_integer() const noexcept { return element_.is_int64() || element_.is_uint64(); }

  result<bool> get_bool() const noexcept { return detail::to_result(element_.get_bool()); }
  result<std::int64_t> get_int64() const noexcept { return detail::to_result(element_.get_int64()); }
  result<std::uint64_t> get_uint64() const noexcept { return detail::to_result(element_.get_uint64()); }
  result<double> get_double() const noexcept { return detail::to_result(element_.get_double()); }
  // simdjson keeps unescaped strings in its own buffer: the scratch buffer is never needed.
  result<std::string_view> get_string(std::span<char> /*scratch*/ = {}) const noexcept {
    return detail::to_result(element_.get_string());
  }

  inline result<simdjson_value> find(std::string_view key) const noexcept;
  inline result<simdjson_object_range> get_object() const noexcept;
  inline result<simdjson_array_range> get_array() const noexcept;
  // The members or elements; an empty range for any other type.
  inline simdjson_object_range members() const noexcept;
  inline simdjson_array_range elements() const noexcept;

  simdjson::dom::element element() const noexcept { return element_; }

 private:
  simdjson::dom::element element_;
};

class simdjson_member {
 public:
  explicit simdjson_member(simdjson::dom::key_value_pair kv) noexcept : key_(kv.key), value_(kv.value) {}
  result<std::string_view> key(std::span<char> /*scratch*/ = {}) const noexcept { return key_; }
  bool key_is(std::string_view k) const noexcept { return key_ == k; }
  simdjson_value value() const noexcept { return value_; }

 private:
  std::string_view key_;
  simdjson_value value_;
};

namespace detail {

// A range over a simdjson object or array whose elements are handed out as thingwell types (Element is
// built from what the simdjson iterator yields). Default-constructed it is empty: a default dom::object or
// dom::array has no tape to walk, so the empty range compares two default iterators instead.
template <class Container, class Element>
class simdjson_range {
 public:
  class iterator {
   public:
    using value_type = Element;
    using difference_type = std::ptrdiff_t;
    iterator() noexcept = default;
    explicit iterator(typename Container::iterator it) noexcept : it_(it) {}
    Element operator*() const noexcept { return Element(*it_); }
    iterator& operator++() noexcept {
      ++it_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const noexcept { return !(it_ != o.it_); }

   private:
    typename Container::iterator it_;
  };

  simdjson_range() noexcept = default;  // empty
  explicit simdjson_range(Container c) noexcept : container_(c), valid_(true) {}
  iterator begin() const noexcept { return valid_ ? iterator(container_.begin()) : iterator(); }
  iterator end() const noexcept { return valid_ ? iterator(container_.end()) : iterator(); }

 private:
  Container container_;
  bool valid_ = false;
};

}  // namespace detail

class simdjson_object_range : public detail::simdjson_range<simdjson::dom::object, simdjson_member> {
  using detail::simdjson_range<simdjson::dom::object, simdjson_member>::simdjson_range;
};
class simdjson_array_range : public detail::simdjson_range<simdjson::dom::array, simdjson_value> {
  using detail::simdjson_range<simdjson::dom::array, simdjson_value>::simdjson_range;
};

inline result<simdjson_object_range> simdjson_value::get_object() const noexcept {
  auto o = detail::to_result(element_.get_object());
  if (!o) return o.error();
  return simdjson_object_range(*o);
}

inline result<simdjson_array_range> simdjson_value::get_array() const noexcept {
  auto a = detail::to_result(element_.get_array());
  if (!a) return a.error();
  return simdjson_array_range(*a);
}

inline simdjson_object_range simdjson_value::members() const noexcept {
  simdjson::dom::object o;
  if (element_.get_object().get(o)) return {};
  return simdjson_object_range(o);
}

inline simdjson_array_range simdjson_value::elements() const noexcept {
  simdjson::dom::array a;
  if (element_.get_array().get(a)) return {};
  return simdjson_array_range(a);
}

// Linear, first match: the same rule as the compact reader for documents with duplicate keys.
inline result<simdjson_value> simdjson_value::find(std::string_view key) const noexcept {
  auto o = get_object();
  if (!o) return o.error();
  for (simdjson_member m : members())
    if (m.key_is(key)) return m.value();
  return errc::not_found;
}

class simdjson_reader {
 public:
  using value_type = simdjson_value;

  simdjson_reader() noexcept = default;
  simdjson_reader(const simdjson_reader&) = delete;
  simdjson_reader& operator=(const simdjson_reader&) = delete;

  // Copies `text` into the parser's padded buffer and parses it; the values live until the next parse.
  result<simdjson_value> parse(std::string_view text, limits lim = {}) noexcept {
    if (text.size() > lim.max_bytes) return errc::json_too_large;
    if (lim.max_depth == 0) return errc::json_too_deep;
    if (text.empty()) return errc::json_syntax;  // what simdjson says too, without handing it a null pointer
    // simdjson counts depth as the value model does (a scalar inside n containers is at depth n + 1), so
    // its own limit is ours. Changing it reallocates, which happens only when the limit changes.
    if (parser_.max_depth() != lim.max_depth) {
      if (auto e = parser_.allocate(std::max<std::size_t>(text.size(), 64), lim.max_depth)) return detail::from_simdjson(e);
    }
    simdjson::dom::element root;
    if (auto e = parser_.parse(text.data(), text.size(), true).get(root)) return detail::from_simdjson(e);
    return simdjson_value(root);
  }

 private:
  simdjson::dom::parser parser_;
};

}  // namespace thingwell::json
