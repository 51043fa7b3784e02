// thingwell — result<T>: a value or a std::error_code.
//
// std::expected is C++23 and not available with the supported standard libraries in C++20 mode, so this
// is the small subset thingwell needs. It never throws: reading the value of an error result is a
// programming error caught by THINGWELL_ASSERT.
#pragma once

#include <new>
#include <system_error>
#include <type_traits>
#include <utility>

#include "config.hpp"
#include "error.hpp"

namespace thingwell {

template <class T>
class [[nodiscard]] result {
  static_assert(!std::is_reference_v<T>, "result<T&> is not supported; use a pointer");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, std::error_code>, "result<error_code> is ambiguous");

 public:
  using value_type = T;

  // Value constructors.
  result(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) : has_value_(true) {
    ::new (static_cast<void*>(&value_)) T(v);
  }
  result(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) : has_value_(true) {
    ::new (static_cast<void*>(&value_)) T(std::move(v));
  }
  template <class U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
             !std::is_same_v<std::remove_cvref_t<U>, result> &&
             !std::is_same_v<std::remove_cvref_t<U>, std::error_code> && !std::is_same_v<std::remove_cvref_t<U>, errc>)
  result(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) : has_value_(true) {
    ::new (static_cast<void*>(&value_)) T(std::forward<U>(v));
  }

  // Error constructors.
  result(std::error_code ec) noexcept : error_(ec), has_value_(false) { THINGWELL_ASSERT(ec); }
  result(errc e) noexcept : result(make_error_code(e)) {}

  // Constrained so that std::is_copy_constructible (and std::optional, std::variant, containers) see a
  // result of a move-only T as move-only instead of failing deep inside an instantiation.
  result(const result& other) noexcept(std::is_nothrow_copy_constructible_v<T>)
    requires std::is_copy_constructible_v<T>
      : error_(other.error_), has_value_(other.has_value_) {
    if (has_value_) ::new (static_cast<void*>(&value_)) T(other.value_);
  }
  result(result&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
      : error_(other.error_), has_value_(other.has_value_) {
    if (has_value_) ::new (static_cast<void*>(&value_)) T(std::move(other.value_));
  }
  result& operator=(const result& other)
    requires std::is_copy_constructible_v<T>
  {
    if (this != &other) {
      destroy();
      error_ = other.error_;
      has_value_ = other.has_value_;
      if (has_value_) ::new (static_cast<void*>(&value_)) T(other.value_);
    }
    return *this;
  }
  result& operator=(result&& other) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &other) {
      destroy();
      error_ = other.error_;
      has_value_ = other.has_value_;
      if (has_value_) ::new (static_cast<void*>(&value_)) T(std::move(other.value_));
    }
    return *this;
  }
  ~result() { destroy(); }

  bool has_value() const noexcept { return has_value_; }
  explicit operator bool() const noexcept { return has_value_; }

  T& value() & noexcept { THINGWELL_ASSERT(has_value_); return value_; }
  const T& value() const& noexcept { THINGWELL_ASSERT(has_value_); return value_; }
  T&& value() && noexcept { THINGWELL_ASSERT(has_value_); return std::move(value_); }
  T& operator*() & noexcept { return value(); }
  const T& operator*() const& noexcept { return value(); }
  T&& operator*() && noexcept { return std::move(*this).value(); }
  T* operator->() noexcept { return &value(); }
  const T* operator->() const noexcept { return &value(); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value_ ? value_ : static_cast<T>(std::forward<U>(fallback));
  }

  // The error; an empty error_code when the result holds a value.
  std::error_code error() const noexcept { return error_; }

 private:
  void destroy() noexcept {
    if (has_value_) value_.~T();
    has_value_ = false;
  }

  union {
    T value_;
  };
  std::error_code error_{};
  bool has_value_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  using value_type = void;
  result() noexcept = default;
  result(std::error_code ec) noexcept : error_(ec) {}
  result(errc e) noexcept : error_(make_error_code(e)) {}

  bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return !error_; }
  void value() const noexcept { THINGWELL_ASSERT(!error_); }
  std::error_code error() const noexcept { return error_; }

 private:
  std::error_code error_{};
};

inline result<void> success() noexcept { return {}; }

}  // namespace thingwell

// Propagates an error from an expression that yields result<...> or std::error_code. The expression is
// bound by reference, so a named result (even of a move-only type) is inspected, not copied.
#define THINGWELL_TRY(expr)                                                \
  do {                                                                     \
    if (auto&& thingwell_try_r_ = (expr); ::thingwell::detail::failed(thingwell_try_r_)) [[unlikely]] \
      return ::thingwell::detail::error_of(thingwell_try_r_);              \
  } while (0)

namespace thingwell::detail {
template <class T>
inline std::error_code error_of(const result<T>& r) noexcept { return r.error(); }
inline std::error_code error_of(std::error_code ec) noexcept { return ec; }
template <class T>
inline bool failed(const result<T>& r) noexcept { return !r.has_value(); }
inline bool failed(std::error_code ec) noexcept { return static_cast<bool>(ec); }
}  // namespace thingwell::detail
