// thingwell — the small interface between the AWS device services and an MQTT client.
//
// A service (shadow, jobs, ...) is a state machine with no I/O: it asks a service_client to subscribe
// and publish, and the client tells it about connections and messages through the `service` interface.
// Two adapters implement the client side: aws::session_client over an mqtt::session (poll driver, MCU)
// and aws::asio_service_client over a net::asio_client; tests use a fake. Virtual calls instead of a
// template parameter: a service is compiled once whatever drives it, and the calls are per message, not
// per byte.
//
// Time is not part of the interface: events carry none (the session's observer has none either). A
// service takes the current time from its own poll(now) and arms the deadlines of requests started
// from an event at the next poll.
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

#include "../core/clock.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"

namespace thingwell::aws {

// Identifies one subscribe request in service::on_subscribed.
using subscription_id = std::uint32_t;

// What a client reports to a service. Calls come from the thread (strand, loop) that drives the client;
// a service may call back into the client from inside them.
class service {
 public:
  // Connected and every subscription in place: after each (re)connection.
  virtual void on_ready() = 0;
  // The connection is gone (or the client stopped); on_ready follows when it is back.
  virtual void on_disconnected() = 0;
  // A subscribe made while connected completed (error empty) or was refused. Subscriptions restored on
  // reconnection are covered by on_ready.
  virtual void on_subscribed(subscription_id, std::error_code) = 0;
  // A message on one of the service's subscriptions. The views are valid during the call.
  virtual void on_message(std::string_view topic, std::string_view payload) = 0;

  // Timers: when poll() must run at the latest (never: nothing pending), and running them. Adapters with
  // their own event loop (Asio) call these; with the poll driver the application does.
  virtual time_point next_deadline() const { return never; }
  virtual void poll(time_point /*now*/) {}

  virtual ~service() = default;
};

// What a service needs from an MQTT client.
class service_client {
 public:
  // Registers a service for on_ready / on_disconnected / on_subscribed. errc::capacity_exceeded when the
  // client's table of services is full.
  virtual std::error_code attach(service&) = 0;
  virtual void detach(service&) = 0;

  // Subscribes (QoS 1) and routes matching messages to `to` for as long as the client lives: the client
  // restores the subscription before every on_ready. May be called while offline.
  virtual result<subscription_id> subscribe(std::string_view filter, service& to) = 0;

  // Publishes at QoS 0: services match their own responses and time them out, so a request lost with
  // the connection is simply made again, never resent later by the MQTT layer as well.
  // errc::not_connected while offline.
  virtual std::error_code publish(std::string_view topic, std::string_view payload) = 0;

  // Connected with every subscription in place.
  virtual bool is_ready() const = 0;

  // A service's next_deadline() may have moved earlier (the application called it outside of an event):
  // adapters that run the timers themselves look again. The poll driver's loop does anyway.
  virtual void reschedule() {}

  virtual ~service_client() = default;
};

}  // namespace thingwell::aws
