// Conformance of tools/emulator's Device Shadow service (shared/aws-iot-protocol.md §1) over a real mosquitto:
// the emulator runs as a child process, devices are thingwell's Asio client (and paho, as an independent peer),
// and the admin command line plays the cloud.
#include <doctest/doctest.h>


#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mosquitto.hpp"
#include "mqtt_peer.hpp"
#include "pki.hpp"
#include "process.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

#include <thingwell/codec/json_simdjson.hpp>
#include <thingwell/codec/json_writer.hpp>
#include <thingwell/net/asio_client.hpp>
#if THINGWELL_WITH_WOLFSSL
#include <thingwell/net/asio_tls.hpp>
#endif

#ifdef THINGWELL_EMULATOR_PATH

#include "emulator_fixture.hpp"

using namespace std::chrono_literals;
using namespace thingwell;
namespace tt = thingwell::testing;
namespace emu = thingwell::testing::emulator;

namespace {

using emu::json_at;

struct tls_files {
  std::string ca, cert, key;
};

// The emulator program with its own data directory, which outlives restarts of the process.
class emulator_process : public emu::process {
 public:
  emulator_process(std::uint16_t port, std::optional<tls_files> tls = std::nullopt)
      : process({.broker = with_tls(port, tls), .directory = "emulator"}) {}

 private:
  static std::vector<std::string> with_tls(std::uint16_t port, const std::optional<tls_files>& tls) {
    std::vector<std::string> args = emu::broker_args(port);
    if (tls) args.insert(args.end(), {"--tls-ca", tls->ca, "--tls-cert", tls->cert, "--tls-key", tls->key});
    return args;
  }
};

// A device: thingwell's Asio client on its own thread, recording every shadow message of its thing.
template <class Stream>
class device : public emu::asio_device<Stream> {
 public:
  // Responses only (the accepted/rejected/delta/documents level): the device's own requests are not echoed.
  template <class... StreamArgs>
  device(std::uint16_t port, const std::string& thing, StreamArgs&&... stream_args)
      : emu::asio_device<Stream>(options(port, thing),
                                 {"$aws/things/" + thing + "/shadow/+/+", "$aws/things/" + thing + "/shadow/name/+/+/+"},
                                 {.max_qos = mqtt::qos::at_least_once}, std::forward<StreamArgs>(stream_args)...) {}

 private:
  static net::client_options options(std::uint16_t port, const std::string& thing) {
    net::client_options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.client_id = thing + "-device";
    return o;
  }
};

using plain_device = device<net::asio_tcp>;

// A broker, the emulator on it and a device for thing "dev".
struct shadow_world {
  tt::mosquitto_broker broker{emu::broker_options()};
  std::unique_ptr<emulator_process> emulator;
  std::unique_ptr<plain_device> dev;
  const std::string prefix = "$aws/things/dev/shadow";

  shadow_world() {
    broker.start();
    emulator = std::make_unique<emulator_process>(broker.plain_port());
    dev = std::make_unique<plain_device>(broker.plain_port(), "dev");
  }
  std::string diagnostics() const { return emu::diagnostics(*emulator, broker); }
};

}  // namespace

TEST_CASE("emulator: get on a missing shadow is 404 with the clientToken echoed") {
  shadow_world w;
  INFO(w.diagnostics());
  const auto [kind, doc] = w.dev->request(w.prefix + "/get", R"({"clientToken":"tok-get"})");
  CHECK(kind == "rejected");
  CHECK(json_at(doc, {"code"}) == "404");
  CHECK(json_at(doc, {"message"}) == R"("No shadow exists with name: 'dev'")");
  CHECK(json_at(doc, {"clientToken"}) == R"("tok-get")");
}

TEST_CASE("emulator: update publishes accepted, delta and documents, each with the clientToken") {
  shadow_world w;
  INFO(w.diagnostics());
  const auto [kind, accepted] =
      w.dev->request(w.prefix + "/update", R"({"state":{"desired":{"color":"red"},"reported":{"color":"green"}},"clientToken":"u1"})");
  REQUIRE(kind == "accepted");
  CHECK(json_at(accepted, {"state"}) == R"({"desired":{"color":"red"},"reported":{"color":"green"}})");
  CHECK(json_at(accepted, {"version"}) == "1");
  CHECK(json_at(accepted, {"clientToken"}) == R"("u1")");
  CHECK(json_at(accepted, {"metadata", "desired", "color", "timestamp"}) == json_at(accepted, {"timestamp"}));

  const auto delta = w.dev->take(w.prefix + "/update/delta");
  REQUIRE(delta);
  CHECK(json_at(*delta, {"state"}) == R"({"color":"red"})");
  CHECK(json_at(*delta, {"version"}) == "1");
  CHECK(json_at(*delta, {"clientToken"}) == R"("u1")");
  CHECK(!json_at(*delta, {"metadata", "color", "timestamp"}).empty());

  const auto documents = w.dev->take(w.prefix + "/update/documents");
  REQUIRE(documents);
  CHECK(json_at(*documents, {"previous"}) == "null");
  CHECK(json_at(*documents, {"current", "state"}) == R"({"desired":{"color":"red"},"reported":{"color":"green"}})");
  CHECK(json_at(*documents, {"current", "version"}) == "1");
  CHECK(json_at(*documents, {"clientToken"}) == R"("u1")");

  // Reported catches up: accepted and documents, but no delta.
  CHECK(w.dev->request(w.prefix + "/update", R"({"state":{"reported":{"color":"red"}}})").first == "accepted");
  const auto documents2 = w.dev->take(w.prefix + "/update/documents");
  REQUIRE(documents2);
  CHECK(json_at(*documents2, {"previous", "version"}) == "1");
  CHECK(json_at(*documents2, {"current", "version"}) == "2");
  CHECK(w.dev->quiet_on(w.prefix + "/update/delta"));

  const auto [get_kind, got] = w.dev->request(w.prefix + "/get", "");
  CHECK(get_kind == "accepted");
  CHECK(json_at(got, {"state"}) == R"({"desired":{"color":"red"},"reported":{"color":"red"}})");
  CHECK(json_at(got, {"version"}) == "2");
}

TEST_CASE("emulator: errors 400, 409 and 413 with AWS's messages") {
  shadow_world w;
  INFO(w.diagnostics());
  const std::string update = w.prefix + "/update";

  auto bad_json = w.dev->request(update, R"({"state":{"desired":)");
  CHECK(bad_json.first == "rejected");
  CHECK(json_at(bad_json.second, {"code"}) == "400");
  CHECK(json_at(bad_json.second, {"message"}) == R"("Invalid JSON")");

  auto no_state = w.dev->request(update, R"({"clientToken":"ns"})");
  CHECK(json_at(no_state.second, {"message"}) == R"("Missing required node: state")");
  CHECK(json_at(no_state.second, {"clientToken"}) == R"("ns")");

  auto too_deep = w.dev->request(update, R"({"state":{"reported":{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}}})");
  CHECK(json_at(too_deep.second, {"code"}) == "400");
  CHECK(json_at(too_deep.second, {"message"}) == R"("JSON contains too many levels of nesting; maximum is 6")");

  auto too_big = w.dev->request(update, R"({"state":{"reported":{"blob":")" + std::string(9000, 'x') + R"("}},"clientToken":"big"})");
  CHECK(too_big.first == "rejected");
  CHECK(json_at(too_big.second, {"code"}) == "413");
  CHECK(json_at(too_big.second, {"message"}) == R"("The payload exceeds the maximum size allowed")");
  CHECK(json_at(too_big.second, {"clientToken"}) == R"("big")");

  CHECK(w.dev->request(update, R"({"state":{"reported":{"a":1}}})").first == "accepted");
  auto conflict = w.dev->request(update, R"({"state":{"reported":{"a":2}},"version":7,"clientToken":"v"})");
  CHECK(conflict.first == "rejected");
  CHECK(json_at(conflict.second, {"code"}) == "409");
  CHECK(json_at(conflict.second, {"message"}) == R"("Version conflict")");
  auto matching = w.dev->request(update, R"({"state":{"reported":{"a":2}},"version":1})");
  CHECK(matching.first == "accepted");
  CHECK(json_at(matching.second, {"version"}) == "2");
}

TEST_CASE("emulator: null deletes fields and nested deltas keep the path to the root") {
  shadow_world w;
  INFO(w.diagnostics());
  const std::string update = w.prefix + "/update";
  REQUIRE(w.dev->request(update, R"({"state":{"desired":{"cfg":{"rate":5,"mode":"eco","list":[1,2]},"led":"on"},
                                              "reported":{"cfg":{"rate":5,"mode":"max","list":[1]},"led":"on"}}})")
              .first == "accepted");
  const auto delta = w.dev->take(w.prefix + "/update/delta");
  REQUIRE(delta);
  CHECK(json_at(*delta, {"state"}) == R"({"cfg":{"mode":"eco","list":[1,2]}})");
  CHECK(json_at(*delta, {"metadata", "cfg", "list"}).starts_with(R"([{"timestamp":)"));

  REQUIRE(w.dev->request(update, R"({"state":{"desired":{"cfg":{"mode":null,"list":null},"led":null}}})").first == "accepted");
  const auto [kind, got] = w.dev->request(w.prefix + "/get", "");
  CHECK(kind == "accepted");
  CHECK(json_at(got, {"state", "desired"}) == R"({"cfg":{"rate":5}})");
  CHECK(json_at(got, {"state", "delta"}).empty());
  CHECK(json_at(got, {"metadata", "desired", "cfg", "mode"}).empty());
}

TEST_CASE("emulator: named shadows are isolated from the classic shadow") {
  shadow_world w;
  INFO(w.diagnostics());
  const std::string named = w.prefix + "/name/config";
  auto created = w.dev->request(named + "/update", R"({"state":{"desired":{"interval":30}}})");
  CHECK(created.first == "accepted");
  CHECK(w.dev->take(named + "/update/delta"));
  CHECK(w.dev->quiet_on(w.prefix + "/update/delta", 200ms));

  CHECK(json_at(w.dev->request(w.prefix + "/get", "").second, {"code"}) == "404");
  auto other = w.dev->request(w.prefix + "/name/other/get", "");
  CHECK(json_at(other.second, {"message"}) == R"("No shadow exists with name: 'other'")");
  auto got = w.dev->request(named + "/get", "");
  CHECK(got.first == "accepted");
  CHECK(json_at(got.second, {"state", "desired"}) == R"({"interval":30})");
}

TEST_CASE("emulator: delete, then get is 404 and a re-created shadow continues the version") {
  shadow_world w;
  INFO(w.diagnostics());
  REQUIRE(w.dev->request(w.prefix + "/update", R"({"state":{"reported":{"a":1}}})").first == "accepted");
  REQUIRE(w.dev->request(w.prefix + "/update", R"({"state":{"reported":{"a":2}}})").first == "accepted");
  auto deleted = w.dev->request(w.prefix + "/delete", R"({"clientToken":"del"})");
  CHECK(deleted.first == "accepted");
  CHECK(json_at(deleted.second, {"version"}) == "2");
  CHECK(json_at(deleted.second, {"clientToken"}) == R"("del")");

  CHECK(json_at(w.dev->request(w.prefix + "/get", "").second, {"code"}) == "404");
  CHECK(json_at(w.dev->request(w.prefix + "/delete", "").second, {"code"}) == "404");

  auto again = w.dev->request(w.prefix + "/update", R"({"state":{"reported":{"b":1}}})");
  CHECK(json_at(again.second, {"version"}) == "3");
  CHECK(json_at(w.dev->request(w.prefix + "/get", "").second, {"state"}) == R"({"reported":{"b":1}})");
}

TEST_CASE("emulator: shadows survive a restart of the emulator, and it exits cleanly on SIGTERM") {
  shadow_world w;
  INFO(w.diagnostics());
  REQUIRE(w.dev->request(w.prefix + "/update", R"({"state":{"desired":{"keep":"me"}}})").first == "accepted");
  REQUIRE(w.dev->request(w.prefix + "/name/n/update", R"({"state":{"reported":{"x":1}}})").first == "accepted");
  REQUIRE(w.dev->request(w.prefix + "/name/n/delete", "").first == "accepted");

  const auto status = w.emulator->stop();
  CHECK(status.success());
  CHECK(w.emulator->log().find("stopping on SIGTERM") != std::string::npos);
  w.emulator->start();

  auto got = w.dev->request(w.prefix + "/get", "");
  CHECK(got.first == "accepted");
  CHECK(json_at(got.second, {"state", "desired"}) == R"({"keep":"me"})");
  CHECK(json_at(got.second, {"version"}) == "1");
  // The deleted named shadow stays deleted, and its version is remembered.
  CHECK(json_at(w.dev->request(w.prefix + "/name/n/get", "").second, {"code"}) == "404");
  CHECK(json_at(w.dev->request(w.prefix + "/name/n/update", R"({"state":{}})").second, {"version"}) == "2");
}

TEST_CASE("emulator: the admin command line plays the cloud; set-desired reaches the device as a delta") {
  shadow_world w;
  INFO(w.diagnostics());
  auto missing = w.emulator->admin({"shadow", "get", "dev"});
  CHECK(missing.status.exited);
  CHECK(missing.status.code == 1);
  CHECK(missing.output.find("No shadow exists with name: 'dev'") != std::string::npos);

  auto set = w.emulator->admin({"shadow", "set-desired", "dev", R"({"color":"red"})"});
  INFO(set.output);
  CHECK(set.success());
  CHECK(json_at(set.output.substr(set.output.find('{')), {"state", "desired"}) == R"({"color":"red"})");

  const auto delta = w.dev->take(w.prefix + "/update/delta");
  REQUIRE(delta);
  CHECK(json_at(*delta, {"state"}) == R"({"color":"red"})");
  CHECK(json_at(*delta, {"version"}) == "1");
  CHECK(w.dev->take(w.prefix + "/update/documents"));
  // Like AWS's HTTPS API: the answer went to the admin, not to the device's accepted topic.
  CHECK(w.dev->quiet_on(w.prefix + "/update/accepted", 200ms));

  auto get = w.emulator->admin({"shadow", "get", "dev"});
  CHECK(get.success());
  CHECK(json_at(get.output.substr(get.output.find('{')), {"state", "delta"}) == R"({"color":"red"})");

  auto named = w.emulator->admin({"shadow", "set-desired", "dev", R"({"rate":1})", "--name", "cfg"});
  CHECK(named.success());
  CHECK(w.dev->take(w.prefix + "/name/cfg/update/delta"));

  auto removed = w.emulator->admin({"shadow", "delete", "dev"});
  CHECK(removed.success());
  CHECK(json_at(w.dev->request(w.prefix + "/get", "").second, {"code"}) == "404");

  auto bad = w.emulator->admin({"shadow", "set-desired", "dev", "{oops"});
  CHECK(bad.status.code == 2);
}

TEST_CASE("emulator: paho, as an independent client, sees the same answers") {
  shadow_world w;
  INFO(w.diagnostics());
  tt::mqtt_peer_options peer;
  peer.port = w.broker.plain_port();
  peer.version = tt::mqtt_version::v5;
  tt::mqtt_subscriber watcher(peer, {"$aws/things/paho/shadow/update/+"}, 1);
  const auto sent = tt::publish_with_peer(
      peer, {.topic = "$aws/things/paho/shadow/update", .payload = R"({"state":{"desired":{"on":true}},"clientToken":"p"})"});
  INFO(sent.output);
  REQUIRE(sent.success());
  REQUIRE(watcher.wait_for_messages(3, 5s));
  std::vector<std::string> topics;
  for (const auto& m : watcher.messages()) {
    topics.push_back(m.topic);
    CHECK(json_at(m.payload_text(), {"clientToken"}) == R"("p")");
  }
  CHECK(std::find(topics.begin(), topics.end(), "$aws/things/paho/shadow/update/accepted") != topics.end());
  CHECK(std::find(topics.begin(), topics.end(), "$aws/things/paho/shadow/update/delta") != topics.end());
  CHECK(std::find(topics.begin(), topics.end(), "$aws/things/paho/shadow/update/documents") != topics.end());
}

#if THINGWELL_WITH_WOLFSSL
TEST_CASE("emulator: serves devices through a mutual-TLS listener") {
  auto& pki = tt::test_pki::shared();
  tt::mosquitto_options o;
  o.plain_listener = false;
  o.mutual_tls_listener = true;
  o.ca_file = pki.root_ca_path();
  o.cert_file = pki.server().cert_path;
  o.key_file = pki.server().key_path;
  tt::mosquitto_broker broker(o);
  broker.start();
  const auto& service_identity = pki.client("thingwell-emulator");
  emulator_process emulator(broker.mutual_tls_port(),
                            tls_files{pki.root_ca_path(), service_identity.cert_path, service_identity.key_path});
  INFO(emu::diagnostics(emulator, broker));

  const auto& device_identity = pki.client("tls-dev");
  net::tls_config tls;
  tls.server_name = "localhost";
  tls.trust_anchors.push_back(net::pem_file{pki.root_ca_path()});
  tls.client_certificate.push_back(net::pem_file{device_identity.cert_path});
  tls.client_key = net::pem_file{device_identity.key_path};
  auto context = net::wolfssl_context::create(tls);
  REQUIRE(context);
  device<net::asio_tls> dev(broker.mutual_tls_port(), "tls-dev", std::cref(*context));

  const std::string prefix = "$aws/things/tls-dev/shadow";
  auto [kind, accepted] = dev.request(prefix + "/update", R"({"state":{"desired":{"fw":"1.2"}},"clientToken":"t"})");
  CHECK(kind == "accepted");
  CHECK(json_at(accepted, {"clientToken"}) == R"("t")");
  const auto delta = dev.take(prefix + "/update/delta");
  REQUIRE(delta);
  CHECK(json_at(*delta, {"state"}) == R"({"fw":"1.2"})");

  // The admin command line over mutual TLS as well.
  auto set = emulator.admin({"shadow", "set-desired", "tls-dev", R"({"fw":"1.3"})"});
  INFO(set.output);
  CHECK(set.success());
  const auto delta2 = dev.take(prefix + "/update/delta");
  REQUIRE(delta2);
  CHECK(json_at(*delta2, {"state"}) == R"({"fw":"1.3"})");
}
#endif

#else

TEST_CASE("emulator: conformance tests skipped" * doctest::skip()) {}

#endif  // THINGWELL_EMULATOR_PATH
