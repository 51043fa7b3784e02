// thingwell — time.
//
// The sans-I/O core never reads a clock: the caller passes `now` in. Drivers get `now` from a clock
// policy. Monotonic time is plain milliseconds since an arbitrary epoch (boot, process start); wall time
// (UTC) is separate and may be unknown until the device has synced it.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>

#include "config.hpp"

namespace thingwell {

// The time base of every timer in thingwell. It has no now(): a clock policy supplies it.
struct monotonic {
  using rep = std::int64_t;
  using period = std::milli;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<monotonic, duration>;
  static constexpr bool is_steady = true;
};

using duration = monotonic::duration;
using time_point = monotonic::time_point;
using utc_time = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

inline constexpr time_point never = time_point::max();

// A clock policy: monotonic milliseconds for every timer.
template <class C>
concept clock = requires(const C& c) {
  { c.now() } -> std::same_as<time_point>;
};

// A clock that can also tell UTC once it is known (from RTC, SNTP, or the broker).
template <class C>
concept wall_clock = clock<C> && requires(const C& c) {
  { c.utc() } -> std::same_as<std::optional<utc_time>>;
};

#if THINGWELL_HAS_POSIX
// The host's clocks: std::chrono::steady_clock for timers, system_clock for UTC (assumed synced by the OS).
struct system_clock {
  time_point now() const noexcept {
    return time_point{std::chrono::duration_cast<duration>(std::chrono::steady_clock::now().time_since_epoch())};
  }
  std::optional<utc_time> utc() const noexcept {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  }
};
static_assert(wall_clock<system_clock>);
#endif

// A clock that moves only when told to: deterministic tests of timers, keep-alive and backoff.
class manual_clock {
 public:
  constexpr manual_clock() noexcept = default;
  constexpr explicit manual_clock(time_point start) noexcept : now_(start) {}

  time_point now() const noexcept { return now_; }
  std::optional<utc_time> utc() const noexcept {
    if (!utc_offset_) return std::nullopt;
    return utc_time{*utc_offset_ + std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch())};
  }

  void advance(duration d) noexcept { now_ += d; }
  void set(time_point t) noexcept { now_ = t; }
  // Marks wall time as known: utc() == at when now() == the current monotonic time.
  void sync_utc(utc_time at) noexcept {
    utc_offset_ = at.time_since_epoch() - std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch());
  }
  void unsync_utc() noexcept { utc_offset_.reset(); }

 private:
  time_point now_{};
  std::optional<std::chrono::milliseconds> utc_offset_;
};
static_assert(wall_clock<manual_clock>);

}  // namespace thingwell
