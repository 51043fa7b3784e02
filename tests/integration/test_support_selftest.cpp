// Checks the integration-test fixtures themselves: a fixture that silently does nothing would make
// every test built on it pass for the wrong reason.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "echo_server.hpp"
#include "fault_proxy.hpp"
#include "mosquitto.hpp"
#include "mqtt_frame_splitter.hpp"
#include "mqtt_peer.hpp"
#include "pki.hpp"
#include "ports.hpp"
#include "process.hpp"
#include "temp_dir.hpp"
#include "text_files.hpp"
#include "wait_until.hpp"

using namespace std::chrono_literals;
namespace tt = thingwell::testing;

namespace {

// A blocking loopback client whose every wait is bounded.
class test_connection {
 public:
  explicit test_connection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  }
  ~test_connection() { ::close(fd_); }
  test_connection(const test_connection&) = delete;
  test_connection& operator=(const test_connection&) = delete;

  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }

  // Reads until `count` bytes arrived, the deadline passed, or the peer closed or reset.
  std::string receive(std::size_t count, std::chrono::milliseconds timeout) {
    std::string received;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received.size() < count) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd readable{fd_, POLLIN, 0};
      if (::poll(&readable, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[4096];
      const ssize_t got = ::recv(fd_, buffer, std::min(sizeof buffer, count - received.size()), 0);
      if (got <= 0) {
        last_error_ = got == 0 ? 0 : errno;
        ended_ = true;
        break;
      }
      received.append(buffer, static_cast<std::size_t>(got));
    }
    return received;
  }

  // Waits for the connection to end; returns the errno seen (ECONNRESET for a reset, 0 for a close),
  // or -1 when it is still open at the deadline.
  int wait_for_end(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ended_ && std::chrono::steady_clock::now() < deadline) receive(1 << 20, 50ms);
    return ended_ ? last_error_ : -1;
  }

 private:
  int fd_ = -1;
  bool ended_ = false;
  int last_error_ = 0;
};

std::string openssl_output(const std::vector<std::string>& argv) {
  const auto result = tt::run_command(argv, 10s);
  return result.output + "[" + result.status.describe() + "]";
}

bool openssl_verifies(const std::vector<std::string>& extra, const std::string& cert) {
  std::vector<std::string> argv = {"openssl", "verify"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(cert);
  const auto result = tt::run_command(argv, 10s);
  INFO(result.output);
  return result.success();
}

std::string mosquitto_client(const char* name) { return tt::find_executable(name); }

tt::mosquitto_options mutual_tls_broker(tt::test_pki& pki) {
  tt::mosquitto_options options;
  options.mutual_tls_listener = true;
  options.ca_file = pki.root_ca_path();
  options.cert_file = pki.server().cert_path;
  options.key_file = pki.server().key_path;
  return options;
}

}  // namespace

TEST_SUITE("test support") {

TEST_CASE("temp_dir creates a private directory and removes it with its contents") {
  std::string path;
  {
    tt::temp_dir directory("selftest");
    path = directory.path();
    CHECK(std::filesystem::is_directory(path));
    std::filesystem::create_directories(directory.file("a/b"));
    tt::write_text_file(directory.file("a/b/c.txt"), "one\ntwo\nthree\n");
    CHECK(tt::read_text_file(directory.file("a/b/c.txt")) == "one\ntwo\nthree\n");
    CHECK(tt::last_lines_of_file(directory.file("a/b/c.txt"), 2) == "two\nthree\n");
    CHECK(tt::last_lines_of_file(directory.file("a/b/c.txt"), 10) == "one\ntwo\nthree\n");
  }
  if (!tt::keep_test_files()) CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("run_command captures output and exit codes, and kills at its deadline") {
  const auto ok = tt::run_command({"sh", "-c", "echo out; echo err >&2; exit 3"}, 5s);
  CHECK_FALSE(ok.timed_out);
  CHECK(ok.status.exited);
  CHECK(ok.status.code == 3);
  CHECK(ok.output.find("out") != std::string::npos);
  CHECK(ok.output.find("err") != std::string::npos);

  const auto with_env = tt::run_command({"sh", "-c", "printf %s \"$THINGWELL_SELFTEST\""}, 5s, {{"THINGWELL_SELFTEST", "yes"}});
  CHECK(with_env.output == "yes");

  const auto started = std::chrono::steady_clock::now();
  const auto slow = tt::run_command({"sleep", "30"}, 200ms);
  CHECK(slow.timed_out);
  CHECK(slow.status.signal == SIGKILL);
  CHECK(std::chrono::steady_clock::now() - started < 3s);

  CHECK_THROWS_AS(tt::run_command({"thingwell-no-such-program"}, 1s), std::runtime_error);
  CHECK_THROWS_AS(tt::run_command({"/nonexistent/program"}, 1s), std::runtime_error);
}

TEST_CASE("child_process logs, terminates and cleans up its process group") {
  tt::temp_dir directory("process");
  const std::string grandchild_pid_file = directory.file("grandchild.pid");
  tt::process_options options;
  // The grandchild would outlive a careless fixture; the process group takes it down too.
  options.argv = {"sh", "-c", "echo started; sleep 30 & echo $! > " + grandchild_pid_file + "; wait"};
  options.log_path = directory.file("child.log");
  tt::child_process child(options);
  CHECK(child.running());
  REQUIRE(tt::wait_until([&] { return std::filesystem::exists(grandchild_pid_file) && std::filesystem::file_size(grandchild_pid_file) > 0; }, 5s));
  const pid_t grandchild = std::stoi(tt::read_text_file(grandchild_pid_file));
  CHECK_FALSE(child.wait(50ms).has_value());
  const auto ended = child.terminate(2s);
  CHECK(ended.signal == SIGTERM);
  CHECK_FALSE(child.running());
  // Dead means gone or a zombie: reaping orphans is up to init, which may take its time.
  auto dead = [&] {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string pid, name, state;
    return !(stat >> pid >> name >> state) || state == "Z";
  };
  CHECK(tt::wait_until(dead, 2s));
  CHECK(tt::read_text_file(options.log_path).find("started") != std::string::npos);

  tt::child_process stubborn({{"sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"}, {}, {}, {}});
  std::this_thread::sleep_for(50ms);  // let the shell install its trap
  const auto killed = stubborn.terminate(300ms);
  CHECK(killed.signal == SIGKILL);
}

TEST_CASE("free_loopback_port hands out distinct free ports; wait_for_port is bounded") {
  const auto first = tt::free_loopback_port();
  const auto second = tt::free_loopback_port();
  CHECK(first != second);
  CHECK_FALSE(tt::port_accepts_connections(first));
  const auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(tt::wait_for_port(first, 100ms));
  CHECK(std::chrono::steady_clock::now() - started < 1s);
  tt::echo_server server;
  CHECK(tt::wait_for_port(server.port(), 1s));
}

TEST_CASE("mqtt_frame_splitter finds packet boundaries however the bytes are split") {
  const std::vector<std::uint8_t> stream = {
      0x30, 0x05, 0x00, 0x01, 't', 'h', 'i',  // PUBLISH QoS 0, topic "t", payload "hi"
      0x40, 0x02, 0x00, 0x07,                 // PUBACK
      0xc0, 0x00,                             // PINGREQ
  };
  for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{3}, stream.size()}) {
    CAPTURE(piece);
    tt::mqtt_frame_splitter splitter;
    std::vector<std::vector<std::uint8_t>> frames;
    std::vector<std::uint8_t> passed;
    for (std::size_t at = 0; at < stream.size(); at += piece) {
      const std::size_t size = std::min(piece, stream.size() - at);
      splitter.feed(stream.data() + at, size, true, [&](const std::uint8_t* d, std::size_t n) { passed.insert(passed.end(), d, d + n); },
                    [&](std::vector<std::uint8_t>&& frame) { frames.push_back(std::move(frame)); });
    }
    CHECK(passed.empty());
    REQUIRE(frames.size() == 3);
    CHECK(frames[0].size() == 7);
    CHECK(frames[1] == std::vector<std::uint8_t>{0x40, 0x02, 0x00, 0x07});
    CHECK(frames[2] == std::vector<std::uint8_t>{0xc0, 0x00});
    CHECK(splitter.at_boundary());
  }

  SUBCASE("a packet already being passed through is not held when holding starts mid-packet") {
    tt::mqtt_frame_splitter splitter;
    std::vector<std::uint8_t> passed;
    std::size_t frames = 0;
    auto pass = [&](const std::uint8_t* d, std::size_t n) { passed.insert(passed.end(), d, d + n); };
    auto take = [&](std::vector<std::uint8_t>&&) { ++frames; };
    splitter.feed(stream.data(), 3, false, pass, take);
    splitter.feed(stream.data() + 3, stream.size() - 3, true, pass, take);
    CHECK(passed.size() == 7);
    CHECK(frames == 2);
  }

  SUBCASE("a five-byte remaining length loses sync and passes everything through") {
    const std::vector<std::uint8_t> garbage = {0x16, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02};
    tt::mqtt_frame_splitter splitter;
    std::vector<std::uint8_t> passed;
    splitter.feed(garbage.data(), garbage.size(), true, [&](const std::uint8_t* d, std::size_t n) { passed.insert(passed.end(), d, d + n); },
                  [&](std::vector<std::uint8_t>&&) { FAIL("no frame expected"); });
    CHECK_FALSE(splitter.in_sync());
    CHECK(passed == garbage);
  }
}

TEST_CASE("test_pki: openssl accepts the good certificates and rejects the broken ones") {
  auto& pki = tt::test_pki::shared();
  const std::vector<std::string> trust_root = {"-CAfile", pki.root_ca_path()};
  CHECK(pki.root_ca_pem().find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK(openssl_output({"openssl", "x509", "-in", pki.root_ca_path(), "-noout", "-subject"}).find("thingwell test root") != std::string::npos);

  CHECK(openssl_verifies({"-CAfile", pki.root_ca_path(), "-purpose", "sslserver", "-verify_hostname", "localhost"}, pki.server().cert_path));
  CHECK(openssl_verifies({"-CAfile", pki.root_ca_path(), "-verify_ip", "127.0.0.1"}, pki.server().cert_path));
  CHECK(openssl_verifies(trust_root, pki.server_rsa().cert_path));
  CHECK(pki.server().key_pem().find("BEGIN PRIVATE KEY") != std::string::npos);
  CHECK(openssl_output({"openssl", "pkey", "-in", pki.server_rsa().key_path, "-noout", "-text"}).find("2048 bit") != std::string::npos);

  CHECK_FALSE(openssl_verifies(trust_root, pki.server_expired().cert_path));
  CHECK(openssl_output({"openssl", "verify", "-CAfile", pki.root_ca_path(), pki.server_expired().cert_path}).find("expired") != std::string::npos);
  CHECK(openssl_output({"openssl", "verify", "-CAfile", pki.root_ca_path(), pki.server_not_yet_valid().cert_path}).find("not yet valid") != std::string::npos);
  CHECK_FALSE(openssl_verifies(trust_root, pki.server_untrusted().cert_path));
  CHECK(openssl_verifies({"-CAfile", pki.rogue_ca_path()}, pki.server_untrusted().cert_path));
  CHECK(openssl_verifies(trust_root, pki.server_wrong_host().cert_path));
  CHECK_FALSE(openssl_verifies({"-CAfile", pki.root_ca_path(), "-verify_hostname", "localhost"}, pki.server_wrong_host().cert_path));

  const auto& device = pki.client("thing-42");
  CHECK(&device == &pki.client("thing-42"));  // cached
  CHECK(openssl_verifies({"-CAfile", pki.root_ca_path(), "-purpose", "sslclient"}, device.cert_path));
  CHECK(openssl_output({"openssl", "x509", "-in", device.cert_path, "-noout", "-subject"}).find("CN = thing-42") != std::string::npos);
  CHECK_FALSE(openssl_verifies(trust_root, pki.client_untrusted("thing-42").cert_path));
  CHECK_FALSE(openssl_verifies(trust_root, pki.client_expired("thing-42").cert_path));
  CHECK(tt::read_text_file(pki.traditional_key_path(device)).find("BEGIN EC PRIVATE KEY") != std::string::npos);
}

TEST_CASE("mosquitto: round trips over plain TCP and mutual TLS with the generated certificates") {
  const auto publisher = mosquitto_client("mosquitto_pub");
  const auto subscriber = mosquitto_client("mosquitto_sub");
  if (publisher.empty() || subscriber.empty()) {
    MESSAGE("mosquitto-clients not installed; the paho test below covers the broker instead");
    return;
  }
  auto& pki = tt::test_pki::shared();
  tt::mosquitto_broker broker(mutual_tls_broker(pki));
  broker.start();
  INFO(broker.log_tail());
  const auto plain = std::to_string(broker.plain_port());
  const auto mutual = std::to_string(broker.mutual_tls_port());

  // Retained messages make the order of publisher and subscriber irrelevant.
  auto published = tt::run_command({publisher, "-h", "127.0.0.1", "-p", plain, "-t", "selftest/plain", "-m", "hello plain", "-r", "-q", "1"}, 10s);
  REQUIRE_MESSAGE(published.success(), published.output);
  auto received = tt::run_command({subscriber, "-h", "127.0.0.1", "-p", plain, "-t", "selftest/plain", "-C", "1", "-W", "5", "-v"}, 10s);
  CHECK_MESSAGE(received.success(), received.output);
  CHECK(received.output == "selftest/plain hello plain\n");

  const auto& device = pki.client("thing-1");
  const std::vector<std::string> tls = {"--cafile", pki.root_ca_path(), "--cert", device.cert_path, "--key", device.key_path};
  std::vector<std::string> publish_tls = {publisher, "-h", "127.0.0.1", "-p", mutual, "-i", "thing-1", "-t", "selftest/tls", "-m", "hello tls", "-r", "-q", "1"};
  publish_tls.insert(publish_tls.end(), tls.begin(), tls.end());
  published = tt::run_command(publish_tls, 10s);
  REQUIRE_MESSAGE(published.success(), published.output);
  std::vector<std::string> subscribe_tls = {subscriber, "-h", "127.0.0.1", "-p", mutual, "-t", "selftest/tls", "-C", "1", "-W", "5", "-v"};
  subscribe_tls.insert(subscribe_tls.end(), tls.begin(), tls.end());
  received = tt::run_command(subscribe_tls, 10s);
  CHECK_MESSAGE(received.success(), received.output);
  CHECK(received.output == "selftest/tls hello tls\n");
  // use_identity_as_username: the broker knows the device by its certificate's CN.
  CHECK(tt::wait_until([&] { return tt::read_text_file(broker.log_path()).find("u'thing-1'") != std::string::npos; }, 2s));

  // A certificate from the rogue CA, or none at all, does not get through the mutual TLS listener.
  const auto& rogue = pki.client_untrusted("thing-1");
  const auto refused = tt::run_command({publisher, "-h", "127.0.0.1", "-p", mutual, "-t", "x", "-m", "x", "--cafile", pki.root_ca_path(),
                                        "--cert", rogue.cert_path, "--key", rogue.key_path}, 10s);
  CHECK_FALSE(refused.success());
  const auto anonymous = tt::run_command({publisher, "-h", "127.0.0.1", "-p", mutual, "-t", "x", "-m", "x", "--cafile", pki.root_ca_path()}, 10s);
  CHECK_FALSE(anonymous.success());
}

TEST_CASE("mosquitto: restart keeps the ports and, with persistence, retained messages") {
  tt::mosquitto_options options;
  options.persistence = true;
  tt::mosquitto_broker broker(options);
  broker.start();
  INFO(broker.log_tail());
  const auto port = broker.plain_port();
  tt::mqtt_peer_options peer;
  peer.port = port;
  const auto published = tt::publish_with_peer(peer, {"selftest/persisted", "kept", 1, true, 1});
  REQUIRE_MESSAGE(published.success(), published.output);

  CHECK(broker.stop().exited);
  CHECK_FALSE(tt::port_accepts_connections(port));
  CHECK(std::filesystem::exists(broker.persistence_directory() + "/mosquitto.db"));
  broker.start();
  CHECK(broker.plain_port() == port);
  CHECK(tt::port_accepts_connections(port));

  tt::mqtt_subscriber listener(peer, {"selftest/persisted"});
  REQUIRE_MESSAGE(listener.wait_for_messages(1, 5s), listener.log());
  const auto messages = listener.messages();
  CHECK(messages[0].payload_text() == "kept");
  CHECK(messages[0].retain);

  broker.kill();
  CHECK_FALSE(broker.running());
  broker.restart();
  CHECK(broker.running());
}

TEST_CASE("mosquitto: every option makes a config that mosquitto accepts and applies") {
  auto& pki = tt::test_pki::shared();
  tt::mosquitto_options options;
  options.server_tls_listener = true;
  options.ca_file = pki.root_ca_path();
  options.cert_file = pki.server_rsa().cert_path;
  options.key_file = pki.server_rsa().key_path;
  options.tls_version = "tlsv1.2";
  options.max_inflight_messages = 1;
  options.max_queued_messages = 10;
  options.max_packet_size = 2048;
  options.message_size_limit = 512;
  options.max_keepalive = 60;
  options.tcp_nodelay = false;
  options.extra_config_lines = {"allow_zero_length_clientid true"};
  tt::mosquitto_broker broker(options);
  broker.start();
  INFO(broker.log_tail());
  CHECK(broker.server_tls_port() != 0);
  CHECK(broker.mutual_tls_port() == 0);

  tt::mqtt_peer_options peer;
  peer.port = broker.server_tls_port();
  peer.ca_file = pki.root_ca_path();
  tt::mqtt_subscriber receiver(peer, {"selftest/limits"});
  tt::mqtt_peer_options plain;
  plain.port = broker.plain_port();
  // Over message_size_limit: accepted from the publisher but not forwarded.
  REQUIRE(tt::publish_with_peer(plain, {"selftest/limits", std::string(600, 'x'), 1, false, 1}).success());
  REQUIRE(tt::publish_with_peer(plain, {"selftest/limits", "small", 1, false, 1}).success());
  REQUIRE_MESSAGE(receiver.wait_for_messages(1, 5s), receiver.log());
  CHECK(receiver.messages().size() == 1);
  CHECK(receiver.messages()[0].payload_text() == "small");
}

TEST_CASE("mosquitto: a broker that cannot start says why") {
  tt::mosquitto_options options;
  options.server_tls_listener = true;
  options.cert_file = "/nonexistent/server.pem";
  options.key_file = "/nonexistent/server.key";
  options.start_timeout = 3s;
  tt::mosquitto_broker broker(options);
  const auto started = std::chrono::steady_clock::now();
  try {
    broker.start();
    FAIL("start() should have thrown");
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    CHECK(message.find("exited during start-up") != std::string::npos);
    CHECK(message.find("server.pem") != std::string::npos);
  }
  CHECK(std::chrono::steady_clock::now() - started < 3s);
}

TEST_CASE("mosquitto: ACL patterns apply to the certificate identity, and reload") {
  auto& pki = tt::test_pki::shared();
  auto options = mutual_tls_broker(pki);
  options.plain_listener = false;
  options.debug_log = false;
  const std::string acl = "pattern readwrite things/%u/#\nuser operator\ntopic readwrite things/#\n";
  options.acl = acl;
  tt::mosquitto_broker broker(options);
  broker.start();
  INFO(broker.log_tail());

  auto identity = [&](const std::string& name) {
    tt::mqtt_peer_options peer;
    peer.port = broker.mutual_tls_port();
    peer.version = tt::mqtt_version::v5;
    peer.client_id = name;
    peer.ca_file = pki.root_ca_path();
    peer.cert_file = pki.client(name).cert_path;
    peer.key_file = pki.client(name).key_path;
    return peer;
  };
  tt::mqtt_subscriber device(identity("thing-7"), {"things/#"});
  const auto operator_peer = identity("operator");
  // One publisher, in order: had the first message been delivered, it would arrive before the second.
  REQUIRE(tt::publish_with_peer(operator_peer, {"things/thing-8/state", "not yours", 1, false, 1}).success());
  REQUIRE(tt::publish_with_peer(operator_peer, {"things/thing-7/state", "yours", 1, false, 1}).success());
  REQUIRE_MESSAGE(device.wait_for_messages(1, 5s), device.log());
  CHECK(device.messages().size() == 1);
  CHECK(device.messages()[0].topic == "things/thing-7/state");

  broker.reload_acl(acl + "user thing-7\ntopic read things/thing-8/#\n");
  CHECK(tt::wait_until([&] {
    (void)tt::publish_with_peer(operator_peer, {"things/thing-8/state", "now yours", 1, false, 1});
    return device.wait_for_messages(2, 200ms);
  }, 5s));
  CHECK(device.messages()[1].topic == "things/thing-8/state");
}

TEST_CASE("mqtt peer: paho publishes and receives over mutual TLS with MQTT 5 and over MQTT 3.1.1") {
  auto& pki = tt::test_pki::shared();
  tt::mosquitto_broker broker(mutual_tls_broker(pki));
  broker.start();
  INFO(broker.log_tail());

  const auto& device = pki.client("peer-5");
  tt::mqtt_peer_options tls_peer;
  tls_peer.port = broker.mutual_tls_port();
  tls_peer.version = tt::mqtt_version::v5;
  tls_peer.client_id = "peer-5";
  tls_peer.ca_file = pki.root_ca_path();
  tls_peer.cert_file = device.cert_path;
  tls_peer.key_file = device.key_path;
  tt::mqtt_subscriber receiver(tls_peer, {"selftest/peer/#"}, 1);

  tt::mqtt_peer_options plain_peer;
  plain_peer.port = broker.plain_port();
  const auto published = tt::publish_with_peer(plain_peer, {"selftest/peer/a", "message {i}", 1, false, 3});
  REQUIRE_MESSAGE(published.success(), published.output);
  const auto binary = tt::publish_with_peer(plain_peer, {"selftest/peer/b", std::string("\x00\x01\xff", 3), 0, false, 1});
  REQUIRE_MESSAGE(binary.success(), binary.output);

  REQUIRE_MESSAGE(receiver.wait_for_messages(4, 5s), receiver.log());
  const auto messages = receiver.messages();
  CHECK(messages[0].topic == "selftest/peer/a");
  CHECK(messages[0].payload_text() == "message 0");
  CHECK(messages[2].payload_text() == "message 2");
  CHECK(messages[0].qos == 1);
  CHECK_FALSE(messages[0].retain);
  CHECK(messages[3].payload == std::vector<std::uint8_t>{0x00, 0x01, 0xff});
  CHECK(messages[3].qos == 0);

  // A broker presenting an expired certificate is refused by a verifying client.
  auto expired_options = mutual_tls_broker(pki);
  expired_options.cert_file = pki.server_expired().cert_path;
  expired_options.key_file = pki.server_expired().key_path;
  tt::mosquitto_broker expired(expired_options);
  expired.start();
  tls_peer.port = expired.mutual_tls_port();
  const auto rejected = tt::publish_with_peer(tls_peer, {"selftest/peer/a", "x", 1, false, 1}, 3s);
  CHECK_FALSE(rejected.success());
  CHECK(rejected.output.find("certificate has expired") != std::string::npos);
}

TEST_CASE("fault_proxy forwards, delays, blackholes, cuts and refuses") {
  tt::echo_server server;
  tt::fault_proxy proxy(server.port());

  SUBCASE("forwarding both ways, and counting") {
    test_connection client(proxy.port());
    REQUIRE(client.send("ping"));
    CHECK(client.receive(4, 2s) == "ping");
    CHECK(tt::wait_until([&] { return proxy.counters().bytes_server_to_client == 4; }, 1s));
    const auto counters = proxy.counters();
    CHECK(counters.connections_accepted == 1);
    CHECK(counters.connections_open == 1);
    CHECK(counters.bytes_client_to_server == 4);
  }

  SUBCASE("delay holds bytes and keeps their order") {
    test_connection client(proxy.port());
    REQUIRE(client.send("0"));
    REQUIRE(client.receive(1, 2s) == "0");
    proxy.set_delay(tt::direction::client_to_server, 200ms);
    const auto sent_at = std::chrono::steady_clock::now();
    REQUIRE(client.send("A"));
    // The delay applies to bytes the proxy reads after the change: give it time to read "A" first.
    std::this_thread::sleep_for(50ms);
    proxy.set_delay(tt::direction::client_to_server, 0ms);
    REQUIRE(client.send("B"));
    CHECK(client.receive(2, 3s) == "AB");
    const auto elapsed = std::chrono::steady_clock::now() - sent_at;
    CHECK(elapsed >= 200ms);
    CHECK(elapsed < 2s);
  }

  SUBCASE("blackhole keeps the connection but loses the bytes") {
    test_connection client(proxy.port());
    proxy.blackhole(true);
    REQUIRE(client.send("lost"));
    CHECK(client.receive(4, 300ms).empty());
    CHECK(proxy.counters().connections_open == 1);
    proxy.blackhole(false);
    REQUIRE(client.send("found"));
    CHECK(client.receive(5, 2s) == "found");
    CHECK(proxy.counters().bytes_discarded == 4);
  }

  SUBCASE("cut resets both sides") {
    test_connection client(proxy.port());
    REQUIRE(client.send("x"));
    CHECK(client.receive(1, 2s) == "x");
    proxy.cut();
    CHECK(client.wait_for_end(2s) == ECONNRESET);
    CHECK(tt::wait_until([&] { return server.connections_reset() == 1; }, 2s));
    CHECK(proxy.counters().connections_cut == 1);
    CHECK(proxy.counters().connections_open == 0);
  }

  SUBCASE("refuse resets new connections until lifted") {
    proxy.refuse(true);
    {
      test_connection refused(proxy.port());
      CHECK(refused.wait_for_end(2s) == ECONNRESET);
    }
    CHECK(proxy.counters().connections_refused == 1);
    proxy.refuse(false);
    test_connection accepted(proxy.port());
    REQUIRE(accepted.send("ok"));
    CHECK(accepted.receive(2, 2s) == "ok");
  }

  SUBCASE("cut_after_bytes delivers exactly that many bytes, then resets") {
    proxy.cut_after_bytes(tt::direction::server_to_client, 10);
    test_connection client(proxy.port());
    REQUIRE(client.send("0123456789abcdefghij"));
    CHECK(client.receive(20, 2s) == "0123456789");
    CHECK(client.wait_for_end(2s) == ECONNRESET);
    proxy.heal();
    test_connection healed(proxy.port());
    REQUIRE(healed.send("0123456789abcdefghij"));
    CHECK(healed.receive(20, 2s) == "0123456789abcdefghij");
  }

  SUBCASE("a target that is down resets the client") {
    proxy.set_target_port(tt::free_loopback_port());
    test_connection client(proxy.port());
    CHECK(client.wait_for_end(2s) == ECONNRESET);
    CHECK(proxy.counters().upstream_connect_failures == 1);
  }
}

TEST_CASE("fault_proxy drops MQTT packets by type") {
  tt::echo_server server;
  tt::fault_proxy proxy(server.port());
  const std::string publish("\x32\x07\x00\x01t\x00\x01hi", 9);  // PUBLISH QoS 1, packet id 1
  const std::string puback("\x40\x02\x00\x01", 4);
  const std::string pingreq("\xc0\x00", 2);

  proxy.set_frame_filter(tt::direction::server_to_client, tt::drop_packet_type(tt::mqtt_packet::puback, 1));
  test_connection client(proxy.port());
  // Sent byte by byte with pauses, so that the proxy sees packets split across reads.
  const std::string stream = publish + puback + pingreq + puback;
  for (char byte : stream) {
    REQUIRE(client.send(std::string(1, byte)));
    std::this_thread::sleep_for(1ms);
  }
  CHECK(client.receive(publish.size() + pingreq.size() + puback.size(), 3s) == publish + pingreq + puback);
  CHECK(proxy.counters().frames_dropped_server_to_client == 1);
  CHECK(proxy.counters().frames_dropped_client_to_server == 0);
}

TEST_CASE("fault_proxy random cuts are reproducible from the seed") {
  // A discarding target makes traffic one-way, so the cut points depend on the seed alone.
  auto cut_points = [](std::uint64_t seed) {
    tt::echo_server sink(tt::echo_server::behaviour::discard);
    tt::fault_proxy proxy(sink.port());
    proxy.random_cuts(seed, std::uint64_t{300});
    std::vector<std::uint64_t> delivered_per_connection;
    std::uint64_t before = 0;
    for (int connection = 0; connection < 5; ++connection) {
      test_connection client(proxy.port());
      for (int block = 0; block < 100 && client.wait_for_end(0ms) == -1; ++block) {
        if (!client.send(std::string(50, 'x'))) break;
        std::this_thread::sleep_for(1ms);
      }
      // The reset may already have been reported to send(); then the socket reads as closed.
      REQUIRE(client.wait_for_end(2s) != -1);
      const auto total = proxy.counters().bytes_client_to_server;
      delivered_per_connection.push_back(total - before);
      before = total;
    }
    return delivered_per_connection;
  };
  const auto first = cut_points(7);
  CHECK(first == cut_points(7));
  CHECK(first != cut_points(8));
  for (auto amount : first) {
    CHECK(amount >= 1);
    CHECK(amount <= 599);
  }

  tt::echo_server server;
  tt::fault_proxy timed(server.port());
  timed.random_cuts(1, 50ms);
  test_connection client(timed.port());
  CHECK(client.wait_for_end(2s) == ECONNRESET);
  timed.stop_random_cuts();
  test_connection survivor(timed.port());
  CHECK(survivor.wait_for_end(300ms) == -1);
}

TEST_CASE("fault_proxy in front of mosquitto: MQTT through the proxy, then a dead link") {
  tt::mosquitto_broker broker;
  broker.start();
  INFO(broker.log_tail());
  tt::fault_proxy proxy(broker.plain_port());
  tt::mqtt_peer_options through_proxy;
  through_proxy.port = proxy.port();
  tt::mqtt_subscriber receiver(through_proxy, {"selftest/proxy"});

  tt::mqtt_peer_options direct;
  direct.port = broker.plain_port();
  REQUIRE(tt::publish_with_peer(direct, {"selftest/proxy", "one", 1, false, 1}).success());
  REQUIRE_MESSAGE(receiver.wait_for_messages(1, 5s), receiver.log());

  proxy.blackhole(tt::direction::server_to_client, true);
  REQUIRE(tt::publish_with_peer(direct, {"selftest/proxy", "two", 1, false, 1}).success());
  std::this_thread::sleep_for(200ms);
  CHECK(receiver.messages().size() == 1);
  CHECK(proxy.counters().bytes_discarded > 0);
}

}  // TEST_SUITE
