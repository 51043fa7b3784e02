// The sans-I/O Jobs service against shared/aws-iot-protocol.md §2, with a manual clock.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "command_line.hpp"
#include "jobs_service.hpp"
#include "jobs_status_details.hpp"
#include "jobs_topics.hpp"
#include "json_tree.hpp"

using namespace thingwell::emulator;

namespace {

constexpr std::int64_t t0 = 1719940994;
const std::string jobs = "$aws/things/dev/jobs";

json_value parse(std::string_view text) {
  auto v = parse_json(text, 1 << 20);
  REQUIRE(v);
  return *v;
}

json_value message_on(const jobs_outcome& o, const std::string& topic) {
  for (const auto& m : o.messages)
    if (m.topic == topic) return parse(m.payload);
  FAIL("nothing published on " << topic);
  return {};
}

bool published_on(const jobs_outcome& o, const std::string& topic) {
  for (const auto& m : o.messages)
    if (m.topic == topic) return true;
  return false;
}

std::string at(const json_value& doc, std::initializer_list<std::string_view> path) {
  const json_value* v = &doc;
  for (auto key : path) {
    v = v->find(key);
    if (v == nullptr) return "";
  }
  return to_json(*v);
}

// The code of a rejection on <topic>/rejected.
std::string code_of(const jobs_outcome& o, const std::string& topic) { return at(message_on(o, topic + "/rejected"), {"code"}); }

jobs_outcome create(jobs_service& s, const std::string& id, const std::string& targets, std::int64_t now,
                    const std::string& extra = "") {
  return s.handle("$thingwell/emulator/jobs/create",
                  R"({"jobId":")" + id + R"(","targets":)" + targets + R"(,"document":{"op":")" + id + R"("})" + extra +
                      R"(,"clientToken":"adm"})",
                  now);
}

}  // namespace

TEST_CASE("jobs topics: requests, events and the service's own answers") {
  CHECK(parse_jobs_topic("$aws/things/dev/jobs/get")->operation == jobs_operation::get_pending);
  CHECK(parse_jobs_topic("$aws/things/dev/jobs/start-next")->operation == jobs_operation::start_next);
  auto describe = parse_jobs_topic("$aws/things/dev/jobs/$next/get");
  CHECK(describe->operation == jobs_operation::describe);
  CHECK(describe->job_id == "$next");
  CHECK(parse_jobs_topic("$aws/things/dev/jobs/j1/update")->operation == jobs_operation::update);
  CHECK(parse_jobs_topic("$aws/things/dev/jobs/$next/update")->operation == jobs_operation::invalid_topic);
  CHECK(parse_jobs_topic("$aws/things/dev/jobs/a/b/c")->operation == jobs_operation::invalid_topic);
  CHECK_FALSE(parse_jobs_topic("$aws/things/dev/jobs/notify"));
  CHECK_FALSE(parse_jobs_topic("$aws/things/dev/jobs/notify-next"));
  CHECK_FALSE(parse_jobs_topic("$aws/things/dev/jobs/j1/update/accepted"));
  CHECK_FALSE(parse_jobs_topic("$aws/things/dev/jobs/get/rejected"));
  CHECK_FALSE(parse_jobs_topic("$aws/things/dev/shadow/get"));
  CHECK(parse_jobs_topic("$thingwell/emulator/jobs/create")->operation == jobs_operation::admin_create);
  CHECK(valid_job_id("job_1-a"));
  CHECK_FALSE(valid_job_id("job.1"));
  CHECK_FALSE(valid_job_id(std::string(65, 'j')));
}

TEST_CASE("create queues executions; notify and notify-next carry AWS's fields") {
  jobs_service s;
  auto created = create(s, "job1", R"(["dev","other"])", t0);
  CHECK(created.changed);
  CHECK(at(message_on(created, "$thingwell/emulator/jobs/create/accepted"), {"jobId"}) == R"("job1")");
  const auto notify = message_on(created, jobs + "/notify");
  CHECK(at(notify, {"timestamp"}) == std::to_string(t0));
  CHECK(at(notify, {"jobs"}) == R"({"QUEUED":[{"jobId":"job1","queuedAt":1719940994,"lastUpdatedAt":1719940994,"executionNumber":1,"versionNumber":1}]})");
  const auto next = message_on(created, jobs + "/notify-next");
  CHECK(at(next, {"execution"}) == R"({"jobId":"job1","status":"QUEUED","queuedAt":1719940994,"lastUpdatedAt":1719940994,"versionNumber":1,"executionNumber":1,"jobDocument":{"op":"job1"}})");
  CHECK(published_on(created, "$aws/things/other/jobs/notify-next"));

  // A second job: notify again, but the next execution did not change.
  auto second = create(s, "job2", R"(["dev"])", t0 + 1);
  CHECK(published_on(second, jobs + "/notify"));
  CHECK_FALSE(published_on(second, jobs + "/notify-next"));
  CHECK(code_of(create(s, "job2", R"(["dev"])", t0 + 2), "$thingwell/emulator/jobs/create") == R"("ResourceAlreadyExists")");

  auto pending = s.handle(jobs + "/get", R"({"clientToken":"c-1"})", t0 + 3);
  const auto list = message_on(pending, jobs + "/get/accepted");
  CHECK(at(list, {"clientToken"}) == R"("c-1")");
  CHECK(at(list, {"inProgressJobs"}) == "[]");
  CHECK(at(list, {"queuedJobs"}).find(R"("jobId":"job1")") < at(list, {"queuedJobs"}).find(R"("jobId":"job2")"));
}

TEST_CASE("start-next, updates and the notify events of completion") {
  jobs_service s;
  create(s, "job1", R"(["dev"])", t0);
  create(s, "job2", R"(["dev"])", t0);
  auto started = s.handle(jobs + "/start-next", R"({"statusDetails":{"step":"download"},"clientToken":"c-2"})", t0 + 10);
  CHECK(started.changed);
  // QUEUED → IN_PROGRESS by start-next emits no notify events (§2.3).
  CHECK_FALSE(published_on(started, jobs + "/notify"));
  CHECK_FALSE(published_on(started, jobs + "/notify-next"));
  const auto execution = message_on(started, jobs + "/start-next/accepted");
  CHECK(at(execution, {"execution"}) == R"({"jobId":"job1","status":"IN_PROGRESS","statusDetails":{"step":"download"},"queuedAt":1719940994,"startedAt":1719941004,"lastUpdatedAt":1719941004,"versionNumber":2,"executionNumber":1,"jobDocument":{"op":"job1"}})");
  // Again: the same execution, unchanged.
  auto again = s.handle(jobs + "/start-next", R"({"statusDetails":{"step":"other"}})", t0 + 11);
  CHECK_FALSE(again.changed);
  CHECK(at(message_on(again, jobs + "/start-next/accepted"), {"execution", "statusDetails"}) == R"({"step":"download"})");

  auto progress = s.handle(jobs + "/job1/update",
                           R"({"status":"IN_PROGRESS","statusDetails":{"progress":"42/100"},"expectedVersion":2,"includeJobExecutionState":true,"clientToken":"c-4"})",
                           t0 + 12);
  const auto accepted = message_on(progress, jobs + "/job1/update/accepted");
  CHECK(at(accepted, {"executionState"}) == R"({"status":"IN_PROGRESS","statusDetails":{"progress":"42/100"},"versionNumber":3})");
  CHECK(at(accepted, {"clientToken"}) == R"("c-4")");
  CHECK_FALSE(published_on(progress, jobs + "/notify"));

  auto done = s.handle(jobs + "/job1/update", R"({"status":"SUCCEEDED","expectedVersion":"3"})", t0 + 13);
  CHECK(at(message_on(done, jobs + "/job1/update/accepted"), {}) == R"({"timestamp":1719941007})");
  CHECK(at(message_on(done, jobs + "/notify"), {"jobs"}) ==
        R"({"QUEUED":[{"jobId":"job2","queuedAt":1719940994,"lastUpdatedAt":1719940994,"executionNumber":1,"versionNumber":1}]})");
  CHECK(at(message_on(done, jobs + "/notify-next"), {"execution", "jobId"}) == R"("job2")");
  CHECK(s.find("dev", "job1")->status == execution_status::succeeded);
  CHECK(s.find_job("job1")->status == job_status::completed);

  auto rejected = s.handle(jobs + "/job2/update", R"({"status":"REJECTED","statusDetails":{"reason":"unsupported_operation"}})", t0 + 14);
  CHECK(published_on(rejected, jobs + "/job2/update/accepted"));
  const auto empty = message_on(rejected, jobs + "/notify");
  CHECK(at(empty, {"jobs"}) == "{}");
  CHECK(at(message_on(rejected, jobs + "/notify-next"), {}) == R"({"timestamp":1719941008})");
  auto nothing = s.handle(jobs + "/start-next", "", t0 + 15);
  CHECK(at(message_on(nothing, jobs + "/start-next/accepted"), {}) == R"({"timestamp":1719941009})");
  CHECK(at(message_on(s.handle(jobs + "/$next/get", "{}", t0 + 15), jobs + "/$next/get/accepted"), {"execution"}).empty());
}

TEST_CASE("transition table (device-initiated, §2.5)") {
  struct row {
    const char* path;  // statuses reached before the update, by the device
    const char* to;
    const char* code;  // "" when accepted
  };
  const row rows[] = {
      {"", "IN_PROGRESS", ""},
      {"", "REJECTED", ""},
      {"", "SUCCEEDED", ""},  // UNCONFIRMED in §2.5; accepted here
      {"", "FAILED", ""},
      {"", "QUEUED", "InvalidStateTransition"},
      {"", "CANCELED", "InvalidStateTransition"},
      {"", "TIMED_OUT", "InvalidStateTransition"},
      {"", "REMOVED", "InvalidStateTransition"},
      {"", "DONE", "InvalidRequest"},
      {"IN_PROGRESS", "IN_PROGRESS", ""},
      {"IN_PROGRESS", "SUCCEEDED", ""},
      {"IN_PROGRESS", "FAILED", ""},
      {"IN_PROGRESS", "REJECTED", ""},
      {"IN_PROGRESS", "QUEUED", "InvalidStateTransition"},
      {"SUCCEEDED", "IN_PROGRESS", "InvalidStateTransition"},
      {"FAILED", "SUCCEEDED", "InvalidStateTransition"},
      {"REJECTED", "REJECTED", "InvalidStateTransition"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.path);
    CAPTURE(r.to);
    jobs_service s;
    create(s, "j", R"(["dev"])", t0);
    if (*r.path) REQUIRE(published_on(s.handle(jobs + "/j/update", std::string(R"({"status":")") + r.path + "\"}", t0), jobs + "/j/update/accepted"));
    const auto version = s.find("dev", "j")->version;
    auto o = s.handle(jobs + "/j/update", std::string(R"({"status":")") + r.to + "\"}", t0 + 1);
    if (*r.code == 0) {
      CHECK(published_on(o, jobs + "/j/update/accepted"));
      CHECK(s.find("dev", "j")->version == version + 1);
    } else {
      CHECK(code_of(o, jobs + "/j/update") == "\"" + std::string(r.code) + "\"");
      CHECK(s.find("dev", "j")->version == version);
      if (std::string(r.code) == "InvalidStateTransition")
        CHECK(at(message_on(o, jobs + "/j/update/rejected"), {"executionState", "versionNumber"}) == std::to_string(version));
    }
  }
}

TEST_CASE("errors: codes, executionState and the clientToken echo") {
  jobs_service s;
  create(s, "j", R"(["dev"])", t0);
  CHECK(code_of(s.handle(jobs + "/j/update", R"({"status":)", t0), jobs + "/j/update") == R"("InvalidJson")");
  CHECK(code_of(s.handle(jobs + "/j/update", R"([1])", t0), jobs + "/j/update") == R"("InvalidRequest")");
  CHECK(code_of(s.handle(jobs + "/j/update", R"({"clientToken":"x"})", t0), jobs + "/j/update") == R"("InvalidRequest")");
  CHECK(code_of(s.handle(jobs + "/nope/update", R"({"status":"IN_PROGRESS"})", t0), jobs + "/nope/update") == R"("ResourceNotFound")");
  CHECK(code_of(s.handle(jobs + "/j/update", R"({"status":"IN_PROGRESS","executionNumber":2})", t0), jobs + "/j/update") == R"("ResourceNotFound")");
  CHECK(code_of(s.handle(jobs + "/a/b/c", "{}", t0), jobs + "/a/b/c") == R"("InvalidTopic")");
  CHECK(code_of(s.handle(jobs + "/j/update", R"({"status":"IN_PROGRESS","stepTimeoutInMinutes":0})", t0), jobs + "/j/update") == R"("InvalidRequest")");
  CHECK(code_of(s.handle(jobs + "/start-next", R"({"stepTimeoutInMinutes":-1})", t0), jobs + "/start-next") == R"("InvalidRequest")");

  auto mismatch = s.handle(jobs + "/j/update", R"({"status":"IN_PROGRESS","expectedVersion":5,"clientToken":"v"})", t0);
  const auto doc = message_on(mismatch, jobs + "/j/update/rejected");
  CHECK(at(doc, {"code"}) == R"("VersionMismatch")");
  CHECK(at(doc, {"clientToken"}) == R"("v")");
  CHECK(at(doc, {"timestamp"}) == std::to_string(t0));
  CHECK(at(doc, {"executionState"}) == R"({"status":"QUEUED","statusDetails":{},"versionNumber":1})");
  CHECK_FALSE(mismatch.changed);

  s.handle(jobs + "/j/update", R"({"status":"SUCCEEDED"})", t0);
  CHECK(code_of(s.handle(jobs + "/j/get", "{}", t0), jobs + "/j/get") == R"("TerminalStateReached")");
  CHECK(code_of(s.handle("$aws/things/dev/jobs/j/update", R"({"status":"IN_PROGRESS"})", t0), jobs + "/j/update") ==
        R"("InvalidStateTransition")");
  // Invalid thing names are not routed at all.
  CHECK(s.handle("$aws/things/bad.name/jobs/get", "{}", t0).messages.empty());
}

TEST_CASE("statusDetails limits (§2.7)") {
  CHECK_FALSE(check_status_details(parse(R"({"a":"1","b:c_d-e":"x"})")));
  CHECK(check_status_details(parse(R"({"a":1})")));
  CHECK(check_status_details(parse(R"({"a":""})")));
  CHECK(check_status_details(parse(R"({"a b":"x"})")));
  CHECK(check_status_details(parse(R"({"a":"line\nbreak"})")));
  CHECK(check_status_details(parse(R"({"a":"c1\u0085"})")));
  CHECK(check_status_details(parse(R"(["a"])")));
  CHECK_FALSE(check_status_details(parse(R"({"a":")" + std::string(1024, 'x') + "\"}")));
  CHECK(check_status_details(parse(R"({"a":")" + std::string(1025, 'x') + "\"}")));
  // 1024 characters, not bytes: é is two bytes.
  std::string accents;
  for (int i = 0; i < 1024; ++i) accents += "\xc3\xa9";
  CHECK_FALSE(check_status_details(parse(R"({"a":")" + accents + "\"}")));
  CHECK(check_status_details(parse(R"({")" + std::string(129, 'k') + R"(":"x"})")));
  std::string eleven = "{";
  for (int i = 0; i < 11; ++i) eleven += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":\"v\"";
  CHECK(check_status_details(parse(eleven + "}")));

  jobs_service s;
  create(s, "j", R"(["dev"])", t0);
  CHECK(code_of(s.handle(jobs + "/j/update", R"({"status":"IN_PROGRESS","statusDetails":{"a":"x\ty"}})", t0), jobs + "/j/update") ==
        R"("InvalidRequest")");
}

TEST_CASE("step timeout and in-progress timeout on a manual clock") {
  jobs_limits limits;
  limits.seconds_per_minute = 2;  // the emulator-only time scale
  jobs_service s(limits);
  create(s, "a", R"(["dev"])", t0);
  create(s, "b", R"(["dev"])", t0);
  s.handle(jobs + "/start-next", R"({"stepTimeoutInMinutes":3})", t0);  // deadline t0 + 6
  CHECK(at(message_on(s.handle(jobs + "/$next/get", "{}", t0 + 1), jobs + "/$next/get/accepted"),
           {"execution", "approximateSecondsBeforeTimedOut"}) == "5");
  CHECK(s.expire(t0 + 5).messages.empty());
  // Refreshed by an IN_PROGRESS update with a new value: now t0 + 5 + 2.
  s.handle(jobs + "/a/update", R"({"status":"IN_PROGRESS","stepTimeoutInMinutes":1})", t0 + 5);
  CHECK(s.expire(t0 + 6).messages.empty());
  auto timed_out = s.expire(t0 + 7);
  CHECK(timed_out.changed);
  CHECK(s.find("dev", "a")->status == execution_status::timed_out);
  CHECK(at(message_on(timed_out, jobs + "/notify-next"), {"execution", "jobId"}) == R"("b")");
  CHECK(published_on(timed_out, jobs + "/notify"));
  CHECK(s.expire(t0 + 100).messages.empty());

  // -1 cancels the step timer.
  s.handle(jobs + "/b/update", R"({"status":"IN_PROGRESS","stepTimeoutInMinutes":1})", t0 + 10);
  s.handle(jobs + "/b/update", R"({"status":"IN_PROGRESS","stepTimeoutInMinutes":-1})", t0 + 11);
  CHECK(s.expire(t0 + 1000).messages.empty());

  // The job's in-progress timeout starts at IN_PROGRESS and updates do not refresh it.
  create(s, "c", R"(["dev"])", t0 + 20, R"(,"timeoutConfig":{"inProgressTimeoutInMinutes":5})");
  s.handle(jobs + "/c/update", R"({"status":"IN_PROGRESS"})", t0 + 20);  // deadline t0 + 30
  s.handle(jobs + "/c/update", R"({"status":"IN_PROGRESS","stepTimeoutInMinutes":100})", t0 + 25);
  CHECK(s.expire(t0 + 29).messages.empty());
  s.expire(t0 + 30);
  CHECK(s.find("dev", "c")->status == execution_status::timed_out);
}

TEST_CASE("cancel: plain cancel affects QUEUED only, forced cancel IN_PROGRESS too") {
  jobs_service s;
  create(s, "j", R"(["a","b","c"])", t0);
  s.handle("$aws/things/a/jobs/start-next", "{}", t0);
  s.handle("$aws/things/b/jobs/j/update", R"({"status":"SUCCEEDED"})", t0);
  auto plain = s.handle("$thingwell/emulator/jobs/cancel", R"({"jobId":"j","clientToken":"x"})", t0 + 1);
  CHECK(at(message_on(plain, "$thingwell/emulator/jobs/cancel/accepted"), {"canceled"}) ==
        R"([{"thingName":"c","previousStatus":"QUEUED"}])");
  CHECK(published_on(plain, "$aws/things/c/jobs/notify-next"));
  CHECK(s.find("a", "j")->status == execution_status::in_progress);
  CHECK(s.find("b", "j")->status == execution_status::succeeded);

  auto forced = s.handle("$thingwell/emulator/jobs/cancel", R"({"jobId":"j","force":true})", t0 + 2);
  CHECK(s.find("a", "j")->status == execution_status::canceled);
  CHECK(at(message_on(forced, "$aws/things/a/jobs/notify-next"), {}) == R"({"timestamp":1719940996})");
  CHECK(at(message_on(forced, "$aws/things/a/jobs/notify"), {"jobs"}) == "{}");
  CHECK(code_of(s.handle("$aws/things/a/jobs/j/update", R"({"status":"FAILED"})", t0 + 3), "$aws/things/a/jobs/j/update") ==
        R"("InvalidStateTransition")");
  CHECK(code_of(s.handle("$thingwell/emulator/jobs/cancel", R"({"jobId":"zz"})", t0), "$thingwell/emulator/jobs/cancel") ==
        R"("ResourceNotFound")");

  auto listed = s.handle("$thingwell/emulator/jobs/list", R"({"thingName":"a"})", t0 + 4);
  const auto list = message_on(listed, "$thingwell/emulator/jobs/list/accepted");
  CHECK(at(list, {"executions"}).find(R"("status":"CANCELED")") != std::string::npos);
  CHECK(at(list, {"jobs"}).find(R"("forceCanceled":true)") != std::string::npos);
}

TEST_CASE("100 queued jobs come out of start-next in creation order") {
  jobs_service s;
  for (int i = 0; i < 100; ++i) create(s, "job-" + std::to_string(99 - i), R"(["dev"])", t0);  // ids sort backwards
  for (int i = 0; i < 100; ++i) {
    auto o = s.handle(jobs + "/start-next", "{}", t0 + 1);
    const auto id = at(message_on(o, jobs + "/start-next/accepted"), {"execution", "jobId"});
    REQUIRE(id == "\"job-" + std::to_string(99 - i) + "\"");
    s.handle(jobs + "/job-" + std::to_string(99 - i) + "/update", R"({"status":"SUCCEEDED"})", t0 + 1);
  }
}

TEST_CASE("the state survives a restart from its record") {
  jobs_limits limits;
  limits.seconds_per_minute = 1;
  jobs_service s(limits);
  create(s, "a", R"(["dev"])", t0);
  create(s, "b", R"(["dev"])", t0);
  s.handle(jobs + "/start-next", R"({"statusDetails":{"step":"2"},"stepTimeoutInMinutes":10})", t0);
  const std::string text = to_json(s.to_record());

  jobs_service restarted(limits);
  REQUIRE(restarted.restore(parse(text)));
  CHECK(to_json(restarted.to_record()) == text);
  auto again = restarted.handle(jobs + "/start-next", "{}", t0 + 1);
  CHECK(at(message_on(again, jobs + "/start-next/accepted"), {"execution", "statusDetails"}) == R"({"step":"2"})");
  // The deadline is absolute, so it still fires after the restart; new jobs continue the order.
  restarted.expire(t0 + 10);
  CHECK(restarted.find("dev", "a")->status == execution_status::timed_out);
  create(restarted, "c", R"(["dev"])", t0 + 11);
  CHECK(restarted.find("dev", "c")->sequence > restarted.find("dev", "b")->sequence);

  jobs_service untouched;
  CHECK_FALSE(untouched.restore(parse(R"({"format":"other"})")));
}

TEST_CASE("jobs command line") {
  std::string error;
  auto c = parse_command_line({"jobs", "create", "j1", "--things", "a,b", "--document", "d.json", "--step-timeout", "5"}, error);
  REQUIRE(c);
  CHECK(c->what == command::jobs_create);
  CHECK(c->things == std::vector<std::string>{"a", "b"});
  CHECK(*c->step_timeout_minutes == 5u);
  auto cancel = parse_command_line({"jobs", "cancel", "j1", "--force"}, error);
  REQUIRE(cancel);
  CHECK(cancel->force);
  auto list = parse_command_line({"jobs", "list", "--thing", "a", "--json"}, error);
  REQUIRE(list);
  CHECK(list->json_output);
  auto serve = parse_command_line({"--seconds-per-minute", "1"}, error);
  REQUIRE(serve);
  CHECK(serve->seconds_per_minute == 1u);
  CHECK_FALSE(parse_command_line({"jobs", "create", "j1", "--things", "a"}, error));
  CHECK_FALSE(parse_command_line({"jobs", "frob"}, error));
  CHECK_FALSE(parse_command_line({"jobs", "list", "extra"}, error));
}
