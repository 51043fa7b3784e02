// thingwell — JSON writer into a caller buffer.
//
// Builds a document left to right: commas and colons are placed by the writer, strings are escaped, and
// misuse (a value where a key belongs, a bracket that closes the wrong container, a second root value) is
// an error rather than bad JSON. Errors are sticky: after the first one every call does nothing, so a
// document is written without checking each step and the outcome is read once from finish().
//
//   char buf[256];
//   json::writer w(buf);
//   w.begin_object().key("state").begin_object().key("reported").begin_object()
//    .member("temperature", 21.5).member("power", "on").end_object().end_object()
//    .member("clientToken", token).end_object();
//   auto doc = w.finish();   // result<std::string_view> over buf, or errc::buffer_too_small, ...
//
// Bounded: nothing is ever written past the end of the buffer (on errc::buffer_too_small its contents are
// unspecified), nesting is limited to max_depth (64) levels.
//
// Numbers: integers exactly; doubles in the shortest form that reads back to the same double (with ".0"
// added when that form looks like an integer, so that a double stays a double). On an MCU, writing a
// double links std::to_chars for doubles, which is large (about 130 KB on Cortex-M4); integers cost little.
#pragma once

#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <system_error>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "json_reader.hpp"
#include "json_text.hpp"

namespace thingwell::json {

class writer {
 public:
  static constexpr std::size_t max_depth = 64;

  explicit writer(std::span<char> out) noexcept : out_(out.data()), capacity_(out.size()) {}

  writer& begin_object() noexcept { return open('{', true); }
  writer& end_object() noexcept { return close('}', true); }
  writer& begin_array() noexcept { return open('[', false); }
  writer& end_array() noexcept { return close(']', false); }

  writer& key(std::string_view k) noexcept {
    if (failed()) return *this;
    if (depth_ == 0 || !in_object() || after_key_) return fail(errc::invalid_argument);
    if (nonempty()) put(',');
    mark_nonempty();
    quoted(k);
    put(':');
    after_key_ = true;
    return *this;
  }

  writer& string(std::string_view s) noexcept {
    if (begin_value()) quoted(s);
    return *this;
  }
  writer& boolean(bool b) noexcept {
    if (begin_value()) put(b ? std::string_view("true") : std::string_view("false"));
    return *this;
  }
  writer& null() noexcept {
    if (begin_value()) put("null");
    return *this;
  }
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  writer& number(T v) noexcept {
    if (!begin_value()) return *this;
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    put(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
    return *this;
  }
  // NaN and infinities have no JSON form: errc::json_bad_number.
  writer& number(double v) noexcept {
    if (failed()) return *this;
    if (!std::isfinite(v)) return fail(errc::json_bad_number);
    if (!begin_value()) return *this;
    char buf[40];
    const auto r = std::to_chars(buf, buf + sizeof buf - 2, v);
    char* end = r.ptr;
    if (std::string_view(buf, static_cast<std::size_t>(end - buf)).find_first_of(".e") == std::string_view::npos) {
      *end++ = '.';
      *end++ = '0';
    }
    put(std::string_view(buf, static_cast<std::size_t>(end - buf)));
    return *this;
  }

  // key(k) followed by the value, for the common case of a flat member.
  writer& member(std::string_view k, std::string_view v) noexcept { return key(k).string(v); }
  writer& member(std::string_view k, const char* v) noexcept { return key(k).string(v); }
  writer& member(std::string_view k, bool v) noexcept { return key(k).boolean(v); }
  writer& member(std::string_view k, double v) noexcept { return key(k).number(v); }
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  writer& member(std::string_view k, T v) noexcept {
    return key(k).number(v);
  }

  // Writes a value read by any json::reader, e.g. a shadow's "desired" section being forwarded. Values of
  // the compact reader are copied from their source text (numbers keep every digit, strings their
  // escapes); the others are re-encoded. Either way the output is valid JSON with the same content and
  // without the source's whitespace.
  template <json::value V>
  writer& copy(const V& v) noexcept {
    if (failed()) return *this;
    switch (v.kind()) {
      case type::null: return null();
      case type::boolean: return boolean(v.get_bool().value_or(false));
      case type::number:
      case type::string:
        if constexpr (requires { { v.raw_text() } -> std::convertible_to<std::string_view>; }) {
          if (begin_value()) put(v.raw_text());
          return *this;
        } else if (v.kind() == type::string) {
          auto s = v.get_string({});
          return s ? string(*s) : fail(s.error());
        } else if (v.is_integer()) {
          if (auto i = v.get_int64()) return number(*i);
          auto u = v.get_uint64();
          return u ? number(*u) : fail(u.error());
        } else {
          auto d = v.get_double();
          return d ? number(*d) : fail(d.error());
        }
      case type::object: {
        begin_object();
        auto members = v.get_object();
        if (!members) return fail(members.error());
        for (const auto& m : *members) {
          if (failed()) return *this;
          if constexpr (requires { { m.key_value().raw_text() } -> std::convertible_to<std::string_view>; }) {
            if (!in_object() || after_key_) return fail(errc::invalid_argument);
            if (nonempty()) put(',');
            mark_nonempty();
            put(m.key_value().raw_text());
            put(':');
            after_key_ = true;
          } else {
            auto k = m.key({});
            if (!k) return fail(k.error());
            key(*k);
          }
          copy(m.value());
        }
        return end_object();
      }
      case type::array: {
        begin_array();
        auto elements = v.get_array();
        if (!elements) return fail(elements.error());
        for (const auto& e : *elements) {
          if (failed()) return *this;
          copy(e);
        }
        return end_array();
      }
    }
    return *this;
  }

  // The document, once exactly one complete value has been written; otherwise the first error, or
  // errc::invalid_argument for an unfinished document.
  result<std::string_view> finish() const noexcept {
    if (error_ != errc{}) return error_;
    if (depth_ != 0 || !root_done_) return errc::invalid_argument;
    return std::string_view(out_, size_);
  }

  std::error_code error() const noexcept { return error_ == errc{} ? std::error_code{} : make_error_code(error_); }
  bool failed() const noexcept { return error_ != errc{}; }
  std::size_t size() const noexcept { return size_; }
  std::size_t depth() const noexcept { return depth_; }

 private:
  writer& fail(errc e) noexcept {
    if (error_ == errc{}) error_ = e;
    return *this;
  }
  writer& fail(std::error_code ec) noexcept {
    // Errors from the readers are thingwell codes; anything else is reported as a type mismatch.
    return fail(ec.category() == thingwell_category() ? static_cast<errc>(ec.value()) : errc::json_type_mismatch);
  }

  bool in_object() const noexcept { return (object_bits_ >> (depth_ - 1)) & 1u; }
  bool nonempty() const noexcept { return (nonempty_bits_ >> (depth_ - 1)) & 1u; }
  void mark_nonempty() noexcept { nonempty_bits_ |= std::uint64_t{1} << (depth_ - 1); }

  // Checks that a value may come here and writes the comma before it.
  bool begin_value() noexcept {
    if (failed()) return false;
    if (depth_ == 0) {
      if (root_done_) {
        fail(errc::invalid_argument);
        return false;
      }
      root_done_ = true;
      return true;
    }
    if (in_object()) {
      if (!after_key_) {
        fail(errc::invalid_argument);
        return false;
      }
      after_key_ = false;
      return true;
    }
    if (nonempty()) put(',');
    mark_nonempty();
    return !failed();
  }

  writer& open(char bracket, bool object) noexcept {
    if (failed()) return *this;
    if (depth_ == max_depth) return fail(errc::json_too_deep);
    if (!begin_value()) return *this;
    put(bracket);
    ++depth_;
    const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
    object_bits_ = object ? (object_bits_ | bit) : (object_bits_ & ~bit);
    nonempty_bits_ &= ~bit;
    return *this;
  }

  writer& close(char bracket, bool object) noexcept {
    if (failed()) return *this;
    if (depth_ == 0 || in_object() != object || after_key_) return fail(errc::invalid_argument);
    put(bracket);
    --depth_;
    return *this;
  }

  void put(char c) noexcept {
    if (failed()) return;
    if (size_ == capacity_) {
      fail(errc::buffer_too_small);
      return;
    }
    out_[size_++] = c;
  }
  void put(std::string_view s) noexcept {
    if (failed()) return;
    if (s.size() > capacity_ - size_) {
      fail(errc::buffer_too_small);
      return;
    }
    if (!s.empty()) std::memcpy(out_ + size_, s.data(), s.size());
    size_ += s.size();
  }

  // A string with quotes and escapes. Only what JSON requires is escaped (quote, backslash, control
  // characters); other UTF-8 passes through, ill-formed UTF-8 is errc::json_bad_utf8.
  void quoted(std::string_view s) noexcept {
    if (!detail::is_valid_utf8(s)) {
      fail(errc::json_bad_utf8);
      return;
    }
    put('"');
    std::size_t run = 0;  // start of the pending run of bytes that need no escape
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      put(s.substr(run, i - run));
      run = i + 1;
      char esc[6] = {'\\', 0, 0, 0, 0, 0};
      std::size_t n = 2;
      switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
          esc[1] = 'u';
          esc[2] = '0';
          esc[3] = '0';
          esc[4] = "0123456789abcdef"[c >> 4];
          esc[5] = "0123456789abcdef"[c & 15];
          n = 6;
      }
      put(std::string_view(esc, n));
    }
    put(s.substr(run));
    put('"');
  }

  char* out_;
  std::size_t capacity_;
  std::size_t size_ = 0;
  std::size_t depth_ = 0;
  std::uint64_t object_bits_ = 0;    // bit d-1: the container at depth d is an object
  std::uint64_t nonempty_bits_ = 0;  // bit d-1: the container at depth d has a member or element
  bool after_key_ = false;           // a key was written and its value is due
  bool root_done_ = false;
  errc error_{};
};

}  // namespace thingwell::json
