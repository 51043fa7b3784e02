#include "shadow_service.hpp"

namespace thingwell::emulator {

struct shadow_service::request {
  shadow_request_topic topic;
  std::int64_t now = 0;
  json_value body;                         // the parsed payload; null when it was empty
  std::optional<std::string> client_token;  // only a valid one: an invalid token is not echoed

  std::string response_topic(std::string_view suffix) const {
    std::string t = shadow_topic_prefix(topic.key, topic.origin);
    t += '/';
    t += operation_name(topic.operation);
    t += '/';
    t += suffix;
    return t;
  }
  std::string device_topic(std::string_view tail) const {
    return shadow_topic_prefix(topic.key, request_origin::device) + std::string(tail);
  }
  void add_token(json_value& doc) const {
    if (client_token) doc.set("clientToken", *client_token);
  }
  std::string describe() const {
    std::string s(topic.origin == request_origin::admin ? "admin " : "");
    s += operation_name(topic.operation);
    s += ' ';
    s += topic.key.describe();
    if (client_token) s += " token=" + *client_token;
    return s;
  }
};

namespace {

bool has_null_in_array(const json_value& v, bool inside_array) {
  if (v.is_null()) return inside_array;
  if (v.is_object()) {
    for (const auto& m : v.as_object())
      if (has_null_in_array(m.value, false)) return true;
  } else if (v.is_array()) {
    for (const auto& e : v.as_array())
      if (has_null_in_array(e, true)) return true;
  }
  return false;
}

json_value full_document(const shadow_document& d) {
  json_value doc = json_value::object();
  doc.set("state", d.state());
  doc.set("metadata", d.metadata());
  doc.set("version", d.version());
  return doc;
}

}  // namespace

const shadow_document* shadow_service::find(const shadow_key& key) const {
  auto it = shadows_.find(key);
  return it == shadows_.end() ? nullptr : &it->second;
}

void shadow_service::restore(const shadow_key& key, shadow_document document) {
  shadows_[key] = std::move(document);
}

shadow_outcome shadow_service::handle(std::string_view topic, std::string_view payload, std::int64_t now) {
  auto parsed = parse_request_topic(topic);
  if (!parsed) return {};
  request r;
  r.topic = std::move(*parsed);
  r.now = now;
  if (!valid_thing_name(r.topic.key.thing) || (r.topic.key.named() && !valid_shadow_name(r.topic.key.shadow))) {
    shadow_outcome dropped;
    dropped.summary = r.describe() + " dropped: invalid thing or shadow name";
    return dropped;
  }

  if (payload.size() > limits_.max_payload_bytes) return reject(r, 413, "The payload exceeds the maximum size allowed");
  // get and delete may come with no payload at all; an update never does.
  if (!payload.empty() || r.topic.operation == shadow_operation::update) {
    auto body = parse_json(payload, limits_.max_payload_bytes);
    if (!body) return reject(r, 400, "Invalid JSON");
    r.body = std::move(*body);
    if (!r.body.is_object() && r.topic.operation == shadow_operation::update) return reject(r, 400, "Invalid JSON");
  }
  if (const json_value* token = r.body.find("clientToken")) {
    if (!token->is_string() || token->as_string().empty() || token->as_string().size() > limits_.max_client_token_bytes)
      return reject(r, 400, "Invalid clientToken");
    r.client_token = token->as_string();
  }

  switch (r.topic.operation) {
    case shadow_operation::get: return get(r);
    case shadow_operation::update: return update(r);
    case shadow_operation::remove: return remove(r);
  }
  return {};
}

shadow_outcome shadow_service::reject(const request& r, int code, std::string_view message) {
  json_value doc = json_value::object();
  doc.set("code", code);
  doc.set("message", std::string(message));
  doc.set("timestamp", r.now);
  r.add_token(doc);
  shadow_outcome out;
  out.messages.push_back({r.response_topic("rejected"), to_json(doc)});
  out.summary = r.describe() + " rejected " + std::to_string(code) + " " + std::string(message);
  return out;
}

shadow_outcome shadow_service::get(const request& r) {
  const shadow_document* d = find(r.topic.key);
  if (d == nullptr || !d->exists())
    return reject(r, 404, "No shadow exists with name: '" + r.topic.key.error_name() + "'");

  json_value state = d->state();
  json_value metadata = d->metadata();
  // The developer guide's example mirrors the delta in metadata too (§1.3.1); captures in sync show neither.
  if (json_value delta = d->delta(); !delta.empty_object()) {
    metadata.set("delta", d->delta_metadata(delta));
    state.set("delta", std::move(delta));
  }
  json_value doc = json_value::object();
  doc.set("state", std::move(state));
  doc.set("metadata", std::move(metadata));
  doc.set("version", d->version());
  doc.set("timestamp", r.now);
  r.add_token(doc);

  shadow_outcome out;
  out.messages.push_back({r.response_topic("accepted"), to_json(doc)});
  out.summary = r.describe() + " accepted v" + std::to_string(d->version());
  return out;
}

shadow_outcome shadow_service::update(const request& r) {
  std::optional<std::int64_t> version;
  if (const json_value* v = r.body.find("version")) {
    std::int64_t n = 0;
    if (!v->get_int64(n) || n < 0) return reject(r, 400, "Invalid version");
    version = n;
  }

  const json_value* state = r.body.find("state");
  if (state == nullptr) return reject(r, 400, "Missing required node: state");
  if (!state->is_object() && !state->is_null()) return reject(r, 400, "State node must be an object");
  const json_value* desired = state->find("desired");
  const json_value* reported = state->find("reported");
  if (state->is_object()) {
    for (const auto& m : state->as_object())
      if (m.key != "desired" && m.key != "reported") return reject(r, 400, "State contains an invalid node");
    if (desired != nullptr && !desired->is_object() && !desired->is_null())
      return reject(r, 400, "Desired node must be an object");
    if (reported != nullptr && !reported->is_object() && !reported->is_null())
      return reject(r, 400, "Reported node must be an object");
    for (const json_value* section : {desired, reported}) {
      if (section == nullptr) continue;
      if (section->container_depth() > limits_.max_section_depth)
        return reject(r, 400, "JSON contains too many levels of nesting; maximum is 6");
      if (has_null_in_array(*section, false)) return reject(r, 400, "State contains an invalid node");
    }
    if (to_json(*state).size() > limits_.max_state_bytes)
      return reject(r, 413, "The payload exceeds the maximum size allowed");
  }

  const shadow_document* existing = find(r.topic.key);
  const bool existed = existing != nullptr && existing->exists();
  const std::int64_t current = existing != nullptr ? existing->base_version(r.now) : 0;
  if (version && *version != current) return reject(r, 409, "Version conflict");

  shadow_document next = existing != nullptr ? *existing : shadow_document{};
  next.revive(current + 1);
  if (state->is_null()) {
    next.clear_state();
  } else {
    if (desired != nullptr) next.merge("desired", *desired, r.now);
    if (reported != nullptr) next.merge("reported", *reported, r.now);
  }
  if (next.state_size() > limits_.max_state_bytes)
    return reject(r, 413, "The payload exceeds the maximum size allowed");

  std::optional<json_value> previous;
  if (existed) previous = full_document(*existing);
  const shadow_document& stored = shadows_[r.topic.key] = std::move(next);

  shadow_outcome out;
  out.changed = r.topic.key;

  json_value accepted = json_value::object();
  accepted.set("state", *state);
  if (state->is_object()) {
    json_value metadata = json_value::object();
    if (desired != nullptr) metadata.set("desired", request_metadata(*desired, r.now));
    if (reported != nullptr) metadata.set("reported", request_metadata(*reported, r.now));
    accepted.set("metadata", std::move(metadata));
  }
  accepted.set("version", stored.version());
  accepted.set("timestamp", r.now);
  r.add_token(accepted);
  out.messages.push_back({r.response_topic("accepted"), to_json(accepted)});

  // Every out-of-sync field, not only the ones this update touched; nothing when in sync (§1.3.3).
  json_value delta = stored.delta();
  const bool has_delta = !delta.empty_object();
  if (has_delta) {
    json_value doc = json_value::object();
    doc.set("version", stored.version());
    doc.set("timestamp", r.now);
    doc.set("metadata", stored.delta_metadata(delta));
    doc.set("state", std::move(delta));
    r.add_token(doc);
    out.messages.push_back({r.device_topic("/update/delta"), to_json(doc)});
  }

  json_value documents = json_value::object();
  documents.set("previous", previous ? std::move(*previous) : json_value{});
  documents.set("current", full_document(stored));
  documents.set("timestamp", r.now);
  r.add_token(documents);
  out.messages.push_back({r.device_topic("/update/documents"), to_json(documents)});

  out.summary = r.describe() + " accepted v" + std::to_string(stored.version()) + (has_delta ? " (delta)" : "");
  return out;
}

shadow_outcome shadow_service::remove(const request& r) {
  auto it = shadows_.find(r.topic.key);
  if (it == shadows_.end() || !it->second.exists())
    return reject(r, 404, "No shadow exists with name: '" + r.topic.key.error_name() + "'");

  json_value doc = json_value::object();
  doc.set("version", it->second.version());
  doc.set("timestamp", r.now);
  r.add_token(doc);
  it->second.mark_deleted(r.now);

  shadow_outcome out;
  out.changed = r.topic.key;
  out.messages.push_back({r.response_topic("accepted"), to_json(doc)});
  out.summary = r.describe() + " accepted (deleted at v" + std::to_string(it->second.version()) + ")";
  return out;
}

}  // namespace thingwell::emulator
