// thingwell's Device Shadow client (aws::shadow_service) against the local AWS IoT emulator over a real
// mosquitto: the device runs on the poll driver (net::poll_client<net::tcp> + aws::session_client) on the
// test's thread, and the emulator's admin command line plays the cloud (the console, the HTTPS API).
// Each case has its own broker and emulator, on loopback, and waits a few seconds at most.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mosquitto.hpp"
#include "process.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

#include <thingwell/aws/session_client.hpp>
#include <thingwell/aws/shadow.hpp>
#include <thingwell/codec/json_compact.hpp>
#include <thingwell/codec/json_writer.hpp>
#include <thingwell/core/clock.hpp>
#include <thingwell/net/poll_client.hpp>
#include <thingwell/net/posix_tcp.hpp>

#ifdef THINGWELL_EMULATOR_PATH

#include "emulator_fixture.hpp"

using namespace std::chrono_literals;
using namespace thingwell;
namespace tt = thingwell::testing;
namespace emu = thingwell::testing::emulator;

namespace {

// Any JSON value, written compactly: handlers see values that live during the call only.
template <json::value V>
std::string text_of(const V& v) {
  static char buffer[32 * 1024];
  json::writer w(buffer);
  w.copy(v);
  auto t = w.finish();
  return t ? std::string(*t) : std::string("<too large>");
}

// The value at `path` in a JSON document, compactly ("" when absent, "<not JSON>" when it does not parse).
std::string json_at(const std::string& doc, std::initializer_list<std::string_view> path) {
  static json::compact_reader<4096> reader;
  auto root = reader.parse(doc, {.max_bytes = 1 << 20, .max_depth = 32});
  if (!root) return "<not JSON>";
  auto v = json::find_path(*root, path);
  return v ? text_of(*v) : std::string();
}

// The admin command prints the answer document; the first '{' starts it.
std::string document_in(const std::string& output) {
  const auto at = output.find('{');
  return at == std::string::npos ? std::string() : output.substr(at);
}

// Broker and emulator for one test. The emulator is ready once it logs that it serves (after its SUBACKs).
class cloud {
 public:
  cloud() {
    broker_.start();
    emulator_ = std::make_unique<emu::process>(
        emu::options{.broker = emu::broker_args(port()), .directory = "shadow-client", .numbered_client_ids = false});
  }

  std::uint16_t port() const { return broker_.plain_port(); }
  std::string log() const { return emulator_->log(); }
  std::string diagnostics() const { return emu::diagnostics(*emulator_, broker_); }

  // `thingwell-emulator shadow VERB THING [DOCUMENT] [--name SHADOW]`: exit code and the answer document.
  std::pair<int, std::string> shadow(const std::string& verb, const std::string& thing, const std::string& document = "",
                                     const std::string& name = "") const {
    std::vector<std::string> argv{THINGWELL_EMULATOR_PATH, "shadow", verb, thing};
    if (!document.empty()) argv.push_back(document);
    if (!name.empty()) argv.insert(argv.end(), {"--name", name});
    argv.insert(argv.end(), emulator_->broker_args().begin(), emulator_->broker_args().end());
    argv.insert(argv.end(), {"--client-id", "admin-" + std::to_string(++admin_runs_), "--timeout", "5"});
    const auto r = tt::run_command(argv, 10s);
    INFO(r.output);
    CHECK(!r.timed_out);
    return {r.status.exited ? r.status.code : -1, document_in(r.output)};
  }

 private:
  tt::mosquitto_broker broker_{emu::broker_options()};
  std::unique_ptr<emu::process> emulator_;
  mutable int admin_runs_ = 0;
};

using shadow_service = aws::shadow_service<json::compact_reader<1024>, 2, 16 * 1024>;

// What one shadow's handlers saw, and the device's own state for it (key -> JSON value).
struct shadow_log {
  std::optional<aws::shadow_id> id;
  std::vector<std::string> deltas;    // "<delta> v<version>"
  std::vector<std::string> errors;    // "<operation> <code> <message of the error code>"
  std::vector<std::uint64_t> accepted;
  std::vector<std::uint64_t> deleted;
  std::map<std::string, std::string> state;
  bool has_state = true;  // current_state reports `state` after every get answer
  bool acknowledge = true;  // the delta handler applies the delta and reports it
};

// A device on the poll driver with up to two shadows of one thing.
class device {
 public:
  device(std::uint16_t port, const std::string& thing, aws::shadow_config shadow_config = {})
      : client_id_(thing + "-device"),
        client_{net::tcp{"127.0.0.1", port}, session_config(client_id_), link_, mqtt::session_limits{}},
        shadows_{link_, with_thing(shadow_config, thing)} {
    link_.bind(client_.session());
    REQUIRE(!shadows_.error());
  }
  ~device() {
    if (started_) client_.stop(clock_.now());
  }

  aws::shadow_id add(const std::string& name, shadow_log& log, bool hear_deletes = false) {
    shadow_service::handlers h;
    h.on_delta = [this, &log](const json::compact_value& delta, std::uint64_t v) {
      log.deltas.push_back(text_of(delta) + " v" + std::to_string(v));
      if (!log.acknowledge) return;
      for (const auto& m : delta.members()) {
        char key[128];
        if (auto k = m.key(key)) log.state[std::string(*k)] = text_of(m.value());
      }
      CHECK(!shadows_.report(*log.id, text_of(delta)));
    };
    h.on_reported = [&log](std::uint64_t v) { log.accepted.push_back(v); };
    h.on_error = [&log](const aws::shadow_error& e) {
      log.errors.push_back(std::string(aws::to_string(e.operation)) + " " + std::to_string(e.code) + " " +
                           e.error.message());
    };
    if (hear_deletes) h.on_deleted = [&log](std::uint64_t v) { log.deleted.push_back(v); };
    h.current_state = [&log](json::writer& w) {
      w.begin_object();
      if (log.has_state) {
        for (const auto& [key, value] : log.state) {
          json::compact_reader<64> r;
          auto v = r.parse(value);
          if (!v) continue;
          w.key(key);
          w.copy(*v);
        }
      }
      w.end_object();
    };
    auto id = shadows_.add(name, std::move(h));
    REQUIRE(id);
    log.id = *id;
    return *id;
  }

  void start() {
    REQUIRE(!client_.start(clock_.now()));
    started_ = true;
  }
  void stop() {
    client_.stop(clock_.now());
    started_ = false;
  }

  // Runs the loop (I/O, then the services' timers) until `done` holds or `timeout` passes.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
    const time_point end = clock_.now() + duration{timeout.count()};
    for (;;) {
      const time_point next = std::min(client_.poll(clock_.now()), link_.next_deadline());
      link_.poll(clock_.now());
      if (done()) return true;
      const time_point now = clock_.now();
      if (now >= end) return false;
      client_.wait(now, std::min({next, link_.next_deadline(), now + duration{20}, end}));
    }
  }
  // Runs the loop for `window`, for "nothing more happens" checks.
  void run_for(std::chrono::milliseconds window) { (void)run_until([] { return false; }, window); }

  bool connected_and_synced(aws::shadow_id id) { return run_until([&] { return shadows_.synced(id); }); }

  shadow_service& shadows() { return shadows_; }
  bool ready() const { return link_.is_ready(); }

 private:
  static mqtt::session_config session_config(const std::string& client_id) {
    mqtt::session_config c;
    c.client_id = client_id;
    c.keep_alive = 30;
    return c;
  }
  static aws::shadow_config with_thing(aws::shadow_config c, const std::string& thing) {
    c.thing_name = thing;
    c.token_prefix = thing;
    c.request_timeout = duration{3000};
    return c;
  }

  std::string client_id_;
  system_clock clock_;
  aws::session_client link_;
  net::poll_client<net::tcp> client_;
  shadow_service shadows_;
  bool started_ = false;
};

}  // namespace

TEST_CASE("shadow client + emulator: desired set while offline reaches the device on connect, reported matches (SH-01)") {
  cloud c;
  INFO(c.diagnostics());
  // The console sets desired before the device has ever connected.
  REQUIRE(c.shadow("set-desired", "lamp", R"({"led":"on"})").first == 0);

  device d(c.port(), "lamp");
  shadow_log lamp;
  lamp.state = {{"led", R"("off")"}, {"fw", R"("1.0")"}};
  const auto id = d.add("", lamp);
  d.start();
  REQUIRE(d.run_until([&] { return !lamp.accepted.empty(); }));
  CHECK(lamp.deltas == std::vector<std::string>{R"({"led":"on"} v1)"});
  CHECK(lamp.errors.empty());

  auto [code, doc] = c.shadow("get", "lamp");
  REQUIRE(code == 0);
  CHECK(json_at(doc, {"state", "reported", "led"}) == R"("on")");
  CHECK(json_at(doc, {"state", "reported", "fw"}) == R"("1.0")");
  CHECK(json_at(doc, {"state", "desired"}) == R"({"led":"on"})");
  CHECK(json_at(doc, {"state", "delta"}).empty());
  CHECK(d.shadows().version(id) == 2);

  // Disconnected: the next desired change waits in the cloud and arrives with the next connection's get.
  d.stop();
  CHECK(d.run_until([&] { return !d.ready(); }, 2s));
  REQUIRE(c.shadow("set-desired", "lamp", R"({"led":"dim"})").first == 0);
  d.start();
  REQUIRE(d.run_until([&] { return lamp.accepted.size() == 2; }));
  CHECK(lamp.deltas.back() == R"({"led":"dim"} v3)");
  auto after = c.shadow("get", "lamp");
  CHECK(json_at(after.second, {"state", "reported", "led"}) == R"("dim")");
  CHECK(json_at(after.second, {"state", "delta"}).empty());
  CHECK(lamp.errors.empty());
}

TEST_CASE("shadow client + emulator: a delta while connected carries only the changed key (SH-03)") {
  cloud c;
  INFO(c.diagnostics());
  device d(c.port(), "lamp");
  shadow_log lamp;
  lamp.state = {{"led", R"("on")"}, {"mode", R"("eco")"}};
  const auto id = d.add("", lamp);
  d.start();
  // No shadow yet: the get is 404, the device's state creates it.
  REQUIRE(d.run_until([&] { return !lamp.accepted.empty(); }));
  CHECK(lamp.errors.empty());
  CHECK(json_at(std::string(d.shadows().reported(id)), {"mode"}) == R"("eco")");

  REQUIRE(c.shadow("set-desired", "lamp", R"({"led":"on","mode":"turbo"})").first == 0);
  REQUIRE(d.run_until([&] { return lamp.accepted.size() == 2; }));
  CHECK(lamp.deltas == std::vector<std::string>{R"({"mode":"turbo"} v2)"});
  auto [code, doc] = c.shadow("get", "lamp");
  CHECK(code == 0);
  CHECK(json_at(doc, {"state", "reported", "led"}) == R"("on")");
  CHECK(json_at(doc, {"state", "reported", "mode"}) == R"("turbo")");
  CHECK(json_at(doc, {"state", "delta"}).empty());
  CHECK(lamp.errors.empty());
}

TEST_CASE("shadow client + emulator: a version conflict gets, merges and retries (SH-06)") {
  cloud c;
  INFO(c.diagnostics());
  REQUIRE(c.shadow("update", "lamp", R"({"state":{"reported":{"temp":20}}})").first == 0);  // version 1
  aws::shadow_config sc;
  sc.send_version = true;
  device d(c.port(), "lamp", sc);
  shadow_log lamp;
  lamp.has_state = false;
  const auto id = d.add("", lamp);
  d.start();
  REQUIRE(d.connected_and_synced(id));
  CHECK(d.shadows().version(id) == 1);

  // Another client moves the version; the device does not hear of it (no delta, no accepted for it).
  REQUIRE(c.shadow("update", "lamp", R"({"state":{"reported":{"door":"open"}}})").first == 0);  // version 2
  CHECK(!d.shadows().report(id, R"({"temp":21})"));
  REQUIRE(d.run_until([&] { return !lamp.accepted.empty(); }));
  CHECK(d.shadows().metrics().conflicts == 1);
  CHECK(d.shadows().metrics().updates_sent == 2);  // the conflicting one and the retry
  CHECK(lamp.accepted == std::vector<std::uint64_t>{3});
  CHECK(lamp.errors.empty());
  auto [code, doc] = c.shadow("get", "lamp");
  CHECK(code == 0);
  CHECK(json_at(doc, {"state", "reported", "temp"}) == "21");
  CHECK(json_at(doc, {"state", "reported", "door"}) == R"("open")");
  CHECK(json_at(doc, {"version"}) == "3");
  CHECK(c.log().find("rejected 409") != std::string::npos);
}

TEST_CASE("shadow client + emulator: too large is refused locally, and the service's 413 is surfaced once") {
  cloud c;
  INFO(c.diagnostics());
  device d(c.port(), "lamp");
  shadow_log lamp;
  lamp.has_state = false;
  lamp.acknowledge = false;
  const auto id = d.add("", lamp);
  d.start();
  REQUIRE(d.connected_and_synced(id));

  // Over 8 KB on its own: never sent.
  const std::string huge = R"({"log":")" + std::string(9000, 'x') + "\"}";
  CHECK(d.shadows().report(id, huge) == make_error_code(errc::shadow_document_too_large));
  CHECK(d.shadows().pending(id).empty());

  // Fits on its own, but desired grew in the cloud meanwhile (5 KB): only the service can tell.
  REQUIRE(c.shadow("set-desired", "lamp", R"({"blob":")" + std::string(5000, 'b') + "\"}").first == 0);
  REQUIRE(d.run_until([&] { return !lamp.deltas.empty(); }));
  CHECK(!d.shadows().report(id, R"({"log":")" + std::string(4000, 'y') + "\"}"));
  REQUIRE(d.run_until([&] { return !lamp.errors.empty(); }));
  CHECK(lamp.errors.front().starts_with("update 413 "));
  const auto sent = d.shadows().metrics().updates_sent;
  d.run_for(500ms);
  CHECK(d.shadows().metrics().updates_sent == sent);  // not retried
  CHECK(lamp.errors.size() == 1);
  CHECK(d.shadows().pending(id).empty());
  CHECK(c.log().find("rejected 413") != std::string::npos);
}

TEST_CASE("shadow client + emulator: delete, then get is an empty shadow; re-created it continues the version (SH-09)") {
  cloud c;
  INFO(c.diagnostics());
  device d(c.port(), "lamp");
  shadow_log lamp;
  lamp.has_state = false;
  const auto id = d.add("", lamp, true);
  d.start();
  REQUIRE(d.connected_and_synced(id));
  CHECK(!d.shadows().report(id, R"({"led":"on"})"));
  REQUIRE(d.run_until([&] { return !lamp.accepted.empty(); }));
  CHECK(lamp.accepted.back() == 1);

  CHECK(!d.shadows().remove(id));
  REQUIRE(d.run_until([&] { return !lamp.deleted.empty(); }));
  CHECK(lamp.deleted == std::vector<std::uint64_t>{1});
  CHECK(d.shadows().reported(id) == "{}");
  CHECK(c.shadow("get", "lamp").first == 1);  // 404 in the cloud too

  // The device asks: 404, which is the empty shadow, not an error; nothing is sent back.
  const auto gets = d.shadows().metrics().gets_sent;
  CHECK(!d.shadows().get(id));
  d.run_for(500ms);
  CHECK(d.shadows().metrics().gets_sent == gets + 1);
  CHECK(d.shadows().synced(id));
  CHECK(lamp.errors.empty());
  CHECK(d.shadows().reported(id) == "{}");
  CHECK(d.shadows().metrics().updates_sent == 1);

  // Reporting again creates it; AWS continues from the deleted version within 48 h.
  CHECK(!d.shadows().report(id, R"({"led":"on"})"));
  REQUIRE(d.run_until([&] { return lamp.accepted.size() == 2; }));
  CHECK(lamp.accepted.back() == 2);
  auto [code, doc] = c.shadow("get", "lamp");
  CHECK(code == 0);
  CHECK(json_at(doc, {"state", "reported"}) == R"({"led":"on"})");
  CHECK(lamp.errors.empty());
}

TEST_CASE("shadow client + emulator: the classic and a named shadow of one thing stay separate (SH-02)") {
  cloud c;
  INFO(c.diagnostics());
  device d(c.port(), "lamp");
  shadow_log classic, cfg;
  classic.state = {{"led", R"("off")"}};
  cfg.state = {{"rate", "1"}};
  const auto ci = d.add("", classic);
  const auto ni = d.add("cfg", cfg);
  d.start();
  REQUIRE(d.run_until([&] { return !classic.accepted.empty() && !cfg.accepted.empty(); }));

  REQUIRE(c.shadow("set-desired", "lamp", R"({"rate":5})", "cfg").first == 0);
  REQUIRE(d.run_until([&] { return cfg.accepted.size() == 2; }));
  REQUIRE(c.shadow("set-desired", "lamp", R"({"led":"on"})").first == 0);
  REQUIRE(d.run_until([&] { return classic.accepted.size() == 2; }));
  CHECK(cfg.deltas == std::vector<std::string>{R"({"rate":5} v2)"});
  CHECK(classic.deltas == std::vector<std::string>{R"({"led":"on"} v2)"});

  auto named_doc = c.shadow("get", "lamp", "", "cfg").second;
  auto classic_doc = c.shadow("get", "lamp").second;
  CHECK(json_at(named_doc, {"state", "reported"}) == R"({"rate":5})");
  CHECK(json_at(classic_doc, {"state", "reported"}) == R"({"led":"on"})");
  CHECK(json_at(named_doc, {"state", "desired", "led"}).empty());
  CHECK(json_at(classic_doc, {"state", "desired", "rate"}).empty());
  CHECK(d.shadows().version(ci) == 3);  // created, desired set, reported
  CHECK(d.shadows().version(ni) == 3);
  CHECK(classic.errors.empty());
  CHECK(cfg.errors.empty());
}

#else

TEST_CASE("shadow client + emulator: skipped (no emulator built)" * doctest::skip()) {}

#endif
