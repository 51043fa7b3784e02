// thingwell — splitting a byte stream into MQTT packets.
//
// TCP and TLS deliver bytes in any split. frame_reader collects them and hands out whole packets,
// without copying them again. The maximum packet size is enforced from the fixed header, before any
// byte of the body is stored or any buffer grows: a hostile peer that announces 256 MB costs nothing.
//
//   mutable_bytes space = reader.prepare();       // receive straight into this...
//   reader.commit(transport.recv(space));          // ...and say how much arrived
//   while (auto frame = reader.next()) {           // result<bytes_view>
//     if (frame->empty()) break;                   // need more bytes
//     handle(*frame);                              // valid until the next prepare()/feed()/commit()
//   }
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "types.hpp"
#include "varint.hpp"

#if THINGWELL_HAS_EXCEPTIONS || THINGWELL_HAS_POSIX
#  include <vector>
#endif

namespace thingwell::mqtt {

// Looks at the front of a stream. Returns the size of the first packet once its fixed header is
// complete (the packet itself may not be), or 0 while the fixed header is still incomplete.
inline result<std::size_t> scan_frame(bytes_view in, std::uint32_t max_packet_size) noexcept {
  if (in.empty()) return std::size_t{0};
  if ((in[0] >> 4) == 0) return errc::bad_packet_type;  // reserved type 0: no sane peer sends it
  std::uint32_t remaining = 0;
  std::size_t n = 0;
  switch (read_varint(in.subspan(1), remaining, n)) {
    case varint_status::ok: break;
    case varint_status::need_more: return std::size_t{0};
    case varint_status::malformed: return errc::bad_varint;
  }
  const std::uint64_t size = 1 + n + std::uint64_t{remaining};
  if (size > max_packet_size) return errc::packet_too_large;
  return static_cast<std::size_t>(size);
}

// The size-erased reader; static_frame_reader<N> and dynamic_frame_reader supply the storage.
class frame_reader {
 public:
  frame_reader(const frame_reader&) = delete;
  frame_reader& operator=(const frame_reader&) = delete;

  std::uint32_t max_packet_size() const noexcept { return max_packet_size_; }
  // Packets larger than this are refused with errc::packet_too_large. Never above what the storage
  // can hold (or grow to).
  void set_max_packet_size(std::uint32_t limit) noexcept { max_packet_size_ = std::min(limit, storage_limit_); }

  // Free space to receive into. Moves a partial packet to the front and, for a growable reader, makes
  // room for the packet being received. Invalidates views returned by next().
  mutable_bytes prepare() noexcept {
    if (begin_ == end_) {
      begin_ = end_ = 0;
    } else if (begin_ > 0) {
      std::memmove(data_, data_ + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    // A growable reader grows only when the packet being received has filled the storage, and at most
    // doubles it: memory follows the bytes that actually arrived, so a peer that merely announces a
    // large packet (up to the maximum packet size) gets nothing allocated.
    if (needed_ > capacity_ && end_ == capacity_ && grow_ != nullptr) {
      const std::size_t target = std::min({needed_, capacity_ * 2, std::size_t{max_packet_size_}});
      if (target > capacity_) grow_(*this, target);
    }
    return {data_ + end_, capacity_ - end_};
  }

  // Declares that `n` bytes were written into the span prepare() returned.
  void commit(std::size_t n) noexcept {
    THINGWELL_ASSERT(n <= capacity_ - end_);
    end_ += n;
  }

  // Copies from `in` as much as fits; returns how many bytes were taken. Call next() until it yields
  // an empty frame before feeding again.
  std::size_t feed(bytes_view in) noexcept {
    const mutable_bytes space = prepare();
    const std::size_t n = std::min(space.size(), in.size());
    if (n != 0) std::memcpy(space.data(), in.data(), n);
    commit(n);
    return n;
  }

  // The next whole packet, an empty view when more bytes are needed, or the stream's error. After an
  // error the stream cannot be resynchronised; every later call returns the same error.
  result<bytes_view> next() noexcept {
    if (error_) return error_;
    const bytes_view available{data_ + begin_, end_ - begin_};
    auto scanned = scan_frame(available, max_packet_size_);
    if (!scanned) {
      error_ = scanned.error();
      return error_;
    }
    const std::size_t size = *scanned;
    if (size == 0 || size > available.size()) {
      needed_ = size;
      return bytes_view{};
    }
    needed_ = 0;
    begin_ += size;
    return available.first(size);
  }

  // Bytes received but not yet returned as packets.
  std::size_t buffered() const noexcept { return end_ - begin_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::error_code error() const noexcept { return error_; }

  // Forgets everything buffered and any error (a new connection starts a new stream).
  void reset() noexcept {
    begin_ = end_ = needed_ = 0;
    error_ = {};
  }

 protected:
  // Reallocates the storage to `capacity` bytes, keeping its content.
  using grow_function = void (*)(frame_reader&, std::size_t capacity) noexcept;

  frame_reader(byte* data, std::size_t capacity, std::uint32_t storage_limit, grow_function grow) noexcept
      : data_(data), capacity_(capacity), storage_limit_(storage_limit), max_packet_size_(storage_limit), grow_(grow) {}
  ~frame_reader() = default;

  void rebind(byte* data, std::size_t capacity) noexcept {
    data_ = data;
    capacity_ = capacity;
  }
  std::size_t used_end() const noexcept { return end_; }

 private:
  byte* data_;
  std::size_t capacity_;
  std::size_t begin_ = 0;   // first byte not yet returned
  std::size_t end_ = 0;     // one past the last byte received
  std::size_t needed_ = 0;  // size of the packet being received, once its header is known
  std::uint32_t storage_limit_;
  std::uint32_t max_packet_size_;
  grow_function grow_;
  std::error_code error_{};
};

// Fixed storage of N bytes inside the object: no heap, ever. Packets above N bytes are refused.
template <std::size_t N>
class static_frame_reader final : public frame_reader {
  static_assert(N >= 5, "a frame reader needs room for at least a fixed header");

 public:
  static_frame_reader() noexcept
      : frame_reader(storage_, N, static_cast<std::uint32_t>(std::min<std::size_t>(N, max_varint + 5)), nullptr) {}

 private:
  byte storage_[N];
};

#if THINGWELL_HAS_EXCEPTIONS || THINGWELL_HAS_POSIX
// Heap storage that starts small and grows to the size of the largest packet received, never beyond
// the maximum packet size. For hosts, where one large shadow document should not cost an MCU's worth
// of static RAM in every connection.
class dynamic_frame_reader final : public frame_reader {
 public:
  explicit dynamic_frame_reader(std::size_t initial_capacity = 4096, std::uint32_t max_packet_size = max_varint + 5)
      : frame_reader(nullptr, 0, max_packet_size, &grow), storage_(std::max<std::size_t>(initial_capacity, 16)) {
    rebind(storage_.data(), storage_.size());
  }

 private:
  // frame_reader::prepare() doubles the capacity each time, which keeps the number of reallocations
  // logarithmic in the largest packet.
  static void grow(frame_reader& base, std::size_t capacity) noexcept {
    auto& self = static_cast<dynamic_frame_reader&>(base);
    self.storage_.resize(capacity);
    self.rebind(self.storage_.data(), self.storage_.size());
  }

  std::vector<byte> storage_;
};
#endif

}  // namespace thingwell::mqtt
