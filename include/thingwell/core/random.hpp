// thingwell — non-cryptographic randomness for jitter and scheduling.
//
// Jitter only needs to be spread and unpredictable across a fleet, not secret: a small PRNG seeded per
// device is enough, and it runs the same on an MCU. Key material always comes from the crypto backend.
#pragma once

#include <concepts>
#include <cstdint>

#include "config.hpp"

#if THINGWELL_HAS_POSIX
#  include <chrono>
#  include <unistd.h>
#endif

namespace thingwell {

template <class R>
concept random_source = requires(R& r) {
  { r.next_u32() } -> std::same_as<std::uint32_t>;
};

// xoshiro128** (Blackman & Vigna): 16 bytes of state, fast on 32-bit cores.
class xoshiro128 {
 public:
  explicit xoshiro128(std::uint64_t seed) noexcept {
    // splitmix64 spreads any seed, including 0, over the whole state.
    for (int i = 0; i < 4; i += 2) {
      std::uint64_t z = (seed += 0x9E3779B97F4A7C15ull);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      s_[i] = static_cast<std::uint32_t>(z);
      s_[i + 1] = static_cast<std::uint32_t>(z >> 32);
    }
  }

  std::uint32_t next_u32() noexcept {
    const std::uint32_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint32_t t = s_[1] << 9;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 11);
    return result;
  }

 private:
  static constexpr std::uint32_t rotl(std::uint32_t x, int k) noexcept { return (x << k) | (x >> (32 - k)); }
  std::uint32_t s_[4];
};

static_assert(random_source<xoshiro128>);

// Uniform integer in [0, bound] from any random_source. The modulo bias is below 2^-32 for the
// bounds jitter uses (delays in milliseconds), far under what a fleet could observe.
template <random_source R>
std::uint64_t uniform_up_to(R& r, std::uint64_t bound) noexcept {
  if (bound == 0) return 0;
  // Two statements: the operands of `|` are unsequenced, so one expression would let each compiler pick
  // which draw becomes the high word, and the same seed would jitter differently per build.
  const std::uint64_t high = r.next_u32();
  const std::uint64_t x = (high << 32) | r.next_u32();
  return bound == UINT64_MAX ? x : x % (bound + 1);
}

#if THINGWELL_HAS_POSIX
// A seed that differs between processes and devices started at the same moment.
inline std::uint64_t host_seed() noexcept {
  const auto t = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  const auto w = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  int stack_marker = 0;
  return t ^ (w << 7) ^ (static_cast<std::uint64_t>(::getpid()) << 32) ^
         static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&stack_marker));
}
#endif

}  // namespace thingwell
