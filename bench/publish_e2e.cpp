// End-to-end QoS 0 PUBLISH: encode and hand to the kernel, over loopback TCP, for thingwell and peers.
//
// libmosquitto and Paho C encode a PUBLISH only inside a connected client, so the only fair
// comparison of their publish path is end to end: each client connects to the same local sink (a
// forked process that answers CONNECT with CONNACK and then reads and discards everything), publishes
// N messages, and the cost is the publishing process's CPU time (user + system, all threads) per
// message. The sink's own CPU is not counted. Under callgrind the same cases give user-space
// instructions per message (the kernel's work is invisible to callgrind).
//
// thingwell has no connected client yet in this measurement: its row is mqtt::encode plus one send()
// per packet on a blocking socket, i.e. the floor under any thingwell driver. The peers' rows include
// what their clients do per publish beyond that (allocation, queueing, locks, wake-up writes). All
// clients use MQTT 3.1.1 and the kernel's default Nagle setting (none of them sets TCP_NODELAY by default).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <thingwell/mqtt.hpp>

#include "bench.hpp"

#if THINGWELL_BENCH_WITH_MOSQUITTO
#  include <mosquitto.h>
#endif
#if THINGWELL_BENCH_WITH_PAHO
extern "C" {
#  include <MQTTClient.h>
}
#endif

namespace mqtt = thingwell::mqtt;
using thingwell::byte;
using thingwell::bytes_view;

namespace {

constexpr std::string_view topic = "dt/thingwell/bench-device-0001/telemetry";

// ---- the sink ------------------------------------------------------------------------------------------

struct sink_state {
  pid_t pid = -1;
  int port = 0;
  int report_fd = -1;  // the sink writes the byte count of each finished connection here
};
sink_state sink;

bool read_exact(int fd, void* out, std::size_t n) {
  auto* p = static_cast<char*>(out);
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// One connection: read the CONNECT, answer CONNACK (3.1.1 or 5 as asked), then count and drop bytes.
void serve(int fd, int report_fd) {
  unsigned long long total = 0;
  byte header[5];
  if (read_exact(fd, header, 2) && (header[0] >> 4) == 1) {
    std::uint32_t remaining = header[1] & 0x7F;
    int shift = 7, used = 1;
    while ((header[used] & 0x80) && used < 4 && read_exact(fd, &header[used + 1], 1)) {
      remaining |= static_cast<std::uint32_t>(header[used + 1] & 0x7F) << shift;
      shift += 7;
      ++used;
    }
    std::vector<byte> body(remaining);
    if (read_exact(fd, body.data(), body.size())) {
      total = 1 + used + remaining;
      const bool v5 = body.size() > 6 && body[6] == 5;
      const byte connack_v311[] = {0x20, 0x02, 0x00, 0x00};
      const byte connack_v5[] = {0x20, 0x03, 0x00, 0x00, 0x00};
      if (v5) write_all(fd, connack_v5, sizeof connack_v5);
      else write_all(fd, connack_v311, sizeof connack_v311);
      static byte drain[1 << 16];
      for (;;) {
        const ssize_t r = ::read(fd, drain, sizeof drain);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        total += static_cast<unsigned long long>(r);
      }
    }
  }
  ::close(fd);
  (void)!::write(report_fd, &total, sizeof total);
}

void stop_sink() {
  if (sink.pid > 0) {
    ::kill(sink.pid, SIGTERM);
    ::waitpid(sink.pid, nullptr, 0);
    sink.pid = -1;
  }
}

int connect_to_sink() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(sink.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Bytes the sink received on the last connection that closed (blocks until it has closed).
unsigned long long sink_report() {
  unsigned long long total = 0;
  if (!read_exact(sink.report_fd, &total, sizeof total)) bench::fail("sink did not report");
  return total;
}

// ---- shared per-case bookkeeping ------------------------------------------------------------------------

struct publish_run {
  std::vector<byte> payload;
  std::uint64_t published = 0;  // messages handed to the client since setup
  std::size_t packet_size = 0;  // PUBLISH bytes on the wire
};

std::vector<byte> make_payload(std::size_t n) {
  std::vector<byte> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<byte>('a' + i % 26);
  return p;
}

std::size_t wire_size(std::size_t payload) {
  mqtt::publish p;
  p.topic = topic;
  std::vector<byte> dummy(payload);
  p.payload = dummy;
  return *mqtt::encoded_size(p, mqtt::protocol_version::v311);
}

// After a client disconnected: every published message must have reached the sink, or the client
// queued instead of sending and its CPU time would be understated.
void verify_delivery(const char* who, const publish_run& r) {
  const unsigned long long received = sink_report();
  const unsigned long long expected = static_cast<unsigned long long>(r.published) * r.packet_size;
  if (received < expected)
    bench::fail(std::string(who) + ": sink received " + std::to_string(received) + " bytes, expected at least " +
                std::to_string(expected));
}

bench::case_def make_case(std::string id, std::size_t payload, std::string impl, std::string op, std::string note) {
  bench::case_def c;
  c.id = std::move(id);
  c.what = "e2e PUBLISH 3.1.1 QoS 0, " + std::string(payload == 64 ? "64 B" : "4 KB");
  c.op = std::move(op);
  c.impl = std::move(impl);
  c.note = std::move(note);
  c.clock = bench::clock_kind::process_cpu;
  c.callgrind_iterations = payload == 64 ? 5000 : 2000;
  return c;
}

// ---- thingwell: encode + send ---------------------------------------------------------------------------

void add_thingwell(std::size_t payload, bool gather) {
  struct state {
    publish_run run;
    int fd = -1;
    mqtt::publish packet;
    std::vector<byte> buffer;
  };
  auto* s = new state;
  s->run.payload = make_payload(payload);
  s->run.packet_size = wire_size(payload);
  s->packet.topic = topic;
  s->packet.payload = s->run.payload;
  s->buffer.resize(s->run.packet_size + 16);

  const std::string id = "e2e.q0." + std::string(payload == 64 ? "64" : "4k") + ".thingwell" + (gather ? "_gather" : "");
  bench::case_def c = make_case(id, payload, "thingwell", gather ? "encode_publish_header + sendmsg" : "encode + send",
                                gather ? "payload sent in place (iovec)" : "floor under any driver");
  c.setup = [s] {
    s->fd = connect_to_sink();
    if (s->fd < 0) return false;
    mqtt::connect hello;
    hello.version = mqtt::protocol_version::v311;
    hello.client_id = "bench-thingwell";
    hello.keep_alive = 60;
    byte out[64];
    auto n = mqtt::encode(hello, mqtt::protocol_version::v311, out);
    if (!n || !write_all(s->fd, out, *n)) return false;
    byte ack[4];
    if (!read_exact(s->fd, ack, sizeof ack)) return false;
    auto connack = mqtt::decode_connack(ack, mqtt::protocol_version::v311);
    s->run.published = 0;
    return connack && connack->reason == mqtt::reason_code::success;
  };
  c.run = [s, gather](std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
      if (gather) {
        auto h = mqtt::encode_publish_header(s->packet, mqtt::protocol_version::v311, s->buffer);
        if (!h) bench::fail("encode_publish_header failed");
        iovec iov[2] = {{s->buffer.data(), *h},
                        {const_cast<byte*>(s->packet.payload.data()), s->packet.payload.size()}};
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = 2;
        const ssize_t w = ::sendmsg(s->fd, &msg, MSG_NOSIGNAL);
        // A short write on a blocking socket only happens on a signal; finish it the simple way.
        if (w < 0) bench::fail("sendmsg failed");
        const std::size_t total = *h + s->packet.payload.size();
        if (static_cast<std::size_t>(w) < total) {
          std::vector<byte> rest(s->buffer.begin(), s->buffer.begin() + static_cast<std::ptrdiff_t>(*h));
          rest.insert(rest.end(), s->packet.payload.begin(), s->packet.payload.end());
          if (!write_all(s->fd, rest.data() + w, total - static_cast<std::size_t>(w))) bench::fail("send failed");
        }
      } else {
        auto size = mqtt::encode(s->packet, mqtt::protocol_version::v311, s->buffer);
        if (!size) bench::fail("encode failed");
        if (!write_all(s->fd, s->buffer.data(), *size)) bench::fail("send failed");
      }
    }
    s->run.published += n;
    return n;
  };
  c.teardown = [s] {
    const byte disconnect[] = {0xE0, 0x00};
    write_all(s->fd, disconnect, sizeof disconnect);
    ::close(s->fd);
    s->fd = -1;
    verify_delivery("thingwell", s->run);
  };
  bench::add(std::move(c));
}

// ---- libmosquitto: mosquitto_publish ---------------------------------------------------------------------

#if THINGWELL_BENCH_WITH_MOSQUITTO
void add_mosquitto(std::size_t payload) {
  struct state {
    publish_run run;
    mosquitto* mosq = nullptr;
    bool connected = false;
  };
  auto* s = new state;
  s->run.payload = make_payload(payload);
  s->run.packet_size = wire_size(payload);

  bench::case_def c = make_case(std::string("e2e.q0.") + (payload == 64 ? "64" : "4k") + ".mosquitto", payload,
                                "libmosquitto", "mosquitto_publish", "no loop thread; writes inline");
  c.setup = [s] {
    mosquitto_lib_init();
    s->mosq = mosquitto_new("bench-mosquitto", true, s);
    if (s->mosq == nullptr) return false;
    mosquitto_connect_callback_set(s->mosq, [](mosquitto*, void* self, int rc) {
      static_cast<state*>(self)->connected = rc == 0;
    });
    s->connected = false;
    if (mosquitto_connect(s->mosq, "127.0.0.1", sink.port, 60) != MOSQ_ERR_SUCCESS) return false;
    for (int i = 0; i < 100 && !s->connected; ++i) mosquitto_loop(s->mosq, 100, 1);
    s->run.published = 0;
    return s->connected;
  };
  c.run = [s](std::uint64_t n) {
    const int len = static_cast<int>(s->run.payload.size());
    for (std::uint64_t i = 0; i < n; ++i) {
      const int rc = mosquitto_publish(s->mosq, nullptr, topic.data(), len, s->run.payload.data(), 0, false);
      if (rc != MOSQ_ERR_SUCCESS) bench::fail(std::string("mosquitto_publish: ") + mosquitto_strerror(rc));
    }
    // Anything the socket did not take at once is still queued: flushing it is part of the cost.
    while (mosquitto_want_write(s->mosq)) mosquitto_loop_write(s->mosq, 1);
    s->run.published += n;
    return n;
  };
  c.teardown = [s] {
    mosquitto_disconnect(s->mosq);
    mosquitto_destroy(s->mosq);
    s->mosq = nullptr;
    verify_delivery("libmosquitto", s->run);
  };
  bench::add(std::move(c));
}
#endif

// ---- Paho C: MQTTClient_publish --------------------------------------------------------------------------

#if THINGWELL_BENCH_WITH_PAHO
void add_paho(std::size_t payload) {
  struct state {
    publish_run run;
    MQTTClient client = nullptr;
  };
  auto* s = new state;
  s->run.payload = make_payload(payload);
  s->run.packet_size = wire_size(payload);

  bench::case_def c = make_case(std::string("e2e.q0.") + (payload == 64 ? "64" : "4k") + ".paho", payload, "Paho C",
                                "MQTTClient_publish", "synchronous client");
  c.setup = [s] {
    const std::string uri = "tcp://127.0.0.1:" + std::to_string(sink.port);
    if (MQTTClient_create(&s->client, uri.c_str(), "bench-paho", MQTTCLIENT_PERSISTENCE_NONE, nullptr) !=
        MQTTCLIENT_SUCCESS)
      return false;
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.keepAliveInterval = 60;
    opts.cleansession = 1;
    opts.MQTTVersion = MQTTVERSION_3_1_1;
    s->run.published = 0;
    return MQTTClient_connect(s->client, &opts) == MQTTCLIENT_SUCCESS;
  };
  c.run = [s](std::uint64_t n) {
    const int len = static_cast<int>(s->run.payload.size());
    for (std::uint64_t i = 0; i < n; ++i) {
      MQTTClient_deliveryToken token = 0;
      const int rc = MQTTClient_publish(s->client, topic.data(), len, s->run.payload.data(), 0, 0, &token);
      if (rc != MQTTCLIENT_SUCCESS) bench::fail("MQTTClient_publish failed: " + std::to_string(rc));
    }
    s->run.published += n;
    return n;
  };
  c.teardown = [s] {
    MQTTClient_disconnect(s->client, 1000);
    MQTTClient_destroy(&s->client);
    verify_delivery("Paho C", s->run);
  };
  bench::add(std::move(c));
}
#endif

}  // namespace

bool publish_e2e_prepare() {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 4) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listener);
    return false;
  }
  sink.port = ntohs(addr.sin_port);
  int report[2];
  if (::pipe(report) != 0) return false;
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the benchmark
    ::close(report[0]);
    for (;;) {
      const int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) {
        if (errno == EINTR) continue;
        ::_exit(0);
      }
      serve(fd, report[1]);
    }
  }
  ::close(listener);
  ::close(report[1]);
  sink.pid = pid;
  sink.report_fd = report[0];
  std::atexit(stop_sink);
  return true;
}

void register_publish_e2e_cases() {
  if (sink.pid <= 0) return;
  for (std::size_t payload : {std::size_t{64}, std::size_t{4096}}) {
    add_thingwell(payload, false);
    if (payload > 64) add_thingwell(payload, true);
#if THINGWELL_BENCH_WITH_MOSQUITTO
    add_mosquitto(payload);
#endif
#if THINGWELL_BENCH_WITH_PAHO
    add_paho(payload);
#endif
  }
}
