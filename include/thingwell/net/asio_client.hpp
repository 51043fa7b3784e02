// thingwell — the Asio driver: an MQTT client for Linux devices, gateways and servers.
//
//   asio::io_context io;
//   net::asio_client<net::asio_tcp> client{io.get_executor(), options};
//   client.async_connect([&](std::error_code ec) {
//     client.async_publish("dt/demo", as_bytes("hello"), {.qos = mqtt::qos::at_least_once},
//                          [](std::error_code ec) { /* PUBACK received, or why not */ });
//   });
//   io.run();
//
// Every operation takes an Asio completion token: a callback, asio::use_future, asio::use_awaitable.
// The client lives on a strand; its methods may be called from any thread. Reconnection with backoff
// runs on its own; operations wait across reconnects (QoS 1/2 messages are stored and resent).
#pragma once

#include "../core/config.hpp"

#if THINGWELL_WITH_ASIO

#include <asio/async_result.hpp>
#include <asio/bind_allocator.hpp>
#include <asio/io_context.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../core/clock.hpp"
#include "../mqtt/session.hpp"
#include "asio_tcp.hpp"
#include "completion.hpp"
#include "handler_memory.hpp"
#include "pending_table.hpp"

namespace thingwell::net {

// Everything a client needs, owned (unlike session_config, whose strings are views).
struct client_options {
  std::string host = "localhost";
  std::uint16_t port = 1883;
  std::string client_id;
  std::optional<std::string> username;
  std::optional<std::string> password;
  mqtt::protocol_version version = mqtt::protocol_version::v5;
  std::uint16_t keep_alive = 60;
  mqtt::session_mode mode = mqtt::session_mode::clean;
  std::uint32_t session_expiry = 0;
  struct will_options {
    std::string topic;
    std::string payload;
    mqtt::qos qos = mqtt::qos::at_least_once;
    bool retain = false;
    std::uint32_t delay_interval = 0;  // MQTT 5: seconds before the broker publishes it
  };
  std::optional<will_options> will;
  mqtt::broker_limits limits = mqtt::mqtt_spec_limits;
  backoff_config reconnect{};
  std::optional<backoff_config> fatal_reconnect;  // default: the session's slow path
  duration connect_timeout{10000};
  bool auto_reconnect = true;
  bool queue_qos0_offline = false;
  bool auto_topic_aliases = true;  // MQTT 5: shorter packets for repeated topics, a little more CPU
  mqtt::session_limits memory{};
};

template <class Stream = asio_tcp>
class asio_client {
 public:
  // A strand, type-erased. Over an io_context it is a strand of the io_context's own executor, which
  // fits any_io_executor's small buffer: starting an operation then never allocates.
  using executor_type = asio::any_io_executor;
  using message = mqtt::publish;
  using message_callback = std::function<void(const message&)>;

  template <class... StreamArgs>
  asio_client(asio::any_io_executor ex, client_options options, StreamArgs&&... stream_args)
      : strand_(make_strand_for(ex)), options_(std::move(options)), timer_(strand_),
        stream_factory_([this, args = std::make_tuple(std::forward<StreamArgs>(stream_args)...)]() {
          return std::apply([this](const auto&... a) { return std::make_unique<Stream>(strand_, a...); }, args);
        }),
        bridge_(*this), session_(make_session_config(), bridge_, options_.memory) {}

  asio_client(const asio_client&) = delete;
  asio_client& operator=(const asio_client&) = delete;
  ~asio_client() {
    if (conn_) conn_->stream->close();
    timer_.cancel();
  }

  executor_type get_executor() const noexcept { return strand_; }

  // Lifecycle events (connecting, connected, disconnected, backoff...) are forwarded here as well.
  void set_observer(mqtt::session_observer* observer) {
    asio::dispatch(strand_, [this, observer] { user_observer_ = observer; });
  }

  // Messages that no subscription handler matched.
  void set_default_handler(message_callback handler) {
    asio::dispatch(strand_, [this, h = std::move(handler)]() mutable { default_handler_ = std::move(h); });
  }

  // Starts the client. Completes on the first "ready" (connected, subscriptions in place) or with the
  // first attempt's error; reconnection goes on in the background either way until disconnect.
  template <class Token>
  auto async_connect(Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this](auto handler) {
          asio::dispatch(strand_, [this, h = std::move(handler)]() mutable {
            connect_waiters_.emplace_back(std::move(h), strand_, detail::complete_with_error{});
            if (session_.state() == mqtt::connection_state::ready) return finish_connect_waiters({});
            if (session_.state() == mqtt::connection_state::idle || session_.state() == mqtt::connection_state::stopped) {
              if (auto ec = session_.start(now())) return finish_connect_waiters(ec);
            }
            pump();
          });
        },
        token);
  }

  // Publishes. QoS 0 completes once the message is accepted for sending; QoS 1/2 when the broker
  // acknowledged it (with the MQTT 5 reason code as error if it refused). The payload is copied before
  // this returns when called on the client's strand, otherwise before the call is queued.
  template <class Token>
  auto async_publish(std::string_view topic, bytes_view payload, mqtt::publish_options options, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this, topic, payload, options = std::move(options)](auto handler) mutable {
          if (on_strand()) {
            do_publish(topic, payload, options, std::move(handler));
            return;
          }
          // Off-strand: the caller's views may die before the strand runs; copy them (one allocation).
          auto copy = std::make_shared<std::pair<std::string, std::vector<byte>>>(std::string(topic),
                                                                                   std::vector<byte>(payload.begin(), payload.end()));
          asio::post(strand_, [this, copy, options = std::move(options), h = std::move(handler)]() mutable {
            do_publish(copy->first, copy->second, options, std::move(h));
          });
        },
        token);
  }

  template <class Token>
  auto async_publish(std::string_view topic, std::string_view payload, mqtt::publish_options options, Token&& token) {
    return async_publish(topic, as_bytes(payload), std::move(options), std::forward<Token>(token));
  }

  // Subscribes; the handler receives every matching message (views valid during the call). Completes
  // with the broker's reason code (granted QoS, or the failure).
  template <class Token>
  auto async_subscribe(std::string filter, message_callback on_message, mqtt::subscribe_options options, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, mqtt::reason_code)>(
        [this, filter = std::move(filter), options = std::move(options), cb = std::move(on_message)](auto handler) mutable {
          asio::dispatch(strand_, [this, filter = std::move(filter), options = std::move(options), cb = std::move(cb),
                                   h = std::move(handler)]() mutable {
            // The callback lives in a list (stable address); the session holds a small handler pointing at it.
            callbacks_.push_front(std::move(cb));
            auto it = callbacks_.begin();
            auto r = session_.subscribe(filter, [f = &*it](const mqtt::publish& p) { (*f)(p); }, options);
            if (!r) {
              callbacks_.erase(it);
              detail::completion c(std::move(h), strand_, detail::complete_with_reason{});
              c.complete(r.error(), mqtt::reason_code::unspecified_error);
              return;
            }
            callback_for_[filter] = it;
            pending_.insert(*r, detail::completion(std::move(h), strand_, detail::complete_with_reason{}));
            request_pump();
          });
        },
        token);
  }

  template <class Token>
  auto async_unsubscribe(std::string filter, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, mqtt::reason_code)>(
        [this, filter = std::move(filter)](auto handler) mutable {
          asio::dispatch(strand_, [this, filter = std::move(filter), h = std::move(handler)]() mutable {
            auto r = session_.unsubscribe(filter);
            if (!r) {
              detail::completion c(std::move(h), strand_, detail::complete_with_reason{});
              c.complete(r.error(), mqtt::reason_code::unspecified_error);
              return;
            }
            // The session may have completed it already (nothing to tell the broker).
            if (auto done = early_done_.find(*r); done != early_done_.end()) {
              detail::completion c(std::move(h), strand_, detail::complete_with_reason{});
              c.complete({}, done->second);
              early_done_.erase(done);
            } else {
              pending_.insert(*r, detail::completion(std::move(h), strand_, detail::complete_with_reason{}));
            }
            release_callback(filter);
            request_pump();
          });
        },
        token);
  }

  // Graceful stop: queued data and DISCONNECT are written, the connection closes, no reconnect.
  // Completes when the client is stopped.
  template <class Token>
  auto async_disconnect(Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this](auto handler) {
          asio::dispatch(strand_, [this, h = std::move(handler)]() mutable {
            stop_waiters_.emplace_back(std::move(h), strand_, detail::complete_with_error{});
            if (session_.state() == mqtt::connection_state::stopped || session_.state() == mqtt::connection_state::idle)
              return finish_stop_waiters();
            session_.stop(now());
            pump();
          });
        },
        token);
  }

  // Direct access for code running on the client's strand (metrics, state, capabilities).
  mqtt::session& session() noexcept { return session_; }

  // On the strand, after calling session() directly (session().publish(), store::asio_outbox): the
  // session may have something to send now, which the I/O loop only looks for after its own events.
  // Runs the loop once, in a later turn of the strand (several calls in one turn share that run).
  void wake() { request_pump(); }
  const mqtt::session_metrics& metrics() const noexcept { return session_.metrics(); }

 private:
  // Observer bridging session events to completions and the user's observer.
  struct bridge_observer final : mqtt::session_observer {
    explicit bridge_observer(asio_client& c) : client(c) {}
    void on_connecting(std::uint32_t a) override {
      if (client.user_observer_) client.user_observer_->on_connecting(a);
    }
    void on_connected(const mqtt::connected_event& e) override {
      if (client.user_observer_) client.user_observer_->on_connected(e);
    }
    void on_ready() override {
      if (client.user_observer_) client.user_observer_->on_ready();
      client.finish_connect_waiters({});
    }
    void on_connect_failed(const mqtt::connect_failed_event& e) override {
      if (client.user_observer_) client.user_observer_->on_connect_failed(e);
      client.finish_connect_waiters(e.error);
    }
    void on_disconnected(const mqtt::disconnected_event& e) override {
      if (client.user_observer_) client.user_observer_->on_disconnected(e);
    }
    void on_backoff(const mqtt::backoff_event& e) override {
      if (client.user_observer_) client.user_observer_->on_backoff(e);
    }
    void on_stopped() override {
      if (client.user_observer_) client.user_observer_->on_stopped();
      client.finish_connect_waiters(make_error_code(errc::cancelled));
      client.finish_stop_waiters();
    }
    void on_message(const mqtt::publish& p) override {
      if (client.default_handler_) client.default_handler_(p);
      else if (client.user_observer_) client.user_observer_->on_message(p);
    }
    void on_publish_done(mqtt::token t, std::error_code ec) override {
      if (client.user_observer_) client.user_observer_->on_publish_done(t, ec);
      client.complete(t, ec, ec ? mqtt::reason_code::unspecified_error : mqtt::reason_code::success);
    }
    void on_subscribe_done(mqtt::token t, mqtt::reason_code rc) override {
      if (client.user_observer_) client.user_observer_->on_subscribe_done(t, rc);
      client.complete(t, mqtt::is_failure(rc) ? make_error_code(rc) : std::error_code{}, rc);
    }
    void on_unsubscribe_done(mqtt::token t, mqtt::reason_code rc) override {
      if (client.user_observer_) client.user_observer_->on_unsubscribe_done(t, rc);
      if (!client.complete(t, mqtt::is_failure(rc) ? make_error_code(rc) : std::error_code{}, rc))
        client.early_done_[t] = rc;
    }
    std::optional<bytes_view> on_auth_challenge(const mqtt::auth& a) override {
      return client.user_observer_ ? client.user_observer_->on_auth_challenge(a) : std::nullopt;
    }
    asio_client& client;
  };

  static asio::any_io_executor make_strand_for(const asio::any_io_executor& ex) {
    if (const auto* io = ex.target<asio::io_context::executor_type>()) return asio::make_strand(*io);
    return asio::make_strand(ex);
  }

  bool on_strand() const noexcept {
    using io_strand = asio::strand<asio::io_context::executor_type>;
    if (const auto* s = strand_.target<io_strand>()) return s->running_in_this_thread();
    if (const auto* s = strand_.target<asio::strand<asio::any_io_executor>>()) return s->running_in_this_thread();
    return false;
  }

  mqtt::session_config make_session_config() {
    mqtt::session_config c;
    c.version = options_.version;
    c.client_id = options_.client_id;
    if (options_.username) c.username = *options_.username;
    if (options_.password) c.password = as_bytes(*options_.password);
    c.keep_alive = options_.keep_alive;
    c.mode = options_.mode;
    c.session_expiry = options_.session_expiry;
    c.connect_timeout = options_.connect_timeout;
    if (options_.will) {
      mqtt::will_message w;
      w.topic = options_.will->topic;
      w.payload = as_bytes(options_.will->payload);
      w.qos = options_.will->qos;
      w.retain = options_.will->retain;
      if (options_.will->delay_interval != 0 && options_.version == mqtt::protocol_version::v5)
        w.props.will_delay_interval = options_.will->delay_interval;
      c.will = w;
    }
    c.limits = options_.limits;
    c.reconnect = options_.reconnect;
    if (options_.fatal_reconnect) c.fatal_reconnect = *options_.fatal_reconnect;
    c.auto_reconnect = options_.auto_reconnect;
    c.queue_qos0_offline = options_.queue_qos0_offline;
    c.auto_topic_aliases = options_.auto_topic_aliases;
    return c;
  }

  static time_point now() noexcept { return system_clock{}.now(); }

  template <class Handler>
  void do_publish(std::string_view topic, bytes_view payload, const mqtt::publish_options& options, Handler&& handler) {
    auto r = session_.publish(topic, payload, options);
    detail::completion c(std::forward<Handler>(handler), strand_, detail::complete_with_error{});
    if (!r) {
      c.complete(r.error());
      return;
    }
    if (options.qos == mqtt::qos::at_most_once) finish_later(std::move(c), {}, mqtt::reason_code::success);
    else pending_.insert(*r, std::move(c));
    request_pump();
  }

  // Completions found while processing input are run together in one later turn of the strand:
  // one post per batch instead of one per acknowledgement.
  bool complete(mqtt::token t, std::error_code ec, mqtt::reason_code rc) {
    detail::completion c;
    if (!pending_.take(t, c)) return false;
    finish_later(std::move(c), ec, rc);
    return true;
  }

  void finish_later(detail::completion c, std::error_code ec, mqtt::reason_code rc) {
    finished_.push_back({std::move(c), ec, rc});
    if (!finish_posted_) {
      finish_posted_ = true;
      asio::post(strand_, [this] { run_finished(); });
    }
  }

  void run_finished() {
    finish_posted_ = false;
    std::swap(finished_, running_);  // both keep their capacity: no allocation in steady state
    for (auto& f : running_) f.handler.complete_on(strand_, f.error, f.reason);
    running_.clear();
  }

  // Operations started in one turn of the strand share one write: the pump runs once, at the end.
  void request_pump() {
    if (pump_requested_) return;
    pump_requested_ = true;
    asio::post(strand_, [this] {
      pump_requested_ = false;
      pump();
    });
  }

  void finish_connect_waiters(std::error_code ec) {
    auto waiters = std::move(connect_waiters_);
    connect_waiters_.clear();
    for (auto& w : waiters) w.complete(ec);
  }

  void finish_stop_waiters() {
    auto waiters = std::move(stop_waiters_);
    stop_waiters_.clear();
    for (auto& w : waiters) w.complete({});
    // Operations still waiting for an acknowledgement will not get one from this connection.
    pending_.drain([](detail::completion& c) { c.complete(make_error_code(errc::cancelled), mqtt::reason_code::unspecified_error); });
  }

  void release_callback(const std::string& filter) {
    if (auto it = callback_for_.find(filter); it != callback_for_.end()) {
      retired_callbacks_.splice(retired_callbacks_.end(), callbacks_, it->second);
      callback_for_.erase(it);
    }
  }

  // ---- the I/O loop (always on the strand) -------------------------------------------------------

  // One network connection: its stream and what is in flight on it. Handlers of a closed connection
  // find `closed` set and do nothing.
  struct connection {
    std::unique_ptr<Stream> stream;
    detail::handler_memory read_memory;
    detail::handler_memory write_memory;
    bool opening = false;
    bool writing = false;
    bool reading = false;
    bool closed = false;
  };

  void pump() {
    const time_point t = now();
    switch (session_.transport_wanted()) {
      case mqtt::transport_request::open:
        if (!conn_ || conn_->closed) open_connection();
        break;
      case mqtt::transport_request::close:
        close_connection();
        session_.transport_closed({}, t);
        break;
      case mqtt::transport_request::none: break;
    }
    if (conn_ && !conn_->closed && !conn_->opening) start_write(t);
    if (conn_ && !conn_->closed && !conn_->opening) start_read();
    arm_timer();
    // A retired callback may be the one running right now (unsubscribe from inside a handler): free
    // them only outside message delivery.
    if (delivering_ == 0 && !retired_callbacks_.empty()) retired_callbacks_.clear();
  }

  void open_connection() {
    conn_ = std::make_shared<connection>();
    conn_->stream = stream_factory_();
    conn_->opening = true;
    auto c = conn_;
    // Stream handlers run on the strand: the stream was made with it.
    c->stream->async_open(options_.host, options_.port, [this, c](std::error_code ec) {
      if (c->closed) return;
      c->opening = false;
      if (ec) {
        c->closed = true;
        c->stream->close();
        session_.transport_closed(ec, now());
      } else {
        session_.transport_opened(now());
      }
      pump();
    });
  }

  void close_connection() {
    if (!conn_) return;
    conn_->closed = true;
    conn_->stream->close();
    // Keep the stream alive until its cancelled handlers have run.
    retired_connections_.push_back(conn_);
    conn_.reset();
    if (retired_connections_.size() > 4) retired_connections_.erase(retired_connections_.begin());
  }

  void lost(const std::shared_ptr<connection>& c, std::error_code ec) {
    if (c->closed) return;
    close_connection();
    session_.transport_closed(ec, now());
  }

  void start_write(time_point t) {
    if (conn_->writing) return;
    const bytes_view out = session_.output(t);
    if (out.empty()) return;
    conn_->writing = true;
    auto c = conn_;
    auto alloc = detail::handler_allocator<void>(c->write_memory);
    c->stream->async_write(out, asio::bind_allocator(alloc, [this, c](std::error_code ec, std::size_t n) {
      c->writing = false;
      if (c->closed) return;
      if (ec) return lost(c, ec), pump();
      session_.output_sent(n, now());
      pump();
    }));
  }

  void start_read() {
    if (conn_->reading) return;
    const mutable_bytes space = session_.input_space();
    if (space.empty()) return;  // back-pressure: resumes once output drains
    conn_->reading = true;
    auto c = conn_;
    auto alloc = detail::handler_allocator<void>(c->read_memory);
    c->stream->async_read_some(space, asio::bind_allocator(alloc, [this, c](std::error_code ec, std::size_t n) {
      c->reading = false;
      if (c->closed) return;
      if (ec) return lost(c, ec), pump();
      ++delivering_;
      session_.input_received(n, now());
      --delivering_;
      pump();
    }));
  }

  void arm_timer() {
    const time_point deadline = session_.next_deadline();
    if (deadline == timer_deadline_) return;
    timer_deadline_ = deadline;
    if (deadline == never) {
      timer_.cancel();
      return;
    }
    const auto wait = std::max(deadline - now(), duration{0});
    timer_.expires_after(std::chrono::milliseconds(wait.count()));
    timer_.async_wait([this](std::error_code ec) {
      if (ec == asio::error::operation_aborted) return;
      timer_deadline_ = never;
      session_.poll(now());
      pump();
    });
  }

  executor_type strand_;
  client_options options_;
  asio::steady_timer timer_;
  time_point timer_deadline_ = never;
  std::function<std::unique_ptr<Stream>()> stream_factory_;
  std::shared_ptr<connection> conn_;
  std::vector<std::shared_ptr<connection>> retired_connections_;
  bridge_observer bridge_;
  mqtt::session_observer* user_observer_ = nullptr;
  message_callback default_handler_;
  std::list<message_callback> callbacks_;
  std::list<message_callback> retired_callbacks_;
  int delivering_ = 0;
  std::unordered_map<std::string, typename std::list<message_callback>::iterator> callback_for_;
  detail::pending_table<detail::completion> pending_;
  std::unordered_map<mqtt::token, mqtt::reason_code> early_done_;
  std::vector<detail::completion> connect_waiters_;
  std::vector<detail::completion> stop_waiters_;
  bool pump_requested_ = false;
  struct finished_operation {
    detail::completion handler;
    std::error_code error;
    mqtt::reason_code reason;
  };
  std::vector<finished_operation> finished_;
  std::vector<finished_operation> running_;
  bool finish_posted_ = false;
  mqtt::session session_;
};

}  // namespace thingwell::net

#endif  // THINGWELL_WITH_ASIO
