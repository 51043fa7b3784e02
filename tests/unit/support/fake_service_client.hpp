// A fake aws::service_client shared by the AWS service tests (shadow, jobs): it records what the services
// subscribe and publish, and lets a test play the broker and AWS IoT (connect, SUBACKs, messages).
//
// Nothing is delivered from inside publish(): a test answers explicitly, the way the network would,
// after the service has returned.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <thingwell/aws/service_client.hpp>
#include <thingwell/codec/json_writer.hpp>

namespace fake_service {

namespace aws = thingwell::aws;
namespace json = thingwell::json;

struct message {
  std::string topic;
  std::string payload;
};

// MQTT filter matching with '+' and '#'.
inline bool matches(std::string_view filter, std::string_view topic) {
  while (true) {
    const auto fs = filter.find('/');
    const auto ts = topic.find('/');
    const auto f = filter.substr(0, fs);
    const auto t = topic.substr(0, ts);
    if (f == "#") return true;
    if (f != "+" && f != t) return false;
    if (fs == std::string_view::npos || ts == std::string_view::npos) return fs == ts;
    filter.remove_prefix(fs + 1);
    topic.remove_prefix(ts + 1);
  }
}

// How deliver() picks the subscription a message goes to.
enum class topic_match {
  exact,     // the first whose filter is exactly the topic
  wildcard,  // the first whose filter matches the topic, with '+' and '#'
};

// Lines joined with " | " ("" for none); the lines are cleared.
inline std::string take_joined(std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : " | ") + l;
  lines.clear();
  return out;
}

// Any JSON value as text, written into a buffer of BufferSize bytes ("<error>" when it does not fit).
template <std::size_t BufferSize, json::value V>
std::string text_of(const V& v) {
  char buf[BufferSize];
  json::writer w(buf);
  w.copy(v);
  auto t = w.finish();
  return t ? std::string(*t) : std::string("<error>");
}

template <topic_match Match, std::size_t DefaultMaxSubscriptions = std::numeric_limits<std::size_t>::max()>
class client final : public aws::service_client {
 public:
  std::vector<aws::service*> services;
  std::vector<std::pair<std::string, aws::subscription_id>> subscriptions;  // in the order made
  std::vector<aws::subscription_id> unacknowledged;                        // made while ready
  std::vector<message> published;
  std::vector<std::string> wire;  // "subscribe <filter>", "suback", "publish <topic>": the order of events
  bool ready = false;
  std::size_t max_subscriptions = DefaultMaxSubscriptions;

  std::error_code attach(aws::service& s) override {
    services.push_back(&s);
    return {};
  }
  void detach(aws::service& s) override {
    for (auto it = services.begin(); it != services.end(); ++it)
      if (*it == &s) {
        services.erase(it);
        return;
      }
  }
  thingwell::result<aws::subscription_id> subscribe(std::string_view filter, aws::service& to) override {
    if (subscriptions.size() == max_subscriptions) return thingwell::errc::too_many_subscriptions;
    const aws::subscription_id id = next_id_++;
    subscriptions.emplace_back(std::string(filter), id);
    owners_.push_back(&to);
    wire.push_back("subscribe " + std::string(filter));
    if (ready) unacknowledged.push_back(id);
    return id;
  }
  std::error_code publish(std::string_view topic, std::string_view payload) override {
    if (!ready) return thingwell::errc::not_connected;
    published.push_back({std::string(topic), std::string(payload)});
    wire.push_back("publish " + std::string(topic));
    return {};
  }
  bool is_ready() const override { return ready; }

  // ---- the test side ---------------------------------------------------------------------------------

  // The connection is up and every subscription in place (restored), as the session reports it.
  void connect() {
    unacknowledged.clear();
    if (!subscriptions.empty()) wire.push_back("suback");
    ready = true;
    for (auto* s : std::vector<aws::service*>(services)) s->on_ready();
  }
  void disconnect() {
    ready = false;
    for (auto* s : std::vector<aws::service*>(services)) s->on_disconnected();
  }
  // SUBACKs for subscriptions made while connected.
  void acknowledge(std::error_code ec = {}) {
    auto ids = std::move(unacknowledged);
    unacknowledged.clear();
    if (!ids.empty()) wire.push_back("suback");
    for (auto id : ids)
      for (auto* s : services) s->on_subscribed(id, ec);
  }
  // A message from the broker, to the first subscription whose filter fits the topic (see topic_match).
  bool deliver(std::string_view topic, std::string_view payload) {
    for (std::size_t i = 0; i < subscriptions.size(); ++i) {
      const bool fits = Match == topic_match::exact ? subscriptions[i].first == topic : matches(subscriptions[i].first, topic);
      if (fits) {
        owners_[i]->on_message(topic, payload);
        return true;
      }
    }
    return false;
  }
  // The process ended: its subscriptions go with it (the next service subscribes again).
  void forget_subscriptions() {
    subscriptions.clear();
    owners_.clear();
    unacknowledged.clear();
  }
  std::vector<std::string> filters() const {
    std::vector<std::string> out;
    for (const auto& s : subscriptions) out.push_back(s.first);
    return out;
  }
  // Takes the published messages (the test has looked at them).
  std::vector<message> take() {
    auto out = std::move(published);
    published.clear();
    return out;
  }
  std::string take_wire() { return take_joined(wire); }

 private:
  aws::subscription_id next_id_ = 100;
  std::vector<aws::service*> owners_;
};

// What the services and their handlers said, as lines.
struct line_recorder {
  std::vector<std::string> lines;
  std::string take() { return take_joined(lines); }
};

}  // namespace fake_service
