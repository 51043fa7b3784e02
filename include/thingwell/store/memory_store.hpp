// thingwell — the RAM store: the default persistence policy, bounded, and gone at reset.
//
// memory_store<QueueRecords, QueueBytes, Keys, ValueBytes, KeyBytes> keeps everything in arrays inside the
// object and never allocates. Code that does not care about the capacities takes a memory_store_base&, the
// size-erased base, so one copy of the logic serves every instantiation (as bounded_vector does for
// static_vector). Nothing is ever corrupt here (no checksums: RAM that flips bits has bigger problems), and
// commit() has nothing to do.
//
// The queue's payload bytes live in a byte ring that wraps in the middle of a record when it has to, so
// QueueBytes payload bytes always fit, whatever the record sizes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "../core/bytes.hpp"
#include "../core/clock.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "persistence.hpp"

namespace thingwell::store {

class memory_store_base {
 public:
  struct queued {
    std::uint64_t sequence;
    std::size_t offset;  // of the first payload byte in the ring
    std::size_t size;
  };
  struct keyed {
    std::size_t key_length;  // 0: the slot is free
    std::size_t value_length;
  };

  memory_store_base(const memory_store_base&) = delete;
  memory_store_base& operator=(const memory_store_base&) = delete;

  // ---- keyed records
  result<void> put(std::string_view key, bytes_view value) noexcept {
    if (key.empty() || key.size() > key_capacity_) return errc::invalid_argument;
    if (value.size() > value_capacity_) return errc::storage_full;
    std::size_t slot = find(key);
    if (slot == npos) {
      slot = find_free();
      if (slot == npos) return errc::storage_full;
      std::memcpy(key_at(slot), key.data(), key.size());
      keys_[slot].key_length = key.size();
    }
    if (!value.empty()) std::memcpy(value_at(slot), value.data(), value.size());
    keys_[slot].value_length = value.size();
    return success();
  }

  result<std::size_t> get(std::string_view key, mutable_bytes out) noexcept {
    if (key.empty() || key.size() > key_capacity_) return errc::invalid_argument;
    const std::size_t slot = find(key);
    if (slot == npos) return errc::not_found;
    const std::size_t n = keys_[slot].value_length;
    if (n > out.size()) return errc::buffer_too_small;
    if (n != 0) std::memcpy(out.data(), value_at(slot), n);
    return n;
  }

  result<void> erase(std::string_view key) noexcept {
    if (key.empty() || key.size() > key_capacity_) return errc::invalid_argument;
    if (const std::size_t slot = find(key); slot != npos) keys_[slot] = keyed{0, 0};
    return success();
  }

  // ---- queue
  result<std::uint64_t> append(bytes_view record) noexcept {
    if (count_ == records_.size() || record.size() > ring_.size() - bytes_) return errc::storage_full;
    const std::size_t at = (ring_first_ + bytes_) % ring_size();
    copy_in(at, record);
    records_[(first_ + count_) % records_.size()] = queued{next_sequence_, at, record.size()};
    ++count_;
    bytes_ += record.size();
    return next_sequence_++;
  }

  result<record_info> peek(mutable_bytes out) noexcept {
    if (count_ == 0) return errc::not_found;
    const queued& r = records_[first_];
    if (r.size > out.size()) return errc::buffer_too_small;
    copy_out(r.offset, out.first(r.size));
    return record_info{r.sequence, r.size};
  }

  result<void> pop() noexcept {
    if (count_ == 0) return errc::not_found;
    const queued& r = records_[first_];
    ring_first_ = (r.offset + r.size) % ring_size();
    bytes_ -= r.size;
    first_ = (first_ + 1) % records_.size();
    if (--count_ == 0) ring_first_ = 0;
    return success();
  }

  std::size_t records() const noexcept { return count_; }
  std::size_t bytes() const noexcept { return bytes_; }
  std::size_t record_capacity() const noexcept { return records_.size(); }
  std::size_t byte_capacity() const noexcept { return ring_.size(); }

  result<void> commit() noexcept { return success(); }
  result<void> commit(time_point) noexcept { return success(); }

 protected:
  memory_store_base(std::span<queued> records, mutable_bytes ring, std::span<keyed> keys, byte* key_bytes,
                    std::size_t key_capacity, byte* value_bytes, std::size_t value_capacity) noexcept
      : records_(records), ring_(ring), keys_(keys), key_bytes_(key_bytes), value_bytes_(value_bytes),
        key_capacity_(key_capacity), value_capacity_(value_capacity) {}
  ~memory_store_base() = default;

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // A zero-capacity ring still needs a non-zero modulus; nothing is ever stored in it.
  std::size_t ring_size() const noexcept { return ring_.empty() ? 1 : ring_.size(); }
  byte* key_at(std::size_t slot) const noexcept { return key_bytes_ + slot * key_capacity_; }
  byte* value_at(std::size_t slot) const noexcept { return value_bytes_ + slot * value_capacity_; }

  std::size_t find(std::string_view key) const noexcept {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i].key_length == key.size() && std::memcmp(key_at(i), key.data(), key.size()) == 0) return i;
    return npos;
  }
  std::size_t find_free() const noexcept {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i].key_length == 0) return i;
    return npos;
  }

  // The ring may split a record in two: the part up to the end of the array, then the rest from its start.
  void copy_in(std::size_t at, bytes_view from) noexcept {
    const std::size_t first = std::min(from.size(), ring_.size() - at);
    if (first != 0) std::memcpy(ring_.data() + at, from.data(), first);
    if (first != from.size()) std::memcpy(ring_.data(), from.data() + first, from.size() - first);
  }
  void copy_out(std::size_t at, mutable_bytes to) const noexcept {
    const std::size_t first = std::min(to.size(), ring_.size() - at);
    if (first != 0) std::memcpy(to.data(), ring_.data() + at, first);
    if (first != to.size()) std::memcpy(to.data() + first, ring_.data(), to.size() - first);
  }

  std::span<queued> records_;
  mutable_bytes ring_;
  std::span<keyed> keys_;
  byte* key_bytes_;
  byte* value_bytes_;
  std::size_t key_capacity_;
  std::size_t value_capacity_;

  std::size_t first_ = 0;       // index of the oldest record in records_
  std::size_t count_ = 0;
  std::size_t ring_first_ = 0;  // offset of the oldest payload byte
  std::size_t bytes_ = 0;
  std::uint64_t next_sequence_ = 0;
};

template <std::size_t QueueRecords, std::size_t QueueBytes, std::size_t Keys = 8, std::size_t ValueBytes = 256,
          std::size_t KeyBytes = 32>
class memory_store final : public memory_store_base {
  static_assert(QueueRecords > 0 && QueueBytes > 0, "memory_store needs a queue capacity");
  static_assert(Keys > 0 && KeyBytes > 0, "memory_store needs room for at least one key");

 public:
  memory_store() noexcept
      : memory_store_base(records_, ring_, keys_, key_bytes_, KeyBytes, value_bytes_, ValueBytes) {}

 private:
  queued records_[QueueRecords];
  byte ring_[QueueBytes];
  keyed keys_[Keys]{};  // zeroed after the base is built: every slot starts free
  byte key_bytes_[Keys * KeyBytes];
  byte value_bytes_[Keys * (ValueBytes > 0 ? ValueBytes : 1)];
};

}  // namespace thingwell::store
