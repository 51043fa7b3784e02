// thingwell emulator — the Jobs topics: the device-facing ones AWS defines (shared/aws-iot-protocol.md §2.1)
// and the emulator's own admin topics, which play the part of the control-plane API (CreateJob, CancelJob,
// ListJobExecutionsForThing/ForJob).
//
//   device  $aws/things/{thing}/jobs/{get|start-next|{jobId}/get|{jobId}/update}[/accepted|/rejected]
//           $aws/things/{thing}/jobs/{notify|notify-next}                       (events, service → device)
//   admin   $thingwell/emulator/jobs/{create|cancel|list}[/accepted|/rejected]
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace thingwell::emulator {

enum class jobs_operation {
  get_pending,     // jobs/get
  start_next,      // jobs/start-next
  describe,        // jobs/{jobId}/get, jobId may be $next
  update,          // jobs/{jobId}/update
  invalid_topic,   // in the jobs namespace, but no API: answered with InvalidTopic
  admin_create,
  admin_cancel,
  admin_list,
};

inline constexpr std::string_view jobs_admin_topic_root = "$thingwell/emulator/jobs/";
inline constexpr std::string_view next_job_id = "$next";

struct jobs_request_topic {
  jobs_operation operation = jobs_operation::get_pending;
  std::string thing;   // device topics
  std::string job_id;  // describe and update
  std::string topic;   // as received: the responses go to <topic>/accepted and <topic>/rejected
};

// A request the service answers, or nothing: topics outside the jobs namespaces, and the service's own
// responses and events (accepted, rejected, notify, notify-next), which its subscription also matches.
// Thing names are not validated here.
std::optional<jobs_request_topic> parse_jobs_topic(std::string_view topic);

// "$aws/things/T/jobs"
std::string jobs_topic_prefix(std::string_view thing);
// "$thingwell/emulator/jobs/create" (…/cancel, …/list)
std::string jobs_admin_topic(jobs_operation admin_operation);

// jobId: 1–64 of [a-zA-Z0-9_-] (§2.1).
bool valid_job_id(std::string_view id) noexcept;

// What the service subscribes to.
std::vector<std::string> jobs_topic_filters();

}  // namespace thingwell::emulator
