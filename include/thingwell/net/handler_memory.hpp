// thingwell — memory for the one read and one write a connection has outstanding.
//
// Asio allocates the state of every asynchronous operation through the handler's associated
// allocator. A connection never has more than one socket read and one socket write in flight, so
// each gets a fixed block that is reused for the whole connection: no heap traffic per message.
// (Asio's own per-thread cache holds only two blocks and is shared with everything else.)
#pragma once

#include <cstddef>
#include <new>

namespace thingwell::net::detail {

class handler_memory {
 public:
  handler_memory() noexcept = default;
  handler_memory(const handler_memory&) = delete;
  handler_memory& operator=(const handler_memory&) = delete;

  void* allocate(std::size_t size) {
    for (block& b : blocks_) {
      if (!b.in_use && size <= sizeof(b.storage)) {
        b.in_use = true;
        return b.storage;
      }
    }
    return ::operator new(size);
  }
  void deallocate(void* p) noexcept {
    for (block& b : blocks_) {
      if (p == b.storage) {
        b.in_use = false;
        return;
      }
    }
    ::operator delete(p);
  }

 private:
  // Two blocks: while a completion runs through the strand its wrapper holds one, and the next
  // operation, started from that completion, takes the other.
  struct block {
    alignas(std::max_align_t) unsigned char storage[512];
    bool in_use = false;
  };
  block blocks_[2];
};

template <class T>
class handler_allocator {
 public:
  using value_type = T;
  explicit handler_allocator(handler_memory& memory) noexcept : memory_(&memory) {}
  template <class U>
  handler_allocator(const handler_allocator<U>& other) noexcept : memory_(other.memory_) {}

  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) noexcept { memory_->deallocate(p); }

  template <class U>
  friend bool operator==(const handler_allocator& a, const handler_allocator<U>& b) noexcept {
    return a.memory_ == b.memory_;
  }

 private:
  template <class>
  friend class handler_allocator;
  handler_memory* memory_;
};

}  // namespace thingwell::net::detail
