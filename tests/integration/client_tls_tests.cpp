// The MQTT client over mutual TLS against mosquitto, and every way the TLS setup can be refused.
#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "client_harness.hpp"
#include "mosquitto.hpp"
#include "pki.hpp"
#include "wait_until.hpp"

#include <thingwell/net/asio_tls.hpp>
#include <thingwell/net/tls.hpp>

using namespace std::chrono_literals;
using namespace thingwell;
namespace tt = thingwell::testing;

namespace {

using tls_client = net::poll_client<net::tls<net::raw_tcp>>;

// A broker whose mutual-TLS listener presents `server` and trusts the test root CA.
struct tls_broker : tt::mosquitto_broker {
  static tt::mosquitto_options options(const tt::certified_key& server) {
    auto& pki = tt::test_pki::shared();
    tt::mosquitto_options o;
    o.plain_listener = false;
    o.mutual_tls_listener = true;
    o.ca_file = pki.root_ca_path();
    o.cert_file = server.cert_path;
    o.key_file = server.key_path;
    return o;
  }
  explicit tls_broker(const tt::certified_key& server) : tt::mosquitto_broker(options(server)) { start(); }
};

net::tls_config device_tls(const tt::certified_key* identity, std::string server_name = "localhost") {
  auto& pki = tt::test_pki::shared();
  net::tls_config t;
  t.server_name = std::move(server_name);
  t.trust_anchors.push_back(net::pem_file{pki.root_ca_path()});
  if (identity != nullptr) {
    t.client_certificate.push_back(net::pem_file{identity->cert_path});
    t.client_key = net::pem_file{identity->key_path};
  }
  return t;
}

mqtt::session_config device_config(const char* id) {
  mqtt::session_config c;
  c.client_id = id;
  c.auto_reconnect = false;  // one attempt: these tests look at how it ends
  return c;
}

// Connects once with the poll driver; returns the connect failure, or an empty code on success.
std::error_code connect_once(std::uint16_t port, const net::tls_config& tls, bool* fatal = nullptr) {
  auto context = net::wolfssl_context::create(tls);
  REQUIRE(context);
  tt::recorder events;
  const auto config = device_config("tls-device");
  tls_client client{net::tls<net::raw_tcp>{*context, net::raw_tcp{"127.0.0.1", port}}, config, events, tt::test_limits()};
  REQUIRE_FALSE(client.start(system_clock{}.now()));
  REQUIRE(tt::run_until({&client}, [&] { return events.ready == 1 || events.connect_failures == 1; }));
  if (fatal != nullptr) *fatal = events.last_failure_fatal;
  if (events.ready == 1) {
    client.stop(system_clock{}.now());
    REQUIRE(tt::run_until({&client}, [&] { return events.stopped == 1; }));
    return {};
  }
  return events.last_error;
}

}  // namespace

TEST_CASE("QoS 1 round trip over mutual TLS with the poll driver, both protocol versions") {
  auto& pki = tt::test_pki::shared();
  tls_broker broker(pki.server());
  INFO(broker.log_tail());
  const auto& identity = pki.client("tls-device");
  auto context = net::wolfssl_context::create(device_tls(&identity));
  REQUIRE(context);

  for (auto version : {mqtt::protocol_version::v311, mqtt::protocol_version::v5}) {
    CAPTURE(int(version));
    tt::recorder events;
    auto config = device_config("tls-device");
    config.version = version;
    tls_client client{net::tls<net::raw_tcp>{*context, net::raw_tcp{"127.0.0.1", broker.mutual_tls_port()}}, config,
                      events, tt::test_limits()};
    std::vector<std::string> received;
    REQUIRE(client.subscribe("tls/#", [&](const mqtt::publish& p) { received.push_back(tt::text(p.payload)); }));
    REQUIRE_FALSE(client.start(system_clock{}.now()));
    REQUIRE(tt::run_until({&client}, [&] { return events.ready == 1; }));
    // A payload bigger than one TLS record crosses record boundaries both ways.
    const std::string big(40000, 'x');
    REQUIRE(client.publish("tls/small", as_bytes("over TLS"), {.qos = mqtt::qos::at_least_once}));
    REQUIRE(client.publish("tls/big", as_bytes(big), {.qos = mqtt::qos::at_least_once}));
    REQUIRE(tt::run_until({&client}, [&] { return received.size() == 2 && events.publish_acks == 2; }));
    CHECK(received[0] == "over TLS");
    CHECK(received[1] == big);
    client.stop(system_clock{}.now());
    REQUIRE(tt::run_until({&client}, [&] { return events.stopped == 1; }));
  }
}

TEST_CASE("QoS 1 round trip over mutual TLS with the Asio driver") {
  auto& pki = tt::test_pki::shared();
  tls_broker broker(pki.server_rsa());  // and an RSA server key for variety
  INFO(broker.log_tail());
  const auto& identity = pki.client("asio-tls-device");
  auto context = net::wolfssl_context::create(device_tls(&identity));
  REQUIRE(context);

  asio::io_context io;
  net::client_options o;
  o.host = "127.0.0.1";
  o.port = broker.mutual_tls_port();
  o.client_id = "asio-tls-device";
  net::asio_client<net::asio_tls> client{io.get_executor(), o, std::cref(*context)};
  std::atomic<int> received{0};
  auto guard = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  client.async_connect(asio::use_future).get();
  client.async_subscribe("asio-tls/#", [&](const mqtt::publish&) { ++received; }, {}, asio::use_future).get();
  std::vector<std::future<void>> acks;
  for (int i = 0; i < 200; ++i)
    acks.push_back(client.async_publish("asio-tls/x", std::string(3000, 'y'), {.qos = mqtt::qos::at_least_once},
                                        asio::use_future));
  for (auto& f : acks) f.get();
  CHECK(tt::wait_until([&] { return received == 200; }, 10s));
  client.async_disconnect(asio::use_future).get();
  guard.reset();
  runner.join();
}

TEST_CASE("TLS refusals reach the application as typed, fatal connect failures") {
  auto& pki = tt::test_pki::shared();
  const auto& identity = pki.client("tls-device");

  SUBCASE("server certificate from an unknown CA") {
    tls_broker broker(pki.server_untrusted());
    bool fatal = false;
    CHECK(connect_once(broker.mutual_tls_port(), device_tls(&identity), &fatal) == errc::tls_certificate_untrusted);
    CHECK(fatal);
  }
  SUBCASE("expired server certificate") {
    tls_broker broker(pki.server_expired());
    bool fatal = false;
    CHECK(connect_once(broker.mutual_tls_port(), device_tls(&identity), &fatal) == errc::tls_certificate_expired);
    CHECK(fatal);
  }
  SUBCASE("server certificate for another host name") {
    tls_broker broker(pki.server_wrong_host());
    bool fatal = false;
    CHECK(connect_once(broker.mutual_tls_port(), device_tls(&identity), &fatal) == errc::tls_hostname_mismatch);
    CHECK(fatal);
  }
  SUBCASE("no client certificate") {
    tls_broker broker(pki.server());
    bool fatal = false;
    CHECK(connect_once(broker.mutual_tls_port(), device_tls(nullptr), &fatal) == errc::tls_client_certificate_rejected);
    CHECK(fatal);
  }
  SUBCASE("client certificate from another CA") {
    tls_broker broker(pki.server());
    bool fatal = false;
    CHECK(connect_once(broker.mutual_tls_port(), device_tls(&pki.client_untrusted("tls-device")), &fatal) ==
          errc::tls_client_certificate_rejected);
    CHECK(fatal);
  }
  SUBCASE("the valid setup connects") {
    tls_broker broker(pki.server());
    CHECK_FALSE(connect_once(broker.mutual_tls_port(), device_tls(&identity)));
  }
}

TEST_CASE("the Asio driver reports the same typed TLS refusal") {
  auto& pki = tt::test_pki::shared();
  tls_broker broker(pki.server_wrong_host());
  const auto& identity = pki.client("asio-tls-device");
  auto context = net::wolfssl_context::create(device_tls(&identity));
  REQUIRE(context);
  asio::io_context io;
  net::client_options o;
  o.host = "127.0.0.1";
  o.port = broker.mutual_tls_port();
  o.client_id = "asio-tls-device";
  o.auto_reconnect = false;
  net::asio_client<net::asio_tls> client{io.get_executor(), o, std::cref(*context)};
  std::error_code result;
  client.async_connect([&](std::error_code ec) { result = ec; });
  io.run_for(10s);
  CHECK(result == errc::tls_hostname_mismatch);
}
