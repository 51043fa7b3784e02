// Conformance of tools/emulator's Jobs service (shared/aws-iot-protocol.md §2) over a real mosquitto: the
// emulator runs as a child process, the device is thingwell's Asio client, and the admin command line (or
// its admin topics) plays the cloud.
#include <doctest/doctest.h>


#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mosquitto.hpp"
#include "process.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

#include <thingwell/codec/json_simdjson.hpp>
#include <thingwell/codec/json_writer.hpp>
#include <thingwell/net/asio_client.hpp>

#ifdef THINGWELL_EMULATOR_PATH

#include "emulator_fixture.hpp"

using namespace std::chrono_literals;
using namespace thingwell;
namespace tt = thingwell::testing;
namespace emu = thingwell::testing::emulator;

namespace {

constexpr auto& field = emu::json_at;

// The emulator with one minute of job timers lasting one second (the emulator-only --seconds-per-minute).
class jobs_emulator : public emu::process {
 public:
  explicit jobs_emulator(std::uint16_t port)
      : process({.broker = emu::broker_args(port), .extra = {"--seconds-per-minute", "1"}, .directory = "emulator-jobs"}) {}

  std::string document(const std::string& name, const std::string& json) const {
    const auto path = file(name);
    std::ofstream(path) << json;
    return path;
  }
};

// A device on its own thread, recording everything under $aws/things/<thing>/jobs/.
class jobs_device : public emu::asio_device<net::asio_tcp> {
 public:
  jobs_device(std::uint16_t port, const std::string& thing)
      : asio_device(options(port, thing), {"$aws/things/" + thing + "/jobs/#"},
                    {.max_qos = mqtt::qos::at_least_once, .no_local = true}),
        prefix("$aws/things/" + thing + "/jobs") {}

  // A request under the jobs prefix ("start-next", "j1/update"); the answer's kind and document.
  std::pair<std::string, std::string> request(const std::string& suffix, const std::string& payload) {
    return asio_device::request(prefix + "/" + suffix, payload);
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
};

struct jobs_world {
  tt::mosquitto_broker broker{emu::broker_options()};
  std::unique_ptr<jobs_emulator> emulator;
  std::unique_ptr<jobs_device> dev;

  jobs_world() {
    broker.start();
    emulator = std::make_unique<jobs_emulator>(broker.plain_port());
    dev = std::make_unique<jobs_device>(broker.plain_port(), "dev");
  }
  std::string diagnostics() const { return emu::diagnostics(*emulator, broker); }
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
