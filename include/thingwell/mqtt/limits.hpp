// thingwell — broker limits as a checkable profile.
//
// MQTT itself allows 65,535-byte topics and 256 MB packets; real brokers allow far less and some
// (AWS IoT Core) disconnect a client that exceeds their limits. A client that knows the limits refuses
// locally, with a typed error, before anything reaches the wire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../core/error.hpp"
#include "topic.hpp"
#include "types.hpp"

namespace thingwell::mqtt {

struct broker_limits {
  std::size_t max_topic_bytes = max_field_length;
  std::size_t max_topic_slashes = SIZE_MAX;
  std::size_t max_payload_bytes = max_varint;
  std::size_t max_client_id_bytes = max_field_length;
  bool client_id_dollar_reserved = false;        // '$'-prefixed client ids belong to the broker
  std::size_t max_filters_per_subscribe = SIZE_MAX;
  std::size_t max_subscriptions = SIZE_MAX;      // per connection
  std::uint16_t min_keep_alive = 0;              // seconds
  std::uint16_t max_keep_alive = UINT16_MAX;
  bool keep_alive_zero_allowed = true;
  mqtt::qos max_qos = mqtt::qos::exactly_once;
  std::uint16_t max_inflight = UINT16_MAX;       // unacknowledged QoS 1/2 publishes from the client
  std::uint32_t publishes_per_second = 0;        // 0: unlimited
  std::uint32_t bytes_per_second = 0;            // 0: unlimited
  bool skip_rules_prefix = false;                // "$aws/rules/<rule>/" does not count towards topic limits
};

// What the MQTT specification itself allows.
inline constexpr broker_limits mqtt_spec_limits{};

// AWS IoT Core's documented per-connection limits (see the AWS IoT Core quotas).
inline constexpr broker_limits aws_iot_core_limits{
    .max_topic_bytes = 256,
    .max_topic_slashes = 7,
    .max_payload_bytes = 128 * 1024,
    .max_client_id_bytes = 128,
    .client_id_dollar_reserved = true,
    .max_filters_per_subscribe = 8,
    .max_subscriptions = 50,
    .min_keep_alive = 30,
    .max_keep_alive = 1200,
    .keep_alive_zero_allowed = false,
    .max_qos = mqtt::qos::at_least_once,
    .max_inflight = 100,
    .publishes_per_second = 100,
    .bytes_per_second = 512 * 1024,
    .skip_rules_prefix = true,
};

// The part of a topic that counts towards the length and level limits: AWS does not count the Basic
// Ingest prefix "$aws/rules/<rule>/" nor a shared-subscription prefix "$share/<group>/".
inline std::string_view counted_topic_part(const broker_limits& limits, std::string_view topic) noexcept {
  topic = split_shared(topic).filter;
  constexpr std::string_view rules = "$aws/rules/";
  if (limits.skip_rules_prefix && topic.substr(0, rules.size()) == rules) {
    const std::size_t slash = topic.find('/', rules.size());
    return slash == std::string_view::npos ? std::string_view{} : topic.substr(slash + 1);
  }
  return topic;
}

inline std::error_code check_topic_limits(const broker_limits& limits, std::string_view topic) noexcept {
  const std::string_view counted = counted_topic_part(limits, topic);
  if (counted.size() > limits.max_topic_bytes) return errc::topic_too_long;
  std::size_t slashes = 0;
  for (char c : counted) slashes += c == '/';
  if (slashes > limits.max_topic_slashes) return errc::topic_too_many_levels;
  return {};
}

// A topic name to publish to: valid MQTT and within the broker's limits.
inline std::error_code check_publish_topic(const broker_limits& limits, std::string_view topic) noexcept {
  if (auto ec = validate_topic_name(topic)) return ec;
  return check_topic_limits(limits, topic);
}

// A topic filter to subscribe to: valid MQTT and within the broker's limits.
inline std::error_code check_subscribe_filter(const broker_limits& limits, std::string_view filter) noexcept {
  if (auto ec = validate_topic_filter(filter)) return ec;
  return check_topic_limits(limits, filter);
}

inline std::error_code check_payload(const broker_limits& limits, std::size_t payload_bytes) noexcept {
  return payload_bytes > limits.max_payload_bytes ? make_error_code(errc::payload_too_large) : std::error_code{};
}

inline std::error_code check_client_id(const broker_limits& limits, std::string_view client_id) noexcept {
  if (client_id.size() > limits.max_client_id_bytes || client_id.size() > max_field_length)
    return errc::client_id_invalid;
  if (limits.client_id_dollar_reserved && !client_id.empty() && client_id.front() == '$') return errc::client_id_invalid;
  if (!is_valid_utf8(client_id)) return errc::bad_utf8;
  return {};
}

inline std::error_code check_keep_alive(const broker_limits& limits, std::uint16_t seconds) noexcept {
  if (seconds == 0) return limits.keep_alive_zero_allowed ? std::error_code{} : make_error_code(errc::keep_alive_out_of_range);
  if (seconds < limits.min_keep_alive || seconds > limits.max_keep_alive) return errc::keep_alive_out_of_range;
  return {};
}

inline std::error_code check_qos(const broker_limits& limits, mqtt::qos q) noexcept {
  return static_cast<unsigned>(q) > static_cast<unsigned>(limits.max_qos) ? make_error_code(errc::qos_not_supported)
                                                                         : std::error_code{};
}

}  // namespace thingwell::mqtt
