// The job agent when things go wrong: version conflicts, cancellation under a running handler, restarts
// mid-job (resume and fail policies), redeliveries that must not run a job twice, lost answers and
// throttling, and the step watchdog.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/jobs_testing.hpp"

namespace {

using namespace jobs_testing;

aws::job_agent<json::compact_reader<512>, store_type, 8, 512>::operation keep(context* kept, int* runs = nullptr,
                                                                              std::vector<std::string>* cancels = nullptr,
                                                                              aws::resume_policy policy = aws::resume_policy::fail) {
  agent_type::operation op;
  op.run = [kept, runs](const value&, context& ctx) {
    *kept = ctx;
    if (runs != nullptr) ++*runs;
  };
  if (cancels != nullptr)
    op.on_cancel = [cancels](context& ctx) { cancels->push_back(ctx.cancelled() ? "cancelled" : "still live?"); };
  op.on_resume = policy;
  return op;
}

TEST_CASE("jobs: VersionMismatch re-reads the execution and sends again with its version (J-09)") {
  rig r;
  context kept;
  REQUIRE(!r.agent->add("op", keep(&kept)));
  r.cloud.queue("v-1", R"({"operation":"op"})");
  r.connect_and_serve();
  (void)r.cloud.take_log();
  CHECK(r.agent->current_version() == 2);
  r.cloud.find("v-1")->version = 7;  // someone else (the console) updated it
  CHECK(!kept.progress(R"({"step":"1"})"));
  r.cloud.serve();
  CHECK(r.cloud.take_log() == R"(update v-1 IN_PROGRESS {"step":"1"} | get v-1 | update v-1 IN_PROGRESS {"step":"1"})");
  CHECK(r.agent->current_version() == 8);  // from executionState in the answer
  CHECK(r.agent->metrics().version_mismatches == 1);

  // Bounded: a conflict that does not go away is reported and the update dropped.
  r.cloud.reject_next_update = "VersionMismatch";
  r.cloud.reject_times = 10;
  CHECK(!kept.progress(R"({"step":"2"})"));
  r.cloud.serve();
  CHECK(r.cloud.take_log() == R"(update v-1 IN_PROGRESS {"step":"2"} | get v-1 | update v-1 IN_PROGRESS {"step":"2"} | )"
                              R"(get v-1 | update v-1 IN_PROGRESS {"step":"2"} | get v-1 | update v-1 IN_PROGRESS {"step":"2"})");
  r.cloud.reject_next_update.clear();
  r.cloud.reject_times = 1;
  CHECK(r.events.take() == "started v-1 | error v-1 VersionMismatch");
  CHECK(kept.active());
}

TEST_CASE("jobs: cancelled while running, seen through notify-next: handler told, no status sent (J-06)") {
  rig r;
  context kept;
  std::vector<std::string> cancels;
  REQUIRE(!r.agent->add("download", keep(&kept, nullptr, &cancels)));
  r.cloud.queue("d-1", R"({"operation":"download"})");
  r.cloud.queue("d-2", R"({"operation":"download"})");
  r.connect_and_serve();
  CHECK(!kept.progress(R"({"downloaded":"50%"})"));
  r.cloud.serve();
  (void)r.cloud.take_log();
  const context first = kept;

  r.cloud.cancel("d-1");  // notify-next now names d-2: a hint, read again
  r.cloud.serve();
  CHECK(r.cloud.take_log() == "get d-1 | start-next");  // no FAILED, no update of d-1 at all
  CHECK(cancels == std::vector<std::string>{"cancelled"});
  CHECK(first.cancelled());
  CHECK(first.progress("") == errc::cancelled);
  CHECK(r.cloud.find("d-1")->status == "CANCELED");
  CHECK(r.agent->current_job() == "d-2");  // the next one runs
  CHECK(r.events.take() == "started d-1 | cancelled d-1 | started d-2");
}

TEST_CASE("jobs: cancelled while running, seen when an update is refused (J-06)") {
  rig r;
  context kept;
  std::vector<std::string> cancels;
  REQUIRE(!r.agent->add("download", keep(&kept, nullptr, &cancels)));
  r.cloud.queue("d-1", R"({"operation":"download"})");
  r.connect_and_serve();
  (void)r.cloud.take_log();
  r.client.ready = false;  // the notify-next is lost
  r.cloud.cancel("d-1");
  r.client.ready = true;
  CHECK(!kept.progress(R"({"downloaded":"60%"})"));
  r.cloud.serve();
  // Rejected (VersionMismatch first, as the cancel moved the version), re-read: TerminalStateReached.
  CHECK(r.cloud.take_log() == R"(update d-1 IN_PROGRESS {"downloaded":"60%"} | get d-1 | start-next)");
  CHECK(cancels.size() == 1);
  CHECK(!r.agent->busy());

  // And the InvalidStateTransition answer with executionState CANCELED (section 2.6).
  r.cloud.queue("d-2", R"({"operation":"download"})");
  r.cloud.serve();
  CHECK(r.agent->current_job() == "d-2");
  (void)r.cloud.take_log();
  CHECK(!kept.progress(R"({"downloaded":"1%"})"));
  auto sent = r.client.take();
  REQUIRE(sent.size() == 1);
  r.client.deliver(jobs_topic("d-2/update/rejected"),
                   sample_rejected("InvalidStateTransition", token_of(sent[0].payload),
                                   R"({"status":"CANCELED","statusDetails":{},"versionNumber":3})"));
  CHECK(cancels.size() == 2);
  CHECK(!r.agent->busy());
}

TEST_CASE("jobs: restart mid-job with resume policy: the handler resumes from the saved checkpoint (J-05)") {
  rig r;
  context kept;
  int runs = 0;
  std::vector<std::string> resumed;
  auto make = [&] {
    agent_type::operation op;
    op.run = [&](const value&, context& ctx) {
      ++runs;
      kept = ctx;
      resumed.push_back(std::string(ctx.resumed() ? "resumed " : "fresh ") + std::string(ctx.saved_details()));
    };
    op.on_resume = aws::resume_policy::resume;
    return op;
  };
  REQUIRE(!r.agent->add("flash", make()));
  r.cloud.queue("f-1", R"({"operation":"flash"})");
  r.connect_and_serve();
  CHECK(!kept.progress(R"({"step":"2/4"})"));
  r.cloud.serve();
  (void)r.cloud.take_log();

  r.restart();  // power cut: the record "run f-1 #1" is in the store
  REQUIRE(!r.agent->add("flash", make()));
  r.connect_and_serve();
  CHECK(resumed == std::vector<std::string>{"fresh ", R"(resumed {"step":"2/4"})"});
  CHECK(kept.resumed());
  CHECK(r.events.take() == "started f-1 | resumed f-1");
  CHECK(!kept.progress(R"({"step":"3/4"})"));
  CHECK(!kept.succeed());
  r.cloud.serve();
  CHECK(r.cloud.take_log() == R"(start-next | update f-1 IN_PROGRESS {"step":"3/4"} | update f-1 SUCCEEDED | start-next)");
  CHECK(runs == 2);
}

TEST_CASE("jobs: restart mid-job with fail policy: FAILED interrupted, the handler does not run again") {
  rig r;
  context kept;
  int runs = 0;
  REQUIRE(!r.agent->add("format", keep(&kept, &runs)));
  r.cloud.queue("x-1", R"({"operation":"format"})");
  r.connect_and_serve();
  r.restart();
  REQUIRE(!r.agent->add("format", keep(&kept, &runs)));
  r.connect_and_serve();
  CHECK(runs == 1);
  CHECK(r.cloud.find("x-1")->status == "FAILED");
  CHECK(r.cloud.find("x-1")->details == R"({"reason":"interrupted"})");
}

TEST_CASE("jobs: a finished execution handed over again is not run twice; its status is sent again") {
  rig r;
  context kept;
  int runs = 0;
  REQUIRE(!r.agent->add("op", keep(&kept, &runs)));
  r.cloud.queue("r-1", R"({"operation":"op"})");
  r.connect_and_serve();
  (void)r.cloud.take_log();
  r.cloud.drop_requests = true;  // the SUCCEEDED never reaches the service
  CHECK(!kept.succeed(R"({"result":"ok"})"));
  r.cloud.serve();
  r.cloud.drop_requests = false;
  (void)r.cloud.take_log();

  r.restart();
  REQUIRE(!r.agent->add("op", keep(&kept, &runs)));
  r.connect_and_serve();
  CHECK(runs == 1);
  CHECK(r.cloud.take_log() == R"(start-next | update r-1 SUCCEEDED {"result":"ok"} | start-next)");
  CHECK(r.events.take() == "started r-1 | redelivered r-1 SUCCEEDED | finished r-1 SUCCEEDED");
  CHECK(r.agent->metrics().redeliveries == 1);

  // A start-next answer delivered twice (QoS 1 redelivery) while a job runs is ignored.
  r.cloud.queue("r-2", R"({"operation":"op"})");
  auto sent = r.client.take();
  REQUIRE(sent.size() == 1);
  const std::string answer = with_token(sample_start_next_accepted, token_of(sent[0].payload));
  r.client.deliver(jobs_topic("start-next/accepted"), replace_all(answer, "reboot", "op"));
  r.client.deliver(jobs_topic("start-next/accepted"), replace_all(answer, "reboot", "op"));
  CHECK(runs == 2);
}

TEST_CASE("jobs: the terminal status was applied but its answer lost: the re-read concludes it") {
  rig r;
  context kept;
  REQUIRE(!r.agent->add("op", keep(&kept)));
  r.cloud.queue("l-1", R"({"operation":"op"})");
  r.connect_and_serve();
  CHECK(!kept.fail(R"({"error":"disk full"})"));
  auto sent = r.client.take();
  REQUIRE(sent.size() == 1);
  // The service applies it; the answer is lost with the connection.
  auto* e = r.cloud.find("l-1");
  e->status = "FAILED";
  ++e->version;
  (void)r.cloud.take_log();
  r.client.disconnect();
  r.client.connect();
  r.poll();
  r.cloud.serve();
  CHECK(r.cloud.take_log() == "get l-1 | start-next");
  CHECK(r.cloud.take_log().find("update l-1") == std::string::npos);  // never sent twice
  CHECK(r.events.take() == "started l-1 | finished l-1 FAILED");
  CHECK(!r.agent->busy());
}

TEST_CASE("jobs: requests without an answer time out and are made again") {
  rig r;
  context kept;
  REQUIRE(!r.agent->add("op", keep(&kept)));
  r.client.connect();
  r.poll();
  CHECK(r.client.take().size() == 1);  // start-next, lost
  r.advance(4999ms);
  CHECK(r.client.take().empty());
  r.advance(1ms);
  auto again = r.client.take();
  REQUIRE(again.size() == 1);
  CHECK(again[0].topic == "$aws/things/pump-7/jobs/start-next");
  CHECK(r.events.take() == "error ");
  CHECK(r.agent->metrics().timeouts == 1);
  r.client.published = again;
  r.cloud.queue("t-1", R"({"operation":"op"})");
  r.cloud.serve();
  REQUIRE(r.agent->busy());
  (void)r.cloud.take_log();

  // An update lost: after the timeout the execution is read again, then the update goes again.
  CHECK(!kept.progress(R"({"p":"1"})"));
  r.poll();  // the loop turn after the event: the request's time starts
  CHECK(r.client.take().size() == 1);
  r.advance(5s);
  r.cloud.serve();
  CHECK(r.cloud.take_log() == R"(get t-1 | update t-1 IN_PROGRESS {"p":"1"})");

  // Throttled: sent again after retry_delay, not at once.
  r.cloud.reject_next_update = "RequestThrottled";
  CHECK(!kept.progress(R"({"p":"2"})"));
  r.cloud.serve();
  CHECK(r.cloud.take_log() == R"(update t-1 IN_PROGRESS {"p":"2"})");
  CHECK(r.events.take() == "started t-1 | error t-1 RequestThrottled");
  r.advance(1999ms);
  CHECK(r.client.take().empty());
  r.advance(1ms);
  r.cloud.serve();
  CHECK(r.cloud.take_log() == R"(update t-1 IN_PROGRESS {"p":"2"})");
}

TEST_CASE("jobs: step timeouts are sent, renewed, and a hung handler is FAILED before AWS times it out (J-07)") {
  rig r;
  context kept;
  std::vector<std::string> cancels;
  REQUIRE(!r.agent->add("long", keep(&kept, nullptr, &cancels)));
  r.cloud.queue("s-1", R"({"operation":"long"})");
  r.connect_and_serve();
  r.poll();
  // A 3-minute handler that renews a 1-minute step every 30 s: never fails.
  for (int i = 0; i < 6; ++i) {
    CHECK(!kept.progress(R"({"tick":")" + std::to_string(i) + "\"}", 1));
    r.poll();  // the loop turn after the event: the step's time starts
    r.cloud.serve();
    r.advance(30s);
  }
  CHECK(kept.active());
  CHECK(r.cloud.take_log().find(R"(update s-1 IN_PROGRESS {"tick":"0"} step=1)") != std::string::npos);
  // Now it hangs: 55 s after the last renewal the agent reports FAILED itself.
  r.advance(24s);
  CHECK(r.client.take().empty());
  r.advance(1s);
  r.cloud.serve();
  CHECK(r.cloud.take_log() == R"(update s-1 FAILED {"reason":"step_timeout"} | start-next)");
  CHECK(cancels == std::vector<std::string>{"cancelled"});
  CHECK(kept.progress("") == errc::cancelled);
  CHECK(kept.progress("", 20000) == errc::cancelled);
}

TEST_CASE("jobs: the agent created while connected waits for its SUBACKs before start-next") {
  rig r;
  r.agent.reset();
  r.client.forget_subscriptions();
  r.client.connect();
  r.boot();
  CHECK(r.client.take().empty());
  r.client.acknowledge();
  CHECK(r.client.take().size() == 1);
}

}  // namespace
