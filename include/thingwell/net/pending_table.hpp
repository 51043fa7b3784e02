// thingwell — completions waiting for their acknowledgement, keyed by token.
//
// An open-addressing table and a slab of values, both grown geometrically: after warm-up a publish
// adds and removes an entry without touching the heap (a node-based map allocates on every insert).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace thingwell::net::detail {

template <class Value>
class pending_table {
 public:
  using key_type = std::uint32_t;  // 0 is never a key

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }

  void insert(key_type key, Value value) {
    if ((count_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 64 : slots_.size() * 2);
    std::uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
      values_[index] = std::move(value);
    } else {
      index = static_cast<std::uint32_t>(values_.size());
      values_.push_back(std::move(value));
    }
    place(key, index);
    ++count_;
  }

  // Moves the value for `key` into `out` and removes it; false if absent.
  bool take(key_type key, Value& out) {
    if (slots_.empty()) return false;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      if (slots_[i].key == 0) return false;
      if (slots_[i].key != key) continue;
      const std::uint32_t index = slots_[i].index;
      out = std::move(values_[index]);
      free_.push_back(index);
      erase_slot(i);
      --count_;
      return true;
    }
  }

  // Removes everything, handing each value to f.
  template <class F>
  void drain(F&& f) {
    for (slot& s : slots_) {
      if (s.key == 0) continue;
      Value v = std::move(values_[s.index]);
      s.key = 0;
      f(v);
    }
    values_.clear();
    free_.clear();
    count_ = 0;
  }

 private:
  struct slot {
    key_type key = 0;
    std::uint32_t index = 0;
  };

  static std::size_t hash(key_type key) noexcept { return static_cast<std::size_t>(key * 2654435761u); }

  void place(key_type key, std::uint32_t index) noexcept {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash(key) & mask;
    while (slots_[i].key != 0) i = (i + 1) & mask;
    slots_[i] = {key, index};
  }

  // Linear-probing deletion by shifting later entries back, so lookups never need tombstones.
  void erase_slot(std::size_t hole) noexcept {
    const std::size_t mask = slots_.size() - 1;
    slots_[hole].key = 0;
    for (std::size_t i = (hole + 1) & mask; slots_[i].key != 0; i = (i + 1) & mask) {
      const std::size_t home = hash(slots_[i].key) & mask;
      // Move the entry into the hole if its home is not between the hole and its position.
      const bool movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
      if (movable) {
        slots_[hole] = slots_[i];
        slots_[i].key = 0;
        hole = i;
      }
    }
  }

  void rehash(std::size_t new_size) {
    std::vector<slot> old = std::move(slots_);
    slots_.assign(new_size, slot{});
    for (const slot& s : old)
      if (s.key != 0) place(s.key, s.index);
  }

  std::vector<slot> slots_;
  std::vector<Value> values_;
  std::vector<std::uint32_t> free_;
  std::size_t count_ = 0;
};

}  // namespace thingwell::net::detail
