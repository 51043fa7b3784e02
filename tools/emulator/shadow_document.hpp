// thingwell emulator — one shadow: its state, metadata and version, and the rules AWS applies to them
// (shared/aws-iot-protocol.md §1.2–1.5, §1.7).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "json_tree.hpp"

namespace thingwell::emulator {

// Which shadow: a thing's classic shadow (empty shadow name) or one of its named shadows.
struct shadow_key {
  std::string thing;
  std::string shadow;

  bool named() const noexcept { return !shadow.empty(); }
  // The name AWS puts in "No shadow exists with name: '...'": the thing's for the classic shadow.
  const std::string& error_name() const noexcept { return named() ? shadow : thing; }
  std::string describe() const { return named() ? thing + "/" + shadow : thing; }
  auto operator<=>(const shadow_key&) const = default;
};

class shadow_document {
 public:
  // Deleting keeps the version (§1.7: a shadow re-created within 48 h continues from it), so a deleted
  // shadow stays here as a tombstone: no state, its last version and when it was deleted.
  bool exists() const noexcept { return !deleted_at_.has_value(); }
  std::int64_t version() const noexcept { return version_; }
  std::optional<std::int64_t> deleted_at() const noexcept { return deleted_at_; }

  // The version an update is checked against and builds on at `now`: 0 for a tombstone older than 48 h.
  std::int64_t base_version(std::int64_t now) const noexcept;

  const json_value& desired() const noexcept { return desired_; }
  const json_value& reported() const noexcept { return reported_; }
  const json_value& desired_metadata() const noexcept { return desired_meta_; }
  const json_value& reported_metadata() const noexcept { return reported_meta_; }

  // Applies an accepted update (already validated by the service); `section` is "desired" or "reported",
  // `patch` an object or null. Stamps every leaf it sets with `now`.
  void merge(std::string_view section, const json_value& patch, std::int64_t now);
  // "state": null — both sections go, the shadow stays.
  void clear_state();
  // Makes a tombstone a live, empty shadow again at `version`, or sets the version of a live one.
  void revive(std::int64_t version);
  void set_version(std::int64_t version) noexcept { version_ = version; }
  void mark_deleted(std::int64_t now);

  // Desired fields that reported does not match (§1.5); an empty object when in sync.
  json_value delta() const;
  // The desired metadata of the fields of `delta`, the same shape.
  json_value delta_metadata(const json_value& delta) const;

  // {"desired":...,"reported":...} with the non-empty sections only: the part of a document that AWS's 8 KB
  // limit counts (metadata does not count, §1.8).
  json_value state() const;
  json_value metadata() const;
  std::size_t state_size() const { return to_json(state()).size(); }

  // The form kept on disk; from_record() refuses anything it would not have written.
  json_value to_record(const shadow_key& key) const;
  static bool from_record(const json_value& record, shadow_key& key, shadow_document& out);

 private:
  std::int64_t version_ = 0;
  std::optional<std::int64_t> deleted_at_;
  json_value desired_ = json_value::object();
  json_value reported_ = json_value::object();
  json_value desired_meta_ = json_value::object();
  json_value reported_meta_ = json_value::object();
};

// {"timestamp": now} for a leaf; for an array one of those per element (§1.4).
json_value leaf_metadata(const json_value& leaf, std::int64_t now);
// The metadata an update/accepted echo carries: the request's section with every leaf (null included)
// replaced by its metadata.
json_value request_metadata(const json_value& patch, std::int64_t now);
// Desired fields that `reported` does not match (the algorithm of §1.5).
json_value compute_delta(const json_value& desired, const json_value& reported);

}  // namespace thingwell::emulator
