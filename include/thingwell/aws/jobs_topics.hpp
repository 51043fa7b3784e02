// thingwell — AWS IoT Jobs topics (shared/aws-iot-protocol.md section 2.1): building them for a thing
// and taking a received one apart again.
//
//   $aws/things/<thing>/jobs/get[/accepted|/rejected]                 GetPendingJobExecutions
//   $aws/things/<thing>/jobs/start-next[/accepted|/rejected]          StartNextPendingJobExecution
//   $aws/things/<thing>/jobs/<jobId>/get[/accepted|/rejected]         DescribeJobExecution ($next allowed)
//   $aws/things/<thing>/jobs/<jobId>/update[/accepted|/rejected]      UpdateJobExecution
//   $aws/things/<thing>/jobs/notify, .../jobs/notify-next             events
//
// A job id of "+" builds the wildcard filter that receives the answers for every job: the agent
// subscribes once instead of once per job (the client interface has no unsubscribe, and a subscription
// per job would churn the broker's table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <system_error>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "limits.hpp"
#include "topics.hpp"

namespace thingwell::aws {

inline constexpr std::size_t max_job_id = 64;

enum class jobs_operation : std::uint8_t { get_pending, start_next, describe, update, notify, notify_next };

// What follows the operation; notify and notify-next have none.
enum class jobs_response : std::uint8_t { request, accepted, rejected };

// Job ids: 1..64 bytes of [a-zA-Z0-9_-] (no colon, unlike thing names).
inline std::error_code check_job_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > max_job_id) return errc::job_id_invalid;
  for (char c : id)
    if (!detail::is_name_char(c) || c == ':') return errc::job_id_invalid;
  return {};
}

// A received jobs topic, taken apart; the views point into the topic.
struct jobs_topic {
  std::string_view thing;
  std::string_view job_id;  // describe and update only
  jobs_operation operation = jobs_operation::notify;
  jobs_response response = jobs_response::request;
};

namespace detail {

inline constexpr std::string_view jobs_level = "/jobs/";

inline constexpr std::string_view jobs_operation_name(jobs_operation op) noexcept {
  switch (op) {
    case jobs_operation::get_pending: return "get";
    case jobs_operation::start_next: return "start-next";
    case jobs_operation::describe: return "get";
    case jobs_operation::update: return "update";
    case jobs_operation::notify: return "notify";
    case jobs_operation::notify_next: return "notify-next";
  }
  return "?";
}

inline constexpr bool is_per_job(jobs_operation op) noexcept {
  return op == jobs_operation::describe || op == jobs_operation::update;
}

}  // namespace detail

// Writes the topic into `out`. job_id is used by describe and update only: a valid id, "$next" (describe),
// or "+" (a subscription filter). Errors: errc::thing_name_invalid, errc::job_id_invalid,
// errc::invalid_argument (a response of an event), errc::buffer_too_small.
inline result<std::string_view> make_jobs_topic(std::span<char> out, std::string_view thing, jobs_operation op,
                                                std::string_view job_id = {},
                                                jobs_response response = jobs_response::request) noexcept {
  if (auto ec = check_thing_name(thing)) return ec;
  if (detail::is_per_job(op)) {
    const bool special = job_id == "+" || (job_id == "$next" && op == jobs_operation::describe);
    if (!special) {
      if (auto ec = check_job_id(job_id)) return ec;
    }
  }
  if ((op == jobs_operation::notify || op == jobs_operation::notify_next) && response != jobs_response::request)
    return errc::invalid_argument;
  std::size_t n = 0;
  bool fits = true;
  auto put = [&](std::string_view s) {
    if (!fits || s.size() > out.size() - n) {
      fits = false;
      return;
    }
    if (!s.empty()) std::memcpy(out.data() + n, s.data(), s.size());
    n += s.size();
  };
  put(detail::things_prefix);
  put(thing);
  put(detail::jobs_level);
  if (detail::is_per_job(op)) {
    put(job_id);
    put("/");
  }
  put(detail::jobs_operation_name(op));
  if (response == jobs_response::accepted) put("/accepted");
  if (response == jobs_response::rejected) put("/rejected");
  if (!fits) return errc::buffer_too_small;
  return std::string_view(out.data(), n);
}

// The parts of a jobs topic; errc::bad_topic_name for anything else.
inline result<jobs_topic> parse_jobs_topic(std::string_view topic) noexcept {
  if (!topic.starts_with(detail::things_prefix)) return errc::bad_topic_name;
  topic.remove_prefix(detail::things_prefix.size());
  jobs_topic t;
  const std::size_t slash = topic.find('/');
  if (slash == std::string_view::npos) return errc::bad_topic_name;
  t.thing = topic.substr(0, slash);
  if (check_thing_name(t.thing)) return errc::bad_topic_name;
  topic.remove_prefix(slash);
  if (!topic.starts_with(detail::jobs_level)) return errc::bad_topic_name;
  topic.remove_prefix(detail::jobs_level.size());

  // Up to three levels: [jobId/]operation[/response].
  std::string_view level[4];
  std::size_t levels = 0;
  while (levels < 4) {
    const std::size_t end = topic.find('/');
    level[levels++] = topic.substr(0, end);
    if (end == std::string_view::npos) break;
    topic.remove_prefix(end + 1);
    if (levels == 4) return errc::bad_topic_name;
  }
  auto response_of = [](std::string_view s, jobs_response& r) {
    if (s == "accepted") r = jobs_response::accepted;
    else if (s == "rejected") r = jobs_response::rejected;
    else return false;
    return true;
  };
  const std::string_view first = level[0];
  if (levels == 1 && first == "notify") t.operation = jobs_operation::notify;
  else if (levels == 1 && first == "notify-next") t.operation = jobs_operation::notify_next;
  else if ((first == "get" || first == "start-next") && (levels == 1 || (levels == 2 && response_of(level[1], t.response))))
    t.operation = first == "get" ? jobs_operation::get_pending : jobs_operation::start_next;
  else if (levels >= 2 && (level[1] == "get" || level[1] == "update") &&
           (levels == 2 || response_of(level[2], t.response))) {
    t.operation = level[1] == "get" ? jobs_operation::describe : jobs_operation::update;
    t.job_id = first;
    if (check_job_id(t.job_id) && !(t.job_id == "$next" && t.operation == jobs_operation::describe))
      return errc::bad_topic_name;
  } else {
    return errc::bad_topic_name;
  }
  return t;
}

}  // namespace thingwell::aws
