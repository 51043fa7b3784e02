#include "shadow_document.hpp"

namespace thingwell::emulator {

namespace {

constexpr std::int64_t version_memory_seconds = 48 * 3600;  // §1.7

json_value timestamp(std::int64_t now) {
  json_value t = json_value::object();
  t.set("timestamp", now);
  return t;
}

// Merges `patch` (an object) into `target` and its metadata `meta`. Objects merge recursively, anything
// else replaces, null deletes. Objects left empty are removed: AWS does not document what it keeps, and
// an empty object carries no state a device could act on.
void merge_object(json_value& target, json_value& meta, const json_value& patch, std::int64_t now) {
  if (!target.is_object()) target = json_value::object();
  if (!meta.is_object()) meta = json_value::object();
  for (const auto& [key, value] : patch.as_object()) {
    if (value.is_null()) {
      target.erase(key);
      meta.erase(key);
    } else if (value.is_object()) {
      json_value* existing = target.find(key);
      json_value* existing_meta = meta.find(key);
      if (existing == nullptr || !existing->is_object()) existing = &target.set(key, json_value::object());
      if (existing_meta == nullptr || !existing_meta->is_object()) existing_meta = &meta.set(key, json_value::object());
      merge_object(*existing, *existing_meta, value, now);
      if (existing->empty_object()) {
        target.erase(key);
        meta.erase(key);
      }
    } else {
      target.set(key, value);
      meta.set(key, leaf_metadata(value, now));
    }
  }
}

// The metadata of the fields of `shape` found in `meta` (shape is a delta: its objects are either partial
// views of desired objects or whole desired objects; both mirror desired's metadata).
json_value select_metadata(const json_value& shape, const json_value& meta) {
  json_value out = json_value::object();
  for (const auto& [key, value] : shape.as_object()) {
    const json_value* m = meta.find(key);
    if (m == nullptr) continue;
    if (value.is_object() && m->is_object()) out.set(key, select_metadata(value, *m));
    else out.set(key, *m);
  }
  return out;
}

}  // namespace

json_value leaf_metadata(const json_value& leaf, std::int64_t now) {
  if (!leaf.is_array()) return timestamp(now);
  json_value out = json_value::array();
  for (std::size_t i = 0; i < leaf.as_array().size(); ++i) out.as_array().push_back(timestamp(now));
  return out;
}

json_value request_metadata(const json_value& patch, std::int64_t now) {
  if (!patch.is_object()) return leaf_metadata(patch, now);
  json_value out = json_value::object();
  for (const auto& [key, value] : patch.as_object()) out.set(key, request_metadata(value, now));
  return out;
}

json_value compute_delta(const json_value& desired, const json_value& reported) {
  json_value out = json_value::object();
  if (!desired.is_object()) return out;
  for (const auto& [key, want] : desired.as_object()) {
    const json_value* have = reported.find(key);
    if (have == nullptr) {
      out.set(key, want);
    } else if (want.is_object() && have->is_object()) {
      json_value sub = compute_delta(want, *have);
      if (!sub.empty_object()) out.set(key, std::move(sub));
    } else if (!(want == *have)) {
      out.set(key, want);  // scalars, arrays and type changes: the whole desired value
    }
  }
  return out;
}

std::int64_t shadow_document::base_version(std::int64_t now) const noexcept {
  if (deleted_at_ && now - *deleted_at_ >= version_memory_seconds) return 0;
  return version_;
}

void shadow_document::merge(std::string_view section, const json_value& patch, std::int64_t now) {
  json_value& target = section == "desired" ? desired_ : reported_;
  json_value& meta = section == "desired" ? desired_meta_ : reported_meta_;
  if (patch.is_null()) {
    target = json_value::object();
    meta = json_value::object();
    return;
  }
  merge_object(target, meta, patch, now);
}

void shadow_document::clear_state() {
  desired_ = json_value::object();
  reported_ = json_value::object();
  desired_meta_ = json_value::object();
  reported_meta_ = json_value::object();
}

void shadow_document::revive(std::int64_t version) {
  if (deleted_at_) clear_state();
  deleted_at_.reset();
  version_ = version;
}

void shadow_document::mark_deleted(std::int64_t now) {
  clear_state();
  deleted_at_ = now;
}

json_value shadow_document::delta() const { return compute_delta(desired_, reported_); }

json_value shadow_document::delta_metadata(const json_value& delta) const {
  return select_metadata(delta, desired_meta_);
}

json_value shadow_document::state() const {
  json_value s = json_value::object();
  if (!desired_.empty_object()) s.set("desired", desired_);
  if (!reported_.empty_object()) s.set("reported", reported_);
  return s;
}

json_value shadow_document::metadata() const {
  json_value m = json_value::object();
  if (!desired_meta_.empty_object()) m.set("desired", desired_meta_);
  if (!reported_meta_.empty_object()) m.set("reported", reported_meta_);
  return m;
}

json_value shadow_document::to_record(const shadow_key& key) const {
  json_value r = json_value::object();
  r.set("thingName", key.thing);
  if (key.named()) r.set("shadowName", key.shadow);
  r.set("version", version_);
  if (deleted_at_) {
    r.set("deletedAt", *deleted_at_);
  } else {
    r.set("state", state());
    r.set("metadata", metadata());
  }
  return r;
}

bool shadow_document::from_record(const json_value& record, shadow_key& key, shadow_document& out) {
  const json_value* thing = record.find("thingName");
  const json_value* shadow = record.find("shadowName");
  const json_value* version = record.find("version");
  if (thing == nullptr || !thing->is_string() || version == nullptr) return false;
  if (shadow != nullptr && !shadow->is_string()) return false;
  shadow_document d;
  if (!version->get_int64(d.version_)) return false;
  if (const json_value* deleted = record.find("deletedAt")) {
    std::int64_t at = 0;
    if (!deleted->get_int64(at)) return false;
    d.deleted_at_ = at;
  } else {
    const json_value* state = record.find("state");
    const json_value* metadata = record.find("metadata");
    if (state == nullptr || !state->is_object() || metadata == nullptr || !metadata->is_object()) return false;
    auto section = [](const json_value& parent, std::string_view name, json_value& into) {
      const json_value* s = parent.find(name);
      if (s == nullptr) return true;
      if (!s->is_object()) return false;
      into = *s;
      return true;
    };
    if (!section(*state, "desired", d.desired_) || !section(*state, "reported", d.reported_) ||
        !section(*metadata, "desired", d.desired_meta_) || !section(*metadata, "reported", d.reported_meta_))
      return false;
  }
  key.thing = thing->as_string();
  key.shadow = shadow != nullptr ? shadow->as_string() : std::string{};
  out = std::move(d);
  return true;
}

}  // namespace thingwell::emulator
