// thingwell — the outbox (outbox.hpp) in front of an Asio client (net/asio_client.hpp).
//
//   asio::io_context io;
//   net::asio_client<> client{io.get_executor(), options};      // options.mode = always_resume
//   store::file_log log = *store::file_log::open("/var/lib/app/outbox");
//   store::asio_outbox box(client, log, {.max_records = 4096});
//   box.open();                                                   // before async_connect: replays the log
//   client.async_connect([](std::error_code) {});
//   box.async_publish("dt/t/1", payload, {.qos = mqtt::qos::at_least_once, .durable = true},
//                     [](std::error_code ec, store::publish_status s) { /* s.durable: committed */ });
//   io.run();
//
// Why a wrapper and not just an outbox over client.session(): the outbox is not thread-safe and the
// session belongs to the client's strand, so every call into the outbox must run on that strand; and
// the Asio loop sleeps until socket or timer events, so something has to run outbox::pump() when it
// has work (an acknowledgement freed the window, the session became ready, a commit or TTL scan is
// due) and has to tell the client that the outbox handed the session something to send (wake()).
//
// How: the outbox lives on the client's strand. pump() runs (1) after each publish, (2) when the
// session reports ready or a completed publish (this wrapper takes the client's observer slot and
// forwards every event to the observer given to set_observer()), and (3) on a steady_timer armed at
// outbox::next_deadline(). After each pump the client is woken so that what was handed is written.
//
// async_publish() completes with void(std::error_code, publish_status) once outbox::publish() has
// returned, i.e. when the message is kept (and, for durable messages with commit_on_publish,
// committed), not when the broker acknowledged it. The topic and payload are copied when called off the
// strand. Completion tokens as for the client (callbacks, use_future, use_awaitable).
//
// Lifetime: like the client, destroy it when no handler of it can run any more (io_context stopped,
// or on the strand after the client is stopped); it must be destroyed before the client.
#pragma once

#include "../core/config.hpp"

#if THINGWELL_WITH_ASIO

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/clock.hpp"
#include "../net/asio_client.hpp"
#include "outbox.hpp"

namespace thingwell::store {

template <persistence Store, class Stream = net::asio_tcp>
class asio_outbox {
 public:
  using client_type = net::asio_client<Stream>;
  using executor_type = typename client_type::executor_type;

  // Takes the client's observer slot (see the file comment); call before the io_context runs.
  asio_outbox(client_type& client, Store& store, const outbox_config& config = {})
      : client_(client), box_(client.session(), store, config), timer_(client.get_executor()), relay_(*this) {
    client_.set_observer(&relay_);
  }

  asio_outbox(const asio_outbox&) = delete;
  asio_outbox& operator=(const asio_outbox&) = delete;
  ~asio_outbox() {
    timer_.cancel();
    client_.set_observer(nullptr);
  }

  executor_type get_executor() const noexcept { return client_.get_executor(); }

  // Replays the store (outbox::open). Before client.async_connect(), from the thread that set things up
  // (nothing runs on the strand yet) or on the strand.
  result<void> open() {
    auto r = box_.open(now());
    asio::dispatch(client_.get_executor(), [this] { run(); });
    return r;
  }

  // Session events are forwarded here (lifecycle, messages no subscription matched, publish results).
  void set_observer(mqtt::session_observer* observer) {
    asio::dispatch(client_.get_executor(), [this, observer] { relay_.user = observer; });
  }

  template <class Token>
  auto async_publish(std::string_view topic, bytes_view payload, message_options options, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, publish_status)>(
        [this](auto handler, std::string_view t, bytes_view p, message_options o) {
          // The caller's views may be gone by the time the strand runs: copy them, always (dispatch may
          // run inline, but whether it does is not known here).
          auto copy = std::make_shared<std::pair<std::string, std::vector<byte>>>(std::string(t),
                                                                                   std::vector<byte>(p.begin(), p.end()));
          asio::dispatch(client_.get_executor(), [this, copy, o, h = std::move(handler)]() mutable {
            auto r = box_.publish(copy->first, copy->second, o, now());
            run();
            const std::error_code ec = r ? std::error_code{} : r.error();
            const publish_status status = r ? *r : publish_status{};
            auto ex = asio::get_associated_executor(h, client_.get_executor());
            asio::post(ex, [h = std::move(h), ec, status]() mutable { h(ec, status); });
          });
        },
        token, topic, payload, options);
  }

  template <class Token>
  auto async_publish(std::string_view topic, std::string_view payload, message_options options, Token&& token) {
    return async_publish(topic, as_bytes(payload), options, std::forward<Token>(token));
  }

  // The outbox itself (metrics, depth, commit, durable_through): on the strand only.
  outbox<Store>& box() noexcept { return box_; }
  const outbox<Store>& box() const noexcept { return box_; }

 private:
  // Forwards everything to the user's observer; ready and completed publishes also mean pump().
  struct relay final : mqtt::session_observer {
    explicit relay(asio_outbox& o) : owner(o) {}
    void on_connecting(std::uint32_t a) override {
      if (user) user->on_connecting(a);
    }
    void on_connected(const mqtt::connected_event& e) override {
      if (user) user->on_connected(e);
    }
    void on_ready() override {
      if (user) user->on_ready();
      owner.run_soon();
    }
    void on_connect_failed(const mqtt::connect_failed_event& e) override {
      if (user) user->on_connect_failed(e);
    }
    void on_disconnected(const mqtt::disconnected_event& e) override {
      if (user) user->on_disconnected(e);
    }
    void on_backoff(const mqtt::backoff_event& e) override {
      if (user) user->on_backoff(e);
    }
    void on_stopped() override {
      if (user) user->on_stopped();
    }
    void on_message(const mqtt::publish& p) override {
      if (user) user->on_message(p);
    }
    void on_publish_done(mqtt::token t, std::error_code ec) override {
      if (user) user->on_publish_done(t, ec);
      owner.run_soon();
    }
    void on_subscribe_done(mqtt::token t, mqtt::reason_code rc) override {
      if (user) user->on_subscribe_done(t, rc);
    }
    void on_unsubscribe_done(mqtt::token t, mqtt::reason_code rc) override {
      if (user) user->on_unsubscribe_done(t, rc);
    }
    std::optional<bytes_view> on_auth_challenge(const mqtt::auth& a) override {
      return user ? user->on_auth_challenge(a) : std::nullopt;
    }
    asio_outbox& owner;
    mqtt::session_observer* user = nullptr;
  };

  static time_point now() noexcept { return system_clock{}.now(); }

  // Session events arrive while the client is inside the session (processing input): pumping there
  // would publish from inside the session's own callback. One post per turn, however many events.
  void run_soon() {
    if (run_posted_) return;
    run_posted_ = true;
    asio::post(client_.get_executor(), [this] {
      run_posted_ = false;
      run();
    });
  }

  // On the strand: pump, have the client write what was handed, sleep until the next deadline.
  void run() {
    const time_point t = now();
    box_.pump(t);
    client_.wake();
    time_point deadline = box_.next_deadline(now());
    if (deadline == never) return;  // nothing until a publish or a session event (both call run)
    // "Now" again right after a pump means it is waiting for something pump() cannot move (the
    // session not ready, the window full): look again shortly rather than spin.
    if (deadline <= t) deadline = t + duration{1};
    if (timer_armed_ && timer_deadline_ <= deadline) return;
    timer_armed_ = true;
    timer_deadline_ = deadline;
    timer_.expires_after(std::chrono::milliseconds(std::max<std::int64_t>((deadline - now()).count(), 0)));
    timer_.async_wait([this](std::error_code ec) {
      if (ec == asio::error::operation_aborted) return;
      timer_armed_ = false;
      run();
    });
  }

  client_type& client_;
  outbox<Store> box_;
  asio::steady_timer timer_;
  relay relay_;
  time_point timer_deadline_{};
  bool timer_armed_ = false;
  bool run_posted_ = false;
};

}  // namespace thingwell::store

#endif  // THINGWELL_WITH_ASIO
