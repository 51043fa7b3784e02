// The wolfSSL engine against a real mosquitto with a mutual-TLS listener and certificates made by
// openssl for this run: an MQTT CONNECT/CONNACK exchange over TLS 1.2 and 1.3, then every refusal
// with the exact errc a device gets. The engine is driven over a non-blocking POSIX socket with
// poll(), the way the MCU poll driver will drive it.
#include <thingwell/core/config.hpp>

#if THINGWELL_WITH_WOLFSSL

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through <system_error>'s operator<<, which needs it

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <thingwell/net/tls_config.hpp>
#include <thingwell/net/tls_wolfssl.hpp>

#include "mosquitto.hpp"
#include "pki.hpp"

namespace tw = thingwell;
namespace net = thingwell::net;
namespace testing = thingwell::testing;
using tw::errc;
using clock_type = std::chrono::steady_clock;

namespace {

// A non-blocking TCP connection to 127.0.0.1 that moves the engine's ciphertext.
class tls_over_socket {
 public:
  tls_over_socket(net::wolfssl_engine& engine, std::uint16_t port) : engine_(engine) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    REQUIRE((rc == 0 || errno == EINPROGRESS));
  }
  ~tls_over_socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  tls_over_socket(const tls_over_socket&) = delete;
  tls_over_socket& operator=(const tls_over_socket&) = delete;

  // Sends what the engine has queued; waits up to `timeout_ms` for the socket to be readable (when the
  // engine has room) or writable (when output is left), and reads what arrived.
  void pump(int timeout_ms) {
    flush();
    pollfd p{fd_, 0, 0};
    const bool can_read = !engine_.ciphertext_in_space().empty() && !eof_;
    if (can_read) p.events |= POLLIN;
    if (!engine_.ciphertext_out().empty() && !eof_) p.events |= POLLOUT;
    if (p.events == 0) return;
    if (::poll(&p, 1, timeout_ms) <= 0) return;
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0 && can_read) {
      auto space = engine_.ciphertext_in_space();
      const ssize_t n = ::recv(fd_, space.data(), space.size(), 0);
      if (n > 0) {
        engine_.ciphertext_received(static_cast<std::size_t>(n));
        bytes_in += static_cast<std::size_t>(n);
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        // End of stream and reset alike: the engine decides what they mean at this point.
        if (n < 0) reset_seen = true;
        eof_ = true;
        engine_.ciphertext_eof();
      }
    }
    flush();
  }

  void flush() {
    while (!engine_.ciphertext_out().empty() && !eof_) {
      const auto out = engine_.ciphertext_out();
      const ssize_t n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        engine_.ciphertext_sent(static_cast<std::size_t>(n));
        bytes_out += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
      reset_seen = true;
      eof_ = true;
      engine_.ciphertext_eof();
      return;
    }
  }

  tw::result<void> handshake(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = clock_type::now() + limit;
    while (clock_type::now() < deadline) {
      auto r = engine_.handshake();
      flush();
      if (r.has_value() || r.error() != errc::would_block) return r;
      pump(50);
    }
    return errc::timed_out;
  }

  tw::result<void> write_all(tw::bytes_view data, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = clock_type::now() + limit;
    while (!data.empty() && clock_type::now() < deadline) {
      auto r = engine_.write(data);
      if (r) data = data.subspan(*r);
      else if (r.error() != errc::would_block) return r.error();
      pump(data.empty() ? 0 : 50);
    }
    flush();
    return data.empty() ? tw::success() : tw::result<void>(errc::timed_out);
  }

  // At least `n` bytes of plaintext, or the error that prevented them.
  tw::result<std::string> read_exactly(std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    std::string got;
    tw::byte buf[2048];
    const auto deadline = clock_type::now() + limit;
    while (got.size() < n && clock_type::now() < deadline) {
      auto r = engine_.read(buf);
      if (r) {
        if (*r == 0) return errc::connection_reset;  // close_notify before the reply
        got.append(reinterpret_cast<const char*>(buf), *r);
        continue;
      }
      if (r.error() != errc::would_block) return r.error();
      pump(50);
    }
    if (got.size() < n) return errc::timed_out;
    return got;
  }

  std::size_t bytes_in = 0;
  std::size_t bytes_out = 0;
  bool reset_seen = false;

 private:
  net::wolfssl_engine& engine_;
  int fd_ = -1;
  bool eof_ = false;
};

double thread_cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// An MQTT 3.1.1 CONNECT with a clean session, built by hand so that this test depends on nothing but
// the TLS engine.
std::string mqtt_connect(const std::string& client_id) {
  std::string body;
  body += std::string("\x00\x04MQTT", 6);
  body += '\x04';  // protocol level 3.1.1
  body += '\x02';  // clean session
  body += std::string("\x00\x3c", 2);  // keep-alive 60 s
  body += static_cast<char>(client_id.size() >> 8);
  body += static_cast<char>(client_id.size() & 0xff);
  body += client_id;
  return std::string(1, '\x10') + static_cast<char>(body.size()) + body;
}

const std::string connack_accepted("\x20\x02\x00\x00", 4);

testing::mosquitto_options broker_options(const testing::certified_key& server_cert, const std::string& version) {
  auto& pki = testing::test_pki::shared();
  testing::mosquitto_options o;
  o.plain_listener = false;
  o.mutual_tls_listener = true;
  o.ca_file = pki.root_ca_path();
  o.cert_file = server_cert.cert_path;
  o.key_file = server_cert.key_path;
  o.tls_version = version;
  o.debug_log = false;
  return o;
}

// mosquitto's tls_version sets the listener's minimum, so TLS 1.2 is pinned on the client side.
net::tls_config device_config(const testing::certified_key* client, const std::string& version, const std::string& server_name = "localhost") {
  auto& pki = testing::test_pki::shared();
  net::tls_config cfg;
  cfg.server_name = server_name;
  if (version == "tlsv1.2") cfg.max_version = net::tls_version::tls1_2;
  cfg.trust_anchors.push_back(net::pem_file{pki.root_ca_path()});
  if (client != nullptr) {
    cfg.client_certificate.push_back(net::pem_file{client->cert_path});
    cfg.client_key = net::pem_file{client->key_path};
  }
  return cfg;
}

struct session_outcome {
  tw::result<void> handshake = errc::would_block;
  tw::result<std::string> connack = errc::would_block;
  int alert_received = -1;
  int native_error = 0;
  std::string protocol;
  bool reset_seen = false;
};

// Handshake, CONNECT, CONNACK: what a device does first.
session_outcome connect_device(const net::wolfssl_context& ctx, std::uint16_t port, const std::string& client_id) {
  auto engine = net::wolfssl_engine::create(ctx);
  REQUIRE(engine.has_value());
  tls_over_socket link(*engine, port);
  session_outcome out;
  out.handshake = link.handshake();
  if (out.handshake) {
    out.protocol = engine->protocol_version();
    const std::string connect = mqtt_connect(client_id);
    auto w = link.write_all(tw::as_bytes(connect));
    if (!w) out.connack = w.error();
    else out.connack = link.read_exactly(4);
  }
  out.alert_received = engine->last_alert_received();
  out.native_error = engine->last_native_error();
  out.reset_seen = link.reset_seen;
  return out;
}

std::string describe(const session_outcome& o) {
  std::string s = "handshake " + (o.handshake ? std::string("ok (") + o.protocol + ")" : o.handshake.error().message());
  if (o.handshake) s += ", first read " + (o.connack ? std::string("CONNACK") : o.connack.error().message());
  s += ", alert received " + std::to_string(o.alert_received) + ", native " + std::to_string(o.native_error);
  if (o.reset_seen) s += ", TCP reset";
  return s;
}

}  // namespace

TEST_SUITE("tls.mosquitto") {

TEST_CASE("mutual TLS with mosquitto: CONNECT/CONNACK over TLS 1.2 and TLS 1.3") {
  auto& pki = testing::test_pki::shared();
  for (const std::string version : {"tlsv1.2", "tlsv1.3"}) {
    CAPTURE(version);
    testing::mosquitto_broker broker(broker_options(pki.server(), version));
    broker.start();
    const auto& device = pki.client("thing-1");
    auto ctx = net::wolfssl_context::create(device_config(&device, version));
    REQUIRE(ctx.has_value());
    auto outcome = connect_device(*ctx, broker.mutual_tls_port(), "thing-1");
    INFO(describe(outcome) << "\n" << broker.log_tail());
    REQUIRE(outcome.handshake.has_value());
    CHECK(outcome.protocol == (version == "tlsv1.2" ? "TLSv1.2" : "TLSv1.3"));
    REQUIRE(outcome.connack.has_value());
    CHECK(*outcome.connack == connack_accepted);
  }
}

TEST_CASE("traditional (SEC1) key file and an RSA server certificate") {
  auto& pki = testing::test_pki::shared();
  testing::mosquitto_broker broker(broker_options(pki.server_rsa(), ""));
  broker.start();
  const auto& device = pki.client("thing-sec1");
  auto cfg = device_config(&device, "");
  cfg.client_key = net::pem_file{pki.traditional_key_path(device)};
  auto ctx = net::wolfssl_context::create(cfg);
  REQUIRE(ctx.has_value());
  auto outcome = connect_device(*ctx, broker.mutual_tls_port(), "thing-sec1");
  INFO(describe(outcome));
  REQUIRE(outcome.connack.has_value());
  CHECK(*outcome.connack == connack_accepted);
}

TEST_CASE("refusals against mosquitto, each with its errc") {
  auto& pki = testing::test_pki::shared();
  struct refusal {
    std::string name;
    const testing::certified_key* server;
    const testing::certified_key* client;
    std::string server_name;
    errc expected;
  };
  const auto& good_client = pki.client("thing-1");
  const refusal cases[] = {
      {"server certificate from an unknown CA", &pki.server_untrusted(), &good_client, "localhost", errc::tls_certificate_untrusted},
      {"expired server certificate", &pki.server_expired(), &good_client, "localhost", errc::tls_certificate_expired},
      {"server certificate not yet valid", &pki.server_not_yet_valid(), &good_client, "localhost", errc::tls_certificate_expired},
      {"server certificate for another host", &pki.server_wrong_host(), &good_client, "localhost", errc::tls_hostname_mismatch},
      {"a name the server certificate does not carry", &pki.server(), &good_client, "broker.example", errc::tls_hostname_mismatch},
      {"no client certificate", &pki.server(), nullptr, "localhost", errc::tls_client_certificate_rejected},
      {"client certificate from another CA", &pki.server(), &pki.client_untrusted("thing-1"), "localhost",
       errc::tls_client_certificate_rejected},
      {"expired client certificate", &pki.server(), &pki.client_expired("thing-1"), "localhost", errc::tls_client_certificate_rejected},
  };
  for (const std::string version : {"tlsv1.2", "tlsv1.3"}) {
    for (const auto& c : cases) {
      CAPTURE(version);
      CAPTURE(c.name);
      testing::mosquitto_broker broker(broker_options(*c.server, version));
      broker.start();
      auto ctx = net::wolfssl_context::create(device_config(c.client, version, c.server_name));
      REQUIRE(ctx.has_value());
      auto outcome = connect_device(*ctx, broker.mutual_tls_port(), "thing-1");
      INFO(describe(outcome));
      const std::error_code got = !outcome.handshake ? outcome.handshake.error() : outcome.connack.error();
      CHECK(got == c.expected);
      MESSAGE(version << ", " << c.name << ": " << describe(outcome));
    }
  }
}

TEST_CASE("handshake time against mosquitto: ECDSA P-256 vs RSA-2048 server certificate") {
  auto& pki = testing::test_pki::shared();
  const auto& device = pki.client("thing-timing");
  struct kind {
    std::string name;
    const testing::certified_key* server;
  };
  const kind kinds[] = {{"ECDSA P-256", &pki.server()}, {"RSA-2048", &pki.server_rsa()}};
  for (const std::string version : {"tlsv1.2", "tlsv1.3"}) {
    auto ctx = net::wolfssl_context::create(device_config(&device, version));
    REQUIRE(ctx.has_value());
    for (const auto& k : kinds) {
      testing::mosquitto_broker broker(broker_options(*k.server, version));
      broker.start();
      constexpr int rounds = 20;
      std::vector<double> wall_ms;
      double cpu_ms = 0;
      std::size_t bytes_in = 0, bytes_out = 0;
      for (int i = 0; i < rounds; ++i) {
        auto engine = net::wolfssl_engine::create(*ctx);
        REQUIRE(engine.has_value());
        tls_over_socket link(*engine, broker.mutual_tls_port());
        const auto start = clock_type::now();
        const double cpu_start = thread_cpu_ms();
        REQUIRE(link.handshake().has_value());
        cpu_ms += thread_cpu_ms() - cpu_start;
        wall_ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
        bytes_in = link.bytes_in;
        bytes_out = link.bytes_out;
      }
      std::sort(wall_ms.begin(), wall_ms.end());
      MESSAGE(version << " " << k.name << ", mutual TLS: median " << wall_ms[rounds / 2] << " ms wall (best " << wall_ms.front()
                      << "), client CPU " << cpu_ms / rounds << " ms per handshake over " << rounds << " handshakes; bytes "
                      << bytes_out << " sent, " << bytes_in << " received");
    }
  }
}

}  // TEST_SUITE

#endif  // THINGWELL_WITH_WOLFSSL
