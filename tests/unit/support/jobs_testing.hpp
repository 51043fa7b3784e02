// Job agent tests: a fake aws::service_client with MQTT wildcard matching, a fake AWS IoT Jobs service
// that answers the agent's requests the way shared/aws-iot-protocol.md section 2 describes (payload
// shapes of section 2.3, errors of 2.6), and a rig with a manual clock and a memory_store.
//
// Nothing is delivered from inside publish(): the test (or cloud.serve()) answers after the agent has
// returned, the way the network would.
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

#include <thingwell/aws/jobs.hpp>
#include <thingwell/aws/jobs_topics.hpp>
#include <thingwell/aws/service_client.hpp>
#include <thingwell/codec/json_compact.hpp>
#include <thingwell/codec/json_writer.hpp>
#include <thingwell/core/clock.hpp>
#include <thingwell/store/memory_store.hpp>

#include "fake_service_client.hpp"

namespace jobs_testing {

namespace aws = thingwell::aws;
namespace json = thingwell::json;
using thingwell::duration;
using thingwell::errc;
using thingwell::time_point;
using namespace std::chrono_literals;

using fake_service::matches;
using fake_service::message;
using fake_client = fake_service::client<fake_service::topic_match::wildcard>;

// ---- payload helpers -----------------------------------------------------------------------------------

using value = json::compact_value;

template <json::value V>
std::string text_of(const V& v) {
  return fake_service::text_of<8192>(v);
}

// A member of a JSON payload as text ("" when absent): strings without quotes, others as JSON.
inline std::string field(std::string_view payload, std::string_view key) {
  json::compact_reader<2048> r;
  auto doc = r.parse(payload);
  if (!doc) return {};
  auto v = doc->find(key);
  if (!v) return {};
  if (v->kind() == json::type::string) {
    char buf[2048];
    auto s = v->get_string(buf);
    return s ? std::string(*s) : std::string();
  }
  return text_of(*v);
}

inline std::string token_of(std::string_view payload) { return field(payload, "clientToken"); }

inline std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

inline std::string jobs_topic(std::string_view tail, std::string_view thing = "pump-7") {
  return "$aws/things/" + std::string(thing) + "/jobs/" + std::string(tail);
}

// ---- the documented sample payloads (section 2.3), with {TOKEN} for the request's clientToken ----------

// start-next/accepted, with an "operation" added to the sample's job document.
inline constexpr std::string_view sample_start_next_accepted =
    R"({"clientToken":"{TOKEN}","timestamp":1719943388,)"
    R"("execution":{"jobId":"Job1","status":"IN_PROGRESS","queuedAt":1719940994,"startedAt":1719943388,)"
    R"("lastUpdatedAt":1719943388,"versionNumber":2,"executionNumber":1,)"
    R"("jobDocument":{"operation":"reboot","ToDo":"Reboot"}}})";
// The sample exactly as documented: no "operation".
inline constexpr std::string_view sample_start_next_accepted_todo =
    R"({"clientToken":"{TOKEN}","timestamp":1719943388,)"
    R"("execution":{"jobId":"Job1","status":"IN_PROGRESS","queuedAt":1719940994,"startedAt":1719943388,)"
    R"("lastUpdatedAt":1719943388,"versionNumber":2,"executionNumber":1,"jobDocument":{"ToDo":"Reboot"}}})";
inline constexpr std::string_view sample_start_next_empty = R"({"clientToken":"{TOKEN}","timestamp":1719948116})";
inline constexpr std::string_view sample_update_accepted = R"({"clientToken":"{TOKEN}","timestamp":1719943955})";
inline constexpr std::string_view sample_notify_next =
    R"({"timestamp":1719943955,"execution":{"jobId":"Job2","status":"QUEUED","queuedAt":1719941716,)"
    R"("lastUpdatedAt":1719941716,"versionNumber":1,"executionNumber":1,"jobDocument":{"ToDo":"Delete Root User"}}})";
inline constexpr std::string_view sample_notify_next_empty = R"({"timestamp":1719948116})";
// Section 2.6.
inline std::string sample_rejected(std::string_view code, std::string_view token, std::string_view state = {}) {
  std::string s = R"({"code":")" + std::string(code) + R"(","message":"...","clientToken":")" + std::string(token) +
                  R"(","timestamp":1719943955)";
  if (!state.empty()) s += R"(,"executionState":)" + std::string(state);
  return s + "}";
}

inline std::string with_token(std::string_view text, std::string_view token) {
  return replace_all(std::string(text), "{TOKEN}", token);
}

// ---- a fake Jobs service ---------------------------------------------------------------------------------

struct fake_execution {
  std::string id;
  std::string document;
  std::string status = "QUEUED";
  std::uint64_t version = 1;
  std::uint64_t number = 1;
  std::string details;  // "" for none
};

class fake_jobs_cloud {
 public:
  fake_client& client;
  std::string thing = "pump-7";
  std::vector<fake_execution> executions;  // in queue order
  std::vector<std::string> log;            // what the device asked for, one line per request
  std::uint64_t now_seconds = 1719940000;
  // Test knobs.
  std::string reject_next_update;  // answer the next update with this code ...
  int reject_times = 1;            // ... this many updates in a row
  bool drop_requests = false;      // swallow requests (a lost connection, a dead service)

  explicit fake_jobs_cloud(fake_client& c) : client(c) {}

  void queue(std::string id, std::string document) {
    const std::string before = head_id();
    fake_execution e;
    e.id = std::move(id);
    e.document = std::move(document);
    executions.push_back(std::move(e));
    if (head_id() != before) notify_next();
  }
  // CancelJobExecution (force): the service ends it.
  void cancel(std::string_view id) {
    const std::string before = head_id();
    if (auto* e = find(id)) {
      e->status = "CANCELED";
      ++e->version;
    }
    if (head_id() != before) notify_next();
  }
  fake_execution* find(std::string_view id) {
    for (auto& e : executions)
      if (e.id == id) return &e;
    return nullptr;
  }
  std::string take_log() { return fake_service::take_joined(log); }

  // Answers every request published so far (and those its answers cause), in order.
  void serve() {
    for (int rounds = 0; rounds < 10000; ++rounds) {
      auto requests = client.take();
      if (requests.empty()) return;
      for (const auto& m : requests) answer(m);
    }
    FAIL_CHECK("the agent never stopped publishing");
  }

  std::string head_id() {
    for (auto& e : executions)
      if (e.status == "IN_PROGRESS") return e.id;
    for (auto& e : executions)
      if (e.status == "QUEUED") return e.id;
    return {};
  }

  void notify_next() {
    if (!client.ready) return;
    const std::string head = head_id();
    std::string p = R"({"timestamp":)" + std::to_string(now_seconds);
    if (!head.empty()) p += R"(,"execution":)" + execution_json(*find(head), true);
    client.deliver(jobs_topic("notify-next", thing), p + "}");
  }

  std::string execution_json(const fake_execution& e, bool with_document) {
    std::string s = R"({"jobId":")" + e.id + R"(","status":")" + e.status + R"(","queuedAt":1719940994,)" +
                    R"("lastUpdatedAt":)" + std::to_string(now_seconds) + R"(,"versionNumber":)" +
                    std::to_string(e.version) + R"(,"executionNumber":)" + std::to_string(e.number);
    if (!e.details.empty()) s += R"(,"statusDetails":)" + e.details;
    if (with_document) s += R"(,"jobDocument":)" + e.document;
    return s + "}";
  }
  std::string state_json(const fake_execution& e) {
    return R"({"status":")" + e.status + R"(","statusDetails":)" + (e.details.empty() ? "{}" : e.details) +
           R"(,"versionNumber":)" + std::to_string(e.version) + "}";
  }

 private:
  void answer(const message& m) {
    auto t = aws::parse_jobs_topic(m.topic);
    REQUIRE(t);
    if (drop_requests) {
      log.push_back("dropped");
      return;
    }
    ++now_seconds;
    const std::string token = token_of(m.payload);
    const std::string base = R"({"clientToken":")" + token + R"(","timestamp":)" + std::to_string(now_seconds);
    const std::string prefix = jobs_topic("", thing);
    if (t->operation == aws::jobs_operation::start_next) {
      log.push_back("start-next");
      const std::string head = head_id();
      if (head.empty()) {
        client.deliver(prefix + "start-next/accepted", base + "}");
        return;
      }
      auto& e = *find(head);
      if (e.status == "QUEUED") {
        e.status = "IN_PROGRESS";
        ++e.version;
      }
      client.deliver(prefix + "start-next/accepted", base + R"(,"execution":)" + execution_json(e, true) + "}");
      return;
    }
    const std::string id(t->job_id);
    auto* e = find(id);
    if (t->operation == aws::jobs_operation::describe) {
      log.push_back("get " + id);
      const std::string answers = prefix + id + "/get/";
      if (e == nullptr) {
        client.deliver(answers + "rejected", sample_rejected("ResourceNotFound", token));
      } else if (e->status != "IN_PROGRESS" && e->status != "QUEUED") {
        client.deliver(answers + "rejected", sample_rejected("TerminalStateReached", token));
      } else {
        client.deliver(answers + "accepted", base + R"(,"execution":)" + execution_json(*e, false) + "}");
      }
      return;
    }
    if (t->operation != aws::jobs_operation::update) return;
    const std::string status = field(m.payload, "status");
    const std::string details = field(m.payload, "statusDetails");
    const std::string expected = field(m.payload, "expectedVersion");
    const std::string step = field(m.payload, "stepTimeoutInMinutes");
    log.push_back("update " + id + " " + status + (details.empty() ? "" : " " + details) +
                  (step.empty() ? "" : " step=" + step));
    const std::string answers = prefix + id + "/update/";
    if (e == nullptr) {
      client.deliver(answers + "rejected", sample_rejected("ResourceNotFound", token));
      return;
    }
    if (!reject_next_update.empty()) {
      const std::string code = reject_next_update;
      if (--reject_times <= 0) {
        reject_next_update.clear();
        reject_times = 1;
      }
      client.deliver(answers + "rejected", sample_rejected(code, token, state_json(*e)));
      return;
    }
    if (!expected.empty() && expected != std::to_string(e->version)) {
      client.deliver(answers + "rejected", sample_rejected("VersionMismatch", token, state_json(*e)));
      return;
    }
    if (e->status != "IN_PROGRESS" && e->status != "QUEUED") {
      client.deliver(answers + "rejected", sample_rejected("InvalidStateTransition", token, state_json(*e)));
      return;
    }
    const std::string before = head_id();
    e->status = status;
    if (!details.empty()) e->details = details;
    ++e->version;
    std::string a = base;
    if (field(m.payload, "includeJobExecutionState") == "true") a += R"(,"executionState":)" + state_json(*e);
    client.deliver(answers + "accepted", a + "}");
    if (head_id() != before) notify_next();
  }
};

// ---- the rig -----------------------------------------------------------------------------------------------

using store_type = thingwell::store::memory_store<1, 16, 4, 1024, 32>;
using agent_type = aws::job_agent<json::compact_reader<512>, store_type, 8, 512>;
using context = agent_type::context;

inline aws::job_agent_config test_config() {
  aws::job_agent_config c;
  c.thing_name = "pump-7";
  c.token_prefix = "pump-7";
  c.token_nonce = 0xabc;
  return c;
}

// What the agent and the handlers said, as lines.
using recorder = fake_service::line_recorder;

inline const char* kind_name(aws::job_event_kind k) {
  switch (k) {
    case aws::job_event_kind::started: return "started";
    case aws::job_event_kind::resumed: return "resumed";
    case aws::job_event_kind::finished: return "finished";
    case aws::job_event_kind::cancelled: return "cancelled";
    case aws::job_event_kind::unsupported: return "unsupported";
    case aws::job_event_kind::redelivered: return "redelivered";
    case aws::job_event_kind::error: return "error";
  }
  return "?";
}

struct rig {
  thingwell::manual_clock clock{time_point{duration{1'000'000}}};
  fake_client client;
  fake_jobs_cloud cloud{client};
  store_type store;  // survives restart(): the device's flash
  recorder events;
  std::unique_ptr<agent_type> agent;
  aws::job_agent_config config = test_config();

  rig() { boot(); }

  void boot() {
    agent.reset();
    agent = std::make_unique<agent_type>(client, store, config, [r = &events](const aws::job_event& e) {
      std::string line = std::string(kind_name(e.kind)) + " " + std::string(e.job_id);
      if (e.kind == aws::job_event_kind::finished || e.kind == aws::job_event_kind::redelivered)
        line += " " + std::string(aws::to_string(e.status));
      if (e.kind == aws::job_event_kind::error && !e.code.empty()) line += " " + std::string(e.code);
      r->lines.push_back(line);
    });
    REQUIRE(!agent->error());
  }
  // The device restarts: the agent is gone, the store stays, the connection drops.
  void restart() {
    client.disconnect();
    agent.reset();
    client.forget_subscriptions();
    boot();
  }
  void poll() { agent->poll(clock.now()); }
  void advance(duration d) {
    clock.advance(d);
    poll();
  }
  // Connects and lets the cloud answer until nothing more is said.
  void connect_and_serve() {
    client.connect();
    poll();
    cloud.serve();
    poll();
  }
};

}  // namespace jobs_testing
