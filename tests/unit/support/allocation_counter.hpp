// Counts heap allocations, so that a test can prove that a piece of code allocates nothing.
//
// The counter is bumped by replacement global operator new functions. Replacement functions may not be
// inline, so they live in exactly one translation unit (session_allocations.cpp); every other file only
// reads the counter. counting_works() lets a test refuse to pass vacuously when that file is not linked.
#pragma once

#include <cstddef>
#include <vector>

namespace session_testing {

// Every successful call of a replaced global operator new (plain, array, nothrow) increments this.
inline std::size_t heap_allocations = 0;

// Allocations since construction (or since restart()).
class allocation_scope {
 public:
  allocation_scope() noexcept : start_(heap_allocations) {}
  std::size_t count() const noexcept { return heap_allocations - start_; }
  void restart() noexcept { start_ = heap_allocations; }

 private:
  std::size_t start_;
};

// True when the counting operator new is linked in: a vector growing must be seen.
inline bool counting_works() {
  const allocation_scope scope;
  std::vector<int> v;
  v.push_back(1);
  volatile int sink = v.front();  // keeps the allocation observable
  (void)sink;
  return scope.count() != 0;
}

}  // namespace session_testing
