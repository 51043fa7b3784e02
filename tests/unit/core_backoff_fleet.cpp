// A fleet of devices coming back after a common outage: does full jitter spread their reconnects?
//
// 1,000 simulated clients, each with its own seeded xoshiro128 and backoff, lose the broker at the same
// instant (t = 0). The broker then refuses the first K = 16 CONNECT attempts of every client and
// accepts the next. Time is simulated event by event on a manual clock; every attempt is recorded.
//
// The property checked, and its window
// ------------------------------------
// Backoff: base 1 s, cap 32 s. A client's first five delays have ceilings 1, 2, 4, 8 and 16 s; from
// the sixth on, every ceiling is the cap. So from W0 = 1+2+4+8+16 = 31 s on, no client is in its growth
// phase any more: all are retrying with delays drawn from [0, 32 s]. The spread window is
//
//     [W0, W1)   W0 = 31 s (end of every client's growth phase)
//                W1 = the first accepted attempt of any client (after it the population retrying shrinks)
//
// cut to whole one-second buckets starting at W0. Inside it the fleet is in its steady retry regime,
// and the claim is: no one-second bucket holds more than 2 × the mean attempts per bucket of the window.
//
// Why not the whole run: exponential backoff front-loads attempts by design. Round n of every client is
// spread over base · 2ⁿ, so the early seconds hold more attempts than the later ones whatever the
// jitter; the first round's density is set by base and fleet size. The first round gets its own check
// below, at the resolution of its own range (100 ms buckets over [0, base]).
//
// The test can fail: with jitter::none every client retries at the same instants (1,000 attempts in one
// bucket, ~32 × the mean), and so does full jitter when every device is seeded alike; both are checked
// to violate the property. (Equal jitter peaks at 1.6-2× here, too close to the limit to assert either
// way: only half of each delay is random, so the bunching left by the common start fades slowly.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

#include <thingwell/core/backoff.hpp>
#include <thingwell/core/clock.hpp>
#include <thingwell/core/random.hpp>

namespace tw = thingwell;
using namespace std::chrono_literals;

namespace {

constexpr int fleet_size = 1000;
constexpr int refused_attempts = 16;  // K

tw::backoff_config fleet_config(tw::jitter mode) {
  tw::backoff_config c;
  c.base = 1s;
  c.cap = 32s;
  c.reset_after = 30s;
  c.mode = mode;
  return c;
}

// End of the growth phase: the sum of the ceilings below the cap.
std::int64_t growth_phase_end(const tw::backoff_config& c) {
  std::int64_t end = 0;
  for (std::int64_t t = c.base.count(); t < c.cap.count(); t *= 2) end += t;
  return end;
}

struct client {
  tw::xoshiro128 rng;
  tw::backoff backoff;
  int refused = 0;
  bool connected = false;
};

struct fleet_run {
  std::vector<std::int64_t> attempts;  // ms since the outage, every CONNECT attempt
  std::vector<std::int64_t> first_round;
  std::int64_t first_accept = INT64_MAX;
  int connected = 0;
};

fleet_run simulate(tw::jitter mode, const std::function<std::uint64_t(int)>& seed_of) {
  tw::manual_clock clock{tw::time_point{-1h}};
  std::vector<client> clients;
  clients.reserve(fleet_size);
  for (int i = 0; i < fleet_size; ++i) {
    clients.push_back(client{tw::xoshiro128(seed_of(i)), tw::backoff(fleet_config(mode))});
    clients.back().backoff.connected(clock.now());  // a long, stable connection before the outage
  }

  // The outage: every connection drops at t = 0, and every client schedules its first attempt.
  clock.set(tw::time_point{});
  using event = std::pair<std::int64_t, int>;  // (attempt time, client)
  std::priority_queue<event, std::vector<event>, std::greater<>> pending;
  fleet_run run;
  for (int i = 0; i < fleet_size; ++i) {
    client& c = clients[static_cast<std::size_t>(i)];
    c.backoff.disconnected(clock.now());
    const std::int64_t at = (clock.now() + c.backoff.next(c.rng)).time_since_epoch().count();
    run.first_round.push_back(at);
    pending.emplace(at, i);
  }

  while (!pending.empty()) {
    const auto [at, i] = pending.top();
    pending.pop();
    REQUIRE(at >= clock.now().time_since_epoch().count());  // events come in time order
    clock.set(tw::time_point{tw::duration{at}});
    run.attempts.push_back(at);
    client& c = clients[static_cast<std::size_t>(i)];
    if (c.refused < refused_attempts) {
      ++c.refused;
      pending.emplace((clock.now() + c.backoff.next(c.rng)).time_since_epoch().count(), i);
    } else {
      c.connected = true;
      c.backoff.connected(clock.now());
      ++run.connected;
      run.first_accept = std::min(run.first_accept, at);
    }
  }
  return run;
}

struct spread {
  std::int64_t window_begin = 0;
  std::int64_t window_end = 0;
  std::size_t buckets = 0;
  std::size_t attempts = 0;  // inside the window
  std::size_t peak = 0;      // the fullest bucket
  double mean = 0;           // attempts per bucket
  double peak_over_mean() const { return mean > 0 ? static_cast<double>(peak) / mean : 0; }
};

// Buckets of `width` ms over [begin, begin + width · floor((end - begin) / width)).
spread measure(const std::vector<std::int64_t>& times, std::int64_t begin, std::int64_t end, std::int64_t width) {
  spread s;
  s.window_begin = begin;
  s.buckets = end > begin ? static_cast<std::size_t>((end - begin) / width) : 0;
  s.window_end = begin + static_cast<std::int64_t>(s.buckets) * width;
  std::vector<std::size_t> count(s.buckets, 0);
  for (std::int64_t t : times) {
    if (t < s.window_begin || t >= s.window_end) continue;
    ++count[static_cast<std::size_t>((t - begin) / width)];
    ++s.attempts;
  }
  if (s.buckets != 0) {
    s.peak = *std::max_element(count.begin(), count.end());
    s.mean = static_cast<double>(s.attempts) / static_cast<double>(s.buckets);
  }
  return s;
}

spread steady_window(const fleet_run& run, tw::jitter mode) {
  return measure(run.attempts, growth_phase_end(fleet_config(mode)), run.first_accept, 1000);
}

// Each device its own seed, as a device's serial number or its host_seed() would give.
std::uint64_t own_seed(int device) { return 0x5EED0000u + static_cast<std::uint64_t>(device); }

}  // namespace

TEST_CASE("fleet of 1000 after a common outage: full jitter keeps every second under 2x the mean") {
  const fleet_run run = simulate(tw::jitter::full, own_seed);

  // The simulation did what it claims.
  REQUIRE(run.connected == fleet_size);
  REQUIRE(run.attempts.size() == static_cast<std::size_t>(fleet_size) * (refused_attempts + 1));
  REQUIRE(growth_phase_end(fleet_config(tw::jitter::full)) == 31000);

  const spread s = steady_window(run, tw::jitter::full);
  CAPTURE(s.window_begin);
  CAPTURE(s.window_end);
  CAPTURE(s.buckets);
  CAPTURE(s.attempts);
  CAPTURE(s.peak);
  CAPTURE(s.mean);
  // A window long enough to mean something: a few cap periods, thousands of attempts.
  REQUIRE(s.buckets >= 30);
  REQUIRE(s.attempts >= 2000);
  // 1,000 clients each retrying about every cap / 2 = 16 s: ~62 attempts per second.
  CHECK(s.mean > 45);
  CHECK(s.mean < 80);
  CHECK(static_cast<double>(s.peak) <= 2.0 * s.mean);

  // The same holds for other seed families (a different batch of devices).
  for (std::uint64_t family : {1ull, 77ull, 1ull << 40}) {
    CAPTURE(family);
    const fleet_run other = simulate(tw::jitter::full, [family](int d) { return family * 1'000'003u + static_cast<std::uint64_t>(d); });
    const spread o = steady_window(other, tw::jitter::full);
    CAPTURE(o.peak);
    CAPTURE(o.mean);
    REQUIRE(o.buckets >= 30);
    CHECK(static_cast<double>(o.peak) <= 2.0 * o.mean);
  }
}

TEST_CASE("fleet: the property fails without jitter, and with jitter but one shared seed") {
  SUBCASE("jitter::none: every client retries in the same instant") {
    const fleet_run run = simulate(tw::jitter::none, own_seed);
    REQUIRE(run.connected == fleet_size);
    const spread s = steady_window(run, tw::jitter::none);
    CAPTURE(s.peak);
    CAPTURE(s.mean);
    REQUIRE(s.buckets >= 30);
    CHECK(s.peak == static_cast<std::size_t>(fleet_size));
    CHECK_FALSE(static_cast<double>(s.peak) <= 2.0 * s.mean);
  }
  SUBCASE("jitter::full, but every device seeded alike") {
    const fleet_run run = simulate(tw::jitter::full, [](int) { return std::uint64_t{1234}; });
    const spread s = steady_window(run, tw::jitter::full);
    CAPTURE(s.peak);
    CAPTURE(s.mean);
    REQUIRE(s.buckets >= 30);
    CHECK_FALSE(static_cast<double>(s.peak) <= 2.0 * s.mean);
  }
}

TEST_CASE("fleet: the first retry wave is spread over [0, base] too") {
  // At the first round's own scale: ten 100 ms buckets over [0, 1 s]; the mean is 100 per bucket.
  const fleet_run full = simulate(tw::jitter::full, own_seed);
  const spread s = measure(full.first_round, 0, 1000, 100);
  CAPTURE(s.peak);
  CAPTURE(s.mean);
  REQUIRE(s.buckets == 10);
  CHECK(s.attempts >= 995);  // all but the few that drew exactly 1000 ms
  CHECK(static_cast<double>(s.peak) <= 2.0 * s.mean);

  const fleet_run none = simulate(tw::jitter::none, own_seed);
  for (std::int64_t t : none.first_round) REQUIRE(t == 1000);  // the whole fleet in one instant
}
