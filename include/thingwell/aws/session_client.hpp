// thingwell — aws::service_client over an mqtt::session: the adapter for the poll driver and MCUs.
//
// It is the session's observer: give it to the session (or poll_client) as the observer, then bind it
// to the session. Every event is forwarded unchanged to `next` (the application's observer), so that
// adding AWS services does not take lifecycle events away from the application.
//
//   aws::session_client link{&my_observer};
//   net::poll_client<net::posix_tcp> client{std::move(tcp), config, link};
//   link.bind(client.session());
//   aws::shadow_service<json::compact_reader<256>> shadow{link, {.thing_name = "lamp-1"}};
//
// Nothing allocates: services live in a fixed table, subscription handlers capture one pointer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "../core/bytes.hpp"
#include "../core/config.hpp"
#include "../core/static_vector.hpp"
#include "../mqtt/session.hpp"
#include "service_client.hpp"

namespace thingwell::aws {

class session_client final : public service_client, public mqtt::session_observer {
 public:
  static constexpr std::size_t max_services = 4;

  explicit session_client(mqtt::session_observer* next = nullptr) noexcept : next_(next) {}
  session_client(const session_client&) = delete;
  session_client& operator=(const session_client&) = delete;

  // The session this adapter observes (it must have been constructed with *this as its observer).
  void bind(mqtt::session& s) noexcept { session_ = &s; }

  // ---- service_client ----------------------------------------------------------------------------

  std::error_code attach(service& s) noexcept override {
    for (service* p : services_)
      if (p == &s) return {};
    if (!services_.push_back(&s)) return errc::capacity_exceeded;
    return {};
  }
  void detach(service& s) noexcept override {
    for (auto it = services_.begin(); it != services_.end(); ++it) {
      if (*it == &s) {
        services_.erase(it);
        return;
      }
    }
  }

  result<subscription_id> subscribe(std::string_view filter, service& to) noexcept override {
    if (session_ == nullptr) return errc::not_connected;
    mqtt::subscribe_options o;
    o.max_qos = mqtt::qos::at_least_once;
    auto t = session_->subscribe(
        filter, [svc = &to](const mqtt::publish& p) { svc->on_message(p.topic, as_string(p.payload)); }, o);
    if (!t) return t.error();
    return subscription_id{*t};
  }

  std::error_code publish(std::string_view topic, std::string_view payload) noexcept override {
    if (session_ == nullptr || !session_->is_ready()) return errc::not_connected;
    auto t = session_->publish(topic, as_bytes(payload));
    return t ? std::error_code{} : t.error();
  }

  bool is_ready() const noexcept override { return session_ != nullptr && session_->is_ready(); }

  // Runs the timers of every attached service, and tells when to call again at the latest: for a loop
  // that drives the session with poll_client::poll().
  void poll(time_point now) noexcept {
    for (service* s : services_) s->poll(now);
  }
  time_point next_deadline() const noexcept {
    time_point t = never;
    for (const service* s : services_) t = std::min(t, s->next_deadline());
    return t;
  }

  // ---- mqtt::session_observer ----------------------------------------------------------------------

  void on_connecting(std::uint32_t attempt) override {
    if (next_) next_->on_connecting(attempt);
  }
  void on_connected(const mqtt::connected_event& e) override {
    if (next_) next_->on_connected(e);
  }
  void on_ready() override {
    if (next_) next_->on_ready();
    for (service* s : services_) s->on_ready();
  }
  void on_connect_failed(const mqtt::connect_failed_event& e) override {
    if (next_) next_->on_connect_failed(e);
  }
  void on_disconnected(const mqtt::disconnected_event& e) override {
    for (service* s : services_) s->on_disconnected();
    if (next_) next_->on_disconnected(e);
  }
  void on_backoff(const mqtt::backoff_event& e) override {
    if (next_) next_->on_backoff(e);
  }
  void on_stopped() override {
    for (service* s : services_) s->on_disconnected();
    if (next_) next_->on_stopped();
  }
  void on_message(const mqtt::publish& p) override {
    if (next_) next_->on_message(p);
  }
  void on_publish_done(mqtt::token t, std::error_code ec) override {
    if (next_) next_->on_publish_done(t, ec);
  }
  void on_subscribe_done(mqtt::token t, mqtt::reason_code rc) override {
    const std::error_code ec = mqtt::is_failure(rc) ? mqtt::make_error_code(rc) : std::error_code{};
    for (service* s : services_) s->on_subscribed(t, ec);
    if (next_) next_->on_subscribe_done(t, rc);
  }
  void on_unsubscribe_done(mqtt::token t, mqtt::reason_code rc) override {
    if (next_) next_->on_unsubscribe_done(t, rc);
  }
  std::optional<bytes_view> on_auth_challenge(const mqtt::auth& a) override {
    return next_ ? next_->on_auth_challenge(a) : std::nullopt;
  }

 private:
  mqtt::session_observer* next_;
  mqtt::session* session_ = nullptr;
  static_vector<service*, max_services> services_;
};

}  // namespace thingwell::aws
