// thingwell — the session's outgoing messages: queued, in flight, awaiting completion.
//
// Each message is kept as its encoded PUBLISH ("canonical" form: full topic, no topic alias, DUP=0),
// because that is exactly what must be resent after a reconnect. Records form a FIFO in publish order;
// the bytes live in a ring, allocated at the newest end and reclaimed from the oldest end once the
// oldest messages are complete. Acknowledgements may arrive out of order (AWS IoT does not promise
// order), so a completed message in the middle waits for the ones before it: memory stays bounded by
// the capacity and nothing moves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "types.hpp"

namespace thingwell::mqtt {

enum class message_state : std::uint8_t {
  queued,     // waiting for the connection, the in-flight window or the rate limit
  in_flight,  // PUBLISH sent, waiting for PUBACK (QoS 1) or PUBREC (QoS 2)
  released,   // QoS 2: PUBREC received, PUBREL to send or sent, waiting for PUBCOMP
  done,       // complete; reclaimed once every older message is done too
};

struct stored_message {
  std::uint32_t offset = 0;  // of the encoded packet in the byte ring
  std::uint32_t size = 0;    // encoded packet bytes
  std::uint32_t token = 0;   // the application's handle for completion
  std::uint16_t packet_id = 0;
  std::uint16_t id_offset = 0;  // where the packet identifier sits in the encoding (QoS > 0)
  mqtt::qos qos = mqtt::qos::at_most_once;
  message_state state = message_state::queued;
  bool transmitted = false;  // sent at least once: later copies carry DUP=1
  bool pubrel_pending = false;  // PUBREL still to be written
};

class message_store {
 public:
  message_store() noexcept = default;
  message_store(std::span<stored_message> records, mutable_bytes bytes) noexcept
      : records_(records.data()), record_capacity_(records.size()), bytes_(bytes.data()), byte_capacity_(bytes.size()) {}

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  std::size_t record_capacity() const noexcept { return record_capacity_; }
  std::size_t byte_capacity() const noexcept { return byte_capacity_; }
  std::size_t bytes_used() const noexcept { return bytes_used_; }

  // Reserves `size` bytes for a new newest message; the caller writes the encoding into bytes_of().
  stored_message* append(std::size_t size) noexcept {
    if (count_ == record_capacity_ || size == 0 || size > byte_capacity_) return nullptr;
    std::size_t offset = 0;
    if (!allocate(size, offset)) return nullptr;
    stored_message& m = records_[(first_ + count_) % record_capacity_];
    m = stored_message{};
    m.offset = static_cast<std::uint32_t>(offset);
    m.size = static_cast<std::uint32_t>(size);
    ++count_;
    bytes_used_ += size;
    return &m;
  }

  // Removes the newest message again (used when encoding into it failed).
  void drop_newest() noexcept {
    THINGWELL_ASSERT(count_ > 0);
    bytes_used_ -= at(count_ - 1).size;
    --count_;
  }

  mutable_bytes bytes_of(const stored_message& m) noexcept { return {bytes_ + m.offset, m.size}; }
  bytes_view bytes_of(const stored_message& m) const noexcept { return {bytes_ + m.offset, m.size}; }

  // The i-th oldest message (0 = oldest).
  stored_message& at(std::size_t i) noexcept { return records_[(first_ + i) % record_capacity_]; }
  const stored_message& at(std::size_t i) const noexcept { return records_[(first_ + i) % record_capacity_]; }

  // Marks a message complete and reclaims every complete message at the oldest end.
  void complete(stored_message& m) noexcept {
    m.state = message_state::done;
    reclaim();
  }

  void reclaim() noexcept {
    while (count_ > 0 && records_[first_].state == message_state::done) {
      bytes_used_ -= records_[first_].size;
      first_ = (first_ + 1) % record_capacity_;
      --count_;
      ++reclaimed_;
    }
  }

  // Records removed from the oldest end so far: lets a cursor survive reclamation.
  std::uint64_t reclaimed() const noexcept { return reclaimed_; }

  // Records by absolute number (counting every record ever appended): [reclaimed(), end_number()).
  // A loop that completes records must walk these, not indices: complete() reclaims at the oldest end,
  // which shifts every index and would make the loop skip the record after each one it completes.
  std::uint64_t end_number() const noexcept { return reclaimed_ + count_; }
  stored_message* by_number(std::uint64_t n) noexcept {
    if (n < reclaimed_ || n - reclaimed_ >= count_) return nullptr;  // reclaimed, or not yet appended
    return &at(static_cast<std::size_t>(n - reclaimed_));
  }

  // Finds an unfinished message by packet identifier among the first `limit` oldest records.
  stored_message* find(std::uint16_t packet_id, std::size_t limit) noexcept {
    if (limit > count_) limit = count_;
    for (std::size_t i = 0; i < limit; ++i) {
      stored_message& m = at(i);
      if (m.packet_id == packet_id && (m.state == message_state::in_flight || m.state == message_state::released))
        return &m;
    }
    return nullptr;
  }

  void clear() noexcept {
    first_ = count_ = bytes_used_ = 0;
  }

 private:
  // Contiguous space for `size` bytes after the newest message, wrapping to the start of the ring
  // when the end is too short (the skipped tail is wasted until the ring drains past it).
  bool allocate(std::size_t size, std::size_t& offset) noexcept {
    if (count_ == 0) {
      offset = 0;
      return true;
    }
    const stored_message& oldest = records_[first_];
    const stored_message& newest = at(count_ - 1);
    const std::size_t tail = oldest.offset;
    const std::size_t head = newest.offset + newest.size;
    if (head > tail) {  // live bytes are [tail, head): free space after head, then before tail
      if (byte_capacity_ - head >= size) {
        offset = head;
        return true;
      }
      if (tail >= size) {
        offset = 0;
        return true;
      }
      return false;
    }
    // Wrapped (or exactly full): live bytes are [tail, end) and [0, head).
    if (tail - head >= size) {
      offset = head;
      return true;
    }
    return false;
  }

  stored_message* records_ = nullptr;
  std::size_t record_capacity_ = 0;
  byte* bytes_ = nullptr;
  std::size_t byte_capacity_ = 0;
  std::size_t first_ = 0;
  std::size_t count_ = 0;
  std::size_t bytes_used_ = 0;
  std::uint64_t reclaimed_ = 0;
};

}  // namespace thingwell::mqtt
