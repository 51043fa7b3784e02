// thingwell — token bucket rate limiter.
//
// Brokers enforce per-connection rates (AWS IoT Core: 100 publishes/s and 512 KiB/s) and drop or
// disconnect on excess. Pacing on the client keeps a burst from the application within the limit
// instead of losing it (AWS IoT Lens C-20).
#pragma once

#include <algorithm>
#include <cstdint>

#include "clock.hpp"

namespace thingwell {

class token_bucket {
 public:
  // rate: tokens per second (0 disables the limit); burst: bucket size (at least 1 when limited).
  constexpr token_bucket() noexcept = default;
  constexpr token_bucket(std::uint32_t rate_per_second, std::uint32_t burst) noexcept
      : rate_(rate_per_second), burst_(std::max<std::uint32_t>(burst, rate_per_second ? 1u : 0u)),
        milli_tokens_(std::int64_t{burst_} * 1000) {}

  bool unlimited() const noexcept { return rate_ == 0; }

  // Takes n tokens if available now.
  bool try_take(time_point now, std::uint32_t n = 1) noexcept {
    if (rate_ == 0) return true;
    refill(now);
    const std::int64_t need = std::int64_t{std::min(n, burst_)} * 1000;
    if (milli_tokens_ < need) return false;
    milli_tokens_ -= need;
    return true;
  }

  // When n tokens will be available (now if they already are).
  time_point ready_at(time_point now, std::uint32_t n = 1) noexcept {
    if (rate_ == 0) return now;
    refill(now);
    const std::int64_t need = std::int64_t{std::min(n, burst_)} * 1000;
    if (milli_tokens_ >= need) return now;
    // milli_tokens grow by `rate_` per millisecond.
    const std::int64_t wait_ms = (need - milli_tokens_ + rate_ - 1) / rate_;
    return now + duration{wait_ms};
  }

 private:
  void refill(time_point now) noexcept {
    if (!started_) {
      started_ = true;
      last_ = now;
      return;
    }
    const std::int64_t elapsed = (now - last_).count();
    if (elapsed <= 0) return;
    last_ = now;
    milli_tokens_ = std::min<std::int64_t>(std::int64_t{burst_} * 1000, milli_tokens_ + elapsed * rate_);
  }

  std::uint32_t rate_ = 0;
  std::uint32_t burst_ = 0;
  std::int64_t milli_tokens_ = 0;  // thousandths of a token, so that rates below 1000/s refill smoothly
  time_point last_{};
  bool started_ = false;
};

}  // namespace thingwell
