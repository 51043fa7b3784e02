#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace thingwell::testing {

// MQTT control packet types (the high nibble of the first byte), for frame filters.
namespace mqtt_packet {
constexpr std::uint8_t connect = 1, connack = 2, publish = 3, puback = 4, pubrec = 5, pubrel = 6, pubcomp = 7,
                       subscribe = 8, suback = 9, unsubscribe = 10, unsuback = 11, pingreq = 12, pingresp = 13,
                       disconnect = 14, auth = 15;
}

// Finds MQTT packet boundaries in a byte stream from the fixed header alone (first byte, then the
// remaining length as a variable byte integer of at most four bytes). Deliberately independent of the
// library under test, so that a codec bug cannot hide itself from the proxy.
//
// Each packet is either passed through as its bytes arrive, or, when the caller asks to hold it,
// collected whole and handed over as one frame, so that a filter can judge it. The choice is made
// when a packet starts, which keeps the stream intact if holding is switched on in mid-packet.
// A malformed length (a fifth length byte) loses sync for good: held bytes and everything after
// them are then passed through untouched.
class mqtt_frame_splitter {
 public:
  using pass_bytes = std::function<void(const std::uint8_t* data, std::size_t size)>;
  using take_frame = std::function<void(std::vector<std::uint8_t>&& frame)>;

  void feed(const std::uint8_t* data, std::size_t size, bool hold_frames, const pass_bytes& pass,
            const take_frame& take);

  bool in_sync() const { return in_sync_; }
  // True between packets: no partial packet is held or being passed through.
  bool at_boundary() const { return header_bytes_ == 0; }
  std::uint64_t frames_seen() const { return frames_seen_; }

 private:
  void finish_frame(const take_frame& take);

  bool in_sync_ = true;
  bool holding_ = false;
  std::size_t header_bytes_ = 0;  // bytes of the fixed header seen so far; 0 means between packets
  bool length_complete_ = false;
  std::uint32_t remaining_length_ = 0;
  std::uint32_t length_multiplier_ = 1;
  std::uint32_t body_left_ = 0;
  std::vector<std::uint8_t> held_;
  std::uint64_t frames_seen_ = 0;
};

}  // namespace thingwell::testing
