#include "shadow_topics.hpp"

namespace thingwell::emulator {

namespace {

bool name_char(char c, bool dollar_allowed) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
         c == '-' || (dollar_allowed && c == '$');
}

bool valid_name(std::string_view name, std::size_t max, bool dollar_allowed) noexcept {
  if (name.empty() || name.size() > max) return false;
  for (char c : name)
    if (!name_char(c, dollar_allowed)) return false;
  return true;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto slash = s.find('/');
    parts.push_back(s.substr(0, slash));
    if (slash == std::string_view::npos) return parts;
    s.remove_prefix(slash + 1);
  }
}

std::string_view root_of(request_origin origin) noexcept {
  return origin == request_origin::device ? device_topic_root : admin_topic_root;
}

}  // namespace

bool valid_thing_name(std::string_view name) noexcept { return valid_name(name, 128, false); }
bool valid_shadow_name(std::string_view name) noexcept { return valid_name(name, 64, true); }

std::optional<shadow_request_topic> parse_request_topic(std::string_view topic) {
  shadow_request_topic out;
  if (topic.starts_with(device_topic_root)) {
    topic.remove_prefix(device_topic_root.size());
  } else if (topic.starts_with(admin_topic_root)) {
    topic.remove_prefix(admin_topic_root.size());
    out.origin = request_origin::admin;
  } else {
    return std::nullopt;
  }
  const auto parts = split(topic);  // {thing}/shadow[/name/{shadow}]/{op}
  std::string_view op;
  if (parts.size() == 3 && parts[1] == "shadow") {
    op = parts[2];
  } else if (parts.size() == 5 && parts[1] == "shadow" && parts[2] == "name") {
    out.key.shadow = std::string(parts[3]);
    op = parts[4];
  } else {
    return std::nullopt;
  }
  out.key.thing = std::string(parts[0]);
  if (op == "get") out.operation = shadow_operation::get;
  else if (op == "update") out.operation = shadow_operation::update;
  else if (op == "delete") out.operation = shadow_operation::remove;
  else return std::nullopt;
  return out;
}

std::string shadow_topic_prefix(const shadow_key& key, request_origin origin) {
  std::string prefix(root_of(origin));
  prefix += key.thing;
  prefix += "/shadow";
  if (key.named()) {
    prefix += "/name/";
    prefix += key.shadow;
  }
  return prefix;
}

std::string_view operation_name(shadow_operation op) noexcept {
  switch (op) {
    case shadow_operation::get: return "get";
    case shadow_operation::update: return "update";
    case shadow_operation::remove: return "delete";
  }
  return "?";
}

std::vector<std::string> request_topic_filters() {
  std::vector<std::string> filters;
  for (auto origin : {request_origin::device, request_origin::admin}) {
    for (std::string_view op : {"get", "update", "delete"}) {
      filters.push_back(std::string(root_of(origin)) + "+/shadow/" + std::string(op));
      filters.push_back(std::string(root_of(origin)) + "+/shadow/name/+/" + std::string(op));
    }
  }
  return filters;
}

}  // namespace thingwell::emulator
