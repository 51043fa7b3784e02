// result<T>: value or error, object lifetimes, and THINGWELL_TRY.
#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through <system_error>'s operator<<, which needs it

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <thingwell/core/result.hpp>

namespace tw = thingwell;
using tw::errc;
using tw::result;

namespace {

// Counts constructions and destructions so that a leak or a double destroy inside result<T> shows up
// as a mismatch, not only as a sanitizer report.
struct tally {
  int constructed = 0;
  int copied = 0;
  int moved = 0;
  int destroyed = 0;
  int live() const { return constructed + copied + moved - destroyed; }
};

struct tracked {
  tally* t;
  int value;
  tracked(tally& counts, int v) : t(&counts), value(v) { ++t->constructed; }
  tracked(const tracked& o) : t(o.t), value(o.value) { ++t->copied; }
  tracked(tracked&& o) noexcept : t(o.t), value(o.value) {
    o.value = -1;
    ++t->moved;
  }
  tracked& operator=(const tracked&) = default;
  tracked& operator=(tracked&&) noexcept = default;
  ~tracked() { ++t->destroyed; }
};

result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return errc::invalid_argument;
  return c - '0';
}

result<void> check_even(int v) {
  if (v % 2 != 0) return errc::bad_qos;
  return tw::success();
}

std::error_code code_for(bool fail) { return fail ? std::error_code(errc::closed) : std::error_code{}; }

// Each step runs only when the previous one succeeded; `steps` records how far it got.
result<int> pipeline(char c, bool fail_code, int& steps) {
  steps = 0;
  THINGWELL_TRY(parse_digit(c));
  ++steps;
  THINGWELL_TRY(code_for(fail_code));
  ++steps;
  auto digit = parse_digit(c);
  THINGWELL_TRY(digit);  // a named result is inspected in place
  THINGWELL_TRY(check_even(*digit));
  ++steps;
  return *digit * 10;
}

std::error_code pipeline_code(char c) {
  THINGWELL_TRY(parse_digit(c));
  THINGWELL_TRY(check_even(c - '0'));
  return {};
}

result<std::unique_ptr<int>> make_box(bool fail) {
  if (fail) return errc::capacity_exceeded;
  return std::make_unique<int>(42);
}

result<int> unbox(bool fail) {
  auto box = make_box(fail);
  THINGWELL_TRY(box);  // must not try to copy the move-only value
  return **box;
}

}  // namespace

TEST_CASE("result holds a value or an error") {
  result<int> ok = 7;
  REQUIRE(ok.has_value());
  CHECK(static_cast<bool>(ok));
  CHECK(ok.value() == 7);
  CHECK(*ok == 7);
  CHECK_FALSE(ok.error());
  CHECK(ok.value_or(3) == 7);

  result<int> bad = errc::timed_out;
  CHECK_FALSE(bad.has_value());
  CHECK_FALSE(static_cast<bool>(bad));
  CHECK(bad.error() == errc::timed_out);
  CHECK(bad.value_or(3) == 3);

  result<int> from_code = std::error_code(errc::busy);
  CHECK(from_code.error() == errc::busy);
  // An error from another category travels unchanged.
  result<int> foreign = std::make_error_code(std::errc::connection_refused);
  CHECK(foreign.error() == std::errc::connection_refused);

  *ok = 9;
  CHECK(ok.value() == 9);
}

TEST_CASE("result converts values of related types and reaches members through ->") {
  result<std::string_view> sv = "topic/a";  // const char* → string_view through the converting constructor
  REQUIRE(sv);
  CHECK(sv->size() == 7);
  result<long long> wide = 5;  // int → long long
  CHECK(*wide == 5);
  const result<std::string> s = std::string("abc");
  CHECK(s->size() == 3);
  CHECK(s.value() == "abc");
}

TEST_CASE("result of a move-only type") {
  static_assert(std::is_nothrow_move_constructible_v<result<std::unique_ptr<int>>>);
  static_assert(!std::is_copy_constructible_v<result<std::unique_ptr<int>>>);
  static_assert(!std::is_copy_assignable_v<result<std::unique_ptr<int>>>);
  static_assert(std::is_copy_constructible_v<result<int>>);

  auto r = make_box(false);
  REQUIRE(r);
  CHECK(**r == 42);
  result<std::unique_ptr<int>> moved = std::move(r);
  REQUIRE(moved);
  CHECK(**moved == 42);
  std::unique_ptr<int> out = *std::move(moved);
  REQUIRE(out);
  CHECK(*out == 42);

  auto failed = make_box(true);
  CHECK(failed.error() == errc::capacity_exceeded);
  moved = std::move(failed);
  CHECK_FALSE(moved);
  CHECK(moved.error() == errc::capacity_exceeded);

  // std::optional sees the move-only-ness too (it would not compile were the copy constructor claimed).
  std::optional<result<std::unique_ptr<int>>> opt;
  opt.emplace(make_box(false));
  static_assert(!std::is_copy_constructible_v<decltype(opt)>);
  CHECK(**opt.value() == 42);
}

TEST_CASE("result constructs and destroys its value exactly once") {
  tally t;
  {
    result<tracked> r = tracked(t, 1);  // one construction, one move into the result
    CHECK(t.constructed == 1);
    CHECK(t.moved == 1);
    CHECK(t.live() == 1);
    CHECK(r->value == 1);
  }
  CHECK(t.live() == 0);

  t = {};
  {
    result<tracked> r = errc::closed;  // an error constructs no value
    CHECK(t.constructed + t.copied + t.moved == 0);
  }
  CHECK(t.destroyed == 0);

  t = {};
  {
    result<tracked> a = tracked(t, 1);
    result<tracked> b = a;  // copy construct
    CHECK(t.copied == 1);
    CHECK(t.live() == 2);
    result<tracked> c = std::move(a);  // move construct: `a` still holds a (moved-from) value
    CHECK(t.live() == 3);
    CHECK(c->value == 1);
    CHECK(a.has_value());

    result<tracked> e = errc::busy;
    e = b;  // error ← value: constructs
    CHECK(t.live() == 4);
    CHECK(e->value == 1);
    e = result<tracked>(errc::closed);  // value ← error: destroys
    CHECK(t.live() == 3);
    CHECK(e.error() == errc::closed);
    b = c;  // value ← value: old destroyed, new constructed
    CHECK(t.live() == 3);
    b = std::move(c);
    CHECK(t.live() == 3);
    const result<tracked>& same = b;  // through a reference, as self-assignment happens in real code
    b = same;                         // self-assignment keeps the value
    CHECK(b->value == 1);
    CHECK(t.live() == 3);
  }
  CHECK(t.live() == 0);
}

TEST_CASE("result<void>") {
  result<void> ok;
  CHECK(ok.has_value());
  CHECK(static_cast<bool>(ok));
  CHECK_FALSE(ok.error());
  ok.value();  // no-op on success

  result<void> s = tw::success();
  CHECK(s);

  result<void> bad = errc::not_connected;
  CHECK_FALSE(bad);
  CHECK(bad.error() == errc::not_connected);
  result<void> from_code = std::error_code(errc::storage_io);
  CHECK(from_code.error() == errc::storage_io);
}

TEST_CASE("THINGWELL_TRY propagates the first error and stops there") {
  int steps = -1;
  auto ok = pipeline('4', false, steps);
  REQUIRE(ok);
  CHECK(*ok == 40);
  CHECK(steps == 3);

  auto not_digit = pipeline('x', false, steps);
  CHECK(not_digit.error() == errc::invalid_argument);
  CHECK(steps == 0);

  auto code_failed = pipeline('4', true, steps);
  CHECK(code_failed.error() == errc::closed);
  CHECK(steps == 1);

  auto odd = pipeline('3', false, steps);
  CHECK(odd.error() == errc::bad_qos);
  CHECK(steps == 2);

  // In a function returning a plain error_code.
  CHECK_FALSE(pipeline_code('2'));
  CHECK(pipeline_code('x') == errc::invalid_argument);
  CHECK(pipeline_code('5') == errc::bad_qos);

  // With a move-only value, by name.
  auto boxed = unbox(false);
  REQUIRE(boxed);
  CHECK(*boxed == 42);
  CHECK(unbox(true).error() == errc::capacity_exceeded);
}
