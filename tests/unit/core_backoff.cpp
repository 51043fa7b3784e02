// backoff: the delay sequence of every jitter mode, its bounds, floor and cap, and when it resets.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <vector>

#include <thingwell/core/backoff.hpp>
#include <thingwell/core/clock.hpp>
#include <thingwell/core/random.hpp>

namespace tw = thingwell;
using namespace std::chrono_literals;
using tw::backoff;
using tw::backoff_config;
using tw::duration;
using tw::jitter;

namespace {

constexpr std::int64_t int64_max = INT64_MAX;

// min(cap, base · 2ⁿ), computed independently of the library: saturate as soon as the next doubling
// would pass the cap (or the int64 range).
std::int64_t ceiling(std::int64_t base, std::int64_t cap, int n) {
  std::int64_t t = base;
  for (int i = 0; i < n && t < cap; ++i) t = t > int64_max / 2 ? int64_max : t * 2;
  return std::min(t, cap);
}

backoff_config config(jitter mode, duration base = 1s, duration cap = 120s) {
  backoff_config c;
  c.base = base;
  c.cap = cap;
  c.mode = mode;
  return c;
}

std::vector<std::int64_t> draw(backoff& b, tw::xoshiro128& rng, int n) {
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(b.next(rng).count());
  return out;
}

constexpr std::uint64_t seeds[] = {0, 1, 42, 0xC0FFEE, UINT64_MAX};
constexpr jitter all_modes[] = {jitter::none, jitter::full, jitter::equal, jitter::decorrelated};

}  // namespace

TEST_CASE("defaults: full jitter, 1 s base, 2 min cap, 30 s stability before a reset") {
  const backoff b;
  CHECK(b.config().mode == jitter::full);
  CHECK(b.config().base == 1s);
  CHECK(b.config().cap == 120s);
  CHECK(b.config().floor == 0ms);
  CHECK(b.config().reset_after == 30s);
  CHECK(b.attempt() == 0);
}

TEST_CASE("jitter::none doubles exactly up to the cap and stays there") {
  backoff b(config(jitter::none, 100ms, 10s));
  tw::xoshiro128 rng(1);
  const std::vector<std::int64_t> expected = {100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000};
  CHECK(draw(b, rng, 10) == expected);
  CHECK(b.attempt() == 10);
  for (int i = 0; i < 1000; ++i) REQUIRE(b.next(rng) == 10s);
}

TEST_CASE("jitter::none draws no random numbers") {
  backoff b(config(jitter::none));
  tw::xoshiro128 used(5), untouched(5);
  (void)draw(b, used, 20);
  CHECK(used.next_u32() == untouched.next_u32());
}

TEST_CASE("jitter::full: 0 <= d(n) <= min(cap, base x 2^n), spread over the whole range") {
  for (std::uint64_t seed : seeds) {
    CAPTURE(seed);
    backoff b(config(jitter::full, 1s, 60s));
    tw::xoshiro128 rng(seed);
    const auto d = draw(b, rng, 1000);
    for (int n = 0; n < 1000; ++n) {
      CAPTURE(n);
      REQUIRE(d[n] >= 0);
      REQUIRE(d[n] <= ceiling(1000, 60000, n));
    }
    // Once capped (n >= 6) the delays are uniform on [0, 60 s]: mean 30 s (sd of the mean ≈ 0.55 s),
    // and both ends of the range are reached.
    std::int64_t sum = 0, lo = int64_max, hi = 0;
    for (int n = 6; n < 1000; ++n) {
      sum += d[n];
      lo = std::min(lo, d[n]);
      hi = std::max(hi, d[n]);
    }
    const double mean = static_cast<double>(sum) / 994.0;
    CHECK(mean > 27000.0);
    CHECK(mean < 33000.0);
    CHECK(lo < 1000);
    CHECK(hi > 59000);
    CHECK(std::set<std::int64_t>(d.begin(), d.end()).size() > 900);  // not all equal, barely any repeats
  }
}

TEST_CASE("jitter::equal: d(n) in [t/2, t], t = min(cap, base x 2^n)") {
  for (std::uint64_t seed : seeds) {
    CAPTURE(seed);
    backoff b(config(jitter::equal, 1s, 60s));
    tw::xoshiro128 rng(seed);
    const auto d = draw(b, rng, 1000);
    for (int n = 0; n < 1000; ++n) {
      CAPTURE(n);
      const std::int64_t t = ceiling(1000, 60000, n);
      REQUIRE(d[n] >= t / 2);
      REQUIRE(d[n] <= t);
    }
    CHECK(std::set<std::int64_t>(d.begin(), d.end()).size() > 900);
  }
  // Odd ceilings: the lower half is rounded down, never above t.
  backoff odd(config(jitter::equal, 3ms, 3ms));
  tw::xoshiro128 rng(3);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 200; ++i) seen.insert(odd.next(rng).count());
  CHECK(seen == std::set<std::int64_t>{1, 2, 3});
}

TEST_CASE("jitter::decorrelated: d(n) in [base, min(cap, 3 x d(n-1))], starting from base") {
  for (std::uint64_t seed : seeds) {
    CAPTURE(seed);
    backoff b(config(jitter::decorrelated, 1s, 60s));
    tw::xoshiro128 rng(seed);
    const auto d = draw(b, rng, 1000);
    std::int64_t previous = 1000;  // the sequence behaves as if the delay before the first was base
    for (int n = 0; n < 1000; ++n) {
      CAPTURE(n);
      REQUIRE(d[n] >= 1000);
      REQUIRE(d[n] <= std::min<std::int64_t>(60000, 3 * previous));
      previous = d[n];
    }
    CHECK(std::set<std::int64_t>(d.begin(), d.end()).size() > 500);
    CHECK(*std::max_element(d.begin(), d.end()) > 50000);  // it does climb towards the cap
  }
}

TEST_CASE("jitter::decorrelated: the first delay is already spread across a fleet") {
  // Were the first delay fixed at base, every device of a fleet would retry at the same instant.
  std::set<std::int64_t> first;
  for (std::uint64_t device = 0; device < 100; ++device) {
    backoff b(config(jitter::decorrelated, 1s, 60s));
    tw::xoshiro128 rng(device);
    const std::int64_t d = b.next(rng).count();
    CHECK(d >= 1000);
    CHECK(d <= 3000);
    first.insert(d);
  }
  CHECK(first.size() > 90);
}

TEST_CASE("the cap holds for 1000 attempts in every mode, even at the limits of the type") {
  // Huge caps and bases: a doubling or tripling that overflowed would be undefined behaviour
  // (UBSan aborts) or would wrap to a negative delay.
  const duration caps[] = {120s, duration{int64_max / 3 + 1}, duration{int64_max - 1}, duration::max()};
  const duration bases[] = {1ms, 1s, duration{int64_max / 2 + 1}, duration::max()};
  for (jitter mode : all_modes) {
    for (duration cap : caps) {
      for (duration base : bases) {
        CAPTURE(static_cast<int>(mode));
        CAPTURE(cap.count());
        CAPTURE(base.count());
        backoff b(config(mode, base, cap));
        tw::xoshiro128 rng(11);
        const std::int64_t effective_cap = std::max(cap.count(), base.count());  // a base above the cap raises it
        std::int64_t previous = -1;
        for (int n = 0; n < 1000; ++n) {
          const std::int64_t d = b.next(rng).count();
          REQUIRE(d >= 0);
          REQUIRE(d <= effective_cap);
          if (mode == jitter::none) {
            REQUIRE(d == ceiling(base.count(), effective_cap, n));
            REQUIRE(d >= previous);  // never shrinks, never wraps
          }
          if (mode == jitter::decorrelated) REQUIRE(d >= base.count());
          previous = d;
        }
        if (mode == jitter::none) CHECK(previous == effective_cap);
      }
    }
  }
}

TEST_CASE("many attempts stay cheap and capped") {
  // The attempt counter keeps growing while a broker stays away; neither the bound nor the cost of
  // computing a delay may grow with it.
  for (jitter mode : all_modes) {
    CAPTURE(static_cast<int>(mode));
    backoff b(config(mode, 250ms, 30s));
    tw::xoshiro128 rng(9);
    for (int n = 0; n < 50'000; ++n) REQUIRE(b.next(rng) <= 30s);
    CHECK(b.attempt() == 50'000u);
  }
}

TEST_CASE("floor: no delay shorter than the floor, and the floor never beats the cap") {
  for (jitter mode : all_modes) {
    CAPTURE(static_cast<int>(mode));
    backoff_config c = config(mode, 100ms, 10s);
    c.floor = 1s;  // e.g. AWS IoT Core: one CONNECT per second per client id
    backoff b(c);
    tw::xoshiro128 rng(21);
    const auto d = draw(b, rng, 1000);
    for (int n = 0; n < 1000; ++n) {
      CAPTURE(n);
      REQUIRE(d[n] >= 1000);
      REQUIRE(d[n] <= 10000);
    }
    // Early attempts, whose ceiling is below the floor, are lifted to exactly the floor.
    CHECK(d[0] == 1000);
  }

  // A floor above the cap yields the cap: the cap is the promise made to the application.
  backoff_config c = config(jitter::full, 1s, 5s);
  c.floor = 9s;
  backoff b(c);
  tw::xoshiro128 rng(2);
  for (int i = 0; i < 50; ++i) REQUIRE(b.next(rng) == 5s);

  // A negative floor changes nothing.
  backoff_config neg = config(jitter::none, 1s, 5s);
  neg.floor = duration{-100};
  backoff n(neg);
  CHECK(n.next(rng) == 1s);
}

TEST_CASE("non-positive base and cap are treated as zero") {
  tw::xoshiro128 rng(4);
  for (jitter mode : all_modes) {
    CAPTURE(static_cast<int>(mode));
    backoff b(config(mode, duration{-5}, duration{-1}));
    for (int i = 0; i < 100; ++i) REQUIRE(b.next(rng) == 0ms);
    backoff zero_base(config(mode, 0ms, 10s));
    for (int i = 0; i < 100; ++i) REQUIRE(zero_base.next(rng) <= 10s);
  }
  backoff none(config(jitter::none, 0ms, 10s));
  for (int i = 0; i < 100; ++i) REQUIRE(none.next(rng) == 0ms);  // 0 · 2ⁿ stays 0
}

TEST_CASE("the sequence resets only after a connection that stayed up for reset_after") {
  tw::manual_clock clock;
  tw::xoshiro128 rng(8);
  backoff_config c = config(jitter::none, 1s, 60s);
  c.reset_after = 30s;
  backoff b(c);

  (void)draw(b, rng, 4);  // 1, 2, 4, 8 s
  REQUIRE(b.attempt() == 4);

  SUBCASE("a connection dropped before reset_after keeps the delays growing") {
    clock.advance(8s);
    b.connected(clock.now());
    clock.advance(30s - 1ms);
    b.disconnected(clock.now());
    CHECK(b.attempt() == 4);
    CHECK(b.next(rng) == 16s);
  }
  SUBCASE("a connection that lasted exactly reset_after resets") {
    b.connected(clock.now());
    clock.advance(30s);
    b.disconnected(clock.now());
    CHECK(b.attempt() == 0);
    CHECK(b.next(rng) == 1s);
  }
  SUBCASE("a broker that accepts and drops at once sees growing delays, connection after connection") {
    for (int i = 0; i < 6; ++i) {
      b.connected(clock.now());
      clock.advance(10ms);
      b.disconnected(clock.now());
      clock.advance(b.next(rng));
    }
    CHECK(b.attempt() == 10);
    CHECK(b.next(rng) == 60s);
  }
  SUBCASE("a disconnect without a connect does not reset") {
    clock.advance(1h);
    b.disconnected(clock.now());
    CHECK(b.attempt() == 4);
  }
  SUBCASE("a second disconnect does not reuse the old connect time") {
    b.connected(clock.now());
    clock.advance(1s);
    b.disconnected(clock.now());
    clock.advance(1h);
    b.disconnected(clock.now());
    CHECK(b.attempt() == 4);
  }
  SUBCASE("the latest connect counts") {
    b.connected(clock.now());
    clock.advance(1h);
    b.connected(clock.now());  // e.g. a reconnect the driver reported without a disconnect
    clock.advance(1s);
    b.disconnected(clock.now());
    CHECK(b.attempt() == 4);
  }
  SUBCASE("reset() restarts at once") {
    b.reset();
    CHECK(b.attempt() == 0);
    CHECK(b.next(rng) == 1s);
  }
}

TEST_CASE("decorrelated jitter restarts from base after a reset") {
  tw::manual_clock clock;
  tw::xoshiro128 rng(13);
  backoff b(config(jitter::decorrelated, 1s, 60s));
  for (int i = 0; i < 50; ++i) (void)b.next(rng);
  b.connected(clock.now());
  clock.advance(1h);
  b.disconnected(clock.now());
  const duration d = b.next(rng);
  CHECK(d >= 1s);
  CHECK(d <= 3s);
}

TEST_CASE("reconfigure takes effect from the next delay and keeps the attempt count") {
  tw::xoshiro128 rng(17);
  backoff b(config(jitter::none, 100ms, 60s));
  (void)draw(b, rng, 3);  // 100, 200, 400 ms
  REQUIRE(b.attempt() == 3);

  b.reconfigure(config(jitter::none, 1s, 60s));
  CHECK(b.config().base == 1s);
  CHECK(b.attempt() == 3);
  CHECK(b.next(rng) == 8s);  // new base, same position in the sequence: 1 s · 2³

  b.reconfigure(config(jitter::none, 1s, 5s));  // a lower cap applies at once
  CHECK(b.next(rng) == 5s);

  b.reconfigure(config(jitter::full, 1s, 5s));
  for (int i = 0; i < 100; ++i) REQUIRE(b.next(rng) <= 5s);

  backoff_config with_floor = config(jitter::full, 1s, 5s);
  with_floor.floor = 2s;
  with_floor.reset_after = 1s;
  b.reconfigure(with_floor);
  for (int i = 0; i < 100; ++i) REQUIRE(b.next(rng) >= 2s);

  // The new reset_after governs the next disconnect.
  tw::manual_clock clock;
  b.connected(clock.now());
  clock.advance(1s);
  b.disconnected(clock.now());
  CHECK(b.attempt() == 0);
}

TEST_CASE("the same seed and configuration replay the same delays") {
  for (jitter mode : all_modes) {
    CAPTURE(static_cast<int>(mode));
    backoff a(config(mode)), b(config(mode));
    tw::xoshiro128 ra(99), rb(99);
    CHECK(draw(a, ra, 200) == draw(b, rb, 200));
  }
}
