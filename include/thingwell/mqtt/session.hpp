// thingwell — the MQTT client session: a state machine with no I/O.
//
// The session turns application calls (publish, subscribe, stop), received bytes and the passing of
// time into bytes to send, requests to open or close the transport, and events. It never blocks,
// never touches a socket and never reads a clock, so it runs the same under the Asio driver, the poll
// driver on a microcontroller, and in tests with a manual clock and a scripted broker.
//
// Driver contract (see net/poll_client.hpp for a complete one):
//   transport_wanted()  open → open the transport, then transport_opened() or transport_closed(error)
//                       close → close it, then transport_closed()
//   output()            bytes to write; output_sent(n) once n of them are written (no other session
//                       call moves them meanwhile, so they may be written asynchronously)
//   input_space()       where to receive into; input_received(n) processes whole packets
//   next_deadline()     when poll() must run at the latest
//
// Memory: everything is carved at construction from one block (the caller's, or one heap allocation)
// sized by session_limits. Nothing is allocated afterwards, except by a growable receive buffer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string_view>

#include "../core/backoff.hpp"
#include "../core/bytes.hpp"
#include "../core/clock.hpp"
#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../core/result.hpp"
#include "../core/token_bucket.hpp"
#include "decode.hpp"
#include "encode.hpp"
#include "frame_reader.hpp"
#include "limits.hpp"
#include "message_store.hpp"
#include "packet_id_pool.hpp"
#include "packets.hpp"
#include "session_types.hpp"
#include "subscription_table.hpp"
#include "topic.hpp"
#include "topic_alias.hpp"

namespace thingwell::mqtt {

// Errors after which retrying at the normal pace is pointless: the broker will refuse again until
// someone changes credentials, policy or configuration (AWS IoT Lens SE-05: no tight loops).
inline bool is_fatal(std::error_code ec) noexcept {
  if (ec.category() == reason_category()) {
    switch (static_cast<reason_code>(ec.value())) {
      case reason_code::unsupported_protocol_version:
      case reason_code::client_identifier_not_valid:
      case reason_code::bad_user_name_or_password:
      case reason_code::not_authorized:
      case reason_code::banned:
      case reason_code::bad_authentication_method:
      case reason_code::session_taken_over:  // another device uses our client id: backing off hard
        return true;
      default: return false;
    }
  }
  if (ec.category() != thingwell_category()) return false;
  switch (static_cast<errc>(ec.value())) {
    case errc::not_authorized:
    case errc::bad_credentials:
    case errc::unsupported_protocol_version:
    case errc::client_id_invalid:
    case errc::insecure_transport:
    case errc::tls_certificate_untrusted:
    case errc::tls_certificate_expired:
    case errc::tls_hostname_mismatch:
    case errc::tls_client_certificate_rejected:
    case errc::tls_protocol_version:
    case errc::tls_bad_credentials:
    case errc::tls_alpn_rejected:
      return true;
    default: return false;
  }
}

namespace detail {

// A frame reader over storage the session carved for it.
class fixed_frame_reader final : public frame_reader {
 public:
  fixed_frame_reader(byte* data, std::size_t size) noexcept
      : frame_reader(data, size, static_cast<std::uint32_t>(std::min<std::size_t>(size, max_varint + 5)), nullptr) {}
};

// Bump allocation of the session's tables from one block.
class carve {
 public:
  explicit carve(byte* base) noexcept : base_(base) {}
  template <class T>
  T* take(std::size_t n) noexcept {
    offset_ = (offset_ + alignof(T) - 1) / alignof(T) * alignof(T);
    T* p = base_ ? reinterpret_cast<T*>(base_ + offset_) : nullptr;
    offset_ += n * sizeof(T);
    return p;
  }
  std::size_t used() const noexcept { return offset_; }

 private:
  byte* base_;
  std::size_t offset_ = 0;
};

}  // namespace detail

class session {
 public:
  // Bytes of memory a session with these limits needs (pass at least this much to the constructor).
  static std::size_t memory_needed(const session_limits& limits) noexcept {
    detail::carve c(nullptr);
    layout(c, limits);
    return c.used() + alignof(std::max_align_t);
  }

  // `memory` may be empty: the session then allocates memory_needed() bytes once, here.
  session(const session_config& config, session_observer& observer, const session_limits& limits = {},
          mutable_bytes memory = {}, std::uint64_t seed = 0) noexcept
      : config_(config), limits_(limits), observer_(observer), backoff_(config.reconnect),
        fatal_backoff_(config.fatal_reconnect), random_(seed != 0 ? seed : default_seed()) {
    const std::size_t needed = memory_needed(limits);
    byte* base = memory.data();
    if (memory.size() < needed) {
      owned_memory_.reset(new (std::nothrow) byte[needed]);
      base = owned_memory_.get();
      if (base == nullptr) {
        construction_error_ = errc::capacity_exceeded;
        return;
      }
    }
    // Align the block once; layout() keeps every table aligned inside it.
    const auto addr = reinterpret_cast<std::uintptr_t>(base);
    base += (alignof(std::max_align_t) - addr % alignof(std::max_align_t)) % alignof(std::max_align_t);
    detail::carve c(base);
    const tables t = layout(c, limits);
    out_ = t.output;
    for (std::size_t i = 0; i < limits.subscriptions; ++i) ::new (static_cast<void*>(t.subscriptions + i)) subscription_entry();
    subscriptions_constructed_ = limits.subscriptions;
    subscriptions_ = subscription_table(t.subscriptions, limits.subscriptions, t.filters, limits.filter_bytes);
    store_ = message_store({t.records, limits.store_records}, {t.store, limits.store_bytes});
    ids_ = packet_id_pool(t.id_words, id_pool_size(limits));
    inbound_qos2_ = t.inbound_qos2;
    aliases_out_ = outbound_aliases(t.aliases_out, limits.aliases_out, t.alias_out_topics, limits.alias_topic_bytes);
    aliases_in_ = inbound_aliases(t.aliases_in, limits.aliases_in, t.alias_in_topics, limits.alias_topic_bytes);
#if THINGWELL_HAS_EXCEPTIONS || THINGWELL_HAS_POSIX
    if (limits.growable_input) {
      dynamic_reader_.reset(new (std::nothrow) dynamic_frame_reader(limits.input_bytes, limits.max_incoming_packet));
      reader_ = dynamic_reader_.get();
    }
#endif
    if (reader_ == nullptr && !limits.growable_input) reader_ = &fixed_reader_.emplace(t.input, limits.input_bytes);
    if (reader_ == nullptr) construction_error_ = errc::capacity_exceeded;
    else reader_->set_max_packet_size(limits.max_incoming_packet);
    const std::uint32_t pub_rate = config.limits.publishes_per_second;
    const std::uint32_t byte_rate = config.limits.bytes_per_second;
    // A burst of one: messages are paced 1/rate apart, so no second ever holds more than `rate` of
    // them. A bucket of `rate` tokens would let 2 × rate through in the first second (a full bucket,
    // then its refill), which a broker counting per second (AWS IoT Core) throttles.
    publish_bucket_ = token_bucket(pub_rate, 1);
    // Bytes keep a one-second bucket: a message is charged at most the bucket, so a smaller one would
    // undercount large messages.
    byte_bucket_ = token_bucket(byte_rate, byte_rate);
  }

  session(const session&) = delete;
  session& operator=(const session&) = delete;

  ~session() {
    for (std::size_t i = 0; i < subscriptions_constructed_; ++i) subscriptions_[i].~subscription_entry();
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  // Validates the configuration and begins the first connection attempt.
  std::error_code start(time_point now) noexcept {
    if (construction_error_) return construction_error_;
    if (state_ != connection_state::idle && state_ != connection_state::stopped) return errc::busy;
    if (config_.version != protocol_version::v311 && config_.version != protocol_version::v5)
      return errc::unsupported_protocol_version;
    if (auto ec = check_client_id(config_.limits, config_.client_id)) return ec;
    if (config_.client_id.empty() && config_.mode != session_mode::clean) return errc::client_id_invalid;
    if (auto ec = check_keep_alive(config_.limits, config_.keep_alive)) return ec;
    if (config_.will) {
      if (auto ec = check_publish_topic(config_.limits, config_.will->topic)) return ec;
      if (auto ec = check_qos(config_.limits, config_.will->qos)) return ec;
    }
    // Encode a CONNECT once to validate the will, credentials and properties before any I/O.
    connect probe = make_connect();
    if (auto size = encoded_size(probe, config_.version); !size) return size.error();
    // A CONNECT that cannot fit the output buffer would fail every attempt, forever.
    else if (*size > limits_.output_bytes) return errc::buffer_too_small;
    stopping_ = false;
    first_connection_ = true;
    attempt_ = 0;
    backoff_.reset();
    fatal_backoff_.reset();
    begin_attempt(now);
    return {};
  }

  // Graceful stop: what is already queued for the wire is written, then DISCONNECT, then the
  // transport is closed. No reconnection follows. Messages still unacknowledged stay in the store.
  void stop(time_point now) noexcept {
    stopping_ = true;
    switch (state_) {
      case connection_state::connected:
      case connection_state::ready:
        flush_messages(now);  // what was published before stop() goes out before DISCONNECT
        (void)write_packet(disconnect{});
        begin_close(now, /*flush=*/true);
        // Reported once the session is closing: a handler that calls stop() again finds nothing to do
        // (reported first, it would recurse without end).
        emit_disconnected(disconnect_reason::user, {});
        break;
      case connection_state::connecting:
      case connection_state::awaiting_connack:
        begin_close(now, /*flush=*/false);
        break;
      case connection_state::disconnecting: break;  // closes soon; stopping_ makes it final
      case connection_state::idle:
      case connection_state::backing_off:
        finish_stop();
        break;
      case connection_state::stopped: break;
    }
  }

  connection_state state() const noexcept { return state_; }
  bool is_ready() const noexcept { return state_ == connection_state::ready; }
  std::uint32_t attempt() const noexcept { return attempt_; }
  const session_metrics& metrics() const noexcept { return metrics_; }
  // Gauges of the message store: records and encoded bytes held (queued, in flight, or completed but
  // waiting for an older message to complete).
  std::size_t stored_messages() const noexcept { return store_.size(); }
  std::size_t stored_bytes() const noexcept { return store_.bytes_used(); }
  const session_config& config() const noexcept { return config_; }

  // What CONNACK told us about the broker (valid while connected).
  struct broker_capabilities {
    std::uint16_t receive_maximum = 65535;
    mqtt::qos maximum_qos = mqtt::qos::exactly_once;
    bool retain_available = true;
    std::uint32_t maximum_packet_size = max_varint + 5;
    std::uint16_t topic_alias_maximum = 0;
    bool wildcard_subscriptions = true;
    bool subscription_identifiers = true;
    bool shared_subscriptions = true;
    std::uint16_t keep_alive = 0;  // effective (Server Keep Alive overrides ours)
  };
  const broker_capabilities& broker() const noexcept { return broker_; }

  // ---- driver side -------------------------------------------------------------------------------

  transport_request transport_wanted() const noexcept {
    if (want_open_) return transport_request::open;
    if (want_close_ && (!flush_before_close_ || out_begin_ == out_end_)) return transport_request::close;
    return transport_request::none;
  }

  // The transport is open (TCP connected, TLS handshake done): send CONNECT.
  void transport_opened(time_point now) noexcept {
    if (state_ != connection_state::connecting) return;
    want_open_ = false;
    reset_connection_state();
    connect c = make_connect();
    if (!write_packet(c)) {
      fail(now, errc::buffer_too_small, disconnect_reason::protocol, false);
      return;
    }
    state_ = connection_state::awaiting_connack;
    last_received_ = now;
    connect_deadline_ = now + config_.connect_timeout;
  }

  // The transport closed: on our request, because opening failed, or because the link broke.
  void transport_closed(std::error_code ec, time_point now) noexcept {
    want_open_ = false;
    want_close_ = false;
    const connection_state was = state_;
    // The events below are reported from `disconnecting`: the link is gone, and a handler that calls
    // stop() only has to make the end final (from `connected` it would write a DISCONNECT and report
    // a second disconnection).
    switch (was) {
      case connection_state::connecting:
      case connection_state::awaiting_connack: {
        const std::error_code error = ec ? ec : make_error_code(errc::connection_reset);
        state_ = connection_state::disconnecting;
        emit_connect_failed(error);
        end_connection(now, is_fatal(error));
        break;
      }
      case connection_state::connected:
      case connection_state::ready:
        state_ = connection_state::disconnecting;
        emit_disconnected(disconnect_reason::network, ec ? ec : make_error_code(errc::connection_reset));
        end_connection(now, false);
        break;
      case connection_state::disconnecting: end_connection(now, close_is_fatal_); break;
      case connection_state::idle:
      case connection_state::backing_off:
      case connection_state::stopped: break;
    }
  }

  // Bytes to write now. Moves queued subscriptions and messages into the buffer as the in-flight
  // window, the rate limit and the buffer allow.
  bytes_view output(time_point now) noexcept {
    if (state_ == connection_state::connected || state_ == connection_state::ready) {
      flush_subscriptions();
      flush_messages(now);
    }
    return {out_ + out_begin_, out_end_ - out_begin_};
  }

  bool has_output() const noexcept { return out_begin_ != out_end_; }

  void output_sent(std::size_t n, time_point now) noexcept {
    THINGWELL_ASSERT(n <= out_end_ - out_begin_);
    out_begin_ += n;
    if (out_begin_ == out_end_) out_begin_ = out_end_ = 0;
    if (n != 0) last_sent_ = now;
    metrics_.bytes_sent += n;
    if (input_paused_) process_input(now);
  }

  // Where to receive into. Empty while received packets wait for output space (back-pressure).
  mutable_bytes input_space() noexcept {
    if (input_paused_ || !reader_) return {};
    return reader_->prepare();
  }

  void input_received(std::size_t n, time_point now) noexcept {
    if (n == 0) return;
    reader_->commit(n);
    metrics_.bytes_received += n;
    last_received_ = now;
    process_input(now);
  }

  // Runs timers: connect timeout, keep-alive, reconnect backoff, rate limit.
  void poll(time_point now) noexcept {
    switch (state_) {
      case connection_state::connecting:
      case connection_state::awaiting_connack:
        if (now >= connect_deadline_) fail(now, errc::connect_timeout, disconnect_reason::network, false);
        break;
      case connection_state::connected:
      case connection_state::ready:
        keep_alive(now);
        if (input_paused_) process_input(now);
        break;
      case connection_state::disconnecting:
        if (now >= close_deadline_) flush_before_close_ = false;  // give up on flushing a stuck link
        break;
      case connection_state::backing_off:
        if (now >= retry_at_) begin_attempt(now);
        break;
      case connection_state::idle:
      case connection_state::stopped: break;
    }
  }

  time_point next_deadline() const noexcept {
    switch (state_) {
      case connection_state::connecting:
      case connection_state::awaiting_connack: return connect_deadline_;
      case connection_state::connected:
      case connection_state::ready: {
        time_point t = keep_alive_deadline();
        if (rate_blocked_until_ != never) t = std::min(t, rate_blocked_until_);
        return t;
      }
      case connection_state::disconnecting: return flush_before_close_ ? close_deadline_ : never;
      case connection_state::backing_off: return retry_at_;
      case connection_state::idle:
      case connection_state::stopped: return never;
    }
    return never;
  }

  // ---- application side --------------------------------------------------------------------------

  // Publishes a message. QoS 0 is written at once when possible; QoS 1/2 (and QoS 0 that cannot go
  // yet) are copied into the store and sent in order as the window allows. The returned token comes
  // back in on_publish_done when the broker has acknowledged the message (QoS 1/2).
  result<token> publish(std::string_view topic, bytes_view payload, const publish_options& options = {}) noexcept {
    if (construction_error_) return construction_error_;
    if (topic.empty()) return errc::bad_topic_name;  // a Topic Alias is the session's business, not the caller's
    if (auto ec = check_payload(config_.limits, payload.size())) return ec;
    if (auto ec = check_qos(config_.limits, options.qos)) return ec;
    if (connected_now()) {
      if (static_cast<unsigned>(options.qos) > static_cast<unsigned>(broker_.maximum_qos)) return errc::qos_not_supported;
      if (options.retain && !broker_.retain_available) return errc::retain_not_supported;
    }
    mqtt::publish p;
    p.topic = topic;
    p.payload = payload;
    p.qos = options.qos;
    p.retain = options.retain;
    p.props = options.props;
    p.packet_id = options.qos == qos::at_most_once ? 0 : 1;  // placeholder, assigned when first sent
    // Measured once, here: this validates the topic name and the properties, and the sizes it finds are
    // reused by the write below (this is the hot path of every publishing device).
    auto measured = detail::measure(p, config_.version);
    if (!measured) return measured.error();
    if (auto ec = check_topic_limits(config_.limits, topic)) return ec;
    const std::size_t size = detail::packet_size(measured->remaining);
    if (connected_now() && size > broker_.maximum_packet_size) return errc::packet_too_large;
    // The send loop writes a message only when it fits the output buffer with the acknowledgement
    // reserve: a larger one would wait at the head of the queue forever and block everything behind it.
    if (size + control_reserve > limits_.output_bytes) return errc::packet_too_large;

    const token t = next_token();
    if (options.qos == qos::at_most_once) {
      if (!connected_now() && !config_.queue_qos0_offline) {
        ++metrics_.publishes_dropped;
        return errc::not_connected;
      }
      // Fast path: nothing queued ahead, within rate, room in the buffer. Written straight into the
      // output buffer, never copied into the store.
      if (connected_now() && cursor() == store_.size() && out_free() >= size + alias_growth + control_reserve) {
        if (take_rate_tokens(size)) {  // at the time of the last output(): publish() takes no clock
          if (aliases_out_.enabled()) {
            (void)write_publish_aliased(p, size);
          } else {
            (void)write_measured(p, *measured);
          }
          ++metrics_.publishes_sent;
          return t;
        }
      }
    }
    stored_message* m = store_.append(size);
    if (m == nullptr) {
      ++metrics_.publishes_dropped;
      return errc::capacity_exceeded;
    }
    byte_writer w(store_.bytes_of(*m));
    detail::write(p, config_.version, *measured, w);
    THINGWELL_ASSERT(w.written() == size);
    m->token = t;
    m->qos = options.qos;
    m->state = message_state::queued;
    if (options.qos != qos::at_most_once) m->id_offset = packet_id_offset(store_.bytes_of(*m));
    ++metrics_.queued;
    return t;
  }

  // Puts back a QoS 1/2 message that an earlier run of this device sent with `packet_id` and never saw
  // completed (persisted by a publish_tracker, e.g. store::outbox). Only before start(): if the broker
  // still has the session, the message is resent with DUP=1 and the same identifier (`released`: QoS 2
  // past PUBREC, so only PUBREL is sent again); if not, it is published again as a new message.
  result<token> restore(std::string_view topic, bytes_view payload, const publish_options& options,
                        std::uint16_t packet_id, bool released = false) noexcept {
    if (construction_error_) return construction_error_;
    if (state_ != connection_state::idle) return errc::busy;
    if (topic.empty() || options.qos == qos::at_most_once || packet_id == 0) return errc::invalid_argument;
    if (released && options.qos != qos::exactly_once) return errc::invalid_argument;
    if (ids_.in_use(packet_id)) return errc::busy;
    mqtt::publish p;
    p.topic = topic;
    p.payload = payload;
    p.qos = options.qos;
    p.retain = options.retain;
    p.props = options.props;
    p.dup = true;
    p.packet_id = packet_id;
    auto measured = detail::measure(p, config_.version);
    if (!measured) return measured.error();
    const std::size_t size = detail::packet_size(measured->remaining);
    if (size + control_reserve > limits_.output_bytes) return errc::packet_too_large;
    // An identifier beyond this session's pool (an earlier run with larger limits) cannot be reserved.
    if (!ids_.claim(packet_id)) return errc::invalid_argument;
    stored_message* m = store_.append(size);
    if (m == nullptr) {
      ids_.release(packet_id);
      return errc::capacity_exceeded;
    }
    byte_writer w(store_.bytes_of(*m));
    detail::write(p, config_.version, *measured, w);
    m->token = next_token();
    m->qos = options.qos;
    m->packet_id = packet_id;
    m->id_offset = packet_id_offset(store_.bytes_of(*m));
    m->transmitted = true;
    // As if the connection had just dropped with the message in flight: CONNACK decides what follows.
    m->state = released ? message_state::released : message_state::in_flight;
    ++in_flight_;
    metrics_.in_flight = static_cast<std::uint32_t>(in_flight_);
    return m->token;
  }

  // Attaches (or with nullptr detaches) a tracker of stored messages.
  void set_tracker(publish_tracker* tracker) noexcept { tracker_ = tracker; }

  // Subscribes `handler` to `filter`. Subscriptions survive reconnects: they are restored (or found
  // in the resumed session) before on_ready. A second subscribe to the same filter replaces the first.
  result<token> subscribe(std::string_view filter, message_handler handler, const subscribe_options& options = {}) noexcept {
    if (construction_error_) return construction_error_;
    if (auto ec = check_subscribe_filter(config_.limits, filter)) return ec;
    if (auto ec = check_qos(config_.limits, options.max_qos)) return ec;
    if (config_.version == protocol_version::v311 &&
        (options.no_local || options.retain_as_published || options.retain_handling != retain_handling::send_on_subscribe))
      return errc::bad_subscription_options;
    if (options.no_local && !split_shared(filter).share_name.empty()) return errc::bad_subscription_options;
    if (connected_now()) {
      if (has_wildcard(filter) && !broker_.wildcard_subscriptions) return errc::not_supported;
      if (!split_shared(filter).share_name.empty() && !broker_.shared_subscriptions) return errc::not_supported;
    }
    subscription_entry* e = subscriptions_.find(filter);
    if (e != nullptr && e->state != subscription_state::active && e->state != subscription_state::to_subscribe)
      return errc::busy;  // a request for this filter is on its way; retry after its completion
    if (e != nullptr && static_cast<std::size_t>(e - &subscriptions_[0]) == dispatching_)
      return errc::busy;  // its handler is running: replacing it now would destroy the running code
    if (e == nullptr) {
      if (subscriptions_.active_count() >= config_.limits.max_subscriptions) return errc::too_many_subscriptions;
      e = subscriptions_.add(filter, dispatching_);
      if (e == nullptr)
        return filter.size() > subscriptions_.filter_capacity() ? errc::topic_too_long : errc::too_many_subscriptions;
    }
    e->options = options;
    e->options.props = {};
    e->handler = std::move(handler);
    // Not sent yet: the pending request simply takes the new options and keeps its token.
    if (e->state != subscription_state::to_subscribe || e->subscribe_token == 0) e->subscribe_token = next_token();
    e->state = subscription_state::to_subscribe;
    e->packet_id = 0;
    requests_pending_ = true;
    return e->subscribe_token;
  }

  result<token> unsubscribe(std::string_view filter) noexcept {
    if (construction_error_) return construction_error_;
    if (auto ec = validate_topic_filter(filter)) return ec;
    subscription_entry* e = subscriptions_.find(filter);
    if (e == nullptr) return errc::not_found;
    if (e->state != subscription_state::active && e->state != subscription_state::to_subscribe) return errc::busy;
    const token t = next_token();
    e->unsubscribe_token = t;
    // Nothing to tell the broker when it never heard of it (the pending subscribe is simply dropped),
    // or when a clean session will forget it anyway.
    const bool broker_knows = e->state == subscription_state::active;
    if (!broker_knows || (!connected_now() && config_.mode == session_mode::clean)) {
      subscriptions_.remove(*e);
      observer_.on_unsubscribe_done(t, reason_code::success);
      return t;
    }
    e->state = subscription_state::to_unsubscribe;
    e->packet_id = 0;
    requests_pending_ = true;
    return t;
  }

 private:
  static constexpr std::size_t control_reserve = 64;  // output space kept for acknowledgements

  struct tables {
    byte* output;
    byte* input;
    stored_message* records;
    byte* store;
    subscription_entry* subscriptions;
    char* filters;
    std::uint32_t* id_words;
    std::uint16_t* inbound_qos2;
    outbound_aliases::entry* aliases_out;
    char* alias_out_topics;
    inbound_aliases::entry* aliases_in;
    char* alias_in_topics;
  };

  static std::uint16_t id_pool_size(const session_limits& l) noexcept {
    return static_cast<std::uint16_t>(std::min<std::size_t>(l.store_records + l.subscriptions + 1, 65535));
  }

  static tables layout(detail::carve& c, const session_limits& l) noexcept {
    tables t{};
    t.records = c.take<stored_message>(l.store_records);
    t.subscriptions = c.take<subscription_entry>(l.subscriptions);
    t.aliases_out = c.take<outbound_aliases::entry>(l.aliases_out);
    t.aliases_in = c.take<inbound_aliases::entry>(l.aliases_in);
    t.id_words = c.take<std::uint32_t>(packet_id_pool::words_for(id_pool_size(l)));
    t.inbound_qos2 = c.take<std::uint16_t>(l.inbound_qos2);
    t.output = c.take<byte>(l.output_bytes);
    t.input = c.take<byte>(l.growable_input ? 0 : l.input_bytes);
    t.store = c.take<byte>(l.store_bytes);
    t.filters = c.take<char>(l.subscriptions * l.filter_bytes);
    t.alias_out_topics = c.take<char>(l.aliases_out * l.alias_topic_bytes);
    t.alias_in_topics = c.take<char>(l.aliases_in * l.alias_topic_bytes);
    return t;
  }

  static std::uint64_t default_seed() noexcept {
#if THINGWELL_HAS_POSIX
    return host_seed();
#else
    return 0x7468696E6777656Cull;  // MCUs: pass a per-device seed (e.g. from the hardware RNG)
#endif
  }

  bool connected_now() const noexcept {
    return state_ == connection_state::connected || state_ == connection_state::ready;
  }

  token next_token() noexcept {
    if (++last_token_ == 0) ++last_token_;
    return last_token_;
  }

  // ---- connection lifecycle ----------------------------------------------------------------------

  void begin_attempt(time_point now) noexcept {
    ++attempt_;
    ++metrics_.connect_attempts;
    state_ = connection_state::connecting;
    want_open_ = true;
    want_close_ = false;
    connect_deadline_ = now + config_.connect_timeout;
    observer_.on_connecting(attempt_);
  }

  bool clean_start_now() const noexcept {
    switch (config_.mode) {
      case session_mode::clean: return true;
      // MQTT 3.1.1 keeps a session only if Clean Session was 0 when it was created, so there the
      // mode resumes from the first connection (a session left by an earlier run included).
      case session_mode::resume_if_present: return first_connection_ && config_.version == protocol_version::v5;
      case session_mode::always_resume: return false;
    }
    return true;
  }

  connect make_connect() const noexcept {
    connect c;
    c.version = config_.version;
    c.client_id = config_.client_id.empty() && assigned_id_length_ != 0
                      ? std::string_view(assigned_id_, assigned_id_length_)
                      : config_.client_id;
    c.clean_start = clean_start_now();
    c.keep_alive = config_.keep_alive;
    c.username = config_.username;
    c.password = config_.password;
    c.will = config_.will;
    if (config_.version == protocol_version::v5) {
      if (config_.mode != session_mode::clean)
        c.props.session_expiry_interval = config_.session_expiry != 0 ? config_.session_expiry : 3600;
      const std::uint16_t receive_max = static_cast<std::uint16_t>(std::min<std::size_t>(
          config_.receive_maximum != 0 ? config_.receive_maximum : 65535, std::max<std::size_t>(limits_.inbound_qos2, 1)));
      if (receive_max != 65535) c.props.receive_maximum = receive_max;
      // What the reader really accepts: a fixed buffer smaller than max_incoming_packet caps it, and
      // advertising more would make us refuse packets the broker was allowed to send.
      const std::uint32_t incoming = reader_ ? reader_->max_packet_size() : limits_.max_incoming_packet;
      if (incoming < max_varint + 5) c.props.maximum_packet_size = incoming;
      if (aliases_in_.capacity() != 0) c.props.topic_alias_maximum = static_cast<std::uint16_t>(aliases_in_.capacity());
      if (!config_.request_problem_information) c.props.request_problem_information = 0;
      c.props.user_properties = config_.connect_user_properties;
      c.props.authentication_method = config_.authentication_method;
      c.props.authentication_data = config_.authentication_data;
    }
    return c;
  }

  void reset_connection_state() noexcept {
    out_begin_ = out_end_ = 0;
    if (reader_) reader_->reset();
    input_paused_ = false;
    ping_sent_at_ = never;
    rate_blocked_until_ = never;
    aliases_in_.reset();
    aliases_out_.reset(0);
    broker_ = broker_capabilities{};
  }

  // Something ended the connection on our side: report it, then close (after a DISCONNECT in MQTT 5
  // when `send_reason`).
  void fail(time_point now, std::error_code ec, disconnect_reason why, bool send_disconnect) noexcept {
    const bool before_connack = state_ == connection_state::connecting || state_ == connection_state::awaiting_connack;
    if (!before_connack && !connected_now()) return;  // already closing or not connected
    close_is_fatal_ = is_fatal(ec);
    bool flush = false;
    if (send_disconnect && config_.version == protocol_version::v5 && state_ != connection_state::connecting) {
      // Appended after what is already in the buffer: the driver may be writing those bytes right now
      // (output() handed them out, output_sent() is still to come), so they must not move.
      disconnect d;
      d.reason = disconnect_reason_for(ec);
      flush = write_packet(d);
    }
    begin_close(now, flush);
    // Reported once the session is closing: a handler that calls stop() then only makes the end final,
    // instead of writing a second DISCONNECT behind ours.
    if (before_connack) emit_connect_failed(ec);
    else emit_disconnected(why, ec);
  }

  void begin_close(time_point now, bool flush) noexcept {
    state_ = connection_state::disconnecting;
    want_open_ = false;
    want_close_ = true;
    flush_before_close_ = flush;
    close_deadline_ = now + duration{2000};
  }

  // The transport is closed: decide what comes next.
  void end_connection(time_point now, bool fatal) noexcept {
    reset_connection_state();
    if (backoff_connected_) {
      backoff_.disconnected(now);
      fatal_backoff_.disconnected(now);
      backoff_connected_ = false;
    }
    drop_offline_qos0();
    if (stopping_ || !config_.auto_reconnect) {
      finish_stop();
      return;
    }
    backoff& b = fatal ? fatal_backoff_ : backoff_;
    const duration delay = b.next(random_);
    retry_at_ = now + delay;
    state_ = connection_state::backing_off;
    observer_.on_backoff({delay, attempt_ + 1, fatal});
  }

  void finish_stop() noexcept {
    state_ = connection_state::stopped;
    want_open_ = want_close_ = false;
    observer_.on_stopped();
  }

  void emit_connect_failed(std::error_code ec) noexcept {
    observer_.on_connect_failed({ec, attempt_, is_fatal(ec)});
  }

  void emit_disconnected(disconnect_reason why, std::error_code ec) noexcept {
    ++metrics_.disconnections;
    observer_.on_disconnected({why, ec});
  }

  // ---- CONNACK and session resumption ------------------------------------------------------------

  void on_connack(const connack& ack, time_point now) noexcept {
    if (is_failure(ack.reason)) {
      const std::error_code ec = make_error_code(ack.reason);
      fail(now, ec, disconnect_reason::auth, false);
      return;
    }
    const bool asked_clean = clean_start_now();
    if (asked_clean && ack.session_present) {
      fail(now, errc::protocol_error, disconnect_reason::protocol, true);  // [MQTT-3.2.2-2]
      return;
    }
    broker_ = broker_capabilities{};
    const properties& p = ack.props;
    if (p.receive_maximum) broker_.receive_maximum = *p.receive_maximum;
    if (p.maximum_qos) broker_.maximum_qos = static_cast<qos>(*p.maximum_qos);
    if (p.retain_available) broker_.retain_available = *p.retain_available != 0;
    if (p.maximum_packet_size) broker_.maximum_packet_size = *p.maximum_packet_size;
    if (p.topic_alias_maximum) broker_.topic_alias_maximum = *p.topic_alias_maximum;
    if (p.wildcard_subscription_available) broker_.wildcard_subscriptions = *p.wildcard_subscription_available != 0;
    if (p.subscription_identifier_available) broker_.subscription_identifiers = *p.subscription_identifier_available != 0;
    if (p.shared_subscription_available) broker_.shared_subscriptions = *p.shared_subscription_available != 0;
    broker_.keep_alive = p.server_keep_alive ? *p.server_keep_alive : config_.keep_alive;
    if (p.assigned_client_identifier && config_.client_id.empty() &&
        p.assigned_client_identifier->size() <= sizeof(assigned_id_)) {
      std::memcpy(assigned_id_, p.assigned_client_identifier->data(), p.assigned_client_identifier->size());
      assigned_id_length_ = static_cast<std::uint8_t>(p.assigned_client_identifier->size());
    }
    if (config_.auto_topic_aliases && config_.version == protocol_version::v5)
      aliases_out_.reset(broker_.topic_alias_maximum);

    state_ = connection_state::connected;
    first_connection_ = false;
    ++metrics_.connections;
    // Both sequences start over only once this connection has proved stable (end_connection): a
    // broker that accepts and then kicks us at once (0x8E, two devices sharing a client id) must keep
    // seeing longer and longer delays.
    backoff_.connected(now);
    fatal_backoff_.connected(now);
    backoff_connected_ = true;
    last_received_ = now;

    if (ack.session_present) resume_messages();
    else restart_messages();
    const std::size_t pending = prepare_subscriptions(ack.session_present);

    connected_event ev{ack.session_present, attempt_, &ack};
    observer_.on_connected(ev);
    if (state_ != connection_state::connected) return;  // the handler stopped us
    restoring_ = pending != 0;
    if (!restoring_) become_ready();
  }

  void become_ready() noexcept {
    state_ = connection_state::ready;
    attempt_ = 0;
    observer_.on_ready();
  }

  // Session present: every message sent but not acknowledged is sent again with its identifier and
  // DUP set; QoS 2 messages past PUBREC get their PUBREL again.
  void resume_messages() noexcept {
    cursor_abs_ = store_.reclaimed();
    for (std::size_t i = 0; i < store_.size(); ++i) {
      stored_message& m = store_.at(i);
      if (m.state == message_state::in_flight) {
        // Back in the queue with its identifier and DUP=1: the send loop resends it in order.
        m.state = message_state::queued;
        if (in_flight_ > 0) --in_flight_;
        ++metrics_.queued;
      } else if (m.state == message_state::released) {
        m.pubrel_pending = true;
        resend_needed_ = true;
      }
    }
    metrics_.in_flight = static_cast<std::uint32_t>(in_flight_);
  }

  // No session: the broker knows none of our identifiers. Unacknowledged messages are published again
  // as new messages; a QoS 2 message past PUBREC has reached the broker and is complete.
  void restart_messages() noexcept {
    ids_.clear();
    inbound_qos2_count_ = 0;
    cursor_abs_ = store_.reclaimed();
    // By record number: complete() reclaims at the oldest end and would shift indices under the loop.
    const std::uint64_t end = store_.end_number();
    for (std::uint64_t n = store_.reclaimed(); n < end; ++n) {
      stored_message* m = store_.by_number(n);
      if (m == nullptr) continue;
      // Queued ones too: a message resumed on the previous connection but not yet resent still
      // carries that session's identifier and DUP=1, and the identifier is no longer reserved.
      if (m->state == message_state::in_flight || m->state == message_state::queued) {
        if (m->state == message_state::in_flight) ++metrics_.queued;
        m->state = message_state::queued;
        m->packet_id = 0;
        m->transmitted = false;
        store_.bytes_of(*m)[0] &= static_cast<byte>(~0x08u);  // a new message: DUP=0
      } else if (m->state == message_state::released) {
        m->packet_id = 0;
        m->pubrel_pending = false;
        complete(*m, {});
      }
    }
    in_flight_ = 0;
    resend_needed_ = false;
    store_.reclaim();
    metrics_.in_flight = 0;
  }

  // Marks what must be (re)sent to the broker; returns how many SUBSCRIBE entries are pending.
  std::size_t prepare_subscriptions(bool session_present) noexcept {
    requests_pending_ = true;  // whatever is marked below is found by the next flush
    std::size_t pending = 0;
    for (std::size_t i = 0; i < subscriptions_.capacity(); ++i) {
      subscription_entry& e = subscriptions_[i];
      if (e.packet_id != 0) ids_.release(e.packet_id);  // that request died with the connection
      e.packet_id = 0;
      switch (e.state) {
        case subscription_state::unused: break;
        case subscription_state::to_subscribe:
        case subscription_state::awaiting_suback:
          e.state = subscription_state::to_subscribe;
          ++pending;
          break;
        case subscription_state::active:
          if (!session_present) {
            e.state = subscription_state::to_subscribe;
            ++pending;
          }
          break;
        case subscription_state::to_unsubscribe:
        case subscription_state::awaiting_unsuback:
          if (session_present) {
            e.state = subscription_state::to_unsubscribe;
          } else {
            const token t = e.unsubscribe_token;
            subscriptions_.remove(e);
            observer_.on_unsubscribe_done(t, reason_code::success);
          }
          break;
      }
    }
    return pending;
  }

  // ---- writing -----------------------------------------------------------------------------------

  std::size_t out_free() const noexcept {
    // While the driver writes [out_begin_, out_end_), nothing moves: only the tail is free.
    return limits_.output_bytes - out_end_ + (out_begin_ == out_end_ ? out_begin_ : 0);
  }

  // Room for n bytes at the tail, compacting only when nothing is being written.
  byte* reserve_out(std::size_t n) noexcept {
    if (out_begin_ == out_end_) out_begin_ = out_end_ = 0;
    if (limits_.output_bytes - out_end_ < n) return nullptr;
    return out_ + out_end_;
  }

  template <class Packet>
  bool write_packet(const Packet& p) noexcept {
    auto m = detail::measure(p, config_.version);
    if (!m) return false;
    return write_measured(p, *m);
  }

  template <class Packet>
  bool write_measured(const Packet& p, const detail::measured& m) noexcept {
    const std::size_t size = detail::packet_size(m.remaining);
    byte* at = reserve_out(size);
    if (at == nullptr) return false;
    byte_writer w({at, size});
    detail::write(p, config_.version, m, w);
    THINGWELL_ASSERT(w.written() == size);
    out_end_ += size;
    return true;
  }

  // A Topic Alias makes a PUBLISH at most this much longer: the property (3 bytes), and one more byte in
  // each of the property length and the Remaining Length when they cross a varint boundary.
  static constexpr std::size_t alias_growth = 5;

  // Writes `p` (measured at `size` bytes without an alias) with an outbound alias when one applies. The
  // alias table is only touched once the packet is sure to be written: a topic it records is one the
  // broker has been told.
  bool write_publish_aliased(mqtt::publish p, std::size_t size) noexcept {
    if (size + alias_growth > broker_.maximum_packet_size || reserve_out(size + alias_growth) == nullptr)
      return write_packet(p);
    const auto choice = aliases_out_.choose(p.topic);
    if (choice.alias != 0) {
      p.props.topic_alias = choice.alias;
      if (!choice.send_topic) p.topic = {};
    }
    return write_packet(p);
  }

  bool write_bytes(bytes_view b) noexcept {
    byte* at = reserve_out(b.size());
    if (at == nullptr) return false;
    std::memcpy(at, b.data(), b.size());
    out_end_ += b.size();
    return true;
  }

  bool take_rate_tokens(std::size_t bytes) noexcept {
    if (publish_bucket_.unlimited() && byte_bucket_.unlimited()) return true;
    // Both buckets are checked before either is charged.
    const time_point now = rate_now_;
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(bytes, UINT32_MAX));
    const time_point ready = std::max(publish_bucket_.ready_at(now, 1), byte_bucket_.ready_at(now, n));
    if (ready > now) {
      rate_blocked_until_ = ready;
      ++metrics_.rate_limited;
      return false;
    }
    (void)publish_bucket_.try_take(now, 1);
    (void)byte_bucket_.try_take(now, n);
    rate_blocked_until_ = never;
    return true;
  }

  // Records behind the cursor may be reclaimed, and so may queued ones dropped while offline: a cursor
  // that fell behind the oldest record means the oldest record (never a huge unsigned index).
  std::size_t cursor() const noexcept {
    return cursor_abs_ > store_.reclaimed() ? static_cast<std::size_t>(cursor_abs_ - store_.reclaimed()) : 0;
  }

  std::size_t window() const noexcept {
    std::size_t w = broker_.receive_maximum;
    w = std::min<std::size_t>(w, config_.limits.max_inflight);
    w = std::min<std::size_t>(w, ids_.size());
    return w;
  }

  static std::uint16_t packet_id_offset(bytes_view encoded) noexcept {
    std::size_t i = 1;
    while (encoded[i] & 0x80) ++i;  // the Remaining Length
    ++i;
    const std::size_t topic_length = (std::size_t{encoded[i]} << 8) | encoded[i + 1];
    return static_cast<std::uint16_t>(i + 2 + topic_length);
  }

  // Moves queued work into the output buffer: PUBREL and retransmissions first (they are older),
  // then new messages in publish order.
  void flush_messages(time_point now) noexcept {
    rate_now_ = now;
    // Set again below if the rate still holds a message back: a stale time would make next_deadline()
    // ask to be polled at once, again and again, while the window (not the rate) is what blocks.
    rate_blocked_until_ = never;
    // PUBRELs to (re)send. The whole store is scanned, not just the part before the cursor: after a
    // resumed session the cursor starts again at the oldest record, and the released messages are
    // behind it only once the send loop has passed them.
    if (resend_needed_) {
      bool all_done = true;
      for (std::size_t i = 0; i < store_.size(); ++i) {
        stored_message& m = store_.at(i);
        if (m.pubrel_pending) {
          pubrel rel;
          rel.packet_id = m.packet_id;
          if (!write_packet(rel)) {
            all_done = false;
            break;
          }
          m.pubrel_pending = false;
        }
      }
      resend_needed_ = !all_done;
    }
    while (cursor() < store_.size()) {
      stored_message& m = store_.at(cursor());
      if (m.state != message_state::queued) {
        ++cursor_abs_;
        continue;
      }
      if (const std::error_code ec = unsendable(m)) {
        if (metrics_.queued > 0) --metrics_.queued;
        complete(m, ec);
        ++cursor_abs_;
        continue;
      }
      if (m.qos != qos::at_most_once && in_flight_ >= window()) break;
      if (out_free() < m.size + control_reserve) break;
      if (!take_rate_tokens(m.size)) break;
      if (!transmit(m)) break;
      ++cursor_abs_;
    }
    store_.reclaim();
  }

  // What a message queued before this connection breaks of the broker's CONNACK limits. Sending it
  // anyway would get the connection closed ([MQTT-3.1.2-24], MQTT 5 §3.2.2.3.4 and §3.2.2.3.5) on
  // every reconnect, with the message still at the head of the queue: it fails instead.
  std::error_code unsendable(const stored_message& m) const noexcept {
    if (m.size > broker_.maximum_packet_size) return errc::packet_too_large;
    if (static_cast<unsigned>(m.qos) > static_cast<unsigned>(broker_.maximum_qos)) return errc::qos_not_supported;
    if (!broker_.retain_available && (store_.bytes_of(m)[0] & 0x01) != 0) return errc::retain_not_supported;
    return {};
  }

  bool transmit(stored_message& m) noexcept {
    mutable_bytes bytes = store_.bytes_of(m);
    if (m.qos != qos::at_most_once && m.packet_id == 0) {
      const std::uint16_t id = ids_.acquire();
      if (id == 0) return false;
      m.packet_id = id;
      bytes[m.id_offset] = static_cast<byte>(id >> 8);
      bytes[m.id_offset + 1] = static_cast<byte>(id);
      if (tracker_) tracker_->on_packet_id(m.token, id);
    }
    bool written;
    if (aliases_out_.enabled()) {
      written = write_with_alias(bytes);
    } else {
      written = write_bytes(bytes);
    }
    if (!written) return false;
    ++metrics_.publishes_sent;
    if (m.transmitted) ++metrics_.publishes_retransmitted;
    if (metrics_.queued > 0) --metrics_.queued;
    if (m.qos == qos::at_most_once) {
      store_.complete(m);
      return true;
    }
    if (!m.transmitted) {
      m.transmitted = true;
      bytes[0] |= 0x08;  // every later copy is a duplicate
    }
    m.state = message_state::in_flight;
    ++in_flight_;
    metrics_.in_flight = static_cast<std::uint32_t>(in_flight_);
    return true;
  }

  // The stored form carries the full topic; on the wire a known topic is replaced by its alias. The
  // stored bytes are spliced, not decoded and encoded again: they were validated when published, and
  // only the topic and the property block change.
  bool write_with_alias(bytes_view stored) noexcept {
    // Stored layout (MQTT 5): header byte, Remaining Length, topic (u16 length + bytes), packet
    // identifier unless QoS 0, property length, properties, payload.
    std::uint32_t remaining = 0;
    std::size_t remaining_size = 0;
    if (read_varint(stored.subspan(1), remaining, remaining_size) != varint_status::ok) return write_bytes(stored);
    const std::size_t topic_at = 1 + remaining_size;
    const std::size_t topic_length = (std::size_t{stored[topic_at]} << 8) | stored[topic_at + 1];
    const std::size_t after_topic = topic_at + 2 + topic_length;
    const std::size_t id_length = (stored[0] & 0x06) != 0 ? 2 : 0;
    std::uint32_t props_length = 0;
    std::size_t props_length_size = 0;
    if (read_varint(stored.subspan(after_topic + id_length), props_length, props_length_size) != varint_status::ok)
      return write_bytes(stored);
    const std::size_t props_at = after_topic + id_length + props_length_size;
    const bytes_view rest = stored.subspan(props_at);  // the old properties, then the payload

    const std::uint32_t new_props_length = props_length + 3;
    const auto remaining_with = [&](bool send_topic) {
      return 2 + (send_topic ? topic_length : 0) + id_length + varint_size(new_props_length) + 3 + rest.size();
    };
    // The largest form is decided before the alias table records anything.
    const std::size_t largest_remaining = remaining_with(true);
    if (largest_remaining > max_varint) return write_bytes(stored);
    const std::size_t largest = detail::packet_size(static_cast<std::uint32_t>(largest_remaining));
    if (largest > broker_.maximum_packet_size) return write_bytes(stored);
    byte* at = reserve_out(largest);
    if (at == nullptr) return false;
    const std::string_view topic(reinterpret_cast<const char*>(stored.data() + topic_at + 2), topic_length);
    const auto choice = aliases_out_.choose(topic);
    if (choice.alias == 0) return write_bytes(stored);

    const auto new_remaining = static_cast<std::uint32_t>(remaining_with(choice.send_topic));
    const std::size_t size = detail::packet_size(new_remaining);
    byte_writer w({at, size});
    w.u8(stored[0]);
    write_varint(w, new_remaining);
    if (choice.send_topic) {
      w.raw(stored.subspan(topic_at, 2 + topic_length));
    } else {
      w.u16(0);
    }
    w.raw(stored.subspan(after_topic, id_length));
    write_varint(w, new_props_length);
    w.u8(static_cast<std::uint8_t>(property_id::topic_alias));
    w.u16(choice.alias);
    w.raw(rest);
    THINGWELL_ASSERT(w.written() == size);
    out_end_ += size;
    return true;
  }

  // Called on every output(): the table is only scanned when a request may be waiting.
  void flush_subscriptions() noexcept {
    if (!requests_pending_) return;
    flush_result r;
    while ((r = flush_requests(subscription_state::to_subscribe)) == flush_result::written) {
    }
    bool blocked = r == flush_result::blocked;
    while ((r = flush_requests(subscription_state::to_unsubscribe)) == flush_result::written) {
    }
    blocked = blocked || r == flush_result::blocked;
    requests_pending_ = blocked;
  }

  enum class flush_result : std::uint8_t { nothing_to_do, written, blocked };

  // Bundles up to the broker's filters-per-request of entries in `state` into one SUBSCRIBE or
  // UNSUBSCRIBE.
  flush_result flush_requests(subscription_state state) noexcept {
    const bool is_subscribe = state == subscription_state::to_subscribe;
    // Eight filters per request: AWS IoT's limit, and a bounded stack on small targets.
    constexpr std::size_t batch = 8;
    const std::size_t per_request = std::min<std::size_t>(config_.limits.max_filters_per_subscribe, batch);
    subscription items[batch];
    std::string_view filters[batch];
    std::size_t chosen[batch];
    std::size_t n = 0;
    for (std::size_t i = 0; i < subscriptions_.capacity() && n < per_request; ++i) {
      subscription_entry& e = subscriptions_[i];
      if (e.state != state) continue;
      items[n] = {e.filter(), e.options.max_qos, e.options.no_local, e.options.retain_as_published,
                  e.options.retain_handling};
      filters[n] = e.filter();
      chosen[n] = i;
      ++n;
    }
    if (n == 0) return flush_result::nothing_to_do;
    const std::uint16_t id = ids_.acquire();
    if (id == 0) return flush_result::blocked;
    bool written;
    if (is_subscribe) {
      mqtt::subscribe s;
      s.packet_id = id;
      s.subscriptions = std::span<const subscription>(items, n);
      written = write_packet(s);
    } else {
      mqtt::unsubscribe u;
      u.packet_id = id;
      u.filters = std::span<const std::string_view>(filters, n);
      written = write_packet(u);
    }
    if (!written) {
      ids_.release(id);
      return flush_result::blocked;
    }
    for (std::size_t k = 0; k < n; ++k) {
      subscription_entry& e = subscriptions_[chosen[k]];
      e.packet_id = id;
      e.state = is_subscribe ? subscription_state::awaiting_suback : subscription_state::awaiting_unsuback;
    }
    return flush_result::written;
  }

  // ---- reading -----------------------------------------------------------------------------------

  void process_input(time_point now) noexcept {
    input_paused_ = false;
    // During a graceful stop, packets already received (typically the PUBACKs of the last publishes)
    // are still processed; after a failure nothing more is trusted.
    while (reader_ && (state_ != connection_state::disconnecting || stopping_) &&
           state_ != connection_state::backing_off && state_ != connection_state::stopped &&
           state_ != connection_state::idle) {
      // Acknowledgements need room: stop reading (TCP pushes back on the broker) until there is.
      if (out_free() < control_reserve) {
        input_paused_ = true;
        return;
      }
      auto frame = reader_->next();
      if (!frame) {
        fail(now, frame.error(), disconnect_reason::protocol, true);
        return;
      }
      if (frame->empty()) return;
      ++metrics_.packets_received;
      handle_frame(*frame, now);
    }
  }

  void handle_frame(bytes_view frame, time_point now) noexcept {
    const auto type = static_cast<packet_type>(frame[0] >> 4);
    const protocol_version v = config_.version;
    if (state_ == connection_state::disconnecting) {
      // Our DISCONNECT is queued and nothing may follow it: only acknowledgements that need no
      // answer are taken (so the last publishes before stop() still complete).
      if (type == packet_type::puback) return on_puback(frame, now);
      if (type == packet_type::pubcomp) return on_pubcomp(frame, now);
      if (type == packet_type::suback) return on_suback(frame, now);
      if (type == packet_type::unsuback) return on_unsuback(frame, now);
      return;
    }
    if (state_ == connection_state::awaiting_connack) {
      if (type == packet_type::connack) {
        auto ack = decode_connack(frame, v);
        if (!ack) return fail(now, ack.error(), disconnect_reason::protocol, true);
        return on_connack(*ack, now);
      }
      if (type == packet_type::auth && v == protocol_version::v5) return on_auth(frame, now);
      if (type == packet_type::disconnect && v == protocol_version::v5) return on_server_disconnect(frame, now);
      return fail(now, errc::unexpected_packet, disconnect_reason::protocol, true);
    }
    switch (type) {
      case packet_type::publish: return on_publish(frame, now);
      case packet_type::puback: return on_puback(frame, now);
      case packet_type::pubrec: return on_pubrec(frame, now);
      case packet_type::pubrel: return on_pubrel(frame, now);
      case packet_type::pubcomp: return on_pubcomp(frame, now);
      case packet_type::suback: return on_suback(frame, now);
      case packet_type::unsuback: return on_unsuback(frame, now);
      case packet_type::pingresp: {
        auto r = decode_pingresp(frame);
        if (!r) return fail(now, r.error(), disconnect_reason::protocol, true);
        return;
      }
      case packet_type::disconnect: return on_server_disconnect(frame, now);
      case packet_type::auth:
        if (v == protocol_version::v5) return on_auth(frame, now);
        return fail(now, errc::bad_packet_type, disconnect_reason::protocol, true);
      case packet_type::connect:
      case packet_type::connack:
      case packet_type::subscribe:
      case packet_type::unsubscribe:
      case packet_type::pingreq:
        return fail(now, errc::unexpected_packet, disconnect_reason::protocol, true);
    }
    fail(now, errc::bad_packet_type, disconnect_reason::protocol, true);
  }

  void on_publish(bytes_view frame, time_point now) noexcept {
    auto decoded = decode_publish(frame, config_.version);
    if (!decoded) return fail(now, decoded.error(), disconnect_reason::protocol, true);
    mqtt::publish& p = *decoded;
    if (p.props.topic_alias) {
      if (auto ec = aliases_in_.resolve(*p.props.topic_alias, p.topic)) return fail(now, ec, disconnect_reason::protocol, true);
    }
    switch (p.qos) {
      case qos::at_most_once: deliver(p); break;
      case qos::at_least_once: {
        deliver(p);
        // A handler that stopped the session has queued DISCONNECT: nothing may follow it
        // [MQTT-3.14.4-1]. The broker redelivers the message to a resumed session.
        if (!connected_now()) return;
        puback ack;
        ack.packet_id = p.packet_id;
        (void)write_packet(ack);  // process_input keeps room for it
        break;
      }
      case qos::exactly_once: {
        const bool seen = inbound_qos2_contains(p.packet_id);
        if (!seen) {
          if (inbound_qos2_count_ == limits_.inbound_qos2)
            return fail(now, errc::receive_maximum_exceeded, disconnect_reason::protocol, true);
          inbound_qos2_[inbound_qos2_count_++] = p.packet_id;
          deliver(p);
          if (!connected_now()) return;  // as for QoS 1; the identifier stays recorded
        } else {
          ++metrics_.duplicates_ignored;
        }
        pubrec rec;
        rec.packet_id = p.packet_id;
        (void)write_packet(rec);
        break;
      }
    }
  }

  void deliver(const mqtt::publish& p) noexcept {
    ++metrics_.messages_received;
    bool handled = false;
    for (std::size_t i = 0; i < subscriptions_.capacity(); ++i) {
      subscription_entry& e = subscriptions_[i];
      if (!e.receives() || !e.handler || !topic_matches(e.filter(), p.topic)) continue;
      handled = true;
      const std::size_t outer = dispatching_;
      dispatching_ = i;
      e.handler(p);
      dispatching_ = outer;
    }
    if (!handled) observer_.on_message(p);
  }

  bool inbound_qos2_contains(std::uint16_t id) const noexcept {
    for (std::size_t i = 0; i < inbound_qos2_count_; ++i)
      if (inbound_qos2_[i] == id) return true;
    return false;
  }

  // In-flight records sit near the oldest end, so the scan usually stops at once.
  stored_message* find_in_flight(std::uint16_t id) noexcept { return store_.find(id, store_.size()); }

  void complete(stored_message& m, std::error_code ec) noexcept {
    if (m.packet_id != 0) ids_.release(m.packet_id);
    const token t = m.token;
    store_.complete(m);
    if (ec) ++metrics_.publishes_failed;
    else ++metrics_.publishes_acknowledged;
    if (tracker_) tracker_->on_publish_done(t, ec);
    observer_.on_publish_done(t, ec);
  }

  void on_puback(bytes_view frame, time_point now) noexcept {
    auto ack = decode_puback(frame, config_.version);
    if (!ack) return fail(now, ack.error(), disconnect_reason::protocol, true);
    stored_message* m = find_in_flight(ack->packet_id);
    if (m == nullptr || m->qos != qos::at_least_once || m->state != message_state::in_flight)
      return fail(now, errc::unknown_packet_id, disconnect_reason::protocol, true);
    --in_flight_;
    metrics_.in_flight = static_cast<std::uint32_t>(in_flight_);
    complete(*m, is_failure(ack->reason) ? make_error_code(ack->reason) : std::error_code{});
  }

  void on_pubrec(bytes_view frame, time_point now) noexcept {
    auto rec = decode_pubrec(frame, config_.version);
    if (!rec) return fail(now, rec.error(), disconnect_reason::protocol, true);
    stored_message* m = find_in_flight(rec->packet_id);
    if (m == nullptr || m->qos != qos::exactly_once)
      return fail(now, errc::unknown_packet_id, disconnect_reason::protocol, true);
    if (is_failure(rec->reason)) {  // MQTT 5: the exchange ends here
      --in_flight_;
      metrics_.in_flight = static_cast<std::uint32_t>(in_flight_);
      complete(*m, make_error_code(rec->reason));
      return;
    }
    if (m->state != message_state::released && tracker_) tracker_->on_released(m->token);
    m->state = message_state::released;  // a repeated PUBREC gets a repeated PUBREL
    pubrel rel;
    rel.packet_id = m->packet_id;
    if (!write_packet(rel)) {
      m->pubrel_pending = true;
      resend_needed_ = true;
    }
  }

  void on_pubrel(bytes_view frame, time_point now) noexcept {
    auto rel = decode_pubrel(frame, config_.version);
    if (!rel) return fail(now, rel.error(), disconnect_reason::protocol, true);
    pubcomp comp;
    comp.packet_id = rel->packet_id;
    bool known = false;
    for (std::size_t i = 0; i < inbound_qos2_count_; ++i) {
      if (inbound_qos2_[i] == rel->packet_id) {
        inbound_qos2_[i] = inbound_qos2_[--inbound_qos2_count_];
        known = true;
        break;
      }
    }
    if (!known && config_.version == protocol_version::v5) comp.reason = reason_code::packet_identifier_not_found;
    (void)write_packet(comp);
  }

  void on_pubcomp(bytes_view frame, time_point now) noexcept {
    auto comp = decode_pubcomp(frame, config_.version);
    if (!comp) return fail(now, comp.error(), disconnect_reason::protocol, true);
    stored_message* m = find_in_flight(comp->packet_id);
    if (m == nullptr || m->state != message_state::released)
      return fail(now, errc::unknown_packet_id, disconnect_reason::protocol, true);
    --in_flight_;
    metrics_.in_flight = static_cast<std::uint32_t>(in_flight_);
    m->pubrel_pending = false;
    complete(*m, is_failure(comp->reason) ? make_error_code(comp->reason) : std::error_code{});
  }

  void on_suback(bytes_view frame, time_point now) noexcept {
    auto ack = decode_suback(frame, config_.version);
    if (!ack) return fail(now, ack.error(), disconnect_reason::protocol, true);
    auto code = ack->reasons.begin();
    std::size_t matched = 0;
    for (std::size_t i = 0; i < subscriptions_.capacity(); ++i) {
      if (subscriptions_[i].state == subscription_state::awaiting_suback && subscriptions_[i].packet_id == ack->packet_id)
        ++matched;
    }
    if (matched == 0 || matched != ack->reasons.size())
      return fail(now, matched == 0 ? errc::unknown_packet_id : errc::protocol_error, disconnect_reason::protocol, true);
    ids_.release(ack->packet_id);
    for (std::size_t i = 0; i < subscriptions_.capacity(); ++i) {
      subscription_entry& e = subscriptions_[i];
      if (e.state != subscription_state::awaiting_suback || e.packet_id != ack->packet_id) continue;
      const reason_code rc = *code;
      ++code;
      e.packet_id = 0;
      const token t = e.subscribe_token;
      if (is_failure(rc)) subscriptions_.remove(e);
      else e.state = subscription_state::active;
      observer_.on_subscribe_done(t, rc);
    }
    if (restoring_ && state_ == connection_state::connected && !any_subscription(subscription_state::to_subscribe) &&
        !any_subscription(subscription_state::awaiting_suback)) {
      restoring_ = false;
      become_ready();
    }
  }

  void on_unsuback(bytes_view frame, time_point now) noexcept {
    auto ack = decode_unsuback(frame, config_.version);
    if (!ack) return fail(now, ack.error(), disconnect_reason::protocol, true);
    std::size_t matched = 0;
    for (std::size_t i = 0; i < subscriptions_.capacity(); ++i)
      if (subscriptions_[i].state == subscription_state::awaiting_unsuback && subscriptions_[i].packet_id == ack->packet_id)
        ++matched;
    if (matched == 0 || (config_.version == protocol_version::v5 && matched != ack->reasons.size()))
      return fail(now, matched == 0 ? errc::unknown_packet_id : errc::protocol_error, disconnect_reason::protocol, true);
    ids_.release(ack->packet_id);
    auto code = ack->reasons.begin();
    for (std::size_t i = 0; i < subscriptions_.capacity(); ++i) {
      subscription_entry& e = subscriptions_[i];
      if (e.state != subscription_state::awaiting_unsuback || e.packet_id != ack->packet_id) continue;
      reason_code rc = reason_code::success;
      if (config_.version == protocol_version::v5) {
        rc = *code;
        ++code;
      }
      const token t = e.unsubscribe_token;
      subscriptions_.remove(e);
      observer_.on_unsubscribe_done(t, rc);
    }
  }

  bool any_subscription(subscription_state s) const noexcept {
    for (std::size_t i = 0; i < subscriptions_.capacity(); ++i)
      if (subscriptions_[i].state == s) return true;
    return false;
  }

  void on_server_disconnect(bytes_view frame, time_point now) noexcept {
    auto d = decode_disconnect(frame, config_.version);
    if (!d) return fail(now, d.error(), disconnect_reason::protocol, false);
    // Reason 0x00 (normal disconnection) would make an error_code that tests false: the application
    // must still see why the connection ended.
    const std::error_code ec = config_.version == protocol_version::v5 && d->reason != reason_code::success
                                   ? make_error_code(d->reason)
                                   : make_error_code(errc::server_disconnected);
    const bool auth = d->reason == reason_code::not_authorized || d->reason == reason_code::bad_authentication_method ||
                      d->reason == reason_code::banned;
    fail(now, ec, auth ? disconnect_reason::auth : disconnect_reason::server, false);
  }

  void on_auth(bytes_view frame, time_point now) noexcept {
    auto a = decode_auth(frame, config_.version);
    if (!a) return fail(now, a.error(), disconnect_reason::protocol, true);
    if (a->reason != reason_code::continue_authentication)
      return fail(now, errc::protocol_error, disconnect_reason::protocol, true);
    const std::optional<bytes_view> answer = observer_.on_auth_challenge(*a);
    if (!answer) return fail(now, make_error_code(reason_code::bad_authentication_method), disconnect_reason::auth, true);
    auth reply;
    reply.reason = reason_code::continue_authentication;
    reply.props.authentication_method = config_.authentication_method;
    reply.props.authentication_data = *answer;
    if (!write_packet(reply)) fail(now, errc::buffer_too_small, disconnect_reason::protocol, true);
  }

  // ---- keep-alive --------------------------------------------------------------------------------

  duration keep_alive_interval() const noexcept { return duration{std::int64_t{broker_.keep_alive} * 1000}; }

  duration ping_timeout() const noexcept {
    if (config_.ping_timeout.count() > 0) return config_.ping_timeout;
    return std::max(keep_alive_interval() / 2, duration{1000});
  }

  bool ping_outstanding() const noexcept { return ping_sent_at_ != never && last_received_ < ping_sent_at_; }

  // A PINGREQ is due a keep-alive after the last packet we sent (MQTT's rule) or after the last byte
  // we received (so that a link that only carries our own QoS 0 publishes is still checked).
  time_point keep_alive_deadline() const noexcept {
    if (broker_.keep_alive == 0) return never;
    if (ping_outstanding()) return ping_sent_at_ + ping_timeout();
    return std::min(last_sent_, last_received_) + keep_alive_interval();
  }

  void keep_alive(time_point now) noexcept {
    if (broker_.keep_alive == 0) return;
    if (ping_outstanding()) {
      if (now >= ping_sent_at_ + ping_timeout()) fail(now, errc::keep_alive_timeout, disconnect_reason::keep_alive_timeout, false);
      return;
    }
    if (now >= std::min(last_sent_, last_received_) + keep_alive_interval()) {
      // The ping timer starts even when the output buffer is too full for PINGREQ: a transport that
      // has taken nothing for a whole keep-alive is as dead as a silent broker, and a deadline left in
      // the past would have the driver poll again and again at the same instant.
      if (write_packet(pingreq{})) ++metrics_.pings_sent;
      ping_sent_at_ = now;
      last_sent_ = now;  // counted when queued: a slow write must not trigger a second ping
    }
  }

  // QoS 0 messages queued while connected are not kept across a disconnect unless asked to.
  void drop_offline_qos0() noexcept {
    if (config_.queue_qos0_offline) return;
    // By record number: complete() reclaims and would shift indices under the loop (see restart_messages).
    const std::uint64_t end = store_.end_number();
    for (std::uint64_t n = store_.reclaimed(); n < end; ++n) {
      stored_message* m = store_.by_number(n);
      if (m != nullptr && m->qos == qos::at_most_once && m->state == message_state::queued) {
        ++metrics_.publishes_dropped;
        if (metrics_.queued > 0) --metrics_.queued;
        const token t = m->token;
        store_.complete(*m);
        if (tracker_) tracker_->on_publish_done(t, errc::not_connected);
        observer_.on_publish_done(t, errc::not_connected);
      }
    }
  }

  // ---- state ---------------------------------------------------------------------------------------

  session_config config_;
  session_limits limits_;
  session_observer& observer_;
  publish_tracker* tracker_ = nullptr;
  std::error_code construction_error_{};
  std::unique_ptr<byte[]> owned_memory_;

  // memory carved at construction
  byte* out_ = nullptr;
  std::size_t out_begin_ = 0;
  std::size_t out_end_ = 0;
  // The receive buffer: on the heap and growable on hosts, or fixed inside the session's block.
#if THINGWELL_HAS_EXCEPTIONS || THINGWELL_HAS_POSIX
  std::unique_ptr<dynamic_frame_reader> dynamic_reader_;
#endif
  std::optional<detail::fixed_frame_reader> fixed_reader_;
  frame_reader* reader_ = nullptr;
  bool input_paused_ = false;
  subscription_table subscriptions_;
  std::size_t subscriptions_constructed_ = 0;
  message_store store_;
  packet_id_pool ids_;
  std::uint16_t* inbound_qos2_ = nullptr;
  std::size_t inbound_qos2_count_ = 0;
  outbound_aliases aliases_out_;
  inbound_aliases aliases_in_;

  // connection
  connection_state state_ = connection_state::idle;
  bool want_open_ = false;
  bool want_close_ = false;
  bool flush_before_close_ = false;
  bool close_is_fatal_ = false;
  bool stopping_ = false;
  bool first_connection_ = true;
  bool restoring_ = false;
  bool resend_needed_ = false;
  bool backoff_connected_ = false;
  std::uint32_t attempt_ = 0;
  time_point connect_deadline_ = never;
  time_point close_deadline_ = never;
  time_point retry_at_ = never;
  time_point last_sent_{};
  time_point last_received_{};
  time_point ping_sent_at_ = never;
  time_point rate_blocked_until_ = never;
  time_point rate_now_{};
  bool requests_pending_ = false;  // a subscription entry may be waiting in to_subscribe / to_unsubscribe
  broker_capabilities broker_;
  char assigned_id_[128] = {};
  std::uint8_t assigned_id_length_ = 0;

  // messages
  std::uint64_t cursor_abs_ = 0;  // first record not yet transmitted, as an absolute record number
  std::size_t in_flight_ = 0;
  token last_token_ = 0;
  std::size_t dispatching_ = SIZE_MAX;

  backoff backoff_;
  backoff fatal_backoff_;
  xoshiro128 random_;
  token_bucket publish_bucket_;
  token_bucket byte_bucket_;
  session_metrics metrics_;
};

}  // namespace thingwell::mqtt
