// thingwell — a type-erased Asio completion handler.
//
// A publish completes when its PUBACK arrives, long after async_publish returned, so its handler
// (a callback, a use_future promise, a coroutine's continuation...) must be stored without knowing
// its type. Small handlers live inside the object; only large ones go to the heap. Completion always
// goes through the handler's associated executor, never inline, so a handler may call back into the
// client freely.
#pragma once

#include "../core/config.hpp"

#if THINGWELL_WITH_ASIO

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/post.hpp>

#include <cstddef>
#include <new>
#include <system_error>
#include <type_traits>
#include <utility>

#include "../mqtt/reason_code.hpp"

namespace thingwell::net::detail {

class completion {
 public:
  completion() noexcept = default;

  // `adapt` turns (error_code, reason_code) into the handler's own signature.
  template <class Handler, class Executor, class Adapt>
  completion(Handler&& h, const Executor& fallback, Adapt adapt) {
    using stored = bound<std::decay_t<Handler>, Executor, Adapt>;
    if constexpr (sizeof(stored) <= inline_size && alignof(stored) <= alignof(std::max_align_t)) {
      target_ = ::new (static_cast<void*>(storage_)) stored{std::forward<Handler>(h), fallback, adapt};
      inline_ = true;
    } else {
      target_ = new stored{std::forward<Handler>(h), fallback, adapt};
      inline_ = false;
    }
    ops_ = &ops_for<stored>;
  }

  completion(completion&& o) noexcept { take(o); }
  completion& operator=(completion&& o) noexcept {
    if (this != &o) {
      reset();
      take(o);
    }
    return *this;
  }
  completion(const completion&) = delete;
  completion& operator=(const completion&) = delete;
  ~completion() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  // Posts the handler with the outcome; the completion is empty afterwards.
  void complete(std::error_code ec, mqtt::reason_code rc = mqtt::reason_code::success) {
    finish(ec, rc, nullptr);
  }

  // For code already running in a fresh turn on `here` (so no caller can be re-entered): a handler
  // whose executor is `here` runs at once, any other is posted to its executor.
  void complete_on(const asio::any_io_executor& here, std::error_code ec, mqtt::reason_code rc) {
    finish(ec, rc, &here);
  }

  void reset() noexcept {
    if (ops_ != nullptr) ops_->destroy(target_, inline_);
    ops_ = nullptr;
    target_ = nullptr;
  }

 private:
  // Room for a callback with a few captures plus the strand it falls back to.
  static constexpr std::size_t inline_size = 16 * sizeof(void*);

  template <class H, class Executor, class Adapt>
  struct bound {
    H handler;
    Executor fallback;
    Adapt adapt;
  };

  void finish(std::error_code ec, mqtt::reason_code rc, const asio::any_io_executor* here) {
    if (ops_ == nullptr) return;
    const ops* o = ops_;
    void* t = target_;
    const bool was_inline = inline_;
    ops_ = nullptr;
    target_ = nullptr;
    o->post(t, was_inline, ec, rc, here);
  }

  struct ops {
    void (*post)(void* target, bool is_inline, std::error_code, mqtt::reason_code, const asio::any_io_executor* here);
    void (*move)(void* from, void* to) noexcept;
    void (*destroy)(void* target, bool is_inline) noexcept;
  };

  template <class Stored>
  static void post_impl(void* target, bool is_inline, std::error_code ec, mqtt::reason_code rc,
                        const asio::any_io_executor* here) {
    auto* s = static_cast<Stored*>(target);
    auto ex = asio::get_associated_executor(s->handler, s->fallback);
    auto adapt = s->adapt;
    // Only a handler that kept the default executor (the client's strand) can run here; futures,
    // coroutines and explicitly bound handlers go to their own executor.
    if constexpr (std::is_same_v<decltype(ex), asio::any_io_executor>) {
      if (here != nullptr && ex == *here) {
        auto h = std::move(s->handler);
        destroy_impl<Stored>(target, is_inline);
        adapt(h, ec, rc);
        return;
      }
    }
    asio::post(ex, [h = std::move(s->handler), adapt, ec, rc]() mutable { adapt(h, ec, rc); });
    destroy_impl<Stored>(target, is_inline);
  }
  template <class Stored>
  static void move_impl(void* from, void* to) noexcept {
    ::new (to) Stored(std::move(*static_cast<Stored*>(from)));
    static_cast<Stored*>(from)->~Stored();
  }
  template <class Stored>
  static void destroy_impl(void* target, bool is_inline) noexcept {
    if (is_inline) static_cast<Stored*>(target)->~Stored();
    else delete static_cast<Stored*>(target);
  }
  template <class Stored>
  static constexpr ops ops_for{&post_impl<Stored>, &move_impl<Stored>, &destroy_impl<Stored>};

  void take(completion& o) noexcept {
    if (o.ops_ == nullptr) return;
    ops_ = o.ops_;
    inline_ = o.inline_;
    if (inline_) {
      ops_->move(o.target_, storage_);
      target_ = storage_;
    } else {
      target_ = o.target_;
    }
    o.ops_ = nullptr;
    o.target_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char storage_[inline_size];
  void* target_ = nullptr;
  const ops* ops_ = nullptr;
  bool inline_ = false;
};

// Adapters from the stored (error_code, reason_code) outcome to each operation's signature.
struct complete_with_error {
  template <class H>
  void operator()(H& h, std::error_code ec, mqtt::reason_code) const {
    std::move(h)(ec);
  }
};
struct complete_with_reason {
  template <class H>
  void operator()(H& h, std::error_code ec, mqtt::reason_code rc) const {
    std::move(h)(ec, rc);
  }
};

}  // namespace thingwell::net::detail

#endif  // THINGWELL_WITH_ASIO
