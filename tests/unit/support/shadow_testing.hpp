// Shadow service tests: a fake aws::service_client that records what the service subscribes and
// publishes and lets a test play AWS IoT, plus the documented sample payloads of
// shared/aws-iot-protocol.md section 1 with the request's clientToken put in.
//
// Nothing is delivered from inside publish(): a test answers explicitly, the way the network would,
// after the service has returned.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <thingwell/aws/service_client.hpp>
#include <thingwell/aws/shadow.hpp>
#include <thingwell/aws/topics.hpp>
#include <thingwell/codec/json_compact.hpp>
#include <thingwell/core/clock.hpp>

#include "fake_service_client.hpp"

namespace shadow_testing {

namespace aws = thingwell::aws;
namespace json = thingwell::json;
using thingwell::duration;
using thingwell::errc;
using thingwell::time_point;
using namespace std::chrono_literals;

using fake_service::message;
// Subscriptions are matched exactly, and there may be 1000 of them.
using fake_client = fake_service::client<fake_service::topic_match::exact, 1000>;

// ---- payloads ------------------------------------------------------------------------------------------

// The clientToken of a request payload ("" if none).
inline std::string token_of(std::string_view payload) {
  json::compact_reader<256> r;
  auto doc = r.parse(payload);
  if (!doc) return {};
  auto t = doc->find("clientToken");
  if (!t) return {};
  char buf[128];
  auto s = t->get_string(buf);
  return s ? std::string(*s) : std::string();
}

// Replaces the first {TOKEN} with the token, {VERSION} with the version.
inline std::string with_token(std::string text, std::string_view token, std::uint64_t version = 0) {
  if (auto at = text.find("{TOKEN}"); at != std::string::npos) text.replace(at, 7, token);
  if (auto at = text.find("{VERSION}"); at != std::string::npos) text.replace(at, 9, std::to_string(version));
  return text;
}

// Section 1.3.1: the documented get/accepted sample (version 8, delta {"Color":"red"}).
inline constexpr std::string_view sample_get_accepted = R"({
  "state": {
    "desired":  { "Color": "red",  "Status": "Great" },
    "reported": { "Color": "green","Status": "Great" },
    "delta":    { "Color": "red" }
  },
  "metadata": {
    "desired":  { "Color": {"timestamp": 1719855498}, "Status": {"timestamp": 1719856710} },
    "reported": { "Color": {"timestamp": 1719853620}, "Status": {"timestamp": 1719856694} }
  },
  "version": 8,
  "timestamp": 1719856723,
  "clientToken": "{TOKEN}"
})";

// Section 1.3.2: update/accepted echoing {"Status":"Awful"} at version 9.
inline constexpr std::string_view sample_update_accepted = R"({
  "state":    { "reported": { "Status": "Awful" } },
  "metadata": { "reported": { "Status": { "timestamp": 1719857563 } } },
  "version": {VERSION},
  "timestamp": 1719857563,
  "clientToken": "{TOKEN}"
})";

// Section 1.3.3: a delta (state is the delta object itself).
inline constexpr std::string_view sample_delta = R"({
  "version": {VERSION},
  "timestamp": 1719857563,
  "state":    { "Status": "Great" },
  "metadata": { "Status": { "timestamp": 1719856710 } },
  "clientToken": "05ed8956-..."
})";

// Section 1.6: the error document.
inline std::string rejected(int code, std::string_view message, std::string_view token) {
  return R"({ "code": )" + std::to_string(code) + R"(, "message": ")" + std::string(message) +
         R"(", "timestamp": 1591057529, "clientToken": ")" + std::string(token) + "\" }";
}

// Section 1.3.1, an empty shadow in sync: no state sections at all.
inline std::string empty_get_accepted(std::string_view token, std::uint64_t version) {
  return R"({"state":{},"metadata":{},"version":)" + std::to_string(version) +
         R"(,"timestamp":1719856723,"clientToken":")" + std::string(token) + "\"}";
}

inline std::string topic(std::string_view thing, std::string_view shadow, std::string_view tail) {
  std::string t = "$aws/things/" + std::string(thing) + "/shadow/";
  if (!shadow.empty()) t += "name/" + std::string(shadow) + "/";
  return t + std::string(tail);
}

// ---- a rig: service, fake client, manual clock, and a recorder of what the handlers saw -----------------

using value = json::compact_value;

template <json::value V>
std::string text_of(const V& v) {
  return fake_service::text_of<4096>(v);
}

// What the handlers of one shadow were told, as lines: "delta v9 {...}", "reported v9",
// "error update 409 aws_version_conflict".
struct recorder {
  std::vector<std::string> lines;
  std::string state = R"({"Color":"green","Status":"Great"})";  // what current_state writes ("" for none)
  std::function<void(const value&, std::uint64_t)> on_delta_hook;

  std::string take() { return fake_service::take_joined(lines); }
};

inline const char* errc_name(std::error_code ec) {
  if (ec == thingwell::make_error_code(errc::timed_out)) return "timed_out";
  if (ec == thingwell::make_error_code(errc::aws_version_conflict)) return "aws_version_conflict";
  if (ec == thingwell::make_error_code(errc::aws_bad_request)) return "aws_bad_request";
  if (ec == thingwell::make_error_code(errc::aws_payload_too_large)) return "aws_payload_too_large";
  if (ec == thingwell::make_error_code(errc::aws_throttled)) return "aws_throttled";
  if (ec == thingwell::make_error_code(errc::aws_service_error)) return "aws_service_error";
  if (ec == thingwell::make_error_code(errc::not_authorized)) return "not_authorized";
  if (ec == thingwell::make_error_code(errc::shadow_document_too_large)) return "shadow_document_too_large";
  if (ec == thingwell::make_error_code(errc::not_found)) return "not_found";
  return "other";
}

inline aws::shadow_handlers<value> record(recorder* r, bool with_state = true, bool with_documents = false,
                                          bool with_deleted = false) {
  aws::shadow_handlers<value> h;
  h.on_delta = [r](const value& delta, std::uint64_t v) {
    r->lines.push_back("delta v" + std::to_string(v) + " " + text_of(delta));
    if (r->on_delta_hook) r->on_delta_hook(delta, v);
  };
  h.on_reported = [r](std::uint64_t v) { r->lines.push_back("reported v" + std::to_string(v)); };
  h.on_error = [r](const aws::shadow_error& e) {
    r->lines.push_back("error " + std::string(aws::to_string(e.operation)) + " " + std::to_string(e.code) + " " +
                       errc_name(e.error));
  };
  if (with_state)
    h.current_state = [r](json::writer& w) {
      json::compact_reader<64> reader;
      auto v = reader.parse(r->state.empty() ? std::string_view("{}") : std::string_view(r->state));
      if (v) w.copy(*v);
    };
  if (with_deleted) h.on_deleted = [r](std::uint64_t v) { r->lines.push_back("deleted v" + std::to_string(v)); };
  if (with_documents)
    h.on_documents = [r](const value& previous, const value& current) {
      r->lines.push_back("documents " + text_of(previous) + " -> " + text_of(current));
    };
  return h;
}

inline aws::shadow_config test_config() {
  aws::shadow_config c;
  c.thing_name = "lamp-1";
  c.token_prefix = "lamp-1";
  c.token_nonce = 0xabc;
  return c;
}

template <std::size_t Shadows = 4, std::size_t Doc = 1024, std::size_t Tokens = 512>
struct rig {
  using service_type = aws::shadow_service<json::compact_reader<Tokens>, Shadows, Doc>;

  thingwell::manual_clock clock{time_point{duration{1'000'000}}};
  fake_client client;
  std::unique_ptr<service_type> shadows;

  explicit rig(const aws::shadow_config& c = test_config()) : shadows(std::make_unique<service_type>(client, c)) {}

  void poll() { shadows->poll(clock.now()); }
  void advance(duration d) {
    clock.advance(d);
    poll();
  }
  // Connects and answers the get with `get_answer` (a template with {TOKEN}); returns what was
  // published after the get answer.
  std::vector<message> connect_and_sync(std::string_view get_answer, std::string_view shadow = "") {
    client.connect();
    poll();
    auto requests = client.take();
    if (requests.size() != 1 || requests[0].topic != topic("lamp-1", shadow, "get")) {
      FAIL_CHECK("expected one get, saw ", requests.size(), " messages");
      return {};
    }
    client.deliver(topic("lamp-1", shadow, "get/accepted"), with_token(std::string(get_answer), token_of(requests[0].payload)));
    poll();
    return client.take();
  }
  // Answers the update in `m` as accepted at `version`.
  void accept(const message& m, std::uint64_t version, std::string_view shadow = "") {
    client.deliver(topic("lamp-1", shadow, "update/accepted"), with_token(std::string(sample_update_accepted), token_of(m.payload), version));
    poll();
  }
};

}  // namespace shadow_testing
