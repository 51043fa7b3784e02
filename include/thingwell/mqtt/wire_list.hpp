// thingwell — a list that is either the caller's array (to encode) or a view over received bytes
// (decoded).
//
// Decoding must not allocate, yet a packet may carry any number of user properties, subscriptions or
// reason codes. A decoded list therefore keeps the validated wire bytes and parses each element as
// the caller iterates. A list built by the caller to encode simply points at its array.
#pragma once

#include <cstddef>
#include <iterator>
#include <span>

#include "../core/bytes.hpp"

namespace thingwell::mqtt {

// Parser: `static bool next(byte_reader&, T&)` reads the next element (skipping unrelated entries).
template <class T, class Parser>
class wire_list {
 public:
  constexpr wire_list() noexcept = default;
  constexpr wire_list(std::span<const T> items) noexcept : items_(items.data()), count_(items.size()) {}
  template <std::size_t N>
  constexpr wire_list(const T (&items)[N]) noexcept : items_(items), count_(N) {}

  // A list over bytes that the decoder has already validated to hold `count` elements.
  static constexpr wire_list from_wire(bytes_view wire, std::size_t count) noexcept {
    wire_list l;
    l.wire_ = wire;
    l.count_ = count;
    return l;
  }

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  bool is_wire() const noexcept { return items_ == nullptr && count_ != 0; }

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    iterator() noexcept = default;
    const T& operator*() const noexcept { return current_; }
    const T* operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept {
      ++index_;
      load();
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator copy = *this;
      ++*this;
      return copy;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.index_ == b.index_; }

   private:
    friend class wire_list;
    iterator(const wire_list* list, std::size_t index) noexcept : list_(list), index_(index), reader_(list->wire_) {
      load();
    }
    void load() noexcept {
      if (index_ >= list_->count_) return;
      if (list_->items_ != nullptr) {
        current_ = list_->items_[index_];
      } else if (!Parser::next(reader_, current_)) {
        index_ = list_->count_;  // cannot happen for validated bytes; end the walk rather than read on
      }
    }

    const wire_list* list_ = nullptr;
    std::size_t index_ = 0;
    byte_reader reader_;
    T current_{};
  };

  iterator begin() const noexcept { return iterator(this, 0); }
  iterator end() const noexcept {
    iterator it;
    it.list_ = this;
    it.index_ = count_;
    return it;
  }

  friend bool operator==(const wire_list& a, const wire_list& b) noexcept {
    if (a.size() != b.size()) return false;
    auto i = a.begin();
    for (const T& v : b) {
      if (!(*i == v)) return false;
      ++i;
    }
    return true;
  }

 private:
  const T* items_ = nullptr;
  bytes_view wire_{};
  std::size_t count_ = 0;
};

}  // namespace thingwell::mqtt
