#include "admin_exchange.hpp"

#include <unistd.h>

#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>

#include "broker_client.hpp"
#include "json_tree.hpp"

namespace thingwell::emulator {

int admin_failure(const std::string& why) {
  std::fprintf(stderr, "thingwell-emulator: %s\n", why.c_str());
  return 2;
}

std::string admin_client_token() {
  const auto started = std::chrono::steady_clock::now().time_since_epoch().count();
  return "admin-" + std::to_string(::getpid()) + "-" + std::to_string(started % 1000000007);
}

admin_answer exchange_with_service(const command_line& cl, const std::string& topic, const std::string& payload,
                                   const std::string& client_token) {
  asio::io_context io;
  auto options = client_options_for(cl.broker, "thingwell-emulator-admin-" + std::to_string(::getpid()));
  options.auto_reconnect = false;  // a command fails fast and says why
  options.connect_timeout = duration{static_cast<std::int64_t>(cl.timeout_seconds) * 1000};

  admin_answer answer;
  const int tls_status = with_broker_client(io, cl.broker, options, [&](auto& client) {
    bool answered = false;
    asio::steady_timer deadline(io, std::chrono::seconds(cl.timeout_seconds));
    auto finish = [&](int code) {
      if (answered) return;
      answered = true;
      answer.exit_code = code;
      deadline.cancel();
      client.async_disconnect([&](std::error_code) { io.stop(); });
    };

    // The handler may only capture a few pointers: it reaches everything through this one.
    struct context {
      const std::string* token;
      admin_answer* answer;
      decltype(finish)* done;
    } ctx{&client_token, &answer, &finish};
    auto on_answer = [c = &ctx](const mqtt::publish& p) {
      std::string text(reinterpret_cast<const char*>(p.payload.data()), p.payload.size());
      auto doc = parse_json(text, std::size_t{64} << 20);
      const json_value* t = doc ? doc->find("clientToken") : nullptr;
      if (t == nullptr || !t->is_string() || t->as_string() != *c->token) return;  // someone else's
      c->answer->text = std::move(text);
      (*c->done)(p.topic.ends_with("/accepted") ? 0 : 1);
    };

    // Subscribed before connecting: the session sends the SUBSCRIBE first, so the answer cannot be missed.
    client.async_subscribe(topic + "/+", on_answer, {.max_qos = mqtt::qos::at_least_once},
                           [&](std::error_code ec, mqtt::reason_code) {
                             if (ec) {
                               admin_failure("the broker refused the subscription to " + topic + "/+: " + ec.message());
                               finish(2);
                             }
                           });
    client.async_connect([&](std::error_code ec) {
      if (ec) {
        admin_failure("cannot connect to the broker " + cl.broker.host + ":" +
                      std::to_string(cl.broker.effective_port()) + ": " + ec.message());
        answered = true;
        deadline.cancel();
        io.stop();
        return;
      }
      client.async_publish(topic, payload, {.qos = mqtt::qos::at_least_once}, [&](std::error_code publish_ec) {
        if (publish_ec) {
          admin_failure("the request was not delivered: " + publish_ec.message());
          finish(2);
        }
      });
    });
    deadline.async_wait([&](std::error_code ec) {
      if (ec || answered) return;
      admin_failure("no answer within " + std::to_string(cl.timeout_seconds) +
                    " s: is `thingwell-emulator serve` running on this broker?");
      finish(2);
    });
    io.run();
    return 0;
  });
  if (tls_status != 0) answer.exit_code = 2;
  return answer;
}

}  // namespace thingwell::emulator
