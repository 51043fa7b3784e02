// static_vector<T, N> and its size-erased base bounded_vector<T>.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include <thingwell/core/static_vector.hpp>

namespace tw = thingwell;
using tw::bounded_vector;
using tw::static_vector;

namespace {

// Every live element is counted: storage that is constructed twice, destroyed twice or never destroyed
// leaves `live` off zero when the container is gone.
struct counts {
  int live = 0;
  int constructed = 0;
  int destroyed = 0;
};

struct element {
  counts* c;
  int value;
  element(counts& k, int v) : c(&k), value(v) {
    ++c->live;
    ++c->constructed;
  }
  element(const element& o) : c(o.c), value(o.value) {
    ++c->live;
    ++c->constructed;
  }
  element(element&& o) noexcept : c(o.c), value(o.value) {
    o.value = -1;
    ++c->live;
    ++c->constructed;
  }
  element& operator=(const element&) = default;
  element& operator=(element&& o) noexcept {
    c = o.c;
    value = o.value;
    o.value = -1;
    return *this;
  }
  ~element() {
    ++c->destroyed;
    --c->live;
  }
};

// One function for every capacity: the reason bounded_vector exists.
int sum(const bounded_vector<int>& v) {
  int s = 0;
  for (int x : v) s += x;
  return s;
}

bool fill(bounded_vector<int>& v, int upto) {
  for (int i = 1; i <= upto; ++i)
    if (!v.push_back(i)) return false;
  return true;
}

template <class V>
std::vector<int> values_of(const V& v) {
  std::vector<int> out;
  for (const auto& e : v) out.push_back(e.value);
  return out;
}

}  // namespace

TEST_CASE("capacity, size and push until full") {
  static_vector<int, 4> v;
  CHECK(v.capacity() == 4);
  CHECK(v.size() == 0);
  CHECK(v.empty());
  CHECK_FALSE(v.full());
  CHECK(v.begin() == v.end());

  for (int i = 0; i < 4; ++i) {
    CHECK(v.push_back(i * 10));
    CHECK(v.size() == static_cast<std::size_t>(i + 1));
  }
  CHECK(v.full());
  // Full: refused, nothing changes.
  CHECK_FALSE(v.push_back(99));
  CHECK_FALSE(v.emplace_back(98));
  CHECK(v.size() == 4);
  CHECK(v.back() == 30);
  CHECK(v.front() == 0);
  CHECK(v[2] == 20);
  CHECK(v.data() == &v[0]);
  CHECK(v.end() - v.begin() == 4);

  v.pop_back();
  CHECK(v.size() == 3);
  CHECK_FALSE(v.full());
  CHECK(v.push_back(7));
  CHECK(v.back() == 7);

  v.clear();
  CHECK(v.empty());
  CHECK(v.push_back(1));
}

TEST_CASE("a full vector does not construct the rejected element") {
  counts c;
  {
    static_vector<element, 2> v;
    CHECK(v.emplace_back(c, 1));
    CHECK(v.emplace_back(c, 2));
    const int before = c.constructed;
    CHECK_FALSE(v.emplace_back(c, 3));
    CHECK(c.constructed == before);
    CHECK(c.live == 2);
  }
  CHECK(c.live == 0);
}

TEST_CASE("bounded_vector serves every capacity through one function") {
  static_vector<int, 3> small;
  static_vector<int, 10> large;
  CHECK_FALSE(fill(small, 5));  // stops at the first refused push
  CHECK(small.size() == 3);
  CHECK(fill(large, 5));
  CHECK(sum(small) == 6);
  CHECK(sum(large) == 15);
  bounded_vector<int>& base = large;
  CHECK(base.capacity() == 10);
  static_assert(!std::is_copy_constructible_v<bounded_vector<int>>);  // slicing copies are refused
}

TEST_CASE("erase keeps order, returns the next position and destroys one element") {
  counts c;
  {
    static_vector<element, 5> v;
    for (int i = 1; i <= 5; ++i) REQUIRE(v.emplace_back(c, i));

    auto it = v.erase(v.begin() + 1);  // middle
    CHECK(it == v.begin() + 1);
    CHECK(it->value == 3);
    CHECK(values_of(v) == std::vector<int>{1, 3, 4, 5});
    CHECK(c.live == 4);

    it = v.erase(v.begin());  // front
    CHECK(it == v.begin());
    CHECK(values_of(v) == std::vector<int>{3, 4, 5});
    CHECK(c.live == 3);

    it = v.erase(v.end() - 1);  // back
    CHECK(it == v.end());
    CHECK(values_of(v) == std::vector<int>{3, 4});
    CHECK(c.live == 2);

    v.erase(v.begin());
    v.erase(v.begin());
    CHECK(v.empty());
    CHECK(c.live == 0);
    CHECK(v.emplace_back(c, 9));  // reusable after emptying
  }
  CHECK(c.live == 0);
  CHECK(c.constructed == c.destroyed);
}

TEST_CASE("copies are deep and independent; element lifetimes balance") {
  counts c;
  {
    static_vector<element, 4> a;
    REQUIRE(a.emplace_back(c, 1));
    REQUIRE(a.emplace_back(c, 2));
    static_vector<element, 4> b = a;  // copy construct
    CHECK(c.live == 4);
    CHECK(values_of(b) == std::vector<int>{1, 2});
    b[0].value = 100;
    CHECK(a[0].value == 1);

    static_vector<element, 4> d;
    REQUIRE(d.emplace_back(c, 7));
    REQUIRE(d.emplace_back(c, 8));
    REQUIRE(d.emplace_back(c, 9));
    CHECK(c.live == 7);
    d = a;  // copy assign: the three old elements go, two copies arrive
    CHECK(c.live == 6);
    CHECK(values_of(d) == std::vector<int>{1, 2});

    const static_vector<element, 4>& same = d;
    d = same;  // self-assignment changes nothing
    CHECK(values_of(d) == std::vector<int>{1, 2});
    CHECK(c.live == 6);
  }
  CHECK(c.live == 0);
  CHECK(c.constructed == c.destroyed);
}

TEST_CASE("moves: element by element, and possible for move-only types") {
  static_assert(std::is_nothrow_move_constructible_v<static_vector<std::unique_ptr<int>, 3>>);
  static_assert(!std::is_copy_constructible_v<static_vector<std::unique_ptr<int>, 3>>);
  static_assert(std::is_copy_constructible_v<static_vector<int, 3>>);

  static_vector<std::unique_ptr<int>, 3> a;
  REQUIRE(a.push_back(std::make_unique<int>(1)));
  REQUIRE(a.push_back(std::make_unique<int>(2)));
  static_vector<std::unique_ptr<int>, 3> b = std::move(a);
  REQUIRE(b.size() == 2);
  CHECK(*b[0] == 1);
  CHECK(*b[1] == 2);

  static_vector<std::unique_ptr<int>, 3> d;
  REQUIRE(d.push_back(std::make_unique<int>(5)));
  d = std::move(b);
  REQUIRE(d.size() == 2);
  CHECK(*d[1] == 2);

  counts c;
  {
    static_vector<element, 3> x;
    REQUIRE(x.emplace_back(c, 1));
    REQUIRE(x.emplace_back(c, 2));
    static_vector<element, 3> y = std::move(x);
    CHECK(values_of(y) == std::vector<int>{1, 2});
    CHECK(c.live == 4);  // moved-from elements stay alive until their vector goes
  }
  CHECK(c.live == 0);
}

TEST_CASE("initializer lists, pop_back and clear destroy what they remove") {
  static_vector<int, 4> v{1, 2, 3};
  CHECK(v.size() == 3);
  CHECK(sum(v) == 6);

  counts c;
  {
    static_vector<element, 3> e;
    REQUIRE(e.emplace_back(c, 1));
    REQUIRE(e.emplace_back(c, 2));
    e.pop_back();
    CHECK(c.live == 1);
    CHECK(e.back().value == 1);
    REQUIRE(e.emplace_back(c, 3));
    REQUIRE(e.emplace_back(c, 4));
    e.clear();
    CHECK(c.live == 0);
    REQUIRE(e.emplace_back(c, 5));
  }
  CHECK(c.live == 0);
  CHECK(c.constructed == c.destroyed);
}

TEST_CASE("storage is inline and suitably aligned") {
  struct alignas(16) wide {
    double d[2];
  };
  static_vector<wide, 3> v;
  REQUIRE(v.push_back(wide{{1.0, 2.0}}));
  CHECK(reinterpret_cast<std::uintptr_t>(v.data()) % alignof(wide) == 0);
  CHECK(static_cast<const void*>(v.data()) >= static_cast<const void*>(&v));
  CHECK(static_cast<const void*>(v.data() + 3) <= static_cast<const void*>(reinterpret_cast<const char*>(&v) + sizeof v));
}
