// thingwell emulator — jobs and job executions as the Jobs service keeps them, and the JSON forms AWS sends
// (shared/aws-iot-protocol.md §2.3, §2.4).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_tree.hpp"

namespace thingwell::emulator {

enum class execution_status { queued, in_progress, succeeded, failed, timed_out, rejected, removed, canceled };

std::string_view status_name(execution_status s) noexcept;
std::optional<execution_status> parse_status(std::string_view name) noexcept;
// SUCCEEDED, FAILED, TIMED_OUT, REJECTED, REMOVED and CANCELED never change again (§2.4).
bool is_terminal(execution_status s) noexcept;

struct job_execution {
  std::string thing;
  std::string job_id;
  execution_status status = execution_status::queued;
  json_value status_details = json_value::object();  // string → string
  std::int64_t queued_at = 0;
  std::int64_t started_at = 0;  // 0: never IN_PROGRESS
  std::int64_t last_updated_at = 0;
  std::int64_t version = 1;
  std::int64_t execution_number = 1;
  std::uint64_t sequence = 0;  // creation order across the whole service: start-next hands out the oldest
  // Unix seconds at which the execution becomes TIMED_OUT: the device's step timer (refreshable) and the
  // job's in-progress timer (not refreshable, §2.2).
  std::optional<std::int64_t> step_deadline;
  std::optional<std::int64_t> in_progress_deadline;

  bool pending() const noexcept { return !is_terminal(status); }
  std::optional<std::int64_t> deadline() const noexcept;

  // JobExecution, field order as in AWS's captures; jobDocument only when asked for.
  json_value to_execution(std::int64_t now, const json_value* job_document) const;
  // JobExecutionSummary (jobs/get and notify lists).
  json_value to_summary() const;
  // JobExecutionState (executionState in update/accepted and in rejections).
  json_value to_state() const;
  // What the admin `jobs list` prints: the execution with its thing and without the document.
  json_value to_listing() const;

  json_value to_record() const;
  static std::optional<job_execution> from_record(const json_value& record);
};

enum class job_status { in_progress, canceled, completed };

struct job {
  std::string id;
  json_value document = json_value::object();
  std::vector<std::string> targets;
  std::int64_t created_at = 0;
  job_status status = job_status::in_progress;
  bool force_canceled = false;
  std::optional<std::int64_t> in_progress_timeout_minutes;  // timeoutConfig.inProgressTimeoutInMinutes

  json_value to_listing() const;
  json_value to_record() const;
  static std::optional<job> from_record(const json_value& record);
};

std::string_view job_status_name(job_status s) noexcept;

}  // namespace thingwell::emulator
