// Transport security defaults that need no network to check.
#include <doctest/doctest.h>

#include <thingwell/thingwell.hpp>

using namespace thingwell;

TEST_CASE("plaintext TCP is refused for a host that is not loopback") {
  net::tcp remote{"broker.example.com", 1883};
  auto r = remote.open();
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::insecure_transport);
  CHECK(mqtt::is_fatal(r.error()));  // configuration, not weather: the slow retry path
}

TEST_CASE("loopback names and addresses count as loopback, nothing else does") {
  using net::detail::is_loopback_host;
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.10.0.3"));
  CHECK(is_loopback_host("::1"));
  CHECK_FALSE(is_loopback_host("128.0.0.1"));
  CHECK_FALSE(is_loopback_host("10.0.0.1"));
  CHECK_FALSE(is_loopback_host("localhost.example.com"));
  CHECK_FALSE(is_loopback_host("a1b2c3-ats.iot.eu-west-1.amazonaws.com"));
}

TEST_CASE("the device TLS setup picks ALPN by port as AWS IoT Core requires") {
  auto on_443 = net::device_tls_config("a1b2c3-ats.iot.eu-west-1.amazonaws.com", 443, net::pem_file{"ca.pem"},
                                       net::pem_file{"device.pem"}, net::pem_file{"device.key"});
  REQUIRE(on_443.alpn.size() == 1);
  CHECK(on_443.alpn[0] == "x-amzn-mqtt-ca");
  CHECK(on_443.server_name == "a1b2c3-ats.iot.eu-west-1.amazonaws.com");
  CHECK(on_443.min_version == net::tls_version::tls1_2);

  auto on_8883 = net::device_tls_config("a1b2c3-ats.iot.eu-west-1.amazonaws.com", 8883, net::pem_file{"ca.pem"},
                                        net::pem_file{"device.pem"}, net::pem_file{"device.key"});
  CHECK(on_8883.alpn.empty());

  auto https = net::device_tls_config("a1b2c3-ats.iot.eu-west-1.amazonaws.com", 443, net::pem_file{"ca.pem"},
                                      net::pem_file{"device.pem"}, net::pem_file{"device.key"}, net::aws_application::https);
  REQUIRE(https.alpn.size() == 1);
  CHECK(https.alpn[0] == "x-amzn-http-ca");
}
