// thingwell — aws::service_client over a net::asio_client: the adapter for Linux devices and gateways.
//
// It installs itself as the client's observer (forwarding every event to `next`) and runs the services'
// timers on the client's strand, so with Asio nothing needs polling:
//
//   net::asio_client<net::asio_tcp> client{io.get_executor(), options};
//   aws::asio_service_client link{client, &my_observer};
//   aws::shadow_service<json::compact_reader<512>> shadows{link, {.thing_name = "lamp-1"}};
//   client.async_connect([](std::error_code) {});
//   io.run();
//
// Services and their handlers run on the client's strand; call the services (report, get) from there
// too, e.g. through asio::post(client.get_executor(), ...).
#pragma once

#include "../core/config.hpp"

#if THINGWELL_WITH_ASIO

#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "../core/clock.hpp"
#include "../net/asio_client.hpp"
#include "service_client.hpp"

namespace thingwell::aws {

template <class Stream>
class asio_service_client final : public service_client, public mqtt::session_observer {
 public:
  explicit asio_service_client(net::asio_client<Stream>& client, mqtt::session_observer* next = nullptr)
      : client_(client), next_(next), timer_(client.get_executor()) {
    client_.set_observer(this);
  }
  ~asio_service_client() override {
    client_.set_observer(next_);
    timer_.cancel();
  }
  asio_service_client(const asio_service_client&) = delete;
  asio_service_client& operator=(const asio_service_client&) = delete;

  // ---- service_client ----------------------------------------------------------------------------

  std::error_code attach(service& s) override {
    if (std::find(services_.begin(), services_.end(), &s) == services_.end()) services_.push_back(&s);
    return {};
  }
  void detach(service& s) override { services_.erase(std::remove(services_.begin(), services_.end(), &s), services_.end()); }

  result<subscription_id> subscribe(std::string_view filter, service& to) override {
    const subscription_id id = ++last_id_;
    mqtt::subscribe_options o;
    o.max_qos = mqtt::qos::at_least_once;
    client_.async_subscribe(
        std::string(filter),
        [this, svc = &to](const mqtt::publish& p) {
          svc->on_message(p.topic, as_string(p.payload));
          reschedule();
        },
        o,
        [this, id](std::error_code ec, mqtt::reason_code) {
          // Completes once, on the first SUBACK; restorations after reconnects are covered by on_ready.
          for (service* s : services_) s->on_subscribed(id, ec);
          reschedule();
        });
    return id;
  }

  std::error_code publish(std::string_view topic, std::string_view payload) override {
    if (!is_ready()) return errc::not_connected;
    // Called on the strand: the payload is copied into the session before this returns.
    client_.async_publish(topic, payload, mqtt::publish_options{}, [](std::error_code) {});
    return {};
  }

  bool is_ready() const override { return ready_; }

  // Re-arms the timer for the earliest deadline of every service.
  void reschedule() override {
    time_point next = never;
    for (const service* s : services_) next = std::min(next, s->next_deadline());
    if (next == armed_for_) return;
    armed_for_ = next;
    if (next == never) {
      timer_.cancel();
      return;
    }
    const auto wait = std::max(next - now(), duration{0});
    timer_.expires_after(std::chrono::milliseconds(wait.count()));
    timer_.async_wait([this](std::error_code ec) {
      if (ec == asio::error::operation_aborted) return;
      armed_for_ = never;
      const time_point t = now();
      for (service* s : services_) s->poll(t);
      reschedule();
    });
  }

  // ---- mqtt::session_observer (on the strand) ------------------------------------------------------

  void on_connecting(std::uint32_t attempt) override {
    if (next_) next_->on_connecting(attempt);
  }
  void on_connected(const mqtt::connected_event& e) override {
    if (next_) next_->on_connected(e);
  }
  void on_ready() override {
    ready_ = true;
    if (next_) next_->on_ready();
    for (service* s : services_) s->on_ready();
    poll_now();
  }
  void on_connect_failed(const mqtt::connect_failed_event& e) override {
    if (next_) next_->on_connect_failed(e);
  }
  void on_disconnected(const mqtt::disconnected_event& e) override {
    ready_ = false;
    for (service* s : services_) s->on_disconnected();
    if (next_) next_->on_disconnected(e);
    reschedule();
  }
  void on_backoff(const mqtt::backoff_event& e) override {
    if (next_) next_->on_backoff(e);
  }
  void on_stopped() override {
    ready_ = false;
    for (service* s : services_) s->on_disconnected();
    if (next_) next_->on_stopped();
    timer_.cancel();
    armed_for_ = never;
  }
  void on_message(const mqtt::publish& p) override {
    if (next_) next_->on_message(p);
  }
  void on_publish_done(mqtt::token t, std::error_code ec) override {
    if (next_) next_->on_publish_done(t, ec);
  }
  void on_subscribe_done(mqtt::token t, mqtt::reason_code rc) override {
    if (next_) next_->on_subscribe_done(t, rc);
  }
  void on_unsubscribe_done(mqtt::token t, mqtt::reason_code rc) override {
    if (next_) next_->on_unsubscribe_done(t, rc);
  }
  std::optional<bytes_view> on_auth_challenge(const mqtt::auth& a) override {
    return next_ ? next_->on_auth_challenge(a) : std::nullopt;
  }

 private:
  static time_point now() noexcept { return system_clock{}.now(); }

  // Requests made from an event start their deadlines at the next poll: make it now.
  void poll_now() {
    const time_point t = now();
    for (service* s : services_) s->poll(t);
    reschedule();
  }

  net::asio_client<Stream>& client_;
  mqtt::session_observer* next_;
  asio::steady_timer timer_;
  time_point armed_for_ = never;
  std::vector<service*> services_;
  subscription_id last_id_ = 0;
  bool ready_ = false;
};

}  // namespace thingwell::aws

#endif  // THINGWELL_WITH_ASIO
