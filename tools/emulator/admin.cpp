#include "admin.hpp"

#include <cstdio>
#include <optional>
#include <string>

#include "admin_exchange.hpp"
#include "jobs_admin.hpp"
#include "json_tree.hpp"
#include "shadow_topics.hpp"

namespace thingwell::emulator {

namespace {

int fail(const std::string& why) { return admin_failure(why); }

shadow_operation operation_of(command c) {
  switch (c) {
    case command::shadow_get: return shadow_operation::get;
    case command::shadow_delete: return shadow_operation::remove;
    default: return shadow_operation::update;
  }
}

// The request document, or an error message in `error`.
std::optional<std::string> request_payload(const command_line& cl, const std::string& token, std::string& error) {
  json_value request = json_value::object();
  if (cl.what == command::shadow_set_desired || cl.what == command::shadow_update) {
    auto document = parse_json(cl.document, 1 << 20);
    if (!document) {
      error = "the document is not JSON: " + document.error().message();
      return std::nullopt;
    }
    if (cl.what == command::shadow_set_desired) {
      if (!document->is_object() && !document->is_null()) {
        error = "set-desired takes a JSON object (the desired state) or null";
        return std::nullopt;
      }
      json_value state = json_value::object();
      state.set("desired", std::move(*document));
      request.set("state", std::move(state));
    } else {
      if (!document->is_object()) {
        error = "update takes a JSON object (a shadow update request: {\"state\":{...}})";
        return std::nullopt;
      }
      request = std::move(*document);
    }
  }
  // A request that brings its own token keeps it (the service echoes it, the answer is matched by it).
  if (request.find("clientToken") == nullptr) request.set("clientToken", token);
  return to_json(request);
}

}  // namespace

int run_admin(const command_line& cl) {
  if (cl.what == command::jobs_create || cl.what == command::jobs_cancel || cl.what == command::jobs_list)
    return run_jobs_admin(cl);
  if (!valid_thing_name(cl.thing)) return fail("invalid thing name '" + cl.thing + "' (1-128 of a-z A-Z 0-9 : _ -)");
  if (!cl.shadow_name.empty() && !valid_shadow_name(cl.shadow_name))
    return fail("invalid shadow name '" + cl.shadow_name + "' (1-64 of a-z A-Z 0-9 : _ - $)");

  const std::string token = admin_client_token();
  std::string error;
  const auto payload = request_payload(cl, token, error);
  if (!payload) return fail(error);
  std::string expected_token = token;
  if (cl.what == command::shadow_update) {
    if (auto doc = parse_json(*payload, 1 << 20); doc && doc->find("clientToken") && doc->find("clientToken")->is_string())
      expected_token = doc->find("clientToken")->as_string();
  }

  const shadow_key key{cl.thing, cl.shadow_name};
  const std::string topic =
      shadow_topic_prefix(key, request_origin::admin) + "/" + std::string(operation_name(operation_of(cl.what)));
  const admin_answer answer = exchange_with_service(cl, topic, *payload, expected_token);
  if (answer.exit_code == 0) {
    std::fprintf(stdout, "%s\n", answer.text.c_str());
    std::fflush(stdout);
  } else if (answer.exit_code == 1) {
    std::fprintf(stderr, "thingwell-emulator: rejected: %s\n", answer.text.c_str());
  }
  return answer.exit_code;
}

}  // namespace thingwell::emulator
