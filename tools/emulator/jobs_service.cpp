#include "jobs_service.hpp"

#include <algorithm>

#include "shadow_topics.hpp"

namespace thingwell::emulator {

struct jobs_service::request {
  jobs_request_topic topic;
  std::int64_t now = 0;
  json_value body = json_value::object();
  std::optional<std::string> client_token;  // only a valid one: an invalid token is not echoed

  bool admin() const noexcept {
    return topic.operation == jobs_operation::admin_create || topic.operation == jobs_operation::admin_cancel ||
           topic.operation == jobs_operation::admin_list;
  }
  // The start of every answer: {"clientToken":...,"timestamp":...}, the order of AWS's captures.
  json_value answer() const {
    json_value doc = json_value::object();
    if (client_token) doc.set("clientToken", *client_token);
    doc.set("timestamp", now);
    return doc;
  }
  std::string describe() const {
    std::string s;
    switch (topic.operation) {
      case jobs_operation::get_pending: s = "jobs/get " + topic.thing; break;
      case jobs_operation::start_next: s = "jobs/start-next " + topic.thing; break;
      case jobs_operation::describe: s = "jobs/get " + topic.thing + "/" + topic.job_id; break;
      case jobs_operation::update: s = "jobs/update " + topic.thing + "/" + topic.job_id; break;
      case jobs_operation::invalid_topic: s = "jobs " + topic.topic; break;
      case jobs_operation::admin_create: s = "admin jobs create"; break;
      case jobs_operation::admin_cancel: s = "admin jobs cancel"; break;
      case jobs_operation::admin_list: s = "admin jobs list"; break;
    }
    if (client_token) s += " token=" + *client_token;
    return s;
  }
};

namespace {

// An optional member of the request: absent is fine, present with the wrong type is an error message.
std::optional<std::string> read_bool(const json_value& body, std::string_view key, bool& out) {
  const json_value* v = body.find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) return std::string(key) + " must be a boolean";
  out = v->as_bool();
  return std::nullopt;
}

std::optional<std::string> read_int(const json_value& body, std::string_view key, std::optional<std::int64_t>& out) {
  const json_value* v = body.find(key);
  if (v == nullptr) return std::nullopt;
  std::int64_t n = 0;
  if (!v->get_int64(n)) return std::string(key) + " must be an integer";
  out = n;
  return std::nullopt;
}

// expectedVersion: SDK v2 sends an integer, the embedded Jobs library a string of digits (§2.2).
std::optional<std::string> read_expected_version(const json_value& body, std::optional<std::int64_t>& out) {
  const json_value* v = body.find("expectedVersion");
  if (v == nullptr) return std::nullopt;
  std::int64_t n = 0;
  if (v->get_int64(n)) {
    out = n;
    return std::nullopt;
  }
  if (v->is_string() && !v->as_string().empty() && v->as_string().size() <= 18 &&
      v->as_string().find_first_not_of("0123456789") == std::string::npos) {
    out = std::stoll(v->as_string());
    return std::nullopt;
  }
  return "expectedVersion must be an integer";
}

bool device_may_set(execution_status s) noexcept {
  return s == execution_status::in_progress || s == execution_status::succeeded || s == execution_status::failed ||
         s == execution_status::rejected;
}

}  // namespace

const job_execution* jobs_service::find(const std::string& thing, const std::string& job_id) const {
  auto it = executions_.find({thing, job_id});
  return it == executions_.end() ? nullptr : &it->second;
}

const job* jobs_service::find_job(const std::string& job_id) const {
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : &it->second;
}

std::vector<const job_execution*> jobs_service::pending(const std::string& thing) const {
  std::vector<const job_execution*> out;
  for (auto it = executions_.lower_bound({thing, std::string()}); it != executions_.end() && it->first.first == thing; ++it)
    if (it->second.pending()) out.push_back(&it->second);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->sequence < b->sequence; });
  return out;
}

// IN_PROGRESS executions first, then the oldest QUEUED one (§2.3).
const job_execution* jobs_service::next(const std::string& thing) const {
  const auto list = pending(thing);
  for (const auto* e : list)
    if (e->status == execution_status::in_progress) return e;
  return list.empty() ? nullptr : list.front();
}

jobs_service::thing_view jobs_service::view(const std::string& thing) const {
  thing_view v;
  for (const auto* e : pending(thing)) v.pending_ids.push_back(e->job_id);
  if (const auto* n = next(thing)) v.next_id = n->job_id;
  return v;
}

void jobs_service::announce(const std::string& thing, const thing_view& before, std::int64_t now,
                            jobs_outcome& out) const {
  const thing_view after = view(thing);
  const std::string prefix = jobs_topic_prefix(thing);
  if (after.pending_ids != before.pending_ids) {
    json_value in_progress = json_value::array();
    json_value queued = json_value::array();
    for (const auto* e : pending(thing))
      (e->status == execution_status::in_progress ? in_progress : queued).as_array().push_back(e->to_summary());
    json_value jobs = json_value::object();
    if (!in_progress.as_array().empty()) jobs.set("IN_PROGRESS", std::move(in_progress));
    if (!queued.as_array().empty()) jobs.set("QUEUED", std::move(queued));
    json_value doc = json_value::object();
    doc.set("timestamp", now);
    doc.set("jobs", std::move(jobs));
    out.messages.push_back({prefix + "/notify", to_json(doc)});
  }
  if (after.next_id != before.next_id) {
    json_value doc = json_value::object();
    doc.set("timestamp", now);
    if (const auto* n = next(thing)) doc.set("execution", n->to_execution(now, &find_job(n->job_id)->document));
    out.messages.push_back({prefix + "/notify-next", to_json(doc)});
  }
}

void jobs_service::start(job_execution& e, std::int64_t now) {
  e.status = execution_status::in_progress;
  e.started_at = now;
  // The job's in-progress timer starts with IN_PROGRESS and is never refreshed (§2.2).
  if (const job* j = find_job(e.job_id); j != nullptr && j->in_progress_timeout_minutes)
    e.in_progress_deadline = now + *j->in_progress_timeout_minutes * limits_.seconds_per_minute;
}

void jobs_service::finish_job_if_done(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || it->second.status != job_status::in_progress) return;
  for (const auto& thing : it->second.targets)
    if (const auto* e = find(thing, job_id); e != nullptr && e->pending()) return;
  it->second.status = job_status::completed;
}

jobs_outcome jobs_service::handle(std::string_view topic, std::string_view payload, std::int64_t now) {
  auto parsed = parse_jobs_topic(topic);
  if (!parsed) return {};
  request r;
  r.topic = std::move(*parsed);
  r.now = now;
  if (!r.admin() && !valid_thing_name(r.topic.thing)) {
    jobs_outcome dropped;
    dropped.summary = r.describe() + " dropped: invalid thing name";
    return dropped;
  }
  if (r.topic.operation == jobs_operation::invalid_topic)
    return reject(r, "InvalidTopic", "The topic " + r.topic.topic + " does not map to any Jobs API");
  if (payload.size() > limits_.max_payload_bytes) return reject(r, "InvalidRequest", "The payload is too large");
  if (!payload.empty()) {
    auto body = parse_json(payload, limits_.max_payload_bytes);
    if (!body) return reject(r, "InvalidJson", "The request payload is not valid UTF-8 JSON");
    r.body = std::move(*body);
    if (!r.body.is_object()) {
      r.body = json_value::object();
      return reject(r, "InvalidRequest", "The request payload must be a JSON object");
    }
  }
  if (const json_value* token = r.body.find("clientToken")) {
    if (!token->is_string() || token->as_string().empty() || token->as_string().size() > limits_.max_client_token_bytes)
      return reject(r, "InvalidRequest", "clientToken must be a string of 1 to 64 characters");
    r.client_token = token->as_string();
  }

  switch (r.topic.operation) {
    case jobs_operation::get_pending: return get_pending(r);
    case jobs_operation::start_next: return start_next(r);
    case jobs_operation::describe: return describe(r);
    case jobs_operation::update: return update(r);
    case jobs_operation::admin_create: return create(r);
    case jobs_operation::admin_cancel: return cancel(r);
    case jobs_operation::admin_list: return list(r);
    case jobs_operation::invalid_topic: break;
  }
  return {};
}

jobs_outcome jobs_service::reject(const request& r, std::string_view code, std::string message,
                                  const job_execution* state) {
  json_value doc = json_value::object();
  doc.set("code", std::string(code));
  doc.set("message", message);
  if (r.client_token) doc.set("clientToken", *r.client_token);
  doc.set("timestamp", r.now);
  if (state != nullptr) doc.set("executionState", state->to_state());
  jobs_outcome out;
  out.messages.push_back({r.topic.topic + "/rejected", to_json(doc)});
  out.summary = r.describe() + " rejected " + std::string(code) + ": " + message;
  return out;
}

jobs_outcome jobs_service::get_pending(const request& r) {
  json_value in_progress = json_value::array();
  json_value queued = json_value::array();
  for (const auto* e : pending(r.topic.thing))
    (e->status == execution_status::in_progress ? in_progress : queued).as_array().push_back(e->to_summary());
  const auto counts = std::to_string(in_progress.as_array().size()) + " in progress, " +
                      std::to_string(queued.as_array().size()) + " queued";
  json_value doc = r.answer();
  doc.set("inProgressJobs", std::move(in_progress));
  doc.set("queuedJobs", std::move(queued));
  jobs_outcome out;
  out.messages.push_back({r.topic.topic + "/accepted", to_json(doc)});
  out.summary = r.describe() + " accepted (" + counts + ")";
  return out;
}

jobs_outcome jobs_service::start_next(const request& r) {
  const json_value* details = r.body.find("statusDetails");
  if (details != nullptr) {
    if (auto why = check_status_details(*details, limits_.status_details)) return reject(r, "InvalidRequest", *why);
  }
  std::optional<std::int64_t> step;
  if (auto why = read_int(r.body, "stepTimeoutInMinutes", step)) return reject(r, "InvalidRequest", *why);
  if (step && (*step < 1 || *step > limits_.max_step_timeout_minutes))
    return reject(r, "InvalidRequest", "stepTimeoutInMinutes must be between 1 and 10080");

  jobs_outcome out;
  json_value doc = r.answer();
  const job_execution* found = next(r.topic.thing);
  if (found == nullptr) {
    out.messages.push_back({r.topic.topic + "/accepted", to_json(doc)});
    out.summary = r.describe() + " accepted (nothing pending)";
    return out;
  }
  job_execution& e = executions_.at({found->thing, found->job_id});
  // An execution already IN_PROGRESS comes back unchanged; a QUEUED one starts now (§2.3). No notify events:
  // the set of pending executions and the next one stay the same.
  if (e.status == execution_status::queued) {
    start(e, r.now);
    if (details != nullptr) e.status_details = *details;
    if (step) e.step_deadline = r.now + *step * limits_.seconds_per_minute;
    ++e.version;
    e.last_updated_at = r.now;
    out.changed = true;
  }
  doc.set("execution", e.to_execution(r.now, &find_job(e.job_id)->document));
  out.messages.push_back({r.topic.topic + "/accepted", to_json(doc)});
  out.summary = r.describe() + " accepted " + e.job_id + " IN_PROGRESS v" + std::to_string(e.version);
  return out;
}

jobs_outcome jobs_service::describe(const request& r) {
  std::optional<std::int64_t> execution_number;
  bool include_document = true;
  if (auto why = read_int(r.body, "executionNumber", execution_number)) return reject(r, "InvalidRequest", *why);
  if (auto why = read_bool(r.body, "includeJobDocument", include_document)) return reject(r, "InvalidRequest", *why);

  jobs_outcome out;
  json_value doc = r.answer();
  const job_execution* e = nullptr;
  if (r.topic.job_id == next_job_id) {
    e = next(r.topic.thing);
    if (e == nullptr) {
      out.messages.push_back({r.topic.topic + "/accepted", to_json(doc)});
      out.summary = r.describe() + " accepted (nothing pending)";
      return out;
    }
  } else {
    e = find(r.topic.thing, r.topic.job_id);
    if (e == nullptr || (execution_number && *execution_number != e->execution_number))
      return reject(r, "ResourceNotFound",
                    "No job execution found for thing " + r.topic.thing + " and job " + r.topic.job_id);
    if (is_terminal(e->status))
      return reject(r, "TerminalStateReached",
                    "The job execution is in the terminal state " + std::string(status_name(e->status)));
  }
  doc.set("execution", e->to_execution(r.now, include_document ? &find_job(e->job_id)->document : nullptr));
  out.messages.push_back({r.topic.topic + "/accepted", to_json(doc)});
  out.summary = r.describe() + " accepted " + e->job_id + " " + std::string(status_name(e->status));
  return out;
}

jobs_outcome jobs_service::update(const request& r) {
  const json_value* status_value = r.body.find("status");
  if (status_value == nullptr) return reject(r, "InvalidRequest", "status is required");
  if (!status_value->is_string()) return reject(r, "InvalidRequest", "status must be a string");
  const auto target = parse_status(status_value->as_string());
  if (!target) return reject(r, "InvalidRequest", "Unknown status " + status_value->as_string());
  const json_value* details = r.body.find("statusDetails");
  if (details != nullptr) {
    if (auto why = check_status_details(*details, limits_.status_details)) return reject(r, "InvalidRequest", *why);
  }
  std::optional<std::int64_t> expected_version;
  std::optional<std::int64_t> execution_number;
  std::optional<std::int64_t> step;
  bool include_state = false;
  bool include_document = false;
  if (auto why = read_expected_version(r.body, expected_version)) return reject(r, "InvalidRequest", *why);
  if (auto why = read_int(r.body, "executionNumber", execution_number)) return reject(r, "InvalidRequest", *why);
  if (auto why = read_int(r.body, "stepTimeoutInMinutes", step)) return reject(r, "InvalidRequest", *why);
  if (auto why = read_bool(r.body, "includeJobExecutionState", include_state)) return reject(r, "InvalidRequest", *why);
  if (auto why = read_bool(r.body, "includeJobDocument", include_document)) return reject(r, "InvalidRequest", *why);
  // -1 cancels a step timer set earlier (§2.2).
  if (step && *step != -1 && (*step < 1 || *step > limits_.max_step_timeout_minutes))
    return reject(r, "InvalidRequest", "stepTimeoutInMinutes must be -1 or between 1 and 10080");

  auto it = executions_.find({r.topic.thing, r.topic.job_id});
  if (it == executions_.end() || (execution_number && *execution_number != it->second.execution_number))
    return reject(r, "ResourceNotFound",
                  "No job execution found for thing " + r.topic.thing + " and job " + r.topic.job_id);
  job_execution& e = it->second;
  if (expected_version && *expected_version != e.version)
    return reject(r, "VersionMismatch",
                  "Expected version " + std::to_string(*expected_version) + " does not match the current version " +
                      std::to_string(e.version),
                  &e);
  if (is_terminal(e.status) || !device_may_set(*target))
    return reject(r, "InvalidStateTransition",
                  "Cannot update the job execution from " + std::string(status_name(e.status)) + " to " +
                      std::string(status_name(*target)),
                  &e);

  const thing_view before = view(e.thing);
  if (*target == execution_status::in_progress && e.status == execution_status::queued) start(e, r.now);
  e.status = *target;
  if (details != nullptr) e.status_details = *details;
  if (*target == execution_status::in_progress && step) {
    if (*step == -1) e.step_deadline.reset();
    else e.step_deadline = r.now + *step * limits_.seconds_per_minute;
  }
  if (is_terminal(e.status)) {
    e.step_deadline.reset();
    e.in_progress_deadline.reset();
    finish_job_if_done(e.job_id);
  }
  ++e.version;
  e.last_updated_at = r.now;

  jobs_outcome out;
  out.changed = true;
  json_value doc = r.answer();
  if (include_state) doc.set("executionState", e.to_state());
  if (include_document) doc.set("jobDocument", find_job(e.job_id)->document);
  out.messages.push_back({r.topic.topic + "/accepted", to_json(doc)});
  announce(e.thing, before, r.now, out);
  out.summary = r.describe() + " " + std::string(status_name(e.status)) + " v" + std::to_string(e.version) + " accepted";
  return out;
}

jobs_outcome jobs_service::create(const request& r) {
  const json_value* id = r.body.find("jobId");
  if (id == nullptr || !id->is_string() || !valid_job_id(id->as_string()))
    return reject(r, "InvalidRequest", "jobId must be 1 to 64 characters of [a-zA-Z0-9_-]");
  if (jobs_.contains(id->as_string()))
    return reject(r, "ResourceAlreadyExists", "A job with the id " + id->as_string() + " already exists");
  const json_value* targets = r.body.find("targets");
  if (targets == nullptr || !targets->is_array() || targets->as_array().empty())
    return reject(r, "InvalidRequest", "targets must be a non-empty array of thing names");
  std::vector<std::string> things;
  for (const auto& t : targets->as_array()) {
    if (!t.is_string() || !valid_thing_name(t.as_string()))
      return reject(r, "InvalidRequest", "Invalid thing name in targets (1-128 of a-z A-Z 0-9 : _ -)");
    if (std::find(things.begin(), things.end(), t.as_string()) == things.end()) things.push_back(t.as_string());
  }
  const json_value* document = r.body.find("document");
  if (document == nullptr || !document->is_object())
    return reject(r, "InvalidRequest", "document must be a JSON object");
  if (to_json(*document).size() > limits_.max_document_bytes)
    return reject(r, "InvalidRequest", "The job document exceeds 32768 bytes");
  std::optional<std::int64_t> timeout;
  if (const json_value* config = r.body.find("timeoutConfig")) {
    if (auto why = read_int(*config, "inProgressTimeoutInMinutes", timeout)) return reject(r, "InvalidRequest", *why);
    if (timeout && (*timeout < 1 || *timeout > limits_.max_step_timeout_minutes))
      return reject(r, "InvalidRequest", "inProgressTimeoutInMinutes must be between 1 and 10080");
  }

  std::vector<thing_view> before;
  for (const auto& thing : things) before.push_back(view(thing));
  job& j = jobs_[id->as_string()];
  j.id = id->as_string();
  j.document = *document;
  j.targets = things;
  j.created_at = r.now;
  j.in_progress_timeout_minutes = timeout;
  for (const auto& thing : things) {
    job_execution e;
    e.thing = thing;
    e.job_id = j.id;
    e.queued_at = r.now;
    e.last_updated_at = r.now;
    e.sequence = next_sequence_++;
    executions_[{thing, j.id}] = std::move(e);
  }

  jobs_outcome out;
  out.changed = true;
  json_value doc = r.answer();
  doc.set("jobId", j.id);
  doc.set("targets", *targets);
  out.messages.push_back({r.topic.topic + "/accepted", to_json(doc)});
  for (std::size_t i = 0; i < things.size(); ++i) announce(things[i], before[i], r.now, out);
  out.summary = r.describe() + " accepted " + j.id + " for " + std::to_string(things.size()) + " thing(s)";
  return out;
}

jobs_outcome jobs_service::cancel(const request& r) {
  const json_value* id = r.body.find("jobId");
  if (id == nullptr || !id->is_string()) return reject(r, "InvalidRequest", "jobId is required");
  bool force = false;
  if (auto why = read_bool(r.body, "force", force)) return reject(r, "InvalidRequest", *why);
  auto it = jobs_.find(id->as_string());
  if (it == jobs_.end()) return reject(r, "ResourceNotFound", "No job with the id " + id->as_string());
  job& j = it->second;

  jobs_outcome out;
  json_value canceled = json_value::array();
  // A job whose executions have all ended stays COMPLETED; cancelling it again (with --force) reaches the
  // IN_PROGRESS executions a plain cancel left running, as CancelJob with force does.
  if (j.status != job_status::completed) {
    j.status = job_status::canceled;
    j.force_canceled = j.force_canceled || force;
    for (const auto& thing : j.targets) {
      auto e = executions_.find({thing, j.id});
      if (e == executions_.end()) continue;
      const bool affected = e->second.status == execution_status::queued ||
                            (force && e->second.status == execution_status::in_progress);
      if (!affected) continue;
      const thing_view before = view(thing);
      json_value entry = json_value::object();
      entry.set("thingName", thing);
      entry.set("previousStatus", std::string(status_name(e->second.status)));
      canceled.as_array().push_back(std::move(entry));
      e->second.status = execution_status::canceled;
      e->second.step_deadline.reset();
      e->second.in_progress_deadline.reset();
      ++e->second.version;
      e->second.last_updated_at = r.now;
      announce(thing, before, r.now, out);
    }
    out.changed = true;
  }
  const auto count = canceled.as_array().size();
  json_value doc = r.answer();
  doc.set("jobId", j.id);
  doc.set("status", std::string(job_status_name(j.status)));
  doc.set("canceled", std::move(canceled));
  out.messages.insert(out.messages.begin(), {r.topic.topic + "/accepted", to_json(doc)});
  out.summary = r.describe() + " accepted " + j.id + (force ? " (force)" : "") + ": " + std::to_string(count) +
                " execution(s) canceled";
  return out;
}

jobs_outcome jobs_service::list(const request& r) {
  const json_value* thing = r.body.find("thingName");
  const json_value* id = r.body.find("jobId");
  if ((thing != nullptr && !thing->is_string()) || (id != nullptr && !id->is_string()))
    return reject(r, "InvalidRequest", "thingName and jobId must be strings");
  std::vector<const job_execution*> selected;
  for (const auto& [key, e] : executions_) {
    if (thing != nullptr && key.first != thing->as_string()) continue;
    if (id != nullptr && key.second != id->as_string()) continue;
    selected.push_back(&e);
  }
  std::sort(selected.begin(), selected.end(), [](auto* a, auto* b) { return a->sequence < b->sequence; });
  json_value executions = json_value::array();
  for (const auto* e : selected) executions.as_array().push_back(e->to_listing());
  json_value jobs = json_value::array();
  for (const auto& [job_id, j] : jobs_) {
    if (id != nullptr && job_id != id->as_string()) continue;
    if (thing != nullptr && std::find(j.targets.begin(), j.targets.end(), thing->as_string()) == j.targets.end())
      continue;
    jobs.as_array().push_back(j.to_listing());
  }
  json_value doc = r.answer();
  doc.set("jobs", std::move(jobs));
  doc.set("executions", std::move(executions));
  jobs_outcome out;
  out.messages.push_back({r.topic.topic + "/accepted", to_json(doc)});
  out.summary = r.describe() + " accepted (" + std::to_string(selected.size()) + " execution(s))";
  return out;
}

jobs_outcome jobs_service::expire(std::int64_t now) {
  jobs_outcome out;
  std::vector<execution_key> due;
  for (const auto& [key, e] : executions_) {
    const auto d = e.deadline();
    if (e.pending() && d && now >= *d) due.push_back(key);
  }
  for (const auto& key : due) {
    const thing_view before = view(key.first);
    job_execution& e = executions_.at(key);
    e.status = execution_status::timed_out;
    e.step_deadline.reset();
    e.in_progress_deadline.reset();
    ++e.version;
    e.last_updated_at = now;
    finish_job_if_done(e.job_id);
    announce(key.first, before, now, out);
    if (!out.summary.empty()) out.summary += "; ";
    out.summary += "jobs " + key.first + "/" + key.second + " TIMED_OUT v" + std::to_string(e.version);
    out.changed = true;
  }
  return out;
}

json_value jobs_service::to_record() const {
  json_value jobs = json_value::array();
  for (const auto& [id, j] : jobs_) jobs.as_array().push_back(j.to_record());
  json_value executions = json_value::array();
  for (const auto& [key, e] : executions_) executions.as_array().push_back(e.to_record());
  json_value r = json_value::object();
  r.set("format", "thingwell-emulator-jobs/1");
  r.set("nextSequence", static_cast<std::int64_t>(next_sequence_));
  r.set("jobs", std::move(jobs));
  r.set("executions", std::move(executions));
  return r;
}

bool jobs_service::restore(const json_value& record) {
  const json_value* format = record.find("format");
  const json_value* jobs = record.find("jobs");
  const json_value* executions = record.find("executions");
  std::int64_t sequence = 0;
  if (format == nullptr || !format->is_string() || format->as_string() != "thingwell-emulator-jobs/1" ||
      jobs == nullptr || !jobs->is_array() || executions == nullptr || !executions->is_array() ||
      record.find("nextSequence") == nullptr || !record.find("nextSequence")->get_int64(sequence) || sequence < 1)
    return false;
  std::map<std::string, job> restored_jobs;
  std::map<execution_key, job_execution> restored_executions;
  auto next_sequence = static_cast<std::uint64_t>(sequence);
  for (const auto& j : jobs->as_array()) {
    auto parsed = job::from_record(j);
    if (!parsed) return false;
    restored_jobs[parsed->id] = std::move(*parsed);
  }
  for (const auto& e : executions->as_array()) {
    auto parsed = job_execution::from_record(e);
    if (!parsed || !restored_jobs.contains(parsed->job_id)) return false;
    next_sequence = std::max(next_sequence, parsed->sequence + 1);
    restored_executions[{parsed->thing, parsed->job_id}] = std::move(*parsed);
  }
  jobs_ = std::move(restored_jobs);
  executions_ = std::move(restored_executions);
  next_sequence_ = next_sequence;
  return true;
}

}  // namespace thingwell::emulator
