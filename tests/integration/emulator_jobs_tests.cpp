// Conformance of tools/emulator's Jobs service (shared/aws-iot-protocol.md §2) over a real mosquitto: the
// emulator runs as a child process, the device is thingwell's Asio client, and the admin command line (or
// its admin topics) plays the cloud.
#include <doctest/doctest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mosquitto.hpp"
#include "process.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

#include <thingwell/codec/json_simdjson.hpp>
#include <thingwell/codec/json_writer.hpp>
#include <thingwell/net/asio_client.hpp>

#ifdef THINGWELL_EMULATOR_PATH

using namespace std::chrono_literals;
using namespace thingwell;
namespace tt = thingwell::testing;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A field of a JSON document, re-written compactly ("" when absent): checks compare text.
std::string field(const std::string& doc, std::initializer_list<std::string_view> path) {
  json::simdjson_reader reader;
  auto root = reader.parse(doc, {.max_bytes = 1 << 20, .max_depth = 64});
  if (!root) return "<not JSON>";
  auto v = json::find_path(*root, path);
  if (!v) return "";
  char buffer[64 * 1024];
  json::writer w(buffer);
  w.copy(*v);
  auto text = w.finish();
  return text ? std::string(*text) : std::string("<too large>");
}

// The emulator with one minute of job timers lasting one second (the emulator-only --seconds-per-minute).
class jobs_emulator {
 public:
  explicit jobs_emulator(std::uint16_t port) : port_(port) { start(); }
  ~jobs_emulator() {
    if (process_) process_->terminate(2s);
  }

  void start() {
    tt::process_options o;
    o.argv = {THINGWELL_EMULATOR_PATH, "--broker-host", "127.0.0.1", "--broker-port", std::to_string(port_),
              "--data-dir", files_.file("data"), "--client-id", "emulator-" + std::to_string(starts_++),
              "--seconds-per-minute", "1"};
    o.log_path = files_.file("emulator.log");
    const std::size_t logged_before = slurp(o.log_path).size();
    process_ = std::make_unique<tt::child_process>(o);
    const bool ready = tt::wait_until(
        [&] { return slurp(o.log_path).find("connected, serving", logged_before) != std::string::npos; }, 10s);
    INFO(log());
    REQUIRE(ready);
  }
  tt::exit_status stop() {
    auto status = process_->terminate(5s);
    process_.reset();
    return status;
  }

  tt::command_result admin(std::vector<std::string> command) const {
    std::vector<std::string> argv{THINGWELL_EMULATOR_PATH};
    argv.insert(argv.end(), command.begin(), command.end());
    argv.insert(argv.end(), {"--broker-host", "127.0.0.1", "--broker-port", std::to_string(port_), "--timeout", "5"});
    return tt::run_command(argv, 10s);
  }
  std::string document(const std::string& name, const std::string& json) const {
    const auto path = files_.file(name);
    std::ofstream(path) << json;
    return path;
  }
  std::string log() const { return slurp(files_.file("emulator.log")); }

 private:
  std::uint16_t port_;
  tt::temp_dir files_{"emulator-jobs"};
  int starts_ = 0;
  std::unique_ptr<tt::child_process> process_;
};

// A device on its own thread, recording everything under $aws/things/<thing>/jobs/.
class jobs_device {
 public:
  jobs_device(std::uint16_t port, const std::string& thing)
      : prefix("$aws/things/" + thing + "/jobs"), client_(io_.get_executor(), options(port, thing)) {
    runner_ = std::thread([this] { io_.run(); });
    client_.async_subscribe(
        prefix + "/#",
        [this](const mqtt::publish& p) {
          std::lock_guard lock(mutex_);
          received_.push_back(
              {std::string(p.topic), std::string(reinterpret_cast<const char*>(p.payload.data()), p.payload.size())});
        },
        {.max_qos = mqtt::qos::at_least_once, .no_local = true}, [](std::error_code ec, mqtt::reason_code) { CHECK_FALSE(ec); });
    client_.async_connect(asio::use_future).get();
  }
  ~jobs_device() {
    client_.async_disconnect(asio::use_future).get();
    guard_.reset();
    runner_.join();
  }

  void publish(const std::string& topic, const std::string& payload) {
    client_.async_publish(topic, payload, {.qos = mqtt::qos::at_least_once}, asio::use_future).get();
  }

  // The oldest message on `topic` not taken yet, waiting up to `timeout`.
  std::optional<std::string> take(const std::string& topic, std::chrono::milliseconds timeout = 5s) {
    std::optional<std::string> found;
    tt::wait_until(
        [&] {
          std::lock_guard lock(mutex_);
          for (auto it = received_.begin(); it != received_.end(); ++it) {
            if (it->first != topic) continue;
            found = it->second;
            received_.erase(it);
            return true;
          }
          return false;
        },
        timeout);
    return found;
  }
  bool quiet_on(const std::string& topic, std::chrono::milliseconds window = 300ms) { return !take(topic, window); }

  // A request under the jobs prefix ("start-next", "j1/update"); the answer's kind and document.
  std::pair<std::string, std::string> request(const std::string& suffix, const std::string& payload) {
    const std::string topic = prefix + "/" + suffix;
    publish(topic, payload);
    std::pair<std::string, std::string> answer;
    tt::wait_until(
        [&] {
          std::lock_guard lock(mutex_);
          for (auto it = received_.begin(); it != received_.end(); ++it) {
            if (it->first != topic + "/accepted" && it->first != topic + "/rejected") continue;
            answer = {it->first.substr(topic.size() + 1), it->second};
            received_.erase(it);
            return true;
          }
          return false;
        },
        5s);
    return answer;
  }

  const std::string prefix;

 private:
  static net::client_options options(std::uint16_t port, const std::string& thing) {
    net::client_options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.client_id = thing + "-jobs-device";
    o.version = mqtt::protocol_version::v5;
    o.memory.output_bytes = 256 * 1024;
    o.memory.store_bytes = 4 * 1024 * 1024;
    return o;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  net::asio_client<net::asio_tcp> client_;
  std::thread runner_;
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> received_;
};

struct jobs_world {
  tt::mosquitto_broker broker{[] {
    tt::mosquitto_options o;
    o.max_queued_messages = 0;
    return o;
  }()};
  std::unique_ptr<jobs_emulator> emulator;
  std::unique_ptr<jobs_device> dev;

  jobs_world() {
    broker.start();
    emulator = std::make_unique<jobs_emulator>(broker.plain_port());
    dev = std::make_unique<jobs_device>(broker.plain_port(), "dev");
  }
  std::string diagnostics() const { return "emulator log:\n" + emulator->log() + "\nbroker log:\n" + broker.log_tail(20); }
};

}  // namespace

TEST_CASE("emulator jobs: the full lifecycle, with AWS's payloads and rejections") {
  jobs_world w;
  INFO(w.diagnostics());
  auto created = w.emulator->admin({"jobs", "create", "job1", "--things", "dev", "--document",
                                    w.emulator->document("doc.json", R"({"operation":"reboot"})")});
  INFO(created.output);
  REQUIRE(created.success());

  const auto next = w.dev->take(w.dev->prefix + "/notify-next");
  REQUIRE(next);
  CHECK(field(*next, {"execution", "jobId"}) == R"("job1")");
  CHECK(field(*next, {"execution", "status"}) == R"("QUEUED")");
  CHECK(field(*next, {"execution", "jobDocument"}) == R"({"operation":"reboot"})");
  const auto notify = w.dev->take(w.dev->prefix + "/notify");
  REQUIRE(notify);
  CHECK(field(*notify, {"jobs", "QUEUED"}).find(R"("jobId":"job1")") != std::string::npos);

  auto [kind, started] = w.dev->request("start-next", R"({"statusDetails":{"step":"1"},"clientToken":"c-2"})");
  REQUIRE(kind == "accepted");
  CHECK(field(started, {"clientToken"}) == R"("c-2")");
  CHECK(field(started, {"execution", "status"}) == R"("IN_PROGRESS")");
  CHECK(field(started, {"execution", "versionNumber"}) == "2");
  CHECK(field(started, {"execution", "statusDetails"}) == R"({"step":"1"})");
  CHECK(field(started, {"execution", "startedAt"}) == field(started, {"timestamp"}));

  auto progress = w.dev->request("job1/update",
                                 R"({"status":"IN_PROGRESS","statusDetails":{"step":"2"},"expectedVersion":2,"includeJobExecutionState":true,"clientToken":"c-3"})");
  REQUIRE(progress.first == "accepted");
  CHECK(field(progress.second, {"executionState"}) == R"({"status":"IN_PROGRESS","statusDetails":{"step":"2"},"versionNumber":3})");

  auto mismatch = w.dev->request("job1/update", R"({"status":"IN_PROGRESS","expectedVersion":2,"clientToken":"c-4"})");
  CHECK(mismatch.first == "rejected");
  CHECK(field(mismatch.second, {"code"}) == R"("VersionMismatch")");
  CHECK(field(mismatch.second, {"clientToken"}) == R"("c-4")");
  CHECK(field(mismatch.second, {"executionState", "versionNumber"}) == "3");

  auto queued_back = w.dev->request("job1/update", R"({"status":"QUEUED"})");
  CHECK(field(queued_back.second, {"code"}) == R"("InvalidStateTransition")");

  auto done = w.dev->request("job1/update", R"({"status":"SUCCEEDED","statusDetails":{"step":"done"},"expectedVersion":3})");
  CHECK(done.first == "accepted");
  const auto empty_next = w.dev->take(w.dev->prefix + "/notify-next");
  REQUIRE(empty_next);
  CHECK(field(*empty_next, {"execution"}).empty());
  const auto empty_notify = w.dev->take(w.dev->prefix + "/notify");
  REQUIRE(empty_notify);
  CHECK(field(*empty_notify, {"jobs"}) == "{}");

  auto terminal = w.dev->request("job1/update", R"({"status":"IN_PROGRESS"})");
  CHECK(field(terminal.second, {"code"}) == R"("InvalidStateTransition")");
  CHECK(field(terminal.second, {"executionState", "status"}) == R"("SUCCEEDED")");
  CHECK(field(w.dev->request("job1/get", "{}").second, {"code"}) == R"("TerminalStateReached")");
  CHECK(field(w.dev->request("nope/get", "{}").second, {"code"}) == R"("ResourceNotFound")");
  CHECK(field(w.dev->request("job1/update", "{not json").second, {"code"}) == R"("InvalidJson")");
  CHECK(field(w.dev->request("x/y/z", "{}").second, {"code"}) == R"("InvalidTopic")");

  auto listed = w.emulator->admin({"jobs", "list", "--thing", "dev", "--json"});
  INFO(listed.output);
  REQUIRE(listed.success());
  const auto listing = listed.output.substr(listed.output.find('{'));
  CHECK(field(listing, {"executions"}).find(R"("status":"SUCCEEDED","statusDetails":{"step":"done"})") != std::string::npos);
  auto readable = w.emulator->admin({"jobs", "list"});
  CHECK(readable.success());
  CHECK(readable.output.find("SUCCEEDED") != std::string::npos);

  auto duplicate = w.emulator->admin({"jobs", "create", "job1", "--things", "dev", "--document",
                                      w.emulator->document("doc.json", R"({"operation":"reboot"})")});
  CHECK(duplicate.status.code == 1);
  CHECK(duplicate.output.find("ResourceAlreadyExists") != std::string::npos);
}

TEST_CASE("emulator jobs: a forced cancel during the run reaches the device, which can no longer update") {
  jobs_world w;
  INFO(w.diagnostics());
  const auto doc = w.emulator->document("doc.json", R"({"operation":"download"})");
  REQUIRE(w.emulator->admin({"jobs", "create", "big", "--things", "dev", "--document", doc}).success());
  REQUIRE(w.emulator->admin({"jobs", "create", "after", "--things", "dev", "--document", doc}).success());
  REQUIRE(w.dev->take(w.dev->prefix + "/notify-next"));
  REQUIRE(w.dev->request("start-next", "{}").first == "accepted");

  // Without --force the running execution is left alone (and "big" has no other).
  auto plain = w.emulator->admin({"jobs", "cancel", "big"});
  CHECK(plain.success());
  CHECK(w.dev->request("big/update", R"({"status":"IN_PROGRESS","statusDetails":{"got":"50%"}})").first == "accepted");

  auto forced = w.emulator->admin({"jobs", "cancel", "big", "--force"});
  INFO(forced.output);
  CHECK(forced.success());
  const auto next = w.dev->take(w.dev->prefix + "/notify-next");
  REQUIRE(next);
  CHECK(field(*next, {"execution", "jobId"}) == R"("after")");
  auto late = w.dev->request("big/update", R"({"status":"FAILED"})");
  CHECK(field(late.second, {"code"}) == R"("InvalidStateTransition")");
  CHECK(field(late.second, {"executionState", "status"}) == R"("CANCELED")");
}

TEST_CASE("emulator jobs: a step timeout moves the execution to TIMED_OUT, and the state survives a restart") {
  jobs_world w;
  INFO(w.diagnostics());
  const auto doc = w.emulator->document("doc.json", R"({"operation":"slow"})");
  REQUIRE(w.emulator->admin({"jobs", "create", "slow", "--things", "dev", "--document", doc}).success());
  REQUIRE(w.emulator->admin({"jobs", "create", "kept", "--things", "dev", "--document", doc}).success());
  // One "minute" is one second here (--seconds-per-minute 1).
  REQUIRE(w.dev->request("start-next", R"({"stepTimeoutInMinutes":1})").first == "accepted");
  REQUIRE(w.dev->take(w.dev->prefix + "/notify-next"));  // from the first create

  const auto next = w.dev->take(w.dev->prefix + "/notify-next", 5s);
  REQUIRE(next);
  CHECK(field(*next, {"execution", "jobId"}) == R"("kept")");
  auto late = w.dev->request("slow/update", R"({"status":"SUCCEEDED"})");
  CHECK(field(late.second, {"executionState", "status"}) == R"("TIMED_OUT")");

  REQUIRE(w.dev->request("kept/update", R"({"status":"IN_PROGRESS","statusDetails":{"step":"3"}})").first == "accepted");
  CHECK(w.emulator->stop().success());
  w.emulator->start();
  auto resumed = w.dev->request("start-next", "{}");
  CHECK(field(resumed.second, {"execution", "jobId"}) == R"("kept")");
  CHECK(field(resumed.second, {"execution", "statusDetails"}) == R"({"step":"3"})");
  CHECK(field(resumed.second, {"execution", "versionNumber"}) == "2");
}

TEST_CASE("emulator jobs: 100 queued jobs come out of start-next in creation order") {
  jobs_world w;
  INFO(w.diagnostics());
  // Straight on the admin topic (what `jobs create` sends): 100 processes would take longer than the point.
  for (int i = 0; i < 100; ++i) {
    const std::string id = "job-" + std::to_string(999 - i);  // ids sort in the opposite order
    w.dev->publish("$thingwell/emulator/jobs/create",
                   R"({"jobId":")" + id + R"(","targets":["dev"],"document":{"n":)" + std::to_string(i) + "}}");
  }
  for (int i = 0; i < 100; ++i) {
    auto [kind, doc] = w.dev->request("start-next", "{}");
    REQUIRE(kind == "accepted");
    const std::string id = "job-" + std::to_string(999 - i);
    REQUIRE(field(doc, {"execution", "jobId"}) == "\"" + id + "\"");
    REQUIRE(w.dev->request(id + "/update", R"({"status":"SUCCEEDED"})").first == "accepted");
  }
  CHECK(field(w.dev->request("get", "{}").second, {"queuedJobs"}) == "[]");
}

#else

TEST_CASE("emulator jobs: conformance tests skipped" * doctest::skip()) {}

#endif  // THINGWELL_EMULATOR_PATH
