#include "jobs_admin.hpp"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "admin_exchange.hpp"
#include "jobs_topics.hpp"
#include "json_tree.hpp"
#include "shadow_topics.hpp"

namespace thingwell::emulator {

namespace {

std::string field_text(const json_value& doc, std::string_view key) {
  const json_value* v = doc.find(key);
  if (v == nullptr) return "-";
  return v->is_string() ? v->as_string() : to_json(*v);
}

// "JOB THING STATUS vN #N statusDetails" per execution: what a person wants from `jobs list`.
void print_listing(const std::string& answer) {
  auto doc = parse_json(answer, std::size_t{64} << 20);
  const json_value* executions = doc ? doc->find("executions") : nullptr;
  if (executions == nullptr || !executions->is_array()) {
    std::fprintf(stdout, "%s\n", answer.c_str());
    return;
  }
  std::fprintf(stdout, "%-24s %-24s %-12s %8s %5s  %s\n", "JOB", "THING", "STATUS", "VERSION", "EXEC", "STATUS DETAILS");
  for (const auto& e : executions->as_array()) {
    std::fprintf(stdout, "%-24s %-24s %-12s %8s %5s  %s\n", field_text(e, "jobId").c_str(),
                 field_text(e, "thingName").c_str(), field_text(e, "status").c_str(),
                 field_text(e, "versionNumber").c_str(), field_text(e, "executionNumber").c_str(),
                 field_text(e, "statusDetails").c_str());
  }
}

}  // namespace

int run_jobs_admin(const command_line& cl) {
  const std::string token = admin_client_token();
  json_value request = json_value::object();
  jobs_operation operation = jobs_operation::admin_list;
  switch (cl.what) {
    case command::jobs_create: {
      operation = jobs_operation::admin_create;
      if (!valid_job_id(cl.job_id)) return admin_failure("invalid job id '" + cl.job_id + "' (1-64 of a-z A-Z 0-9 _ -)");
      json_value targets = json_value::array();
      for (const auto& thing : cl.things) {
        if (!valid_thing_name(thing)) return admin_failure("invalid thing name '" + thing + "' (1-128 of a-z A-Z 0-9 : _ -)");
        targets.as_array().push_back(thing);
      }
      std::ifstream in(cl.document_file, std::ios::binary);
      if (!in) return admin_failure("cannot read the job document " + cl.document_file);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto document = parse_json(text, 1 << 20);
      if (!document || !document->is_object())
        return admin_failure("the job document " + cl.document_file + " is not a JSON object");
      request.set("jobId", cl.job_id);
      request.set("targets", std::move(targets));
      request.set("document", std::move(*document));
      if (cl.step_timeout_minutes) {
        json_value timeout = json_value::object();
        timeout.set("inProgressTimeoutInMinutes", static_cast<std::int64_t>(*cl.step_timeout_minutes));
        request.set("timeoutConfig", std::move(timeout));
      }
      break;
    }
    case command::jobs_cancel:
      operation = jobs_operation::admin_cancel;
      request.set("jobId", cl.job_id);
      request.set("force", cl.force);
      break;
    default:
      if (!cl.things.empty()) request.set("thingName", cl.things.front());
      if (!cl.job_id.empty()) request.set("jobId", cl.job_id);
      break;
  }
  request.set("clientToken", token);

  const admin_answer answer = exchange_with_service(cl, jobs_admin_topic(operation), to_json(request), token);
  if (answer.exit_code == 1) std::fprintf(stderr, "thingwell-emulator: rejected: %s\n", answer.text.c_str());
  if (answer.exit_code != 0) return answer.exit_code;
  if (operation == jobs_operation::admin_list && !cl.json_output) print_listing(answer.text);
  else std::fprintf(stdout, "%s\n", answer.text.c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace thingwell::emulator
