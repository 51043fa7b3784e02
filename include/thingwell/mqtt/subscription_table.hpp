// thingwell — the session's subscriptions: what to (re)subscribe, what is active, who handles what.
//
// Each entry owns a copy of its filter in a fixed slot, so the table needs no allocation and never
// fragments. The table is the source of truth for restoring subscriptions after a reconnect, and the
// order of entries is the order of filters in the SUBSCRIBE packets built from it, which is how SUBACK
// reason codes find their entries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "session_types.hpp"

namespace thingwell::mqtt {

enum class subscription_state : std::uint8_t {
  unused,
  to_subscribe,        // SUBSCRIBE to send
  awaiting_suback,
  active,
  to_unsubscribe,      // UNSUBSCRIBE to send
  awaiting_unsuback,
};

struct subscription_entry {
  subscription_state state = subscription_state::unused;
  std::uint16_t packet_id = 0;  // of the SUBSCRIBE or UNSUBSCRIBE in flight
  std::uint16_t filter_length = 0;
  token subscribe_token = 0;
  token unsubscribe_token = 0;
  subscribe_options options;  // props are not kept: only their user properties would be, and those are
                              // per request (MQTT 5 does not store them with the subscription)
  char* filter_storage = nullptr;
  message_handler handler;

  std::string_view filter() const noexcept { return {filter_storage, filter_length}; }
  bool receives() const noexcept {
    return state == subscription_state::active || state == subscription_state::awaiting_suback ||
           state == subscription_state::to_subscribe;
  }
};

class subscription_table {
 public:
  subscription_table() noexcept = default;
  subscription_table(subscription_entry* entries, std::size_t capacity, char* filters, std::size_t filter_bytes) noexcept
      : entries_(entries), capacity_(capacity), filter_bytes_(filter_bytes) {
    for (std::size_t i = 0; i < capacity; ++i) entries_[i].filter_storage = filters + i * filter_bytes;
  }

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t filter_capacity() const noexcept { return filter_bytes_; }
  subscription_entry& operator[](std::size_t i) noexcept { return entries_[i]; }
  const subscription_entry& operator[](std::size_t i) const noexcept { return entries_[i]; }

  // Entries that are subscribed or on their way to being subscribed.
  std::size_t active_count() const noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < capacity_; ++i)
      if (entries_[i].state != subscription_state::unused) ++n;
    return n;
  }

  subscription_entry* find(std::string_view filter) noexcept {
    for (std::size_t i = 0; i < capacity_; ++i) {
      subscription_entry& e = entries_[i];
      if (e.state != subscription_state::unused && e.filter() == filter) return &e;
    }
    return nullptr;
  }

  // A free entry holding a copy of `filter`, or nullptr when full. `busy` is an index that must not be
  // reused (an entry whose handler is running).
  subscription_entry* add(std::string_view filter, std::size_t busy) noexcept {
    if (filter.size() > filter_bytes_) return nullptr;
    for (std::size_t i = 0; i < capacity_; ++i) {
      subscription_entry& e = entries_[i];
      if (e.state != subscription_state::unused || i == busy) continue;
      if (!filter.empty()) std::memcpy(e.filter_storage, filter.data(), filter.size());
      e.filter_length = static_cast<std::uint16_t>(filter.size());
      e.packet_id = 0;
      e.subscribe_token = e.unsubscribe_token = 0;
      return &e;
    }
    return nullptr;
  }

  // Frees an entry. Its handler is kept until the slot is reused, because it may be the one running.
  static void remove(subscription_entry& e) noexcept {
    e.state = subscription_state::unused;
    e.packet_id = 0;
  }

 private:
  subscription_entry* entries_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t filter_bytes_ = 0;
};

}  // namespace thingwell::mqtt
