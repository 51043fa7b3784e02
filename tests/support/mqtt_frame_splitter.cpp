#include "mqtt_frame_splitter.hpp"

#include <algorithm>

namespace thingwell::testing {

void mqtt_frame_splitter::finish_frame(const take_frame& take) {
  ++frames_seen_;
  if (holding_) {
    take(std::move(held_));
    held_ = {};
  }
  header_bytes_ = 0;
  length_complete_ = false;
  remaining_length_ = 0;
  length_multiplier_ = 1;
  body_left_ = 0;
  holding_ = false;
}

void mqtt_frame_splitter::feed(const std::uint8_t* data, std::size_t size, bool hold_frames, const pass_bytes& pass,
                               const take_frame& take) {
  // Bytes of packets that are not held go out in runs, [run_start, position), rather than one by one.
  std::size_t position = 0;
  std::size_t run_start = 0;
  auto flush_run = [&](std::size_t end) {
    if (end > run_start) pass(data + run_start, end - run_start);
    run_start = end;
  };

  while (position < size && in_sync_) {
    if (header_bytes_ == 0) {
      holding_ = hold_frames;
      if (holding_) flush_run(position);  // what came before must reach the peer before this frame
    }
    if (!length_complete_) {
      const std::uint8_t byte = data[position++];
      ++header_bytes_;
      if (holding_) {
        held_.push_back(byte);
        run_start = position;
      }
      if (header_bytes_ == 1) continue;  // the type-and-flags byte
      remaining_length_ += static_cast<std::uint32_t>(byte & 0x7f) * length_multiplier_;
      length_multiplier_ *= 128;
      if ((byte & 0x80) == 0) {
        length_complete_ = true;
        body_left_ = remaining_length_;
        if (body_left_ == 0) finish_frame(take);
      } else if (header_bytes_ == 5) {
        // Four length bytes all asking for more: not MQTT, or corrupt. Stop interpreting.
        in_sync_ = false;
        if (holding_) pass(held_.data(), held_.size());
        held_.clear();
        holding_ = false;
      }
      continue;
    }
    const std::size_t chunk = std::min<std::size_t>(body_left_, size - position);
    if (holding_) held_.insert(held_.end(), data + position, data + position + chunk);
    position += chunk;
    if (holding_) run_start = position;
    body_left_ -= static_cast<std::uint32_t>(chunk);
    if (body_left_ == 0) finish_frame(take);
  }
  // What is left: the start of a packet that is passed through, or bytes after sync was lost.
  flush_run(size);
}

}  // namespace thingwell::testing
