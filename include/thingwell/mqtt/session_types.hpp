// thingwell — what a session is configured with and what it reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

#include "../core/backoff.hpp"
#include "../core/bytes.hpp"
#include "../core/clock.hpp"
#include "../core/inplace_function.hpp"
#include "limits.hpp"
#include "packets.hpp"
#include "reason_code.hpp"
#include "types.hpp"

namespace thingwell::mqtt {

// A handle the session gives for each publish, subscribe and unsubscribe; reported back on completion.
using token = std::uint32_t;

// What happens to the broker-side session across connections.
enum class session_mode : std::uint8_t {
  clean,              // clean start on every connection: nothing survives a disconnect on the broker
  resume_if_present,  // clean start once at start(), then resume after network blips (MQTT 3.1.1:
                      // resume from the first connection, the only way 3.1.1 keeps a session)
  always_resume,      // never clean start: resume a session that survived a device restart too
};

enum class connection_state : std::uint8_t {
  idle,              // not started
  connecting,        // waiting for the transport (TCP/TLS) to open
  awaiting_connack,  // CONNECT sent
  connected,         // CONNACK accepted; restoring subscriptions
  ready,             // connected and every subscription is in place
  disconnecting,     // DISCONNECT queued; closing once it is written
  backing_off,       // waiting before the next attempt
  stopped,           // stopped by the application or retries disabled
};

inline constexpr const char* to_string(connection_state s) noexcept {
  switch (s) {
    case connection_state::idle: return "idle";
    case connection_state::connecting: return "connecting";
    case connection_state::awaiting_connack: return "awaiting_connack";
    case connection_state::connected: return "connected";
    case connection_state::ready: return "ready";
    case connection_state::disconnecting: return "disconnecting";
    case connection_state::backing_off: return "backing_off";
    case connection_state::stopped: return "stopped";
  }
  return "?";
}

// Why a connection ended.
enum class disconnect_reason : std::uint8_t {
  network,             // the transport failed or the peer closed it
  keep_alive_timeout,  // no sign of life from the broker in time
  server,              // the broker sent DISCONNECT
  auth,                // refused for credentials or authorisation
  protocol,            // the broker broke the protocol; we disconnected
  user,                // the application stopped the session
};

inline constexpr const char* to_string(disconnect_reason r) noexcept {
  switch (r) {
    case disconnect_reason::network: return "network";
    case disconnect_reason::keep_alive_timeout: return "keep_alive_timeout";
    case disconnect_reason::server: return "server";
    case disconnect_reason::auth: return "auth";
    case disconnect_reason::protocol: return "protocol";
    case disconnect_reason::user: return "user";
  }
  return "?";
}

// What the driver should do with the transport.
enum class transport_request : std::uint8_t { none, open, close };

// Capacities: every table and buffer of a session is bounded by these.
struct session_limits {
  std::size_t output_bytes = 64 * 1024;        // encoded packets waiting for the transport
  std::size_t input_bytes = 16 * 1024;         // receive buffer (initial size when growable)
  bool growable_input = true;                  // hosts: grow up to max_incoming_packet; MCUs: fixed
  std::uint32_t max_incoming_packet = 1 << 20; // larger packets from the broker are refused
  std::size_t store_bytes = 1 << 20;           // queued and unacknowledged outgoing messages
  std::size_t store_records = 4096;
  std::size_t subscriptions = 64;
  std::size_t filter_bytes = 256;              // longest topic filter
  std::size_t inbound_qos2 = 64;               // QoS 2 messages from the broker awaiting PUBREL
  std::size_t aliases_out = 16;                // topic aliases we assign (when the broker allows)
  std::size_t aliases_in = 16;                 // topic aliases the broker may assign
  std::size_t alias_topic_bytes = 256;         // longest topic that gets an alias
};

// A small profile for microcontrollers: a few kilobytes in all, fixed buffers.
inline constexpr session_limits compact_session_limits{
    .output_bytes = 2048,
    .input_bytes = 2048,
    .growable_input = false,
    .max_incoming_packet = 2048,
    .store_bytes = 4096,
    .store_records = 16,
    .subscriptions = 8,
    .filter_bytes = 128,
    .inbound_qos2 = 4,
    .aliases_out = 0,
    .aliases_in = 0,
    .alias_topic_bytes = 0,
};

// Everything a connection attempt needs. Strings and buffers are views: they must stay valid for the
// session's lifetime (the Asio client keeps owning copies for you).
struct session_config {
  protocol_version version = protocol_version::v5;
  std::string_view client_id;
  std::optional<std::string_view> username;
  std::optional<bytes_view> password;
  std::uint16_t keep_alive = 60;              // seconds; 0 disables keep-alive
  duration ping_timeout{0};                   // 0: half the keep-alive, so a dead link is seen within 1.5x
  duration connect_timeout{10000};            // transport open to CONNACK
  session_mode mode = session_mode::clean;
  std::uint32_t session_expiry = 0;           // MQTT 5 Session Expiry Interval (s) for the resume modes
  std::optional<will_message> will;
  std::uint16_t receive_maximum = 0;          // advertised; 0: what limits.inbound_qos2 allows
  bool auto_topic_aliases = true;             // MQTT 5: assign aliases to repeated topics
  bool queue_qos0_offline = false;            // keep QoS 0 messages published while offline
  bool request_problem_information = true;
  user_property_list connect_user_properties; // sent in CONNECT (MQTT 5)
  std::optional<std::string_view> authentication_method;  // MQTT 5 enhanced authentication
  std::optional<bytes_view> authentication_data;
  broker_limits limits = mqtt_spec_limits;    // checked before anything is sent
  backoff_config reconnect{};                 // between attempts after network failures
  backoff_config fatal_reconnect{.base = duration{60000}, .cap = duration{3600000}, .floor = duration{30000},
                                 .reset_after = duration{30000}, .mode = jitter::equal};
  bool auto_reconnect = true;
};

struct publish_options {
  mqtt::qos qos = mqtt::qos::at_most_once;
  bool retain = false;
  properties props{};  // MQTT 5: message expiry, content type, response topic, correlation data, user properties
};

struct subscribe_options {
  mqtt::qos max_qos = mqtt::qos::at_least_once;
  bool no_local = false;
  bool retain_as_published = false;
  mqtt::retain_handling retain_handling = mqtt::retain_handling::send_on_subscribe;
  properties props{};  // MQTT 5 user properties
};

// Called for each message that matches a subscription. The message and its views are valid only
// during the call. Captures must fit in four pointers (no heap): capture a pointer to your state.
using message_handler = inplace_function<void(const publish&), 4 * sizeof(void*)>;

struct connected_event {
  bool session_present = false;
  std::uint32_t attempt = 0;
  const connack* ack = nullptr;  // valid during the call
};

struct connect_failed_event {
  std::error_code error;  // a thingwell::errc, or an mqtt::reason_code from CONNACK
  std::uint32_t attempt = 0;
  bool fatal = false;  // credentials, authorisation or protocol: the slow retry path follows
};

struct disconnected_event {
  disconnect_reason reason = disconnect_reason::network;
  std::error_code error;
};

struct backoff_event {
  duration delay{0};
  std::uint32_t attempt = 0;  // the attempt that will follow
  bool fatal = false;
};

// Receives everything a session reports. Override what you need; every call happens on the thread
// that drives the session, and a handler may call back into the session.
class session_observer {
 public:
  virtual void on_connecting(std::uint32_t /*attempt*/) {}
  virtual void on_connected(const connected_event&) {}
  virtual void on_ready() {}
  virtual void on_connect_failed(const connect_failed_event&) {}
  virtual void on_disconnected(const disconnected_event&) {}
  virtual void on_backoff(const backoff_event&) {}
  virtual void on_stopped() {}
  // A message no subscription handler matched (e.g. responses to topics subscribed in a persistent
  // session by an earlier process).
  virtual void on_message(const publish&) {}
  // QoS 1/2 publish acknowledged (error empty) or failed (broker reason code, or why it was dropped).
  virtual void on_publish_done(token, std::error_code) {}
  virtual void on_subscribe_done(token, reason_code) {}
  virtual void on_unsubscribe_done(token, reason_code) {}
  // MQTT 5 enhanced authentication: the broker's AUTH (continue) and the data to answer with.
  virtual std::optional<bytes_view> on_auth_challenge(const auth&) { return std::nullopt; }

  virtual ~session_observer() = default;
};

// Follows each stored QoS 1/2 message through its life, for a layer that keeps session state across
// restarts (store::outbox). Separate from session_observer so that the application's observer stays
// the application's, and optional: without one the session pays a single pointer test per event.
// Calls happen inside session calls (output(), input_received(), ...) and must not call back into the
// session; they may persist what they are told.
class publish_tracker {
 public:
  // A packet identifier was assigned. Called from output() before the PUBLISH is handed to the driver,
  // so a tracker that persists the identifier here persists it before it can reach the broker.
  virtual void on_packet_id(token, std::uint16_t /*packet_id*/) {}
  // QoS 2: PUBREC arrived; the message is now held by the broker and only PUBREL/PUBCOMP remain.
  virtual void on_released(token) {}
  // Acknowledged (error empty), refused by the broker, or dropped; the same as session_observer says.
  virtual void on_publish_done(token, std::error_code) {}

 protected:
  ~publish_tracker() = default;
};

// Counters and gauges of one session.
struct session_metrics {
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t publishes_sent = 0;         // PUBLISH packets written, retransmissions included
  std::uint64_t publishes_retransmitted = 0;
  std::uint64_t publishes_acknowledged = 0;
  std::uint64_t publishes_failed = 0;
  std::uint64_t publishes_dropped = 0;      // QoS 0 dropped while offline
  std::uint64_t messages_received = 0;
  std::uint64_t duplicates_ignored = 0;     // QoS 2 redeliveries not passed on twice
  std::uint64_t pings_sent = 0;
  std::uint64_t connect_attempts = 0;
  std::uint64_t connections = 0;
  std::uint64_t disconnections = 0;
  std::uint64_t rate_limited = 0;           // times the token bucket held messages back
  std::uint32_t in_flight = 0;              // gauge
  std::uint32_t queued = 0;                 // gauge: messages waiting to be sent
};

}  // namespace thingwell::mqtt
