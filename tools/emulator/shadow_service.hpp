// thingwell emulator — the Device Shadow service, sans I/O.
//
// A request (topic, payload, the current time) goes in; what AWS would publish comes out, together with the
// shadow whose stored form changed. No sockets, no files, no clock: main.cpp moves the messages over MQTT
// and shadow_store keeps the changed shadows, and the unit tests drive it with a manual clock.
//
// The behaviour follows shared/aws-iot-protocol.md §1. Where that document is unsure, the choice made here:
//   - Error order: 413 (payload over 128 KiB), 400 (JSON, then clientToken, version, state, desired,
//     reported, nesting, null inside an array), 413 (state over 8 KB), 409 (version), then the merge; a
//     merge whose result would exceed 8 KB is refused with 413 and changes nothing.
//   - Nesting: desired and reported themselves are level 1; an object or array at level 7 is refused
//     (5 levels below desired/reported, §1.8). Arrays count as levels.
//   - Keys other than desired/reported inside "state" (delta included): 400 "State contains an invalid node".
//     A null inside an array: the same message (AWS says it rejects, not with which words).
//   - A `version` in an update is compared with the version the shadow has now; a shadow that does not exist
//     has version 0, or the deleted one's version within 48 h of the delete (§1.7).
//   - update/accepted echoes the request's state verbatim (nulls included) with metadata for every field it
//     names; "state": null is echoed as null without metadata.
//   - Objects emptied by deletes are removed; an empty object as a value stores nothing.
//   - delete/accepted carries the version of the shadow that was deleted.
//   - get and delete payloads: empty, or a JSON object whose clientToken is echoed; unparsable JSON → 400.
//   - Requests whose topic names an invalid thing or shadow name (§1.1) are dropped: AWS would not route
//     them. The outcome says so for the log.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outgoing_message.hpp"
#include "shadow_document.hpp"
#include "shadow_topics.hpp"

namespace thingwell::emulator {

struct shadow_limits {
  std::size_t max_payload_bytes = 128 * 1024;  // the broker's limit (§6.9)
  std::size_t max_state_bytes = 8 * 1024;      // desired + reported (§1.8)
  std::size_t max_section_depth = 6;           // "JSON contains too many levels of nesting; maximum is 6"
  std::size_t max_client_token_bytes = 64;
};

struct shadow_outcome {
  std::vector<outgoing_message> messages;
  std::optional<shadow_key> changed;  // store this shadow's record (a deleted one's tombstone too)
  std::string summary;                // one line for the log, e.g. "update thing-1 v3 accepted"
};

class shadow_service {
 public:
  explicit shadow_service(shadow_limits limits = {}) : limits_(limits) {}

  // A request arriving on `topic`; `now` is Unix time in seconds. Topics that are not shadow requests give
  // an empty outcome.
  shadow_outcome handle(std::string_view topic, std::string_view payload, std::int64_t now);

  // The shadow as it is now (a tombstone for a deleted one), or nullptr.
  const shadow_document* find(const shadow_key& key) const;
  // Puts back a shadow read from disk at start-up.
  void restore(const shadow_key& key, shadow_document document);
  const std::map<shadow_key, shadow_document>& shadows() const noexcept { return shadows_; }

 private:
  struct request;
  shadow_outcome get(const request& r);
  shadow_outcome update(const request& r);
  shadow_outcome remove(const request& r);
  shadow_outcome reject(const request& r, int code, std::string_view message);

  shadow_limits limits_;
  std::map<shadow_key, shadow_document> shadows_;
};

}  // namespace thingwell::emulator
