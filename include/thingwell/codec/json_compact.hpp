// thingwell — the compact JSON reader: strict RFC 8259 validation into a fixed tape, no heap.
//
// parse() validates the whole document in one pass (grammar, string escapes and surrogate pairs, UTF-8,
// number ranges, depth) and records one 8-byte token per value and per key in a tape the caller sizes.
// Values are then read lazily from the tape and the original text: strings are unescaped and numbers
// converted only when asked for. Nothing allocates, nothing recurses (a hostile document cannot exhaust
// the stack), and the memory needed is known in advance: 8 bytes per token, and a document of n bytes has
// at most n tokens.
//
//   thingwell::json::compact_reader<128> reader;      // room for 128 values and keys (1 KB)
//   auto doc = reader.parse(payload);
//   if (!doc) return doc.error();
//   auto version = json::find_path(*doc, {"version"});
//
// The text is not copied: it must outlive the values. See json_reader.hpp for the value model.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <span>
#include <string_view>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "json_number.hpp"
#include "json_reader.hpp"
#include "json_text.hpp"

namespace thingwell::json {

// One value or key of a parsed document.
struct compact_token {
  std::uint32_t head;  // kind << 28 | byte offset of the value in the text
  std::uint32_t aux;   // scalars: length of the text; containers: index of the token after the last descendant
};

namespace detail {

enum class token_kind : std::uint32_t {
  null_value,
  false_value,
  true_value,
  integer,         // no fraction, no exponent; fits int64 or uint64
  real,            // fraction or exponent
  plain_string,    // no escapes: the text between the quotes is the string
  escaped_string,  // at least one backslash
  object,
  array,
};

inline constexpr std::uint32_t offset_bits = 28;
inline constexpr std::uint32_t offset_mask = (std::uint32_t{1} << offset_bits) - 1;
inline constexpr std::uint32_t no_parent = 0xFFFFFFFFu;

inline token_kind kind_of(const compact_token& t) noexcept { return static_cast<token_kind>(t.head >> offset_bits); }
inline std::uint32_t offset_of(const compact_token& t) noexcept { return t.head & offset_mask; }
inline bool is_container(token_kind k) noexcept { return k == token_kind::object || k == token_kind::array; }

inline bool is_json_space(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Validates a string whose opening quote is at p and returns the position after its closing quote, or
// nullptr with `error` set. `escaped` tells whether a backslash occurred.
inline const char* scan_string(const char* p, const char* end, bool& escaped, errc& error) noexcept {
  auto u = reinterpret_cast<const unsigned char*>(p + 1);
  const auto uend = reinterpret_cast<const unsigned char*>(end);
  escaped = false;
  error = errc::json_bad_string;
  for (;;) {
    // The common case: printable ASCII that needs no attention.
    while (u != uend && *u >= 0x20 && *u < 0x80 && *u != '"' && *u != '\\') ++u;
    if (u == uend) return nullptr;  // unterminated
    const unsigned c = *u;
    if (c == '"') return reinterpret_cast<const char*>(u + 1);
    if (c == '\\') {
      escaped = true;
      if (uend - u < 2) return nullptr;
      switch (u[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          u += 2;
          continue;
        case 'u': {
          if (uend - u < 6) return nullptr;
          const long cp = hex4(reinterpret_cast<const char*>(u + 2));
          if (cp < 0) return nullptr;
          u += 6;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return nullptr;  // a low surrogate without its high half
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (uend - u < 6 || u[0] != '\\' || u[1] != 'u') return nullptr;
            const long low = hex4(reinterpret_cast<const char*>(u + 2));
            if (low < 0xDC00 || low > 0xDFFF) return nullptr;
            u += 6;
          }
          continue;
        }
        default:
          return nullptr;
      }
    }
    if (c < 0x20) return nullptr;  // control characters must be escaped
    const std::size_t n = utf8_sequence_length(u, uend);
    if (n == 0) {
      error = errc::json_bad_utf8;
      return nullptr;
    }
    u += n;
  }
}

inline bool matches(const char* p, const char* end, std::string_view word) noexcept {
  return static_cast<std::size_t>(end - p) >= word.size() && std::memcmp(p, word.data(), word.size()) == 0;
}

}  // namespace detail

class compact_member;
class compact_object_range;
class compact_array_range;

// A value of a parsed document: a pointer into the reader's tape and the text. Cheap to copy.
class compact_value {
 public:
  compact_value() noexcept = default;

  type kind() const noexcept {
    switch (tkind()) {
      case detail::token_kind::null_value: return type::null;
      case detail::token_kind::false_value:
      case detail::token_kind::true_value: return type::boolean;
      case detail::token_kind::integer:
      case detail::token_kind::real: return type::number;
      case detail::token_kind::plain_string:
      case detail::token_kind::escaped_string: return type::string;
      case detail::token_kind::object: return type::object;
      case detail::token_kind::array: return type::array;
    }
    return type::null;
  }
  bool is_null() const noexcept { return tkind() == detail::token_kind::null_value; }
  bool is_integer() const noexcept { return tkind() == detail::token_kind::integer; }

  result<bool> get_bool() const noexcept {
    if (tkind() == detail::token_kind::true_value) return true;
    if (tkind() == detail::token_kind::false_value) return false;
    return errc::json_type_mismatch;
  }

  result<std::int64_t> get_int64() const noexcept {
    bool negative = false;
    std::uint64_t m = 0;
    if (auto ec = magnitude(negative, m); ec != errc{}) return ec;
    if (negative) return m == (std::uint64_t{1} << 63) ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(m);
    if (m > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return errc::json_number_out_of_range;
    return static_cast<std::int64_t>(m);
  }

  result<std::uint64_t> get_uint64() const noexcept {
    bool negative = false;
    std::uint64_t m = 0;
    if (auto ec = magnitude(negative, m); ec != errc{}) return ec;
    if (negative && m != 0) return errc::json_number_out_of_range;
    return m;
  }

  result<double> get_double() const noexcept {
    const auto k = tkind();
    if (k != detail::token_kind::integer && k != detail::token_kind::real) return errc::json_type_mismatch;
    return detail::to_double(raw_text(), k == detail::token_kind::integer);
  }

  result<std::string_view> get_string(std::span<char> scratch = {}) const noexcept {
    const auto k = tkind();
    if (k == detail::token_kind::plain_string) return string_content();
    if (k != detail::token_kind::escaped_string) return errc::json_type_mismatch;
    std::size_t n = 0;
    bool fits = true;
    detail::decode_validated_string(string_content(), [&](const char* p, std::size_t len) {
      if (len > scratch.size() - n) return fits = false;
      std::memcpy(scratch.data() + n, p, len);
      n += len;
      return true;
    });
    if (!fits) return errc::buffer_too_small;
    return std::string_view(scratch.data(), n);
  }

  // Whether this is a string equal to `s` once unescaped; needs no scratch buffer.
  bool string_equals(std::string_view s) const noexcept {
    const auto k = tkind();
    if (k == detail::token_kind::plain_string) return string_content() == s;
    if (k != detail::token_kind::escaped_string) return false;
    std::size_t at = 0;
    const bool same = detail::decode_validated_string(string_content(), [&](const char* p, std::size_t len) {
      if (len > s.size() - at || std::memcmp(s.data() + at, p, len) != 0) return false;
      at += len;
      return true;
    });
    return same && at == s.size();
  }

  inline result<compact_value> find(std::string_view key) const noexcept;
  inline result<compact_object_range> get_object() const noexcept;
  inline result<compact_array_range> get_array() const noexcept;
  // The members or elements; an empty range for any other type.
  inline compact_object_range members() const noexcept;
  inline compact_array_range elements() const noexcept;

  // The exact source text of a scalar (strings with their quotes and escapes, numbers as written); empty
  // for objects and arrays. The writer copies it verbatim, so numbers keep every digit.
  std::string_view raw_text() const noexcept {
    if (detail::is_container(tkind())) return {};
    return {text_ + detail::offset_of(token()), token().aux};
  }

 private:
  friend class basic_compact_reader;
  friend class compact_member;
  friend class compact_object_range;
  friend class compact_array_range;

  compact_value(const char* text, const compact_token* tape, std::uint32_t index) noexcept
      : text_(text), tape_(tape), index_(index) {}

  const compact_token& token() const noexcept { return tape_[index_]; }
  detail::token_kind tkind() const noexcept {
    return tape_ ? detail::kind_of(token()) : detail::token_kind::null_value;
  }
  std::string_view string_content() const noexcept {
    return {text_ + detail::offset_of(token()) + 1, token().aux - 2};
  }
  // Index of the next sibling: containers record it, every scalar is a single token.
  std::uint32_t next_index() const noexcept { return detail::is_container(tkind()) ? token().aux : index_ + 1; }
  compact_value at(std::uint32_t index) const noexcept { return {text_, tape_, index}; }

  errc magnitude(bool& negative, std::uint64_t& m) const noexcept {
    const auto k = tkind();
    if (k != detail::token_kind::integer) return errc::json_type_mismatch;
    (void)detail::integer_magnitude(raw_text(), negative, m);  // range checked by parse()
    return errc{};
  }

  const char* text_ = nullptr;
  const compact_token* tape_ = nullptr;
  std::uint32_t index_ = 0;
};

// A member of an object: a key token followed by its value.
class compact_member {
 public:
  result<std::string_view> key(std::span<char> scratch = {}) const noexcept { return key_.get_string(scratch); }
  bool key_is(std::string_view k) const noexcept { return key_.string_equals(k); }
  compact_value value() const noexcept { return key_.at(key_.index_ + 1); }
  // The key as a value (for the writer, which copies its escaped text).
  compact_value key_value() const noexcept { return key_; }

 private:
  friend class compact_object_range;
  explicit compact_member(compact_value key) noexcept : key_(key) {}
  compact_value key_;
};

class compact_object_range {
 public:
  class iterator {
   public:
    using value_type = compact_member;
    using difference_type = std::ptrdiff_t;
    iterator() noexcept = default;
    compact_member operator*() const noexcept { return compact_member(key_); }
    iterator& operator++() noexcept {
      key_ = key_.at(key_.at(key_.index_ + 1).next_index());
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const noexcept { return key_.index_ == o.key_.index_; }

   private:
    friend class compact_object_range;
    explicit iterator(compact_value key) noexcept : key_(key) {}
    compact_value key_;
  };

  iterator begin() const noexcept { return iterator(first_); }
  iterator end() const noexcept { return iterator(first_.at(end_)); }

 private:
  friend class compact_value;
  // An object's members, or nothing for any other value.
  explicit compact_object_range(compact_value v) noexcept
      : first_(v.at(v.index_ + 1)), end_(v.tkind() == detail::token_kind::object ? v.token().aux : v.index_ + 1) {}
  compact_value first_;
  std::uint32_t end_;
};

class compact_array_range {
 public:
  class iterator {
   public:
    using value_type = compact_value;
    using difference_type = std::ptrdiff_t;
    iterator() noexcept = default;
    compact_value operator*() const noexcept { return element_; }
    iterator& operator++() noexcept {
      element_ = element_.at(element_.next_index());
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const noexcept { return element_.index_ == o.element_.index_; }

   private:
    friend class compact_array_range;
    explicit iterator(compact_value element) noexcept : element_(element) {}
    compact_value element_;
  };

  iterator begin() const noexcept { return iterator(first_); }
  iterator end() const noexcept { return iterator(first_.at(end_)); }

 private:
  friend class compact_value;
  // An array's elements, or nothing for any other value.
  explicit compact_array_range(compact_value v) noexcept
      : first_(v.at(v.index_ + 1)), end_(v.tkind() == detail::token_kind::array ? v.token().aux : v.index_ + 1) {}
  compact_value first_;
  std::uint32_t end_;
};

inline result<compact_object_range> compact_value::get_object() const noexcept {
  if (tkind() != detail::token_kind::object) return errc::json_type_mismatch;
  return compact_object_range(*this);
}

inline result<compact_array_range> compact_value::get_array() const noexcept {
  if (tkind() != detail::token_kind::array) return errc::json_type_mismatch;
  return compact_array_range(*this);
}

inline compact_object_range compact_value::members() const noexcept { return compact_object_range(*this); }
inline compact_array_range compact_value::elements() const noexcept { return compact_array_range(*this); }

inline result<compact_value> compact_value::find(std::string_view key) const noexcept {
  if (tkind() != detail::token_kind::object) return errc::json_type_mismatch;
  for (compact_member m : compact_object_range(*this))
    if (m.key_is(key)) return m.value();
  return errc::not_found;
}

// The reader over a caller-provided tape. compact_reader<N> below owns its tape; functions that do not
// care about the capacity take a basic_compact_reader&.
class basic_compact_reader {
 public:
  using value_type = compact_value;

  explicit basic_compact_reader(std::span<compact_token> tape) noexcept
      : tape_(tape.data()), capacity_(tape.size() < detail::no_parent ? static_cast<std::uint32_t>(tape.size()) : detail::no_parent - 1) {}
  basic_compact_reader(const basic_compact_reader&) = delete;
  basic_compact_reader& operator=(const basic_compact_reader&) = delete;

  std::size_t capacity() const noexcept { return capacity_; }
  // Tokens used by the last successful parse.
  std::size_t size() const noexcept { return size_; }

  // Validates `text` and returns its root value. Errors: errc::json_* (see core/error.hpp), and
  // errc::capacity_exceeded when the document has more values and keys than the tape has tokens. Token
  // offsets have 28 bits: documents above 256 MB are errc::json_too_large whatever the limits say.
  result<compact_value> parse(std::string_view text, limits lim = {}) noexcept {
    size_ = 0;
    if (text.size() > lim.max_bytes || text.size() > detail::offset_mask) return errc::json_too_large;
    if (auto ec = run(text, lim); ec != errc{}) {
      size_ = 0;
      return ec;
    }
    return compact_value(text.data(), tape_, 0);
  }

 private:
  // One pass over the text. `parent` is the innermost open container; while a container is open its
  // token's aux links to the container around it, so no stack is needed and the depth limit costs one
  // counter. Closing the container replaces the link with the index of its next sibling.
  errc run(std::string_view text, const limits& lim) noexcept {
    using detail::token_kind;
    const char* const begin = text.data();
    const char* const end = begin + text.size();
    const char* p = begin;
    std::uint32_t parent = detail::no_parent;
    std::size_t depth = 0;  // containers open around the next value

    auto skip_space = [&] {
      while (p != end && detail::is_json_space(*p)) ++p;
    };
    auto push = [&](token_kind k, const char* at, std::uint32_t aux) {
      tape_[size_++] = {static_cast<std::uint32_t>(k) << detail::offset_bits | static_cast<std::uint32_t>(at - begin), aux};
    };
    // A string at p (a value or a key).
    auto string_token = [&]() -> errc {
      bool escaped = false;
      errc error{};
      const char* after = detail::scan_string(p, end, escaped, error);
      if (!after) return error;
      push(escaped ? token_kind::escaped_string : token_kind::plain_string, p, static_cast<std::uint32_t>(after - p));
      p = after;
      return errc{};
    };
    // A key, the colon and the space before the value.
    auto key = [&]() -> errc {
      if (p == end || *p != '"') return errc::json_syntax;
      if (size_ == capacity_) return errc::capacity_exceeded;
      if (auto ec = string_token(); ec != errc{}) return ec;
      skip_space();
      if (p == end || *p != ':') return errc::json_syntax;
      ++p;
      skip_space();
      return errc{};
    };

    skip_space();
    for (;;) {
      // A value starts at p.
      if (p == end) return errc::json_syntax;
      if (depth + 1 > lim.max_depth) return errc::json_too_deep;
      if (size_ == capacity_) return errc::capacity_exceeded;
      const char c = *p;
      bool value_done = true;
      if (c == '{' || c == '[') {
        const std::uint32_t index = size_;
        push(c == '{' ? token_kind::object : token_kind::array, p, parent);
        parent = index;
        ++depth;
        ++p;
        skip_space();
        if (p != end && *p == (c == '{' ? '}' : ']')) {
          ++p;
          parent = close_link(index);
          --depth;
        } else if (c == '{') {
          if (auto ec = key(); ec != errc{}) return ec;
          value_done = false;
        } else {
          value_done = false;
        }
      } else if (c == '"') {
        if (auto ec = string_token(); ec != errc{}) return ec;
      } else if (c == '-' || detail::is_digit(c)) {
        bool integer = false;
        const char* after = detail::scan_number(p, end, integer);
        if (!after) return errc::json_bad_number;
        const std::string_view t(p, static_cast<std::size_t>(after - p));
        if (integer ? !detail::integer_fits(t) : detail::real_overflows(t)) return errc::json_bad_number;
        push(integer ? token_kind::integer : token_kind::real, p, static_cast<std::uint32_t>(t.size()));
        p = after;
      } else if (detail::matches(p, end, "true")) {
        push(token_kind::true_value, p, 4);
        p += 4;
      } else if (detail::matches(p, end, "false")) {
        push(token_kind::false_value, p, 5);
        p += 5;
      } else if (detail::matches(p, end, "null")) {
        push(token_kind::null_value, p, 4);
        p += 4;
      } else {
        return errc::json_syntax;
      }
      if (!value_done) continue;

      // After a value: a comma, the end of the enclosing container, or the end of the document.
      for (;;) {
        skip_space();
        if (parent == detail::no_parent) return p == end ? errc{} : errc::json_syntax;
        if (p == end) return errc::json_syntax;
        const bool in_object = detail::kind_of(tape_[parent]) == token_kind::object;
        if (*p == ',') {
          ++p;
          skip_space();
          if (in_object) {
            if (auto ec = key(); ec != errc{}) return ec;
          }
          break;  // the next value
        }
        if (*p != (in_object ? '}' : ']')) return errc::json_syntax;
        ++p;
        parent = close_link(parent);
        --depth;
      }
    }
  }

  // Closes the container at `index`: records its next sibling and returns the container around it.
  std::uint32_t close_link(std::uint32_t index) noexcept {
    const std::uint32_t outer = tape_[index].aux;
    tape_[index].aux = size_;
    return outer;
  }

  compact_token* tape_;
  std::uint32_t capacity_;
  std::uint32_t size_ = 0;
};

// A reader that owns a tape of `Tokens` tokens (8 bytes each). A document of n bytes needs at most n.
template <std::size_t Tokens>
class compact_reader : public basic_compact_reader {
  static_assert(Tokens > 0 && Tokens < detail::no_parent, "tape capacity out of range");

 public:
  compact_reader() noexcept : basic_compact_reader(std::span<compact_token>(storage_)) {}

 private:
  std::array<compact_token, Tokens> storage_;  // written by parse() before it is read: no need to clear it
};

}  // namespace thingwell::json
