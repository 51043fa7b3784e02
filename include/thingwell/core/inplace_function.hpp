// thingwell — a callable stored inside the object, never on the heap.
//
// Subscription handlers and completion callbacks must not allocate on an MCU. inplace_function keeps
// the callable in a small buffer; a lambda that captures more than fits is a compile error, not a
// hidden allocation. Copying is not supported (handlers are moved into place once).
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "config.hpp"

namespace thingwell {

template <class Signature, std::size_t Capacity = 4 * sizeof(void*)>
class inplace_function;

template <class R, class... Args, std::size_t Capacity>
class inplace_function<R(Args...), Capacity> {
 public:
  inplace_function() noexcept = default;
  inplace_function(std::nullptr_t) noexcept {}

  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, inplace_function> && std::is_invocable_r_v<R, F&, Args...>)
  inplace_function(F&& f) noexcept(std::is_nothrow_constructible_v<std::decay_t<F>, F&&>) {
    using stored = std::decay_t<F>;
    static_assert(sizeof(stored) <= Capacity,
                  "callable too large for this inplace_function: capture less (e.g. a pointer to a struct)");
    static_assert(alignof(stored) <= alignof(std::max_align_t), "over-aligned callable");
    // Moving happens inside noexcept code: a callable whose move could throw (some library wrappers
    // are not marked noexcept although they never throw) would terminate rather than leak.
    static_assert(std::is_move_constructible_v<stored>, "callable must be movable");
    ::new (static_cast<void*>(storage_)) stored(std::forward<F>(f));
    invoke_ = [](void* self, Args... args) -> R { return (*static_cast<stored*>(self))(std::forward<Args>(args)...); };
    manage_ = [](void* self, void* to) noexcept {
      auto* from = static_cast<stored*>(self);
      if (to != nullptr) ::new (to) stored(std::move(*from));
      from->~stored();
    };
  }

  inplace_function(inplace_function&& other) noexcept { take(other); }
  inplace_function& operator=(inplace_function&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  inplace_function& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  inplace_function(const inplace_function&) = delete;
  inplace_function& operator=(const inplace_function&) = delete;
  ~inplace_function() { reset(); }

  explicit operator bool() const noexcept { return invoke_ != nullptr; }

  R operator()(Args... args) const {
    THINGWELL_ASSERT(invoke_ != nullptr);
    return invoke_(const_cast<unsigned char*>(storage_), std::forward<Args>(args)...);
  }

  void reset() noexcept {
    if (manage_ != nullptr) manage_(storage_, nullptr);
    invoke_ = nullptr;
    manage_ = nullptr;
  }

 private:
  void take(inplace_function& other) noexcept {
    if (other.manage_ == nullptr) return;
    other.manage_(other.storage_, storage_);
    invoke_ = other.invoke_;
    manage_ = other.manage_;
    other.invoke_ = nullptr;
    other.manage_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char storage_[Capacity];
  R (*invoke_)(void*, Args...) = nullptr;
  void (*manage_)(void* self, void* move_to) noexcept = nullptr;
};

}  // namespace thingwell
