// manual_clock: time moves only when the test says so; UTC is unknown until synced.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <type_traits>

#include <thingwell/core/clock.hpp>

namespace tw = thingwell;
using namespace std::chrono_literals;

static_assert(tw::clock<tw::manual_clock>);
static_assert(tw::wall_clock<tw::manual_clock>);
static_assert(std::is_same_v<tw::duration, std::chrono::duration<std::int64_t, std::milli>>);
static_assert(tw::monotonic::is_steady);

namespace {
// A type with now() but no utc() is a clock, not a wall clock.
struct ticks_only {
  tw::time_point now() const noexcept { return {}; }
};
static_assert(tw::clock<ticks_only>);
static_assert(!tw::wall_clock<ticks_only>);
// A now() of the wrong type is not a clock: timers must not silently mix time bases.
struct wrong_base {
  std::chrono::steady_clock::time_point now() const noexcept { return {}; }
};
static_assert(!tw::clock<wrong_base>);

tw::utc_time utc_at(std::int64_t ms_since_epoch) { return tw::utc_time{std::chrono::milliseconds{ms_since_epoch}}; }
}  // namespace

TEST_CASE("manual_clock starts where it is told and moves only on advance/set") {
  tw::manual_clock c;
  CHECK(c.now() == tw::time_point{});
  CHECK(c.now() == c.now());

  c.advance(1500ms);
  CHECK(c.now().time_since_epoch() == 1500ms);
  c.advance(tw::duration{0});
  CHECK(c.now().time_since_epoch() == 1500ms);
  c.advance(2s);  // coarser units convert exactly
  CHECK(c.now().time_since_epoch() == 3500ms);

  c.set(tw::time_point{10min});
  CHECK(c.now().time_since_epoch() == 600'000ms);
  c.set(tw::time_point{5ms});  // set may move backwards: tests of clock misbehaviour need that
  CHECK(c.now().time_since_epoch() == 5ms);

  const tw::manual_clock started{tw::time_point{42ms}};
  CHECK(started.now().time_since_epoch() == 42ms);
}

TEST_CASE("manual_clock UTC: unknown until synced, then follows monotonic time, until unsynced") {
  tw::manual_clock c{tw::time_point{1000ms}};
  CHECK_FALSE(c.utc().has_value());

  const auto t0 = utc_at(1'700'000'000'000);  // a moment in November 2023
  c.sync_utc(t0);
  REQUIRE(c.utc().has_value());
  CHECK(*c.utc() == t0);

  c.advance(250ms);
  REQUIRE(c.utc());
  CHECK(*c.utc() == t0 + 250ms);

  // Re-syncing replaces the offset (e.g. SNTP corrected the time).
  c.sync_utc(utc_at(1'800'000'000'000));
  CHECK(*c.utc() == utc_at(1'800'000'000'000));
  c.advance(1s);
  CHECK(*c.utc() == utc_at(1'800'000'001'000));

  c.unsync_utc();
  CHECK_FALSE(c.utc().has_value());
  c.advance(1s);
  CHECK_FALSE(c.utc().has_value());

  // Syncing to a time before the monotonic epoch works too (negative offset).
  tw::manual_clock late{tw::time_point{std::chrono::hours{24 * 365}}};
  late.sync_utc(utc_at(1000));
  CHECK(*late.utc() == utc_at(1000));
}

TEST_CASE("never sorts after every reachable time") {
  tw::manual_clock c;
  c.advance(std::chrono::hours{24 * 365 * 100});
  CHECK(c.now() < tw::never);
}

#if THINGWELL_HAS_POSIX
TEST_CASE("system_clock is monotonic and reports UTC") {
  const tw::system_clock c;
  const tw::time_point a = c.now();
  const tw::time_point b = c.now();
  CHECK(b >= a);
  REQUIRE(c.utc().has_value());
  CHECK(c.utc()->time_since_epoch().count() > 0);
}
#endif
