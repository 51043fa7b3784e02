#include "jobs_execution.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace thingwell::emulator {

namespace {

constexpr std::array<std::pair<execution_status, std::string_view>, 8> status_names{{
    {execution_status::queued, "QUEUED"},
    {execution_status::in_progress, "IN_PROGRESS"},
    {execution_status::succeeded, "SUCCEEDED"},
    {execution_status::failed, "FAILED"},
    {execution_status::timed_out, "TIMED_OUT"},
    {execution_status::rejected, "REJECTED"},
    {execution_status::removed, "REMOVED"},
    {execution_status::canceled, "CANCELED"},
}};

constexpr std::array<std::pair<job_status, std::string_view>, 3> job_status_names{{
    {job_status::in_progress, "IN_PROGRESS"},
    {job_status::canceled, "CANCELED"},
    {job_status::completed, "COMPLETED"},
}};

bool read_int(const json_value& record, std::string_view key, std::int64_t& out) {
  const json_value* v = record.find(key);
  return v != nullptr && v->get_int64(out);
}

std::optional<std::int64_t> read_optional_int(const json_value& record, std::string_view key) {
  std::int64_t n = 0;
  if (read_int(record, key, n)) return n;
  return std::nullopt;
}

bool read_string(const json_value& record, std::string_view key, std::string& out) {
  const json_value* v = record.find(key);
  if (v == nullptr || !v->is_string()) return false;
  out = v->as_string();
  return true;
}

}  // namespace

std::string_view status_name(execution_status s) noexcept {
  for (const auto& [status, name] : status_names)
    if (status == s) return name;
  return "?";
}

std::optional<execution_status> parse_status(std::string_view name) noexcept {
  for (const auto& [status, n] : status_names)
    if (n == name) return status;
  return std::nullopt;
}

bool is_terminal(execution_status s) noexcept {
  return s != execution_status::queued && s != execution_status::in_progress;
}

std::string_view job_status_name(job_status s) noexcept {
  for (const auto& [status, name] : job_status_names)
    if (status == s) return name;
  return "?";
}

std::optional<std::int64_t> job_execution::deadline() const noexcept {
  if (step_deadline && in_progress_deadline) return std::min(*step_deadline, *in_progress_deadline);
  return step_deadline ? step_deadline : in_progress_deadline;
}

json_value job_execution::to_execution(std::int64_t now, const json_value* job_document) const {
  json_value e = json_value::object();
  e.set("jobId", job_id);
  e.set("status", std::string(status_name(status)));
  if (!status_details.empty_object()) e.set("statusDetails", status_details);
  e.set("queuedAt", queued_at);
  if (started_at != 0) e.set("startedAt", started_at);
  e.set("lastUpdatedAt", last_updated_at);
  if (auto d = deadline(); d && pending()) e.set("approximateSecondsBeforeTimedOut", std::max<std::int64_t>(0, *d - now));
  e.set("versionNumber", version);
  e.set("executionNumber", execution_number);
  if (job_document != nullptr) e.set("jobDocument", *job_document);
  return e;
}

json_value job_execution::to_summary() const {
  json_value s = json_value::object();
  s.set("jobId", job_id);
  s.set("queuedAt", queued_at);
  s.set("lastUpdatedAt", last_updated_at);
  if (started_at != 0) s.set("startedAt", started_at);
  s.set("executionNumber", execution_number);
  s.set("versionNumber", version);
  return s;
}

json_value job_execution::to_state() const {
  json_value s = json_value::object();
  s.set("status", std::string(status_name(status)));
  s.set("statusDetails", status_details);
  s.set("versionNumber", version);
  return s;
}

json_value job_execution::to_listing() const {
  json_value e = json_value::object();
  e.set("thingName", thing);
  e.set("jobId", job_id);
  e.set("status", std::string(status_name(status)));
  e.set("statusDetails", status_details);
  e.set("queuedAt", queued_at);
  if (started_at != 0) e.set("startedAt", started_at);
  e.set("lastUpdatedAt", last_updated_at);
  e.set("versionNumber", version);
  e.set("executionNumber", execution_number);
  return e;
}

json_value job_execution::to_record() const {
  json_value r = to_listing();
  r.set("sequence", static_cast<std::int64_t>(sequence));
  if (step_deadline) r.set("stepDeadline", *step_deadline);
  if (in_progress_deadline) r.set("inProgressDeadline", *in_progress_deadline);
  return r;
}

std::optional<job_execution> job_execution::from_record(const json_value& record) {
  job_execution e;
  std::string status;
  std::int64_t sequence = 0;
  if (!read_string(record, "thingName", e.thing) || !read_string(record, "jobId", e.job_id) ||
      !read_string(record, "status", status) || !read_int(record, "queuedAt", e.queued_at) ||
      !read_int(record, "lastUpdatedAt", e.last_updated_at) || !read_int(record, "versionNumber", e.version) ||
      !read_int(record, "executionNumber", e.execution_number) || !read_int(record, "sequence", sequence) || sequence < 0)
    return std::nullopt;
  const auto parsed = parse_status(status);
  const json_value* details = record.find("statusDetails");
  if (!parsed || details == nullptr || !details->is_object()) return std::nullopt;
  e.status = *parsed;
  e.status_details = *details;
  e.sequence = static_cast<std::uint64_t>(sequence);
  e.started_at = read_optional_int(record, "startedAt").value_or(0);
  e.step_deadline = read_optional_int(record, "stepDeadline");
  e.in_progress_deadline = read_optional_int(record, "inProgressDeadline");
  return e;
}

json_value job::to_listing() const {
  json_value j = json_value::object();
  j.set("jobId", id);
  j.set("status", std::string(job_status_name(status)));
  if (force_canceled) j.set("forceCanceled", true);
  json_value things = json_value::array();
  for (const auto& t : targets) things.as_array().push_back(t);
  j.set("targets", std::move(things));
  j.set("createdAt", created_at);
  if (in_progress_timeout_minutes) {
    json_value timeout = json_value::object();
    timeout.set("inProgressTimeoutInMinutes", *in_progress_timeout_minutes);
    j.set("timeoutConfig", std::move(timeout));
  }
  return j;
}

json_value job::to_record() const {
  json_value r = to_listing();
  r.set("document", document);
  return r;
}

std::optional<job> job::from_record(const json_value& record) {
  job j;
  std::string status;
  if (!read_string(record, "jobId", j.id) || !read_string(record, "status", status) ||
      !read_int(record, "createdAt", j.created_at))
    return std::nullopt;
  bool known = false;
  for (const auto& [s, name] : job_status_names) {
    if (name != status) continue;
    j.status = s;
    known = true;
  }
  const json_value* document = record.find("document");
  const json_value* targets = record.find("targets");
  if (!known || document == nullptr || !document->is_object() || targets == nullptr || !targets->is_array())
    return std::nullopt;
  j.document = *document;
  for (const auto& t : targets->as_array()) {
    if (!t.is_string()) return std::nullopt;
    j.targets.push_back(t.as_string());
  }
  if (const json_value* f = record.find("forceCanceled"); f != nullptr && f->is_bool()) j.force_canceled = f->as_bool();
  if (const json_value* timeout = record.find("timeoutConfig"))
    j.in_progress_timeout_minutes = read_optional_int(*timeout, "inProgressTimeoutInMinutes");
  return j;
}

}  // namespace thingwell::emulator
