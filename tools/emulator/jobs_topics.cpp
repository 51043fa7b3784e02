#include "jobs_topics.hpp"

#include "shadow_topics.hpp"

namespace thingwell::emulator {

namespace {

bool ends_with_segment(std::string_view topic, std::string_view segment) {
  return topic.size() > segment.size() && topic.ends_with(segment) && topic[topic.size() - segment.size() - 1] == '/';
}

}  // namespace

bool valid_job_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<jobs_request_topic> parse_jobs_topic(std::string_view topic) {
  jobs_request_topic out;
  out.topic = std::string(topic);
  if (topic.starts_with(jobs_admin_topic_root)) {
    const auto verb = topic.substr(jobs_admin_topic_root.size());
    if (verb == "create") out.operation = jobs_operation::admin_create;
    else if (verb == "cancel") out.operation = jobs_operation::admin_cancel;
    else if (verb == "list") out.operation = jobs_operation::admin_list;
    else return std::nullopt;
    return out;
  }

  if (!topic.starts_with(device_topic_root)) return std::nullopt;
  topic.remove_prefix(device_topic_root.size());
  const auto slash = topic.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  out.thing = std::string(topic.substr(0, slash));
  topic.remove_prefix(slash + 1);
  if (!topic.starts_with("jobs")) return std::nullopt;
  topic.remove_prefix(4);
  if (!topic.empty() && topic.front() != '/') return std::nullopt;  // "jobsx": not the jobs namespace
  if (!topic.empty()) topic.remove_prefix(1);

  // What the service itself publishes: never a request.
  if (topic == "notify" || topic == "notify-next" || ends_with_segment(topic, "accepted") ||
      ends_with_segment(topic, "rejected"))
    return std::nullopt;

  if (topic == "get") {
    out.operation = jobs_operation::get_pending;
    return out;
  }
  if (topic == "start-next") {
    out.operation = jobs_operation::start_next;
    return out;
  }
  const auto last = topic.rfind('/');
  if (last != std::string_view::npos && topic.find('/') == last) {
    out.job_id = std::string(topic.substr(0, last));
    const auto verb = topic.substr(last + 1);
    if (verb == "get" && !out.job_id.empty()) {
      out.operation = jobs_operation::describe;
      return out;
    }
    // UpdateJobExecution names its execution: "$next" is for describe only.
    if (verb == "update" && !out.job_id.empty() && out.job_id != next_job_id) {
      out.operation = jobs_operation::update;
      return out;
    }
  }
  out.operation = jobs_operation::invalid_topic;
  out.job_id.clear();
  return out;
}

std::string jobs_topic_prefix(std::string_view thing) {
  std::string prefix(device_topic_root);
  prefix += thing;
  prefix += "/jobs";
  return prefix;
}

std::string jobs_admin_topic(jobs_operation admin_operation) {
  std::string topic(jobs_admin_topic_root);
  switch (admin_operation) {
    case jobs_operation::admin_create: return topic + "create";
    case jobs_operation::admin_cancel: return topic + "cancel";
    default: return topic + "list";
  }
}

std::vector<std::string> jobs_topic_filters() {
  return {std::string(device_topic_root) + "+/jobs/#", std::string(jobs_admin_topic_root) + "+"};
}

}  // namespace thingwell::emulator
