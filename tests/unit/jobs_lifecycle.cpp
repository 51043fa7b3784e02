// The job agent's normal life: subscribe, start-next on connect, dispatch by operation, progress and a
// terminal status with expectedVersion, the next job after each, notify-next while idle; unknown
// operations REJECTED; a long queue in order.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/jobs_testing.hpp"

namespace {

using namespace jobs_testing;

TEST_CASE("jobs: subscribes, then start-next on connect, handler gets the document (J-01, J-12)") {
  rig r;
  std::vector<std::string> seen;
  context kept;
  REQUIRE(!r.agent->add("reboot", {.run = [&](const value& doc, context& ctx) {
                                     seen.push_back(text_of(doc) + " " + std::string(ctx.job_id()));
                                     kept = ctx;
                                   },
                                   .on_cancel = {},
                                   .on_resume = aws::resume_policy::fail}));
  CHECK(r.client.filters() == std::vector<std::string>{
                                  "$aws/things/pump-7/jobs/notify-next", "$aws/things/pump-7/jobs/start-next/accepted",
                                  "$aws/things/pump-7/jobs/start-next/rejected", "$aws/things/pump-7/jobs/+/update/accepted",
                                  "$aws/things/pump-7/jobs/+/update/rejected", "$aws/things/pump-7/jobs/+/get/accepted",
                                  "$aws/things/pump-7/jobs/+/get/rejected"});
  CHECK(r.client.published.empty());

  r.client.connect();
  r.poll();
  auto sent = r.client.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].topic == "$aws/things/pump-7/jobs/start-next");
  CHECK(sent[0].payload == R"({"clientToken":"pump-7-abc-1"})");
  CHECK(r.client.take_wire().ends_with("subscribe $aws/things/pump-7/jobs/+/get/rejected | suback | "
                                       "publish $aws/things/pump-7/jobs/start-next"));

  // The documented start-next answer (an "operation" added to its document).
  r.client.deliver(jobs_topic("start-next/accepted"), with_token(sample_start_next_accepted, "pump-7-abc-1"));
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == R"({"operation":"reboot","ToDo":"Reboot"} Job1)");
  CHECK(r.events.take() == "started Job1");
  CHECK(r.agent->busy());
  CHECK(kept.active());
  CHECK(kept.execution_number() == 1);
  CHECK(!kept.resumed());

  // J-02: three progress steps, one in flight at a time, with expectedVersion.
  CHECK(!kept.progress(R"({"step":"1/3"})"));
  auto u1 = r.client.take();
  REQUIRE(u1.size() == 1);
  CHECK(u1[0].topic == "$aws/things/pump-7/jobs/Job1/update");
  CHECK(u1[0].payload == R"({"status":"IN_PROGRESS","statusDetails":{"step":"1/3"},"expectedVersion":2,)"
                         R"("executionNumber":1,"includeJobExecutionState":true,"clientToken":"pump-7-abc-2"})");
  CHECK(!kept.progress(R"({"step":"2/3"})"));
  CHECK(!kept.progress(R"({"step":"3/3"})"));  // replaces 2/3: only the newest waits
  CHECK(r.client.take().empty());
  // The documented update answer has no executionState: the version is counted on.
  r.client.deliver(jobs_topic("Job1/update/accepted"), with_token(sample_update_accepted, "pump-7-abc-2"));
  CHECK(r.agent->current_version() == 3);
  auto u2 = r.client.take();
  REQUIRE(u2.size() == 1);
  CHECK(field(u2[0].payload, "statusDetails") == R"({"step":"3/3"})");
  CHECK(field(u2[0].payload, "expectedVersion") == "3");
  CHECK(r.agent->metrics().progress_coalesced == 1);
  r.client.deliver(jobs_topic("Job1/update/accepted"), with_token(sample_update_accepted, token_of(u2[0].payload)));

  CHECK(!kept.succeed(R"({"result":"rebooted"})"));
  auto fin = r.client.take();
  REQUIRE(fin.size() == 1);
  CHECK(field(fin[0].payload, "status") == "SUCCEEDED");
  CHECK(field(fin[0].payload, "expectedVersion") == "4");
  CHECK(!kept.active());
  CHECK(kept.progress("") == errc::busy);  // decided: nothing more
  r.client.deliver(jobs_topic("Job1/update/accepted"), with_token(sample_update_accepted, token_of(fin[0].payload)));
  CHECK(r.events.take() == "finished Job1 SUCCEEDED");
  CHECK(!r.agent->busy());
  CHECK(kept.cancelled());  // a stale handle refuses everything
  CHECK(kept.succeed() == errc::cancelled);

  // J-03: the next one is asked for at once.
  auto next = r.client.take();
  REQUIRE(next.size() == 1);
  CHECK(next[0].topic == "$aws/things/pump-7/jobs/start-next");
  r.client.deliver(jobs_topic("start-next/accepted"), with_token(sample_start_next_empty, token_of(next[0].payload)));
  CHECK(!r.agent->busy());
  CHECK(r.agent->metrics().jobs_finished == 1);

  // notify-next while idle (the documented sample): start-next again.
  r.client.deliver(jobs_topic("notify-next"), sample_notify_next);
  auto again = r.client.take();
  REQUIRE(again.size() == 1);
  CHECK(again[0].topic == "$aws/things/pump-7/jobs/start-next");
  // The queue became empty: nothing to do.
  r.client.deliver(jobs_topic("notify-next"), sample_notify_next_empty);
  CHECK(r.client.take().empty());
}

TEST_CASE("jobs: the full lifecycle against the fake service, answers in the documented shapes") {
  rig r;
  REQUIRE(!r.agent->add("set-config", {.run = [](const value&, context& ctx) {
                                         CHECK(!ctx.progress(R"({"step":"writing"})"));
                                         CHECK(!ctx.progress(R"({"step":"verifying"})", 30));
                                         CHECK(!ctx.succeed(R"({"written":"1"})"));
                                       },
                                       .on_cancel = {},
                                       .on_resume = aws::resume_policy::resume}));
  r.cloud.queue("cfg-1", R"({"operation":"set-config","key":"a","value":"1"})");
  r.connect_and_serve();
  // Progress coalesced behind the first update; the terminal status replaces the waiting progress.
  CHECK(r.cloud.take_log() ==
        R"(start-next | update cfg-1 IN_PROGRESS {"step":"writing"} | update cfg-1 SUCCEEDED {"written":"1"} | start-next)");
  CHECK(r.cloud.find("cfg-1")->status == "SUCCEEDED");
  CHECK(r.events.take() == "started cfg-1 | finished cfg-1 SUCCEEDED");
}

TEST_CASE("jobs: an unknown operation is REJECTED with the reason (J-04)") {
  rig r;
  REQUIRE(!r.agent->add("reboot", {.run = [](const value&, context& ctx) { (void)ctx.succeed(); }, .on_cancel = {},
                                   .on_resume = aws::resume_policy::fail}));
  r.cloud.queue("x-1", R"({"operation":"xyz"})");
  r.cloud.queue("x-2", R"({"ToDo":"Delete Root User"})");
  r.cloud.queue("x-3", R"({"operation":"reboot"})");
  r.connect_and_serve();
  CHECK(r.cloud.take_log() == R"(start-next | update x-1 REJECTED {"reason":"unsupported_operation","operation":"xyz"} | )"
                              R"(start-next | update x-2 REJECTED {"reason":"missing_operation"} | )"
                              R"(start-next | update x-3 SUCCEEDED | start-next)");
  CHECK(r.events.take() == "unsupported x-1 | finished x-1 REJECTED | unsupported x-2 | finished x-2 REJECTED | "
                           "started x-3 | finished x-3 SUCCEEDED");
  CHECK(r.agent->metrics().jobs_unsupported == 2);
}

TEST_CASE("jobs: the documented start-next sample without an operation is REJECTED") {
  rig r;
  r.client.connect();
  r.poll();
  auto sent = r.client.take();
  REQUIRE(sent.size() == 1);
  r.client.deliver(jobs_topic("start-next/accepted"), with_token(sample_start_next_accepted_todo, token_of(sent[0].payload)));
  auto reject = r.client.take();
  REQUIRE(reject.size() == 1);
  CHECK(reject[0].topic == "$aws/things/pump-7/jobs/Job1/update");
  CHECK(field(reject[0].payload, "status") == "REJECTED");
  CHECK(field(reject[0].payload, "statusDetails") == R"({"reason":"missing_operation"})");
}

TEST_CASE("jobs: a handler may reject after its pre-check (J-08)") {
  rig r;
  REQUIRE(!r.agent->add("install", {.run = [](const value& doc, context& ctx) {
                                      char buf[16];
                                      auto hw = doc.find("hardware");
                                      if (!hw || hw->get_string(buf).value_or("") != "revA") {
                                        CHECK(!ctx.reject("hardware_mismatch"));
                                        return;
                                      }
                                      (void)ctx.succeed();
                                    },
                                    .on_cancel = {},
                                    .on_resume = aws::resume_policy::fail}));
  r.cloud.queue("i-1", R"({"operation":"install","hardware":"revB"})");
  r.connect_and_serve();
  CHECK(r.cloud.take_log() == R"(start-next | update i-1 REJECTED {"reason":"hardware_mismatch"} | start-next)");
}

TEST_CASE("jobs: 100 queued jobs run one at a time, in order (J-03)") {
  rig r;
  std::vector<std::string> order;
  bool running = false;
  REQUIRE(!r.agent->add("count", {.run = [&](const value&, context& ctx) {
                                    CHECK(!running);
                                    running = true;
                                    order.push_back(std::string(ctx.job_id()));
                                    CHECK(!ctx.progress(R"({"step":"1"})"));
                                    running = false;
                                    (void)ctx.succeed();
                                  },
                                  .on_cancel = {},
                                  .on_resume = aws::resume_policy::fail}));
  for (int i = 0; i < 100; ++i) r.cloud.queue("job-" + std::to_string(i), R"({"operation":"count"})");
  r.connect_and_serve();
  REQUIRE(order.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(order[static_cast<std::size_t>(i)] == "job-" + std::to_string(i));
  for (const auto& e : r.cloud.executions) CHECK(e.status == "SUCCEEDED");
  CHECK(r.agent->metrics().jobs_finished == 100);
  CHECK(!r.agent->busy());
}

TEST_CASE("jobs: jobs queued while running wait; notify-next for the running job is ignored") {
  rig r;
  context kept;
  REQUIRE(!r.agent->add("slow", {.run = [&](const value&, context& ctx) { kept = ctx; }, .on_cancel = {},
                                 .on_resume = aws::resume_policy::fail}));
  r.cloud.queue("s-1", R"({"operation":"slow"})");
  r.connect_and_serve();
  CHECK(r.agent->current_job() == "s-1");
  r.cloud.queue("s-2", R"({"operation":"slow"})");  // head unchanged: no notify-next
  r.cloud.notify_next();                             // a redelivered one names the running job
  CHECK(r.client.take().empty());
  CHECK(r.agent->metrics().duplicates_ignored == 1);
  CHECK(!kept.succeed());
  r.cloud.serve();
  CHECK(r.agent->current_job() == "s-2");
  CHECK(r.cloud.take_log() == "start-next | update s-1 SUCCEEDED | start-next");
}

}  // namespace
