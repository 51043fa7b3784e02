// thingwell — error codes.
//
// Errors are values: every fallible call returns a result<T> or a std::error_code. thingwell::errc lists
// what the library itself detects; MQTT reason codes sent by a broker have a category of their own
// (mqtt/reason_code.hpp) so that a caller can tell "the broker refused" from "we refused".
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>

#include "config.hpp"

namespace thingwell {

enum class errc : int {
  // general
  invalid_argument = 1,
  buffer_too_small,        // the caller's output buffer cannot hold the result
  capacity_exceeded,       // a bounded container, queue or table is full
  would_block,             // non-blocking transport: try again later
  timed_out,
  cancelled,
  not_connected,
  not_supported,
  busy,                    // an operation of this kind is already running
  closed,                  // the object was shut down

  // MQTT codec: malformed input (MQTT 5 reason 0x81 Malformed Packet)
  malformed_packet = 100,
  truncated,               // fewer bytes than the header claims
  trailing_bytes,          // more bytes than the packet's fields use
  bad_varint,              // variable byte integer longer than 4 bytes or non-minimal
  bad_packet_type,         // reserved packet type 0 or 15, or a type this version lacks
  bad_header_flags,        // reserved bits of the fixed header set
  bad_utf8,                // ill-formed UTF-8, U+0000 or a surrogate
  bad_qos,                 // QoS 3, or QoS > 0 where none is allowed
  bad_property,            // unknown property identifier or ill-formed value
  property_not_allowed,    // the property is not valid in this packet
  bad_reason_code,         // a reason code this packet may not carry
  bad_connect_flags,
  bad_protocol_name,
  bad_subscription_options,

  // MQTT protocol rules (MQTT 5 reason 0x82 Protocol Error and friends)
  protocol_error = 200,
  duplicate_property,      // "It is a Protocol Error to include ... more than once"
  empty_payload,           // SUBSCRIBE / UNSUBSCRIBE without a topic filter
  unsupported_protocol_version,
  bad_topic_name,          // empty, wildcard or invalid topic name
  bad_topic_filter,        // wildcard not occupying a whole level, '#' not last, empty
  bad_packet_id,           // packet identifier 0 where one is needed
  packet_too_large,        // exceeds the agreed maximum packet size
  string_too_long,         // a string or binary field longer than 65,535 bytes
  topic_alias_invalid,     // 0, or above the agreed Topic Alias Maximum, or unknown
  receive_maximum_exceeded,
  unknown_packet_id,       // an acknowledgement for a packet we never sent
  packet_id_exhausted,     // all 65,535 identifiers in use
  unexpected_packet,       // valid packet at the wrong time (e.g. CONNACK twice)

  // limits of a broker profile (AWS IoT Core by default), checked before sending
  topic_too_long = 300,
  topic_too_many_levels,
  payload_too_large,
  client_id_invalid,       // empty, too long, or '$' prefixed where the profile forbids it
  too_many_topic_filters,  // more filters in one SUBSCRIBE than the broker accepts
  too_many_subscriptions,
  keep_alive_out_of_range,
  qos_not_supported,       // QoS above the broker's Maximum QoS
  retain_not_supported,
  rate_limited,            // the local token bucket is empty

  // connection and transport
  connection_refused = 400,
  connection_reset,        // the peer or the network closed the link
  host_not_found,
  network_unreachable,
  keep_alive_timeout,      // no PINGRESP (or any byte) within the keep-alive deadline
  connect_timeout,         // no CONNACK in time
  server_disconnected,     // the broker sent DISCONNECT
  not_authorized,          // CONNACK or DISCONNECT refusal for credentials or policy
  bad_credentials,
  server_unavailable,
  insecure_transport,      // plaintext to a non-loopback host without an explicit opt-in

  // TLS
  tls_handshake_failed = 500,
  tls_certificate_untrusted,     // chain does not lead to a configured trust anchor
  tls_certificate_expired,       // outside its validity window
  tls_hostname_mismatch,
  tls_client_certificate_rejected,
  tls_protocol_version,          // the peer offers only versions below TLS 1.2
  tls_bad_credentials,           // CA, certificate or key could not be loaded
  tls_alpn_rejected,

  // persistence
  storage_corrupt = 600,   // a record failed its checksum: reported, never returned as data
  storage_full,
  storage_io,
  not_found,
  outbox_full,             // the outbox is full and its overflow policy is reject

  // JSON documents (codec/json_*.hpp): the same codes from every reader, so that services do not care
  // which one parsed the document
  json_syntax = 700,         // not JSON: unexpected character, missing or extra comma, colon or bracket, no value, trailing text
  json_too_deep,             // nesting deeper than the configured limit
  json_too_large,            // document longer than the configured limit
  json_bad_number,           // outside the number grammar, or beyond what a reader represents (integer outside 64 bits, overflow to infinity)
  json_bad_string,           // unterminated, unknown escape, unpaired surrogate, unescaped control character
  json_bad_utf8,             // ill-formed UTF-8
  json_type_mismatch,        // the value is not of the type asked for
  json_number_out_of_range,  // the number does not fit the integer type asked for

  // AWS services (aws/*.hpp): limits checked before sending, and what the service answered on */rejected
  shadow_document_too_large = 800,  // more than 8 KB of shadow state (desired + reported)
  thing_name_invalid,               // empty, longer than 128 bytes, or outside [a-zA-Z0-9:_-]
  shadow_name_invalid,              // empty, longer than 64 bytes, or outside [$a-zA-Z0-9:_-]
  aws_rejected,                     // */rejected with a code not listed below
  aws_bad_request,                  // 400 (and 415): the request is wrong; not retried unchanged
  aws_version_conflict,             // 409: still conflicting after the bounded retries
  aws_payload_too_large,            // 413
  aws_throttled,                    // 429: too many requests in flight or per second
  aws_service_error,                // 5xx

  // AWS IoT Jobs (aws/jobs*.hpp)
  job_id_invalid = 850,             // empty, longer than 64 bytes, or outside [a-zA-Z0-9_-]
  job_status_details_invalid,       // not a string-to-string object within AWS's statusDetails limits
  job_state_transition_invalid,     // InvalidStateTransition: the execution cannot take that status now
  job_terminal_state,               // TerminalStateReached, or the execution ended (canceled, timed out)
};

namespace detail {

class thingwell_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "thingwell"; }
  std::string message(int value) const override { return describe(static_cast<errc>(value)); }

  static const char* describe(errc e) noexcept {
    switch (e) {
      case errc::invalid_argument: return "invalid argument";
      case errc::buffer_too_small: return "output buffer too small";
      case errc::capacity_exceeded: return "capacity exceeded";
      case errc::would_block: return "operation would block";
      case errc::timed_out: return "timed out";
      case errc::cancelled: return "operation cancelled";
      case errc::not_connected: return "not connected";
      case errc::not_supported: return "not supported";
      case errc::busy: return "busy";
      case errc::closed: return "closed";
      case errc::malformed_packet: return "malformed packet";
      case errc::truncated: return "packet truncated";
      case errc::trailing_bytes: return "unexpected bytes after the packet's fields";
      case errc::bad_varint: return "malformed variable byte integer";
      case errc::bad_packet_type: return "invalid packet type";
      case errc::bad_header_flags: return "invalid fixed header flags";
      case errc::bad_utf8: return "invalid UTF-8 string";
      case errc::bad_qos: return "invalid QoS";
      case errc::bad_property: return "invalid property";
      case errc::duplicate_property: return "property given more than once";
      case errc::property_not_allowed: return "property not allowed in this packet";
      case errc::bad_reason_code: return "invalid reason code for this packet";
      case errc::bad_connect_flags: return "invalid CONNECT flags";
      case errc::bad_protocol_name: return "invalid protocol name";
      case errc::bad_subscription_options: return "invalid subscription options";
      case errc::empty_payload: return "packet requires at least one topic filter";
      case errc::protocol_error: return "protocol error";
      case errc::unsupported_protocol_version: return "unsupported protocol version";
      case errc::bad_topic_name: return "invalid topic name";
      case errc::bad_topic_filter: return "invalid topic filter";
      case errc::bad_packet_id: return "invalid packet identifier";
      case errc::packet_too_large: return "packet too large";
      case errc::string_too_long: return "string or binary field longer than 65535 bytes";
      case errc::topic_alias_invalid: return "invalid topic alias";
      case errc::receive_maximum_exceeded: return "receive maximum exceeded";
      case errc::unknown_packet_id: return "acknowledgement for an unknown packet identifier";
      case errc::packet_id_exhausted: return "no free packet identifier";
      case errc::unexpected_packet: return "unexpected packet";
      case errc::topic_too_long: return "topic longer than the broker allows";
      case errc::topic_too_many_levels: return "topic has more levels than the broker allows";
      case errc::payload_too_large: return "payload larger than the broker allows";
      case errc::client_id_invalid: return "invalid client identifier";
      case errc::too_many_topic_filters: return "too many topic filters in one request";
      case errc::too_many_subscriptions: return "too many subscriptions";
      case errc::keep_alive_out_of_range: return "keep-alive outside the broker's range";
      case errc::qos_not_supported: return "QoS not supported by the broker";
      case errc::retain_not_supported: return "retain not supported by the broker";
      case errc::rate_limited: return "publish rate limit reached";
      case errc::connection_refused: return "connection refused";
      case errc::connection_reset: return "connection closed by peer or network";
      case errc::host_not_found: return "host not found";
      case errc::network_unreachable: return "network unreachable";
      case errc::keep_alive_timeout: return "keep-alive timeout";
      case errc::connect_timeout: return "no CONNACK in time";
      case errc::server_disconnected: return "server sent DISCONNECT";
      case errc::not_authorized: return "not authorized";
      case errc::bad_credentials: return "bad user name or password";
      case errc::server_unavailable: return "server unavailable";
      case errc::insecure_transport: return "plaintext transport refused for a non-loopback host";
      case errc::tls_handshake_failed: return "TLS handshake failed";
      case errc::tls_certificate_untrusted: return "server certificate not trusted";
      case errc::tls_certificate_expired: return "certificate expired or not yet valid";
      case errc::tls_hostname_mismatch: return "server certificate does not match the host name";
      case errc::tls_client_certificate_rejected: return "client certificate rejected by the server";
      case errc::tls_protocol_version: return "TLS protocol version below the minimum";
      case errc::tls_bad_credentials: return "TLS credentials could not be loaded";
      case errc::tls_alpn_rejected: return "ALPN protocol rejected";
      case errc::storage_corrupt: return "stored data failed its integrity check";
      case errc::storage_full: return "storage full";
      case errc::storage_io: return "storage I/O error";
      case errc::not_found: return "not found";
      case errc::outbox_full: return "outbox full";
      case errc::json_syntax: return "JSON syntax error";
      case errc::json_too_deep: return "JSON nesting deeper than the limit";
      case errc::json_too_large: return "JSON document larger than the limit";
      case errc::json_bad_number: return "malformed or unrepresentable JSON number";
      case errc::json_bad_string: return "malformed JSON string";
      case errc::json_bad_utf8: return "JSON text is not valid UTF-8";
      case errc::json_type_mismatch: return "JSON value has another type";
      case errc::json_number_out_of_range: return "JSON number does not fit the integer type";
      case errc::shadow_document_too_large: return "shadow document larger than 8 KB";
      case errc::thing_name_invalid: return "invalid thing name";
      case errc::shadow_name_invalid: return "invalid shadow name";
      case errc::aws_rejected: return "request rejected by AWS IoT";
      case errc::aws_bad_request: return "AWS IoT rejected the request as invalid";
      case errc::aws_version_conflict: return "AWS IoT version conflict";
      case errc::aws_payload_too_large: return "AWS IoT rejected the payload as too large";
      case errc::aws_throttled: return "AWS IoT throttled the request";
      case errc::aws_service_error: return "AWS IoT internal service error";
      case errc::job_id_invalid: return "invalid job id";
      case errc::job_status_details_invalid: return "statusDetails outside AWS IoT Jobs limits";
      case errc::job_state_transition_invalid: return "job execution status transition not allowed";
      case errc::job_terminal_state: return "job execution already in a terminal state";
    }
    return "unknown thingwell error";
  }
};

}  // namespace detail

inline const std::error_category& thingwell_category() noexcept {
  static const detail::thingwell_category_impl instance;
  return instance;
}

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), thingwell_category()};
}

// Short text for logs without allocating (std::error_code::message returns std::string).
inline const char* describe(errc e) noexcept { return detail::thingwell_category_impl::describe(e); }

// True for the codec errors that make a packet "Malformed" in MQTT terms (reason 0x81).
inline bool is_malformed(std::error_code ec) noexcept {
  if (ec.category() != thingwell_category()) return false;
  const int v = ec.value();
  return v >= static_cast<int>(errc::malformed_packet) && v < static_cast<int>(errc::protocol_error);
}

}  // namespace thingwell

template <>
struct std::is_error_code_enum<thingwell::errc> : std::true_type {};
