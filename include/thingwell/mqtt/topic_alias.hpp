// thingwell — MQTT 5 topic aliases in both directions (MQTT 5 §3.3.2.3.4).
//
// Outbound, a repeated topic is sent once and then replaced by a two-byte alias: on AWS IoT Core a
// 60-byte shadow topic shrinks each message by ~58 bytes. Inbound, the broker may do the same to us
// and we must resolve it. Both tables live for one network connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "../core/error.hpp"

namespace thingwell::mqtt {

// Aliases we assign. Least recently used is replaced when all are taken.
class outbound_aliases {
 public:
  struct entry {
    char* topic = nullptr;
    std::uint16_t length = 0;  // 0: unused
    std::uint32_t last_used = 0;
  };

  outbound_aliases() noexcept = default;
  outbound_aliases(entry* entries, std::size_t capacity, char* topics, std::size_t topic_bytes) noexcept
      : entries_(entries), capacity_(capacity), topic_bytes_(topic_bytes) {
    for (std::size_t i = 0; i < capacity; ++i) entries_[i].topic = topics + i * topic_bytes;
  }

  // A new connection: the broker's maximum, nothing assigned yet.
  void reset(std::uint16_t broker_maximum) noexcept {
    limit_ = capacity_ < broker_maximum ? capacity_ : broker_maximum;
    for (std::size_t i = 0; i < capacity_; ++i) entries_[i].length = 0;
    clock_ = 0;
  }

  bool enabled() const noexcept { return limit_ != 0; }

  struct decision {
    std::uint16_t alias = 0;  // 0: send without alias
    bool send_topic = true;   // false: the alias already names the topic on this connection
  };

  decision choose(std::string_view topic) noexcept {
    if (limit_ == 0 || topic.empty() || topic.size() > topic_bytes_) return {};
    ++clock_;
    // The lowest free alias, else the least recently used one.
    std::size_t victim = 0;
    for (std::size_t i = 0; i < limit_; ++i) {
      entry& e = entries_[i];
      if (e.length == topic.size() && std::memcmp(e.topic, topic.data(), topic.size()) == 0) {
        e.last_used = clock_;
        return {static_cast<std::uint16_t>(i + 1), false};
      }
      const entry& v = entries_[victim];
      if (v.length != 0 && (e.length == 0 || e.last_used < v.last_used)) victim = i;
    }
    entry& e = entries_[victim];
    std::memcpy(e.topic, topic.data(), topic.size());
    e.length = static_cast<std::uint16_t>(topic.size());
    e.last_used = clock_;
    return {static_cast<std::uint16_t>(victim + 1), true};
  }

 private:
  entry* entries_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t topic_bytes_ = 0;
  std::size_t limit_ = 0;
  std::uint32_t clock_ = 0;
};

// Aliases the broker assigns; we advertise `capacity` as our Topic Alias Maximum.
class inbound_aliases {
 public:
  struct entry {
    char* topic = nullptr;
    std::uint16_t length = 0;
    bool set = false;
  };

  inbound_aliases() noexcept = default;
  inbound_aliases(entry* entries, std::size_t capacity, char* topics, std::size_t topic_bytes) noexcept
      : entries_(entries), capacity_(capacity), topic_bytes_(topic_bytes) {
    for (std::size_t i = 0; i < capacity; ++i) entries_[i].topic = topics + i * topic_bytes;
  }

  std::size_t capacity() const noexcept { return capacity_; }

  void reset() noexcept {
    for (std::size_t i = 0; i < capacity_; ++i) entries_[i].set = false;
  }

  // Applies the alias of an incoming PUBLISH: records a new mapping, or fills in an empty topic.
  std::error_code resolve(std::uint16_t alias, std::string_view& topic) noexcept {
    if (alias == 0 || alias > capacity_) return errc::topic_alias_invalid;
    entry& e = entries_[alias - 1];
    if (!topic.empty()) {
      if (topic.size() > topic_bytes_) {
        e.set = false;  // cannot remember it; a later use of this alias will be refused
        return {};
      }
      std::memcpy(e.topic, topic.data(), topic.size());
      e.length = static_cast<std::uint16_t>(topic.size());
      e.set = true;
      return {};
    }
    if (!e.set) return errc::topic_alias_invalid;
    topic = {e.topic, e.length};
    return {};
  }

 private:
  entry* entries_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t topic_bytes_ = 0;
};

}  // namespace thingwell::mqtt
