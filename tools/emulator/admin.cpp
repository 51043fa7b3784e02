#include "admin.hpp"

#include <unistd.h>

#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "broker_client.hpp"
#include "json_tree.hpp"
#include "shadow_topics.hpp"

namespace thingwell::emulator {

namespace {

int fail(const std::string& why) {
  std::fprintf(stderr, "thingwell-emulator: %s\n", why.c_str());
  return 2;
}

shadow_operation operation_of(command c) {
  switch (c) {
    case command::shadow_get: return shadow_operation::get;
    case command::shadow_delete: return shadow_operation::remove;
    default: return shadow_operation::update;
  }
}

// The request document, or an error message in `error`.
std::optional<std::string> request_payload(const command_line& cl, const std::string& token, std::string& error) {
  json_value request = json_value::object();
  if (cl.what == command::shadow_set_desired || cl.what == command::shadow_update) {
    auto document = parse_json(cl.document, 1 << 20);
    if (!document) {
      error = "the document is not JSON: " + document.error().message();
      return std::nullopt;
    }
    if (cl.what == command::shadow_set_desired) {
      if (!document->is_object() && !document->is_null()) {
        error = "set-desired takes a JSON object (the desired state) or null";
        return std::nullopt;
      }
      json_value state = json_value::object();
      state.set("desired", std::move(*document));
      request.set("state", std::move(state));
    } else {
      if (!document->is_object()) {
        error = "update takes a JSON object (a shadow update request: {\"state\":{...}})";
        return std::nullopt;
      }
      request = std::move(*document);
    }
  }
  // A request that brings its own token keeps it (the service echoes it, the answer is matched by it).
  if (request.find("clientToken") == nullptr) request.set("clientToken", token);
  return to_json(request);
}

}  // namespace

int run_admin(const command_line& cl) {
  if (!valid_thing_name(cl.thing)) return fail("invalid thing name '" + cl.thing + "' (1-128 of a-z A-Z 0-9 : _ -)");
  if (!cl.shadow_name.empty() && !valid_shadow_name(cl.shadow_name))
    return fail("invalid shadow name '" + cl.shadow_name + "' (1-64 of a-z A-Z 0-9 : _ - $)");

  const auto pid = std::to_string(::getpid());
  const auto started = std::chrono::steady_clock::now().time_since_epoch().count();
  const std::string token = "admin-" + pid + "-" + std::to_string(started % 1000000007);
  std::string error;
  const auto payload = request_payload(cl, token, error);
  if (!payload) return fail(error);
  std::string expected_token = token;
  if (cl.what == command::shadow_update) {
    if (auto doc = parse_json(*payload, 1 << 20); doc && doc->find("clientToken") && doc->find("clientToken")->is_string())
      expected_token = doc->find("clientToken")->as_string();
  }

  const shadow_key key{cl.thing, cl.shadow_name};
  const std::string topic =
      shadow_topic_prefix(key, request_origin::admin) + "/" + std::string(operation_name(operation_of(cl.what)));

  asio::io_context io;
  auto options = client_options_for(cl.broker, "thingwell-emulator-admin-" + pid);
  options.auto_reconnect = false;  // a command fails fast and says why
  options.connect_timeout = duration{static_cast<std::int64_t>(cl.timeout_seconds) * 1000};

  return with_broker_client(io, cl.broker, options, [&](auto& client) {
    int exit_code = 2;
    bool answered = false;
    asio::steady_timer deadline(io, std::chrono::seconds(cl.timeout_seconds));
    auto finish = [&](int code) {
      if (answered) return;
      answered = true;
      exit_code = code;
      deadline.cancel();
      client.async_disconnect([&](std::error_code) { io.stop(); });
    };

    auto on_answer = [&](const mqtt::publish& p) {
      const std::string text(reinterpret_cast<const char*>(p.payload.data()), p.payload.size());
      auto doc = parse_json(text, 1 << 20);
      const json_value* t = doc ? doc->find("clientToken") : nullptr;
      if (t == nullptr || !t->is_string() || t->as_string() != expected_token) return;  // someone else's
      if (p.topic.ends_with("/accepted")) {
        std::fprintf(stdout, "%s\n", text.c_str());
        std::fflush(stdout);
        finish(0);
      } else {
        std::fprintf(stderr, "thingwell-emulator: rejected: %s\n", text.c_str());
        finish(1);
      }
    };

    // Subscribed before connecting: the session sends the SUBSCRIBE first, so the answer cannot be missed.
    client.async_subscribe(topic + "/+", on_answer, {.max_qos = mqtt::qos::at_least_once},
                           [&](std::error_code ec, mqtt::reason_code) {
                             if (ec) {
                               fail("the broker refused the subscription to " + topic + "/+: " + ec.message());
                               finish(2);
                             }
                           });
    client.async_connect([&](std::error_code ec) {
      if (ec) {
        fail("cannot connect to the broker " + cl.broker.host + ":" + std::to_string(cl.broker.effective_port()) +
             ": " + ec.message());
        answered = true;
        deadline.cancel();
        io.stop();
        return;
      }
      client.async_publish(topic, *payload, {.qos = mqtt::qos::at_least_once}, [&](std::error_code publish_ec) {
        if (publish_ec) {
          fail("the request was not delivered: " + publish_ec.message());
          finish(2);
        }
      });
    });
    deadline.async_wait([&](std::error_code ec) {
      if (ec || answered) return;
      fail("no answer within " + std::to_string(cl.timeout_seconds) +
           " s: is `thingwell-emulator serve` running on this broker?");
      finish(2);
    });
    io.run();
    return exit_code;
  });
}

}  // namespace thingwell::emulator
