// Interop with AWS's own JavaScript device SDK (aws-iot-device-sdk 2.x, the v1 API's `thingShadow`): the SDK
// runs tests/interop/js/shadow_interop.js against thingwell's emulator over a mosquitto mutual-TLS listener,
// and this file checks the events it printed against what AWS IoT Core does (shared/aws-iot-protocol.md §1):
// versions, clientTokens echoed and matched by the SDK, deltas after the admin CLI's set-desired, foreign state
// changes, and that the SDK's get and the admin's get see the same document. With examples/shadow_lamp built,
// a second case puts thingwell's lamp and the SDK on the same thing.
//
// Run through ctest (interop.js.*): exits 77, which ctest reports as skipped, when node or the npm packages
// (fixture interop.js.npm_install) are missing, or for the lamp case when the example is not built.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mosquitto.hpp"
#include "pki.hpp"
#include "process.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

#include <thingwell/codec/json_simdjson.hpp>
#include <thingwell/codec/json_writer.hpp>

using namespace std::chrono_literals;
namespace tt = thingwell::testing;

namespace {

std::string g_node;  // set by main()

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// One line the script printed: a flat JSON object whose values are kept as text (strings unquoted, numbers as
// written, nested values re-written compactly).
struct event {
  std::string line;
  std::map<std::string, std::string, std::less<>> fields;

  bool has(std::string_view key) const { return fields.find(key) != fields.end(); }
  std::string get(std::string_view key) const {
    auto it = fields.find(key);
    return it == fields.end() ? std::string() : it->second;
  }
  long long number(std::string_view key) const {
    auto text = get(key);
    return text.empty() ? -1 : std::atoll(text.c_str());
  }
  bool is(std::string_view name) const { return get("event") == name; }
};

std::optional<event> parse_event(const std::string& line) {
  if (line.empty() || line.front() != '{') return std::nullopt;
  thingwell::json::simdjson_reader reader;
  auto root = reader.parse(line, {.max_bytes = 1 << 20, .max_depth = 64});
  if (!root) return std::nullopt;
  event e;
  e.line = line;
  for (const auto& member : root->members()) {
    auto key = member.key();
    if (!key) continue;
    const auto v = member.value();
    std::string text;
    if (auto s = v.get_string(); s) {
      text = std::string(*s);
    } else {
      std::vector<char> buffer(line.size() + 64);
      thingwell::json::writer w(buffer);
      w.copy(v);
      if (auto written = w.finish(); written) text = std::string(*written);
    }
    e.fields.emplace(std::string(*key), std::move(text));
  }
  if (!e.has("event")) return std::nullopt;
  return e;
}

// What the script printed, as events, with lookups by step.
struct transcript {
  std::vector<event> events;
  std::string output;  // everything, for failure messages

  explicit transcript(std::string text) : output(std::move(text)) {
    std::size_t start = 0;
    while (start < output.size()) {
      auto end = output.find('\n', start);
      if (end == std::string::npos) end = output.size();
      if (auto e = parse_event(output.substr(start, end - start))) events.push_back(std::move(*e));
      start = end + 1;
    }
  }

  std::vector<const event*> all(std::string_view step, std::string_view name, std::string_view client = {}) const {
    std::vector<const event*> out;
    for (const auto& e : events)
      if (e.get("step") == step && e.is(name) && (client.empty() || e.get("client") == client)) out.push_back(&e);
    return out;
  }
  // The one event of that kind in that step; an empty event (no fields) when there is none.
  const event& one(std::string_view step, std::string_view name, std::string_view client = {}) const {
    static const event none;
    auto found = all(step, name, client);
    return found.empty() ? none : *found.front();
  }
  bool any(std::string_view name) const {
    for (const auto& e : events)
      if (e.is(name)) return true;
    return false;
  }
};

// mosquitto with a mutual-TLS listener only, the emulator serving on it, and the node script.
class interop_setup {
 public:
  explicit interop_setup(const std::vector<std::string>& device_names) {
    auto& pki = tt::test_pki::shared();
    // CN=localhost, SAN DNS:localhost + IP:127.0.0.1: the SDK verifies the name `localhost` (its servername),
    // thingwell's clients the address they dial.
    tt::mosquitto_options o;
    o.plain_listener = false;
    o.mutual_tls_listener = true;
    o.ca_file = pki.root_ca_path();
    o.cert_file = pki.server().cert_path;
    o.key_file = pki.server().key_path;
    broker_ = std::make_unique<tt::mosquitto_broker>(o);
    broker_->start();
    for (const auto& name : device_names) (void)pki.client(name);

    const auto& emulator_identity = pki.client("thingwell-emulator");
    tt::process_options p;
    p.argv = {THINGWELL_EMULATOR_PATH, "serve", "--data-dir", files_.file("data")};
    for (auto& a : broker_args(emulator_identity)) p.argv.push_back(a);
    p.log_path = files_.file("emulator.log");
    emulator_ = std::make_unique<tt::child_process>(p);
    const bool ready =
        tt::wait_until([&] { return read_file(p.log_path).find("connected, serving") != std::string::npos; }, 10s);
    INFO(diagnostics());
    REQUIRE(ready);
  }

  ~interop_setup() {
    if (emulator_) emulator_->terminate(2s);
  }

  std::uint16_t port() const { return broker_->mutual_tls_port(); }

  std::vector<std::string> broker_args(const tt::certified_key& identity) const {
    return {"--broker-host", "127.0.0.1", "--broker-port", std::to_string(port()), "--tls-ca",
            tt::test_pki::shared().root_ca_path(), "--tls-cert", identity.cert_path, "--tls-key", identity.key_path};
  }

  // The admin command line as a JSON array for the script: the emulator program and its broker options.
  std::string admin_json() const {
    std::string out = "[\"" + std::string(THINGWELL_EMULATOR_PATH) + "\"";
    for (const auto& a : broker_args(tt::test_pki::shared().client("thingwell-emulator"))) out += ",\"" + a + "\"";
    return out + "]";
  }

  // Runs the script to completion (bounded) with the SDK client certificate of `thing`.
  transcript run_script(const std::string& scenario, const std::string& thing,
                        const std::vector<std::string>& extra_args = {}) {
    const auto& identity = tt::test_pki::shared().client(thing);
    std::vector<std::string> argv = {g_node,       THINGWELL_INTEROP_JS_SCRIPT,
                                           "--scenario", scenario,
                                           "--thing",    thing,
                                           "--host",     "127.0.0.1",
                                           "--servername", "localhost",
                                           "--port",     std::to_string(port()),
                                           "--ca",       tt::test_pki::shared().root_ca_path(),
                                           "--cert",     identity.cert_path,
                                           "--key",      identity.key_path,
                                           "--admin",    admin_json(),
                                           "--deadline-ms", "40000"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    const auto started = std::chrono::steady_clock::now();
    auto result = tt::run_command(argv, 50s, {{"NODE_PATH", THINGWELL_INTEROP_NODE_MODULES}});
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    const std::string how = result.status.describe() + (result.timed_out ? " (timed out)" : "");
    MESSAGE("node " << scenario << " scenario: " << ms << " ms, " << how);
    return transcript(result.output);
  }

  std::string diagnostics() const {
    return "emulator log:\n" + read_file(files_.file("emulator.log")) + "\nbroker log:\n" + broker_->log_tail(30);
  }

 private:
  tt::temp_dir files_{"interop-js"};
  std::unique_ptr<tt::mosquitto_broker> broker_;
  std::unique_ptr<tt::child_process> emulator_;
};

// What every run must show: the SDK loaded, the scenario done, no operation timed out, no error.
// (Events may follow "done": the clients' close events.)
void check_clean_run(const transcript& t) {
  CHECK(t.any("sdk"));
  CHECK(t.any("done"));
  CHECK_FALSE(t.any("failed"));
  CHECK_FALSE(t.any("timeout"));
  CHECK_FALSE(t.any("error"));
}

// The operation started in `step` by `client` and the status the SDK emitted for it: same clientToken, the one
// the SDK returned from update()/get()/delete(), built as AWS's SDK builds it (<clientId>-<counter>).
const event& status_of(const transcript& t, std::string_view step, std::string_view client,
                       const std::string& client_id) {
  const auto& op = t.one(step, "operation", client);
  const auto& status = t.one(step, "status", client);
  INFO("step " << step << ": " << op.line << "\n  " << status.line);
  CHECK_FALSE(op.get("token").empty());
  CHECK(op.get("token").rfind(client_id + "-", 0) == 0);
  CHECK(status.get("token") == op.get("token"));
  return status;
}

}  // namespace

TEST_CASE("interop: AWS's JS thingShadow (two clients) against the emulator over mutual TLS") {
  const std::string thing = "interop-1";
  interop_setup setup({thing});
  const auto t = setup.run_script("sdk", thing);
  INFO("script output:\n" << t.output);
  INFO(setup.diagnostics());
  check_clean_run(t);
  const std::string a = thing + "-js-a";
  const std::string b = thing + "-js-b";

  // The shadow does not exist yet: /get/rejected 404, the SDK's status 'rejected' with its token.
  {
    const auto& s = status_of(t, "get-missing", "a", a);
    CHECK(s.get("status") == "rejected");
    CHECK(s.number("code") == 404);
    CHECK(s.get("message") == "No shadow exists with name: '" + thing + "'");
  }
  // The first update creates it at version 1; the other client sees a foreign update.
  {
    const auto& s = status_of(t, "report-initial", "a", a);
    CHECK(s.get("status") == "accepted");
    CHECK(s.number("version") == 1);
    CHECK(s.get("reported") == R"({"brightness":10,"color":"white","power":"off"})");
    const auto& f = t.one("report-initial", "foreignStateChange", "b");
    CHECK(f.get("operation") == "update");
    CHECK(f.number("version") == 1);
  }
  // The cloud's set-desired: accepted at version 2, and a delta with only the out-of-sync field to both clients.
  {
    const auto& admin = t.one("desired-power", "admin");
    CHECK(admin.number("exit") == 0);
    CHECK(admin.number("version") == 2);
    for (const char* client : {"a", "b"}) {
      const auto& d = t.one("desired-power", "delta", client);
      INFO(client << ": " << d.line);
      CHECK(d.number("version") == 2);
      CHECK(d.get("state") == R"({"power":"on"})");
    }
  }
  // The device applies it (the SDK sends the version it learned from the delta: optimistic locking works).
  {
    const auto& s = status_of(t, "report-power", "a", a);
    CHECK(s.get("status") == "accepted");
    CHECK(s.number("version") == 3);
    const auto& f = t.one("report-power", "foreignStateChange", "b");
    CHECK(f.get("operation") == "update");
    CHECK(f.number("version") == 3);
    CHECK(f.get("reported") == R"({"power":"on"})");
  }
  {
    const auto& admin = t.one("desired-color", "admin");
    CHECK(admin.number("version") == 4);
    const auto& d = t.one("desired-color", "delta", "a");
    CHECK(d.number("version") == 4);
    CHECK(d.get("state") == R"({"brightness":70,"color":"red"})");
    const auto& s = status_of(t, "report-color", "a", a);
    CHECK(s.get("status") == "accepted");
    CHECK(s.number("version") == 5);
  }
  // Both SDK clients and the admin CLI read the same document: version, desired, reported, no delta.
  {
    const std::string in_sync = R"({"brightness":70,"color":"red","power":"on"})";
    const auto& ga = status_of(t, "get-a", "a", a);
    const auto& gb = status_of(t, "get-b", "b", b);
    const auto& admin = t.one("get-admin", "admin");
    for (const event* e : {&ga, &gb, &admin}) {
      INFO(e->line);
      CHECK((e->is("admin") ? e->number("exit") == 0 : e->get("status") == "accepted"));
      CHECK(e->number("version") == 5);
      CHECK(e->get("reported") == in_sync);
      CHECK(e->get("desired") == in_sync);
      CHECK_FALSE(e->has("delta"));
    }
  }
  // Delete: accepted with the deleted version, a foreign delete on the other client, then 404 for a get.
  {
    const auto& s = status_of(t, "delete", "a", a);
    CHECK(s.get("status") == "accepted");
    CHECK(s.number("version") == 5);
    CHECK(t.one("delete", "foreignStateChange", "b").get("operation") == "delete");
    const auto& g = status_of(t, "get-deleted", "b", b);
    CHECK(g.get("status") == "rejected");
    CHECK(g.number("code") == 404);
  }
  // Re-created at once: the version goes on from the deleted shadow's (§1.7), and the SDK, which sends the
  // version it knows, is accepted.
  {
    const auto& s = status_of(t, "report-after-delete", "a", a);
    CHECK(s.get("status") == "accepted");
    CHECK(s.number("version") == 6);
    CHECK(t.one("report-after-delete", "foreignStateChange", "b").number("version") == 6);
  }
  // Versions of a's accepted statuses only ever increase.
  long long last = 0;
  for (const auto& e : t.events) {
    if (!e.is("status") || e.get("client") != "a" || e.get("status") != "accepted") continue;
    INFO(e.line);
    CHECK(e.number("version") >= last);
    last = e.number("version");
  }
}

#ifdef THINGWELL_SHADOW_LAMP_PATH
TEST_CASE("interop: thingwell's lamp and AWS's JS thingShadow see the same document") {
  const std::string thing = "lamp-1";
  interop_setup setup({thing});
  const auto& identity = tt::test_pki::shared().client(thing);
  tt::temp_dir files("interop-lamp");
  tt::process_options p;
  p.argv = {THINGWELL_SHADOW_LAMP_PATH,
            "--host",
            "127.0.0.1",
            "--port",
            std::to_string(setup.port()),
            "--thing",
            thing,
            "--ca",
            tt::test_pki::shared().root_ca_path(),
            "--cert",
            identity.cert_path,
            "--key",
            identity.key_path,
            "--seconds",
            "45"};
  p.log_path = files.file("lamp.log");
  tt::child_process lamp(p);

  // As the demo does: the light on, then a colour and a brightness.
  const auto t = setup.run_script("lamp", thing,
                                  {"--desired", R"({"power":"on"})", "--desired2", R"({"color":"red","brightness":40})"});
  INFO("script output:\n" << t.output);
  INFO("lamp output:\n" << read_file(p.log_path));
  INFO(setup.diagnostics());
  check_clean_run(t);
  CHECK(lamp.running());  // the lamp did not die on the way

  // The cloud's change reached the SDK client as a delta, and the lamp's report as a foreign update.
  CHECK_FALSE(t.all("desired-1", "delta", "js").empty());
  CHECK_FALSE(t.all("desired-1", "foreignStateChange", "js").empty());

  const auto& sdk_get = status_of(t, "get-js", "js", thing + "-js-js");
  const auto& admin_get = t.one("get-admin", "admin");
  CHECK(sdk_get.get("status") == "accepted");
  CHECK(admin_get.number("exit") == 0);
  CHECK_FALSE(t.all("desired-2", "delta", "js").empty());
  CHECK(sdk_get.get("reported") == R"({"brightness":40,"color":"red","power":"on"})");
  CHECK(sdk_get.get("reported") == admin_get.get("reported"));
  CHECK(sdk_get.get("desired") == admin_get.get("desired"));
  CHECK(sdk_get.number("version") == admin_get.number("version"));
  CHECK_FALSE(sdk_get.has("delta"));  // the lamp follows everything desired
}
#endif

int main(int argc, char** argv) {
  // --interop-case=NAME selects one case (ctest runs each as its own test); the rest goes to doctest.
  std::vector<char*> rest;
  std::string which;
  for (int i = 0; i < argc; ++i) {
    std::string_view a(argv[i]);
    if (a.rfind("--interop-case=", 0) == 0) {
      which = std::string(a.substr(15));
    } else {
      rest.push_back(argv[i]);
    }
  }

  const char* from_env = std::getenv("THINGWELL_NODE");
  g_node = from_env && *from_env ? from_env : THINGWELL_INTEROP_NODE;
  if (g_node.empty() || !file_exists(g_node)) g_node = tt::find_executable("node", {"/usr/bin", "/usr/local/bin"});
  if (g_node.empty()) g_node = tt::find_executable("nodejs", {"/usr/bin"});
  if (g_node.empty()) {
    std::puts("SKIP: node not found (Debian: apt-get install nodejs npm, or scripts/install-deps.sh)");
    return 77;
  }
  const std::string sdk = std::string(THINGWELL_INTEROP_NODE_MODULES) + "/aws-iot-device-sdk/package.json";
  if (!file_exists(sdk)) {
    std::printf("SKIP: %s is missing: the fixture test interop.js.npm_install installs it (needs npm)\n",
                sdk.c_str());
    return 77;
  }

  std::string filter;
  if (which == "shadow_sdk") {
    filter = "--test-case=*two clients*";
  } else if (which == "lamp") {
#ifdef THINGWELL_SHADOW_LAMP_PATH
    filter = "--test-case=*lamp*";
#else
    std::puts("SKIP: examples/shadow_lamp.cpp is not in this tree (or THINGWELL_BUILD_EXAMPLES is OFF)");
    return 77;
#endif
  } else if (!which.empty()) {
    std::printf("unknown --interop-case=%s (shadow_sdk, lamp)\n", which.c_str());
    return 2;
  }
  if (!filter.empty()) rest.push_back(filter.data());

  doctest::Context context(static_cast<int>(rest.size()), rest.data());
  return context.run();
}
