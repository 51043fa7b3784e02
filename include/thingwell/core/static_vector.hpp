// thingwell — fixed-capacity vector.
//
// static_vector<T, N> stores up to N elements inline and never allocates. Code that does not care about
// the capacity takes a `bounded_vector<T>&`, the size-erased base, so that one function serves every N
// instead of being instantiated once per capacity (the ETL `ivector` idea).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <new>
#include <type_traits>
#include <utility>

#include "config.hpp"

namespace thingwell {

template <class T>
class bounded_vector {
 public:
  using value_type = T;
  using size_type = std::size_t;
  using iterator = T*;
  using const_iterator = const T*;
  using reference = T&;
  using const_reference = const T&;

  bounded_vector(const bounded_vector&) = delete;
  bounded_vector& operator=(const bounded_vector&) = delete;

  size_type size() const noexcept { return size_; }
  size_type capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  bool full() const noexcept { return size_ == capacity_; }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  iterator begin() noexcept { return data_; }
  iterator end() noexcept { return data_ + size_; }
  const_iterator begin() const noexcept { return data_; }
  const_iterator end() const noexcept { return data_ + size_; }
  T& operator[](size_type i) noexcept { THINGWELL_ASSERT(i < size_); return data_[i]; }
  const T& operator[](size_type i) const noexcept { THINGWELL_ASSERT(i < size_); return data_[i]; }
  T& front() noexcept { return (*this)[0]; }
  T& back() noexcept { return (*this)[size_ - 1]; }
  const T& front() const noexcept { return (*this)[0]; }
  const T& back() const noexcept { return (*this)[size_ - 1]; }

  // Returns false (and changes nothing) when full.
  template <class... Args>
  [[nodiscard]] bool emplace_back(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>) {
    if (size_ == capacity_) return false;
    ::new (static_cast<void*>(data_ + size_)) T(std::forward<Args>(args)...);
    ++size_;
    return true;
  }
  [[nodiscard]] bool push_back(const T& v) { return emplace_back(v); }
  [[nodiscard]] bool push_back(T&& v) { return emplace_back(std::move(v)); }

  void pop_back() noexcept {
    THINGWELL_ASSERT(size_ > 0);
    data_[--size_].~T();
  }
  iterator erase(const_iterator pos) noexcept {
    THINGWELL_ASSERT(pos >= data_ && pos < data_ + size_);
    T* p = data_ + (pos - data_);
    for (T* q = p; q + 1 != end(); ++q) *q = std::move(*(q + 1));
    pop_back();
    return p;
  }
  void clear() noexcept {
    while (size_ > 0) pop_back();
  }

 protected:
  bounded_vector(T* storage, size_type capacity) noexcept : data_(storage), capacity_(capacity) {}
  ~bounded_vector() = default;

  void copy_from(const bounded_vector& other) {
    clear();
    for (const T& v : other) (void)emplace_back(v);
  }
  // Elements move one by one (the storage is inline, so there is no buffer to steal); `other` keeps
  // its size with moved-from elements, as std::vector's moved-from elements would be.
  void move_from(bounded_vector& other) noexcept(std::is_nothrow_move_constructible_v<T>) {
    clear();
    for (T& v : other) (void)emplace_back(std::move(v));
  }

 private:
  T* data_;
  size_type size_ = 0;
  size_type capacity_;
};

template <class T, std::size_t N>
class static_vector final : public bounded_vector<T> {
  static_assert(N > 0, "static_vector needs a capacity");

 public:
  static_vector() noexcept : bounded_vector<T>(reinterpret_cast<T*>(storage_), N) {}
  // More than N initialisers is a programming error; release builds keep the first N.
  static_vector(std::initializer_list<T> init) : static_vector() {
    THINGWELL_ASSERT(init.size() <= N);
    for (const T& v : init) (void)this->emplace_back(v);
  }
  // Copies are constrained so that a static_vector of a move-only type reports itself as move-only.
  static_vector(const static_vector& other)
    requires std::is_copy_constructible_v<T>
      : static_vector() {
    this->copy_from(other);
  }
  static_vector(static_vector&& other) noexcept(std::is_nothrow_move_constructible_v<T>) : static_vector() {
    this->move_from(other);
  }
  static_vector& operator=(const static_vector& other)
    requires std::is_copy_constructible_v<T>
  {
    if (this != &other) this->copy_from(other);
    return *this;
  }
  static_vector& operator=(static_vector&& other) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &other) this->move_from(other);
    return *this;
  }
  ~static_vector() { this->clear(); }

 private:
  alignas(T) unsigned char storage_[N * sizeof(T)];
};

}  // namespace thingwell
