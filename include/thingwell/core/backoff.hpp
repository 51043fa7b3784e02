// thingwell — reconnect backoff.
//
// Exponential growth with jitter, so that a fleet that lost its broker at the same moment does not come
// back at the same moment (AWS IoT Lens IOTREL_5.4, C-11). The delay sequence is reset only after the
// connection has stayed up for `reset_after`, so a broker that accepts and then drops at once still
// sees growing delays.
#pragma once

#include <algorithm>
#include <cstdint>

#include "clock.hpp"
#include "config.hpp"
#include "random.hpp"

namespace thingwell {

enum class jitter : std::uint8_t {
  none,          // base · 2ⁿ, capped
  full,          // uniform in [0, min(cap, base · 2ⁿ)] — the widest spread, AWS's recommendation
  equal,         // half fixed, half random: [t/2, t] with t = min(cap, base · 2ⁿ)
  decorrelated,  // uniform in [base, min(cap, 3 · previous)], previous = base before the first delay
};

struct backoff_config {
  duration base{1000};                 // first delay ceiling (and the decorrelated floor)
  duration cap{120000};                // no delay is ever longer
  duration floor{0};                   // no delay is ever shorter (e.g. AWS: 1 CONNECT/s per client id)
  duration reset_after{30000};         // a connection up this long resets the sequence
  jitter mode = jitter::full;
};

class backoff {
 public:
  constexpr backoff() noexcept = default;
  constexpr explicit backoff(const backoff_config& config) noexcept : config_(config) {}

  const backoff_config& config() const noexcept { return config_; }
  // New parameters take effect from the next delay (e.g. pushed through a shadow, C-12).
  void reconfigure(const backoff_config& config) noexcept { config_ = config; }

  // Number of delays handed out since the last reset.
  std::uint32_t attempt() const noexcept { return attempt_; }

  // The delay before the next attempt; advances the sequence.
  template <random_source R>
  duration next(R& random) noexcept {
    const std::int64_t base = std::max<std::int64_t>(config_.base.count(), 0);
    const std::int64_t cap = std::max<std::int64_t>(config_.cap.count(), base);
    std::int64_t delay = 0;
    switch (config_.mode) {
      case jitter::none:
        delay = ceiling(base, cap);
        break;
      case jitter::full:
        delay = static_cast<std::int64_t>(uniform_up_to(random, static_cast<std::uint64_t>(ceiling(base, cap))));
        break;
      case jitter::equal: {
        const std::int64_t t = ceiling(base, cap);
        delay = t / 2 + static_cast<std::int64_t>(uniform_up_to(random, static_cast<std::uint64_t>(t - t / 2)));
        break;
      }
      case jitter::decorrelated: {
        // The sequence starts as if the previous delay had been `base`, so the very first delay is
        // already spread over [base, 3 · base]; starting from 0 would send a whole fleet back at
        // exactly `base`. Comparing with cap / 3 keeps the product representable for any cap.
        const std::int64_t previous = std::max(previous_, base);
        const std::int64_t upper = previous > cap / 3 ? cap : std::min(cap, previous * 3);
        delay = base + static_cast<std::int64_t>(uniform_up_to(random, static_cast<std::uint64_t>(upper - base)));
        break;
      }
    }
    delay = std::clamp<std::int64_t>(delay, std::min(config_.floor.count(), cap), cap);
    previous_ = delay;
    if (attempt_ < UINT32_MAX) ++attempt_;
    return duration{delay};
  }

  void reset() noexcept {
    attempt_ = 0;
    previous_ = 0;
  }

  // Connection lifecycle hooks: the sequence restarts only after a stable connection.
  void connected(time_point now) noexcept { connected_at_ = now; }
  void disconnected(time_point now) noexcept {
    if (connected_at_ != never && now - connected_at_ >= config_.reset_after) reset();
    connected_at_ = never;
  }

 private:
  // min(cap, base · 2^attempt) without overflow (0 <= base <= cap). Doubling stops once it would pass
  // the cap, which also bounds the loop by the 63 doublings an int64 allows, whatever the attempt count.
  std::int64_t ceiling(std::int64_t base, std::int64_t cap) const noexcept {
    if (base == 0) return 0;
    std::int64_t t = base;
    for (std::uint32_t i = 0; i < attempt_; ++i) {
      if (t > cap / 2) return cap;  // t · 2 would pass the cap, and might not even be representable
      t *= 2;
    }
    return t;
  }

  backoff_config config_{};
  std::uint32_t attempt_ = 0;
  std::int64_t previous_ = 0;
  time_point connected_at_ = never;
};

}  // namespace thingwell
