// thingwell — AWS IoT Jobs execution statuses and the transitions a device may ask for
// (shared/aws-iot-protocol.md sections 2.4 and 2.5).
//
// The agent checks a status change here before sending it: an update the service would answer with
// InvalidStateTransition costs a billed round trip and tells the device nothing it could not know.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "../core/config.hpp"

namespace thingwell::aws {

enum class job_status : std::uint8_t { queued, in_progress, succeeded, failed, timed_out, rejected, removed, canceled };

inline constexpr std::string_view to_string(job_status s) noexcept {
  switch (s) {
    case job_status::queued: return "QUEUED";
    case job_status::in_progress: return "IN_PROGRESS";
    case job_status::succeeded: return "SUCCEEDED";
    case job_status::failed: return "FAILED";
    case job_status::timed_out: return "TIMED_OUT";
    case job_status::rejected: return "REJECTED";
    case job_status::removed: return "REMOVED";
    case job_status::canceled: return "CANCELED";
  }
  return "?";
}

// The status named by AWS's spelling; nothing for anything else.
inline constexpr std::optional<job_status> parse_job_status(std::string_view s) noexcept {
  for (auto st : {job_status::queued, job_status::in_progress, job_status::succeeded, job_status::failed,
                  job_status::timed_out, job_status::rejected, job_status::removed, job_status::canceled})
    if (to_string(st) == s) return st;
  return std::nullopt;
}

// Terminal statuses end the execution; only the service may move it on (a retry is a new execution).
inline constexpr bool is_terminal(job_status s) noexcept {
  return s != job_status::queued && s != job_status::in_progress;
}

// Whether the device may move an execution from `from` to `to` with an update (section 2.5).
// QUEUED → SUCCEEDED/FAILED is accepted by the API's enum but undocumented: refused here, a device always
// passes through IN_PROGRESS (start-next does that) before it claims an outcome.
inline constexpr bool device_may_set(job_status from, job_status to) noexcept {
  switch (to) {
    case job_status::in_progress: return from == job_status::queued || from == job_status::in_progress;
    case job_status::succeeded:
    case job_status::failed: return from == job_status::in_progress;
    case job_status::rejected: return from == job_status::queued || from == job_status::in_progress;
    default: return false;  // TIMED_OUT, REMOVED, CANCELED and QUEUED are the service's to set
  }
}

}  // namespace thingwell::aws
