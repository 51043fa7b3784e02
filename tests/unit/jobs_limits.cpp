// Jobs building blocks: topics, statuses and transitions, statusDetails limits (section 2.7) as checked
// by the agent and kept by the status_details writer.
#include <doctest/doctest.h>

#include <string>

#include "support/jobs_testing.hpp"

namespace {

using namespace jobs_testing;

TEST_CASE("jobs topics: built and parsed back") {
  aws::topic_buffer buf;
  CHECK(*aws::make_jobs_topic(buf, "pump-7", aws::jobs_operation::start_next) == "$aws/things/pump-7/jobs/start-next");
  CHECK(*aws::make_jobs_topic(buf, "pump-7", aws::jobs_operation::update, "Job1", aws::jobs_response::rejected) ==
        "$aws/things/pump-7/jobs/Job1/update/rejected");
  CHECK(*aws::make_jobs_topic(buf, "pump-7", aws::jobs_operation::describe, "$next") == "$aws/things/pump-7/jobs/$next/get");
  CHECK(*aws::make_jobs_topic(buf, "pump-7", aws::jobs_operation::get_pending, {}, aws::jobs_response::accepted) ==
        "$aws/things/pump-7/jobs/get/accepted");
  CHECK(aws::make_jobs_topic(buf, "pump-7", aws::jobs_operation::update, "a:b").error() == errc::job_id_invalid);
  CHECK(aws::make_jobs_topic(buf, "pump-7", aws::jobs_operation::update, std::string(65, 'a')).error() == errc::job_id_invalid);
  CHECK(aws::make_jobs_topic(buf, "pump 7", aws::jobs_operation::notify).error() == errc::thing_name_invalid);
  CHECK(aws::make_jobs_topic(buf, "pump-7", aws::jobs_operation::notify_next, {}, aws::jobs_response::accepted).error() ==
        errc::invalid_argument);
  // The longest: 128-byte thing, 64-byte job, update/accepted fits AWS's 256.
  auto longest = aws::make_jobs_topic(buf, std::string(128, 't'), aws::jobs_operation::update, std::string(64, 'j'),
                                      aws::jobs_response::accepted);
  REQUIRE(longest);
  CHECK(longest->size() <= 256);

  auto t = aws::parse_jobs_topic("$aws/things/pump-7/jobs/Job1/update/accepted");
  REQUIRE(t);
  CHECK(t->thing == "pump-7");
  CHECK(t->job_id == "Job1");
  CHECK(t->operation == aws::jobs_operation::update);
  CHECK(t->response == aws::jobs_response::accepted);
  t = aws::parse_jobs_topic("$aws/things/pump-7/jobs/get/accepted");
  REQUIRE(t);
  CHECK(t->operation == aws::jobs_operation::get_pending);
  t = aws::parse_jobs_topic("$aws/things/pump-7/jobs/get/get/rejected");  // job "get"
  REQUIRE(t);
  CHECK(t->operation == aws::jobs_operation::describe);
  CHECK(t->job_id == "get");
  t = aws::parse_jobs_topic("$aws/things/pump-7/jobs/notify-next");
  REQUIRE(t);
  CHECK(t->operation == aws::jobs_operation::notify_next);
  for (const char* bad : {"$aws/things/pump-7/jobs/notify/accepted", "$aws/things/pump-7/jobs/Job1/update/x",
                          "$aws/things/pump-7/jobs/Job1/delete", "$aws/things/pump-7/shadow/get",
                          "$aws/things/pump-7/jobs/a/b/c/d", "$aws/things/pump-7/jobs/$next/update"}) {
    CAPTURE(bad);
    CHECK(!aws::parse_jobs_topic(bad));
  }
}

TEST_CASE("jobs statuses: names, terminal, device transitions (sections 2.4, 2.5)") {
  using aws::job_status;
  CHECK(aws::parse_job_status("IN_PROGRESS") == job_status::in_progress);
  CHECK(aws::parse_job_status("CANCELED") == job_status::canceled);
  CHECK(!aws::parse_job_status("CANCELLED"));
  CHECK(!aws::is_terminal(job_status::queued));
  CHECK(aws::is_terminal(job_status::timed_out));
  CHECK(aws::device_may_set(job_status::queued, job_status::in_progress));
  CHECK(aws::device_may_set(job_status::queued, job_status::rejected));
  CHECK(aws::device_may_set(job_status::in_progress, job_status::succeeded));
  CHECK(!aws::device_may_set(job_status::queued, job_status::succeeded));
  CHECK(!aws::device_may_set(job_status::succeeded, job_status::in_progress));
  CHECK(!aws::device_may_set(job_status::in_progress, job_status::canceled));
}

TEST_CASE("jobs statusDetails: the agent refuses what AWS would (section 2.7)") {
  rig r;
  context kept;
  agent_type::operation op;
  op.run = [&](const value&, context& ctx) { kept = ctx; };
  REQUIRE(!r.agent->add("op", std::move(op)));
  r.cloud.queue("l-1", R"({"operation":"op"})");
  r.connect_and_serve();
  (void)r.cloud.take_log();

  const auto invalid = thingwell::make_error_code(errc::job_status_details_invalid);
  CHECK(kept.progress(R"(["a"])") == invalid);
  CHECK(kept.progress(R"({"n":1})") == invalid);                 // values are strings
  CHECK(kept.progress(R"({"n":""})") == invalid);                // 1..1024 characters
  CHECK(kept.progress(R"({"":"x"})") == invalid);                // keys 1..128
  CHECK(kept.progress(R"({"a b":"x"})") == invalid);             // [a-zA-Z0-9:_-]
  CHECK(kept.progress(R"({"k":"line\nbreak"})") == invalid);     // no control characters
  CHECK(kept.progress(R"({"k":"c1 \u0085"})") == invalid);
  CHECK(kept.progress("{not json") == invalid);
  std::string eleven = "{";
  for (int i = 0; i < 11; ++i) eleven += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v\"";
  eleven += "}";
  CHECK(kept.progress(eleven) == invalid);
  CHECK(kept.progress(R"({"k":"x"})", 10081) == errc::invalid_argument);
  CHECK(kept.progress(R"({"k":"x"})", -2) == errc::invalid_argument);
  CHECK(kept.progress(std::string(600, ' ')) == errc::buffer_too_small);  // beyond DetailsBytes
  CHECK(r.client.take().empty());  // nothing refused was sent

  std::string ten = "{";
  for (int i = 0; i < 10; ++i) ten += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v\"";
  ten += "}";
  CHECK(!kept.progress(ten, -1));
  CHECK(!kept.progress(R"({"k:_-K9":"caf\u00e9 ü"})"));
  r.cloud.serve();
  CHECK(r.cloud.take_log().starts_with("update l-1 IN_PROGRESS {\"k0\""));
}

TEST_CASE("jobs status_details writer: keys checked, values made to fit") {
  aws::status_details<4096> d;
  CHECK(d.view() == "{}");
  d.set("step", "2/4").set("msg", "say \"hi\"\n\tnow");
  CHECK(!d.error());
  CHECK(d.view() == R"({"step":"2/4","msg":"say \"hi\"  now"})");
  CHECK(d.truncated());

  aws::status_details<4096> log;
  std::string tail(1500, 'a');
  tail += "END";
  log.set("stdout", tail);
  json::compact_reader<16> reader;
  auto v = reader.parse(log.view());
  REQUIRE(v);
  char buf[2048];
  auto s = v->find("stdout")->get_string(buf);
  REQUIRE(s);
  CHECK(s->size() == 1024);
  CHECK(s->ends_with("END"));  // the last 1024 characters are kept
  char scratch[2048];
  CHECK(!aws::check_status_details(*v, scratch));

  // Multi-byte characters count once and are never cut in half.
  aws::status_details<8192> wide;
  std::string euros;
  for (int i = 0; i < 1100; ++i) euros += "\xE2\x82\xAC";
  wide.set("e", euros);
  auto w = reader.parse(wide.view());
  REQUIRE(w);
  char wb[4096];
  CHECK(!aws::check_status_details(*w, wb));
  CHECK(w->find("e")->get_string(wb)->size() == 1024 * 3);

  aws::status_details<512> small;
  for (int i = 0; i < 10; ++i) small.set("k" + std::to_string(i), "v");
  CHECK(!small.error());
  small.set("k10", "v");
  CHECK(small.error() == errc::job_status_details_invalid);
  CHECK(small.size() == 10);

  aws::status_details<32> tiny;
  tiny.set("key", std::string(40, 'x'));
  CHECK(tiny.error() == errc::buffer_too_small);
  CHECK(tiny.view() == "{}");  // unchanged
  aws::status_details<64> bad;
  bad.set("bad key", "v");
  CHECK(bad.error() == errc::job_status_details_invalid);
  aws::status_details<64> empty;
  empty.set("k", "");
  CHECK(empty.view() == R"({"k":"-"})");
}

}  // namespace
