// thingwell emulator — the Jobs service (device MQTT API), sans I/O.
//
// A request (topic, payload, the current time) goes in; what AWS would publish comes out, with a flag
// saying that the stored state changed. expire(now) is the service's timer: serve.cpp calls it about
// twice a second and the unit tests call it with a manual clock.
//
// The behaviour follows shared/aws-iot-protocol.md §2. Where that document is unsure, the choices made here:
//   - QUEUED → SUCCEEDED/FAILED by update is allowed (the API's status enum accepts it).
//   - A status the device may not set (QUEUED, TIMED_OUT, REMOVED, CANCELED) is InvalidStateTransition;
//     an unknown status string is InvalidRequest.
//   - update checks, in order: payload (InvalidJson/InvalidRequest), execution (ResourceNotFound, also for
//     an executionNumber other than the execution's), expectedVersion (VersionMismatch), state
//     (InvalidStateTransition).
//   - describe of a terminal execution is TerminalStateReached; $next with nothing pending is accepted
//     without "execution".
//   - A supplied statusDetails replaces the stored map.
//   - An empty payload is read as {} (AWS's SDKs always send JSON).
//   - notify goes out when a thing's set of pending executions changes (not on QUEUED → IN_PROGRESS);
//     notify-next when the identity of its next execution changes (§2.3).
//   - The error messages are the emulator's own words: AWS does not document its texts.
//   - Emulator-only: `seconds_per_minute` shortens the minutes of stepTimeoutInMinutes and of a job's
//     in-progress timeout, so tests can see TIMED_OUT in seconds.
//   - Requests whose topic names an invalid thing name are dropped: AWS would not route them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobs_execution.hpp"
#include "jobs_status_details.hpp"
#include "jobs_topics.hpp"
#include "outgoing_message.hpp"

namespace thingwell::emulator {

struct jobs_limits {
  std::size_t max_payload_bytes = 128 * 1024;    // the broker's limit (§6.9)
  std::size_t max_document_bytes = 32 * 1024;    // job document (§2.3, §2.9)
  std::size_t max_client_token_bytes = 64;
  std::int64_t max_step_timeout_minutes = 10080;  // 7 days (§2.2)
  std::int64_t seconds_per_minute = 60;           // emulator-only time scale for the timers
  status_details_limits status_details;
};

struct jobs_outcome {
  std::vector<outgoing_message> messages;
  bool changed = false;  // store the state (to_record) before publishing
  std::string summary;   // for the log, e.g. "update dev/job-1 IN_PROGRESS v2 accepted"
};

class jobs_service {
 public:
  explicit jobs_service(jobs_limits limits = {}) : limits_(limits) {}

  // A request arriving on `topic`; `now` is Unix time in seconds. Topics that are not Jobs requests give
  // an empty outcome.
  jobs_outcome handle(std::string_view topic, std::string_view payload, std::int64_t now);
  // Moves executions whose step or in-progress timer has run out to TIMED_OUT.
  jobs_outcome expire(std::int64_t now);

  const job_execution* find(const std::string& thing, const std::string& job_id) const;
  const job* find_job(const std::string& job_id) const;

  // The whole state, for the data directory; restore() puts it back at start-up and returns false (changing
  // nothing) when the record is not one this service wrote.
  json_value to_record() const;
  bool restore(const json_value& record);

 private:
  struct request;
  using execution_key = std::pair<std::string, std::string>;  // thing, jobId

  jobs_outcome get_pending(const request& r);
  jobs_outcome start_next(const request& r);
  jobs_outcome describe(const request& r);
  jobs_outcome update(const request& r);
  jobs_outcome create(const request& r);
  jobs_outcome cancel(const request& r);
  jobs_outcome list(const request& r);
  jobs_outcome reject(const request& r, std::string_view code, std::string message,
                      const job_execution* state = nullptr);

  // A thing's pending executions, oldest first, and the one start-next would hand out.
  std::vector<const job_execution*> pending(const std::string& thing) const;
  const job_execution* next(const std::string& thing) const;

  // What a thing's devices were last told, so that changes can be announced with notify and notify-next.
  struct thing_view {
    std::vector<std::string> pending_ids;
    std::string next_id;
  };
  thing_view view(const std::string& thing) const;
  void announce(const std::string& thing, const thing_view& before, std::int64_t now, jobs_outcome& out) const;

  void start(job_execution& e, std::int64_t now);
  void finish_job_if_done(const std::string& job_id);

  jobs_limits limits_;
  std::map<std::string, job> jobs_;
  std::map<execution_key, job_execution> executions_;
  std::uint64_t next_sequence_ = 1;
};

}  // namespace thingwell::emulator
