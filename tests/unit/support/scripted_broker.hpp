// Deterministic session tests: a scripted in-memory broker, an in-memory transport driven by a manual
// clock, and a rig that wires them to a session.
//
//   session_testing::rig r(config);
//   r.start();                                       // the transport opens, CONNECT goes out
//   auto c = r.broker.expect<mqtt::connect>();       // decoded by thingwell's codec; views stay valid
//   r.broker.send(mqtt::connack{});                  // queued toward the session...
//   r.link.pump();                                   // ...and delivered; the session answers
//   CHECK(r.observer.take_names() == "connecting connected ready");
//   r.link.advance(60s);                             // runs every timer the session asks for
//
// Nothing here reads a real clock or sleeps: time moves only through the manual clock, so a test
// behaves the same on every machine and under sanitizers.
//
// Helpers report problems with FAIL_CHECK and return empty values instead of stopping: with
// -fno-exceptions doctest cannot abort a test case, so a helper must never leave the caller with a
// dangling view or a null pointer.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <thingwell/mqtt.hpp>
#include <thingwell/mqtt/session.hpp>

#include "allocation_counter.hpp"
#include "recording_observer.hpp"

namespace session_testing {

namespace mqtt = thingwell::mqtt;
using thingwell::byte;
using thingwell::bytes_view;
using thingwell::duration;
using thingwell::errc;
using thingwell::time_point;
using byte_vector = std::vector<byte>;
using namespace std::chrono_literals;

inline constexpr mqtt::protocol_version both_versions[] = {mqtt::protocol_version::v311, mqtt::protocol_version::v5};

inline std::string version_name(mqtt::protocol_version v) { return v == mqtt::protocol_version::v5 ? "v5" : "v3.1.1"; }

inline std::string hex(bytes_view b) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i != 0) out += ' ';
    out += digits[b[i] >> 4];
    out += digits[b[i] & 0x0F];
  }
  return out;
}

inline byte_vector bytes(std::initializer_list<int> values) {
  byte_vector out;
  for (int v : values) out.push_back(static_cast<byte>(v));
  return out;
}

inline bytes_view view(std::string_view s) { return thingwell::as_bytes(s); }
inline std::string text(bytes_view b) { return std::string(thingwell::as_string(b)); }

inline std::error_code reason(mqtt::reason_code rc) { return mqtt::make_error_code(rc); }
inline std::error_code error(errc e) { return thingwell::make_error_code(e); }

// The token of a successful publish/subscribe/unsubscribe; 0 (and a failed check) otherwise.
inline mqtt::token token_of(const thingwell::result<mqtt::token>& r) {
  if (!r) {
    FAIL_CHECK("the session refused: ", r.error().message());
    return 0;
  }
  return *r;
}

inline std::string name_of(const std::optional<mqtt::packet>& p) {
  return p ? std::string(mqtt::to_string(mqtt::type_of(*p))) : std::string("(undecodable)");
}

// ---- the broker ------------------------------------------------------------------------------------

// One packet the session wrote, decoded. `packet` holds views into `bytes`, which never move.
struct received_packet {
  byte_vector bytes;
  std::optional<mqtt::packet> packet;
  time_point at{};
  std::size_t connection = 0;  // 1 for the first transport connection, 2 for the next...
  bool auto_handled = false;
};

// Replies the broker sends by itself, for tests that are about something else.
struct auto_replies {
  bool connack = false;   // CONNECT → scripted_broker::connack_reply
  bool pingresp = false;  // PINGREQ → PINGRESP
  bool suback = false;    // SUBSCRIBE → SUBACK granting each filter its requested QoS
  bool unsuback = false;  // UNSUBSCRIBE → UNSUBACK (success for each filter in MQTT 5)
  bool puback = false;    // PUBLISH QoS 1 → PUBACK
  bool qos2 = false;      // PUBLISH QoS 2 → PUBREC, PUBREL → PUBCOMP; and our QoS 2 messages: PUBREC → PUBREL
};

class scripted_broker {
 public:
  explicit scripted_broker(mqtt::protocol_version version, const thingwell::manual_clock& clock)
      : version_(version), clock_(clock) {}

  mqtt::protocol_version version() const { return version_; }

  auto_replies replies;
  mqtt::connack connack_reply;  // what an automatic CONNACK says

  // Every packet the session wrote, across connections.
  const std::deque<received_packet>& history() const { return history_; }
  std::size_t connection() const { return connection_; }

  // ---- session → broker ----

  // Bytes the session wrote; whole packets are decoded and queued for expect().
  void receive(bytes_view data) {
    stream_.insert(stream_.end(), data.begin(), data.end());
    for (;;) {
      auto size = mqtt::scan_frame(stream_, mqtt::max_varint + 5);
      if (!size) {
        FAIL_CHECK("the session wrote bytes that are not MQTT: ", hex(stream_));
        stream_.clear();
        return;
      }
      if (*size == 0 || *size > stream_.size()) return;
      received_packet& r = history_.emplace_back();
      r.bytes.assign(stream_.begin(), stream_.begin() + static_cast<std::ptrdiff_t>(*size));
      stream_.erase(stream_.begin(), stream_.begin() + static_cast<std::ptrdiff_t>(*size));
      r.at = clock_.now();
      r.connection = connection_;
      auto decoded = mqtt::decode(r.bytes, version_);
      if (!decoded) {
        FAIL_CHECK("the session wrote a malformed packet (", decoded.error().message(), "): ", hex(r.bytes));
      } else {
        r.packet = std::move(*decoded);
      }
      r.auto_handled = r.packet && auto_reply(*r.packet);
      if (!r.auto_handled) pending_.push_back(history_.size() - 1);
    }
  }

  // The next packet the session wrote, which must be a P. On a mismatch the test fails and an empty
  // P comes back. The packet's views stay valid for the broker's lifetime.
  template <class P>
  P expect() {
    if (pending_.empty()) {
      FAIL_CHECK("expected ", std::string(mqtt::to_string(P::type)), " but the session wrote nothing more");
      return P{};
    }
    last_ = pending_.front();
    pending_.pop_front();
    const received_packet& r = history_[last_];
    if (r.packet) {
      if (const P* p = std::get_if<P>(&*r.packet)) return *p;
    }
    FAIL_CHECK("expected ", std::string(mqtt::to_string(P::type)), " but the session wrote ", name_of(r.packet), ": ", hex(r.bytes));
    return P{};
  }

  // The next packet the session wrote, whatever its type; nullptr when there is none.
  const received_packet* next() {
    if (pending_.empty()) return nullptr;
    last_ = pending_.front();
    pending_.pop_front();
    return &history_[last_];
  }

  // The bytes of the packet the last expect() returned.
  byte_vector last_bytes() const { return last_ < history_.size() ? history_[last_].bytes : byte_vector{}; }
  time_point last_time() const { return last_ < history_.size() ? history_[last_].at : time_point{}; }

  bool has_pending() const { return !pending_.empty(); }
  std::size_t pending_count() const { return pending_.size(); }

  // The types of the packets not yet expected, e.g. "PUBLISH PUBREL".
  std::string pending_names() const {
    std::string out;
    for (std::size_t i : pending_) {
      if (!out.empty()) out += ' ';
      out += name_of(history_[i].packet);
    }
    return out;
  }

  // Every pending packet must be a P; returns them all.
  template <class P>
  std::vector<P> expect_all() {
    std::vector<P> out;
    while (!pending_.empty()) out.push_back(expect<P>());
    return out;
  }

  void expect_nothing() {
    INFO("unexpected: ", pending_names());
    CHECK(pending_.empty());
  }

  // Forgets the packets not yet expected.
  void discard_pending() { pending_.clear(); }

  // Packets of one type in the history (auto-handled ones included).
  std::size_t count(mqtt::packet_type t) const {
    std::size_t n = 0;
    for (const received_packet& r : history_) n += r.packet && mqtt::type_of(*r.packet) == t;
    return n;
  }

  // ---- broker → session ----

  template <class P>
  void send(const P& p) {
    auto size = mqtt::encoded_size(p, version_);
    if (!size) {
      FAIL_CHECK("the test's ", std::string(mqtt::to_string(P::type)), " does not encode: ", size.error().message());
      return;
    }
    const std::size_t at = outbound_.size();
    outbound_.resize(at + *size);
    auto written = mqtt::encode(p, version_, thingwell::mutable_bytes(outbound_.data() + at, *size));
    if (!written) FAIL_CHECK("encode failed: ", written.error().message());
  }

  // Bytes exactly as given: for what the encoder refuses to produce.
  void send_raw(bytes_view data) { outbound_.insert(outbound_.end(), data.begin(), data.end()); }

  // What is waiting to go to the session, and taking it.
  bytes_view outbound() const { return bytes_view(outbound_).subspan(outbound_read_); }
  void consume(std::size_t n) {
    outbound_read_ += n;
    if (outbound_read_ == outbound_.size()) {
      outbound_.clear();
      outbound_read_ = 0;
    }
  }

  // Convenience senders.
  void send_publish(std::string_view topic, std::string_view payload, mqtt::qos q = mqtt::qos::at_most_once,
                    std::uint16_t id = 0, bool dup = false) {
    mqtt::publish p;
    p.topic = topic;
    p.payload = view(payload);
    p.qos = q;
    p.packet_id = id;
    p.dup = dup;
    send(p);
  }
  void send_puback(std::uint16_t id, mqtt::reason_code rc = mqtt::reason_code::success) { send(ack<mqtt::puback>(id, rc)); }
  void send_pubrec(std::uint16_t id, mqtt::reason_code rc = mqtt::reason_code::success) { send(ack<mqtt::pubrec>(id, rc)); }
  void send_pubrel(std::uint16_t id) { send(ack<mqtt::pubrel>(id, mqtt::reason_code::success)); }
  void send_pubcomp(std::uint16_t id) { send(ack<mqtt::pubcomp>(id, mqtt::reason_code::success)); }
  void send_suback(std::uint16_t id, std::initializer_list<mqtt::reason_code> codes) {
    const std::vector<mqtt::reason_code> list(codes);
    mqtt::suback s;
    s.packet_id = id;
    s.reasons = std::span<const mqtt::reason_code>(list);
    send(s);
  }
  // A SUBACK granting what `s` asked for.
  void grant(const mqtt::subscribe& s) {
    std::vector<mqtt::reason_code> codes;
    for (const mqtt::subscription& sub : s.subscriptions) codes.push_back(static_cast<mqtt::reason_code>(sub.max_qos));
    mqtt::suback a;
    a.packet_id = s.packet_id;
    a.reasons = std::span<const mqtt::reason_code>(codes);
    send(a);
  }
  void send_connack(bool session_present = false, mqtt::reason_code rc = mqtt::reason_code::success) {
    mqtt::connack c;
    c.session_present = session_present;
    c.reason = rc;
    send(c);
  }

  // ---- the transport around it ----

  void connection_opened() {
    ++connection_;
    stream_.clear();
    outbound_.clear();
    outbound_read_ = 0;
  }
  void connection_closed() {
    stream_.clear();
    outbound_.clear();
    outbound_read_ = 0;
  }

 private:
  template <class A>
  static A ack(std::uint16_t id, mqtt::reason_code rc) {
    A a;
    a.packet_id = id;
    a.reason = rc;
    return a;
  }

  bool auto_reply(const mqtt::packet& p) {
    if (const auto* c = std::get_if<mqtt::connect>(&p)) {
      (void)c;
      if (!replies.connack) return false;
      send(connack_reply);
      return true;
    }
    if (std::holds_alternative<mqtt::pingreq>(p)) {
      if (!replies.pingresp) return false;
      send(mqtt::pingresp{});
      return true;
    }
    if (const auto* s = std::get_if<mqtt::subscribe>(&p)) {
      if (!replies.suback) return false;
      grant(*s);
      return true;
    }
    if (const auto* u = std::get_if<mqtt::unsubscribe>(&p)) {
      if (!replies.unsuback) return false;
      std::vector<mqtt::reason_code> codes(version_ == mqtt::protocol_version::v5 ? u->filters.size() : 0,
                                           mqtt::reason_code::success);
      mqtt::unsuback a;
      a.packet_id = u->packet_id;
      a.reasons = std::span<const mqtt::reason_code>(codes);
      send(a);
      return true;
    }
    if (const auto* pub = std::get_if<mqtt::publish>(&p)) {
      if (pub->qos == mqtt::qos::at_least_once && replies.puback) {
        send_puback(pub->packet_id);
        return true;
      }
      if (pub->qos == mqtt::qos::exactly_once && replies.qos2) {
        send_pubrec(pub->packet_id);
        return true;
      }
      return pub->qos == mqtt::qos::at_most_once && (replies.puback || replies.qos2);
    }
    if (const auto* rel = std::get_if<mqtt::pubrel>(&p)) {
      if (!replies.qos2) return false;
      send_pubcomp(rel->packet_id);
      return true;
    }
    if (const auto* rec = std::get_if<mqtt::pubrec>(&p)) {
      if (!replies.qos2) return false;
      send_pubrel(rec->packet_id);
      return true;
    }
    if (std::holds_alternative<mqtt::puback>(p) || std::holds_alternative<mqtt::pubcomp>(p))
      return replies.puback || replies.qos2;  // nothing to answer
    return false;
  }

  mqtt::protocol_version version_;
  const thingwell::manual_clock& clock_;
  byte_vector stream_;  // bytes from the session not yet forming a whole packet
  std::deque<received_packet> history_;
  std::deque<std::size_t> pending_;
  std::size_t last_ = SIZE_MAX;
  byte_vector outbound_;
  std::size_t outbound_read_ = 0;
  std::size_t connection_ = 0;
};

// ---- the transport and the driver ------------------------------------------------------------------

// Does what a real driver does (net/poll_client.hpp): honours transport_wanted(), moves bytes both
// ways, and runs the session's timers, but over memory and a manual clock. Every session call it makes
// is counted by the allocation counter.
class driver {
 public:
  enum class open_behaviour { accept, refuse, hold };

  driver(mqtt::session& s, scripted_broker& b, thingwell::manual_clock& c) : session_(s), broker_(b), clock_(c) {}

  open_behaviour on_open = open_behaviour::accept;
  std::error_code refuse_with = error(errc::connection_refused);
  std::size_t write_limit = SIZE_MAX;  // bytes the transport takes per write
  bool stall_writes = false;           // the transport takes nothing (a full socket buffer)
  std::size_t read_limit = SIZE_MAX;   // bytes handed to the session per read
  bool stall_reads = false;            // nothing arrives from the network

  std::size_t opens = 0;
  std::size_t refusals = 0;
  std::size_t closes = 0;
  std::size_t session_allocations = 0;  // heap allocations made inside session calls

  // Runs `f` as a session call: its heap allocations are counted.
  template <class F>
  decltype(auto) in_session(F&& f) {
    const allocation_scope scope;
    struct add_on_exit {
      driver& d;
      const allocation_scope& s;
      ~add_on_exit() { d.session_allocations += s.count(); }
    } guard{*this, scope};
    return f();
  }

  bool is_open() const { return open_; }
  bool open_requested() const { return holding_; }

  // A held open finishes now.
  void complete_open() {
    if (!holding_) {
      FAIL_CHECK("no transport open is waiting");
      return;
    }
    holding_ = false;
    do_open();
    pump();
  }
  void fail_open(std::error_code ec) {
    if (!holding_) {
      FAIL_CHECK("no transport open is waiting");
      return;
    }
    holding_ = false;
    ++refusals;
    in_session([&] { session_.transport_closed(ec, clock_.now()); });
    pump();
  }

  // The network fails under the session.
  void drop(std::error_code ec = error(errc::connection_reset)) {
    if (!open_) {
      FAIL_CHECK("drop() without an open transport");
      return;
    }
    open_ = false;
    broker_.connection_closed();
    in_session([&] { session_.transport_closed(ec, clock_.now()); });
    pump();
  }

  // Moves bytes and honours transport requests until nothing changes.
  void pump() {
    for (std::size_t round = 0;; ++round) {
      if (round > 1'000'000) {
        FAIL_CHECK("the session and the transport never settle");
        return;
      }
      bool progress = false;
      const mqtt::transport_request wanted = in_session([&] { return session_.transport_wanted(); });
      if (wanted == mqtt::transport_request::open && !open_ && !holding_) {
        progress = true;
        switch (on_open) {
          case open_behaviour::accept: do_open(); break;
          case open_behaviour::refuse:
            ++refusals;
            in_session([&] { session_.transport_closed(refuse_with, clock_.now()); });
            break;
          case open_behaviour::hold: holding_ = true; break;
        }
      } else if (wanted == mqtt::transport_request::open && open_) {
        FAIL_CHECK("the session asks to open a transport that is open");
        return;
      } else if (wanted == mqtt::transport_request::close) {
        progress = true;
        ++closes;
        holding_ = false;
        if (open_) {
          open_ = false;
          broker_.connection_closed();
        }
        in_session([&] { session_.transport_closed({}, clock_.now()); });
      }
      if (open_) progress |= write_step();
      if (open_) progress |= read_step();
      if (!progress) return;
    }
  }

  // Runs the session's timers up to now + d, moving bytes after each.
  void advance(duration d) { advance_to(clock_.now() + d); }

  void advance_to(time_point end) {
    advance_until(end, [] { return false; });
  }

  // Like advance_to(), but stops as soon as `done()` holds after the bytes have moved. Returns done().
  template <class Predicate>
  bool advance_until(time_point end, Predicate done) {
    std::size_t same_instant = 0;
    pump();
    if (done()) return true;
    for (;;) {
      time_point next = std::min(in_session([&] { return session_.next_deadline(); }), end);
      if (next < clock_.now()) next = clock_.now();
      if (next == clock_.now()) {
        if (++same_instant > 10'000) {
          FAIL_CHECK("the session keeps asking to be polled at the same instant: ",
                     (next.time_since_epoch()).count(), " ms");
          return done();
        }
      } else {
        same_instant = 0;
      }
      clock_.set(next);
      in_session([&] { session_.poll(clock_.now()); });
      pump();
      if (done()) return true;
      if (clock_.now() >= end && in_session([&] { return session_.next_deadline(); }) > end) return false;
    }
  }

  // One poll at the current time, then pump.
  void poll() {
    in_session([&] { session_.poll(clock_.now()); });
    pump();
  }

 private:
  void do_open() {
    open_ = true;
    ++opens;
    broker_.connection_opened();
    in_session([&] { session_.transport_opened(clock_.now()); });
  }

  bool write_step() {
    if (stall_writes) return false;
    const bytes_view out = in_session([&] { return session_.output(clock_.now()); });
    const std::size_t n = std::min(out.size(), write_limit);
    if (n == 0) return false;  // write_limit 0: asked for output, but the transport takes nothing
    broker_.receive(out.first(n));
    in_session([&] { session_.output_sent(n, clock_.now()); });
    return true;
  }

  bool read_step() {
    if (stall_reads) return false;
    bool moved = false;
    while (open_ && !broker_.outbound().empty()) {
      const thingwell::mutable_bytes space = in_session([&] { return session_.input_space(); });
      if (space.empty()) break;
      const bytes_view from = broker_.outbound();
      const std::size_t n = std::min({space.size(), from.size(), read_limit});
      std::memcpy(space.data(), from.data(), n);
      broker_.consume(n);
      in_session([&] { session_.input_received(n, clock_.now()); });
      moved = true;
    }
    return moved;
  }

  mqtt::session& session_;
  scripted_broker& broker_;
  thingwell::manual_clock& clock_;
  bool open_ = false;
  bool holding_ = false;
};

// ---- the rig ---------------------------------------------------------------------------------------

// A session with a recording observer, wired through a driver to a scripted broker of the same version.
// Time starts far from zero so that nothing passes only because a field defaults to time zero.
class rig {
 public:
  explicit rig(const mqtt::session_config& config, const mqtt::session_limits& limits = {}, bool caller_memory = false,
               std::uint64_t seed = 1)
      : clock(time_point{duration{1'000'000}}),
        memory(caller_memory ? mqtt::session::memory_needed(limits) : 0),
        session(config, observer, limits, thingwell::mutable_bytes(memory), seed),
        broker(config.version, clock),
        link(session, broker, clock) {}

  thingwell::manual_clock clock;
  recording_observer observer;
  std::vector<byte> memory;
  mqtt::session session;
  scripted_broker broker;
  driver link;

  time_point now() const { return clock.now(); }

  // start(): the transport opens and CONNECT goes out.
  void start() {
    const std::error_code ec = link.in_session([&] { return session.start(now()); });
    REQUIRE_MESSAGE(!ec, "start() failed: ", ec.message());
    link.pump();
  }

  // Answers the pending CONNECT with `ack`; returns that CONNECT.
  mqtt::connect accept(const mqtt::connack& ack = {}) {
    const mqtt::connect c = broker.expect<mqtt::connect>();
    broker.send(ack);
    link.pump();
    return c;
  }
  mqtt::connect accept(bool session_present) {
    mqtt::connack ack;
    ack.session_present = session_present;
    return accept(ack);
  }

  // Runs timers until the session has written something (e.g. the CONNECT of its next attempt).
  bool await_packet(duration limit = 600s) {
    const bool ok = link.advance_until(now() + limit, [&] { return broker.has_pending(); });
    if (!ok) FAIL_CHECK("the session wrote nothing within ", limit.count(), " ms");
    return ok;
  }

  // start() and accept(): a session that is connected (and ready, without subscriptions to restore).
  mqtt::connect connect(const mqtt::connack& ack = {}) {
    start();
    return accept(ack);
  }

  // Publishes through the driver's allocation counting.
  thingwell::result<mqtt::token> publish(std::string_view topic, std::string_view payload,
                                         mqtt::qos q = mqtt::qos::at_most_once, bool retain = false) {
    mqtt::publish_options o;
    o.qos = q;
    o.retain = retain;
    auto t = link.in_session([&] { return session.publish(topic, view(payload), o); });
    link.pump();
    return t;
  }
};

// A configuration most tests start from: a client id, a 60 s keep-alive, reconnect delays without
// jitter so that they can be asserted exactly.
inline mqtt::session_config basic_config(mqtt::protocol_version v) {
  mqtt::session_config c;
  c.version = v;
  c.client_id = "thing-1";
  c.keep_alive = 60;
  c.reconnect = thingwell::backoff_config{.base = duration{1000}, .cap = duration{64000}, .floor = duration{0},
                                          .reset_after = duration{30000}, .mode = thingwell::jitter::none};
  return c;
}

// The reason byte of an MQTT 5 DISCONNECT, or -1 when it has none (it then means 0x00).
inline int disconnect_reason_byte(const byte_vector& frame) {
  return frame.size() >= 3 ? frame[2] : -1;
}

}  // namespace session_testing
