// thingwell — packet identifiers in use.
//
// MQTT allows 65,535 identifiers, but a client never has more in use than its in-flight window plus
// its pending subscription requests. Drawing identifiers from a pool of that size keeps the in-use set
// a small bitmap (a few bytes on an MCU) with O(1) checks, instead of 8 KB or a scan per message.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/config.hpp"

namespace thingwell::mqtt {

class packet_id_pool {
 public:
  static constexpr std::size_t words_for(std::size_t ids) noexcept { return ids / 32 + 1; }

  packet_id_pool() noexcept = default;
  // `words` must hold words_for(ids) entries; identifiers are 1..ids (ids <= 65535).
  packet_id_pool(std::uint32_t* words, std::uint16_t ids) noexcept : bits_(words), size_(ids) { clear(); }

  std::uint16_t size() const noexcept { return size_; }

  // A free identifier, marked in use; 0 when every identifier is taken. Identifiers rotate so a
  // just-released one is not handed out again at once (late duplicates stay recognisable).
  std::uint16_t acquire() noexcept {
    for (std::uint32_t tries = 0; tries < size_; ++tries) {
      const std::uint16_t id = next_;
      next_ = static_cast<std::uint16_t>(next_ == size_ ? 1 : next_ + 1);
      if (!in_use(id)) {
        bits_[id / 32] |= 1u << (id % 32);
        ++used_;
        return id;
      }
    }
    return 0;
  }

  // Marks a specific identifier in use (restoring persisted session state). False if taken or out of range.
  bool claim(std::uint16_t id) noexcept {
    if (id == 0 || id > size_ || in_use(id)) return false;
    bits_[id / 32] |= 1u << (id % 32);
    ++used_;
    return true;
  }

  void release(std::uint16_t id) noexcept {
    if (id == 0 || id > size_ || !in_use(id)) return;
    bits_[id / 32] &= ~(1u << (id % 32));
    --used_;
  }

  bool in_use(std::uint16_t id) const noexcept {
    return id != 0 && id <= size_ && (bits_[id / 32] & (1u << (id % 32))) != 0;
  }

  std::size_t used() const noexcept { return used_; }

  void clear() noexcept {
    for (std::size_t i = 0; i < words_for(size_); ++i) bits_[i] = 0;
    used_ = 0;
  }

 private:
  std::uint32_t* bits_ = nullptr;
  std::uint16_t size_ = 0;
  std::uint16_t next_ = 1;
  std::size_t used_ = 0;
};

}  // namespace thingwell::mqtt
