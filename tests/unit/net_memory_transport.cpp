// The in-memory transport and the fault-injecting wrapper, alone and under the poll driver with a
// scripted broker at the far end: short reads and writes, refused opens, links cut inside a packet, a
// blackholed link. Everything runs on a manual clock, so each run is the same.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <thingwell/net/faulty_transport.hpp>
#include <thingwell/net/memory_pipe.hpp>
#include <thingwell/net/poll_client.hpp>

#include "support/recording_observer.hpp"
#include "support/scripted_broker.hpp"

namespace {

using namespace session_testing;
using thingwell::byte;
using thingwell::bytes_view;
using thingwell::duration;
using thingwell::errc;
using thingwell::mutable_bytes;
using thingwell::time_point;
namespace net = thingwell::net;

std::string drain(net::memory_link_base& link) {
  std::string out;
  byte buf[7];  // odd size: reads cross the ring's wrap-around point
  for (std::size_t n; (n = link.server_read(buf)) != 0;) out.append(reinterpret_cast<const char*>(buf), n);
  return out;
}

TEST_CASE("memory_pipe: bytes both ways, bounded, in order across the ring's wrap-around") {
  net::memory_link<16> link;
  net::memory_pipe pipe{link};
  CHECK(pipe.send(view("x")).error() == errc::not_connected);
  REQUIRE(pipe.open().value_or(net::open_status::in_progress) == net::open_status::open);
  CHECK(link.connected());
  CHECK(link.connections() == 1);

  std::string expected;
  std::string seen;
  for (int i = 0; i < 40; ++i) {
    const std::string chunk = "abcdefghij" + std::to_string(i);
    auto n = pipe.send(view(chunk));
    REQUIRE(n.has_value());
    expected += chunk.substr(0, *n);
    seen += drain(link);
    if (*n < chunk.size()) expected.erase();  // keep the comparison simple: restart after a short write
    if (*n < chunk.size()) seen.erase();
  }
  CHECK(seen == expected);

  // Full: the rest is would_block, which is how back-pressure reaches the session.
  CHECK(pipe.send(view(std::string(16, 'a'))).value_or(0) == 16);
  CHECK(pipe.send(view("b")).error() == errc::would_block);

  CHECK(link.server_write(view("hello")) == 5);
  byte in[3];
  CHECK(pipe.recv(in).value_or(0) == 3);
  CHECK(pipe.recv(in).value_or(0) == 2);
  CHECK(pipe.recv(in).error() == errc::would_block);
}

TEST_CASE("memory_pipe: the far end hangs up after its last bytes; refused and repeated opens") {
  net::memory_link<64> link;
  net::memory_pipe pipe{link};
  link.refuse_connections(true);
  CHECK(pipe.open().error() == errc::connection_refused);
  CHECK(link.connections() == 0);
  link.refuse_connections(false);
  REQUIRE(pipe.open().has_value());

  CHECK(link.server_write(view("bye")) == 3);
  link.server_close();
  CHECK_FALSE(link.connected());
  CHECK(link.server_write(view("more")) == 0);
  byte in[8];
  CHECK(pipe.recv(in).value_or(0) == 3);  // what was sent before the close still arrives
  CHECK(pipe.recv(in).error() == errc::connection_reset);
  CHECK(pipe.send(view("x")).error() == errc::connection_reset);

  pipe.close();
  REQUIRE(pipe.open().has_value());
  CHECK(link.connections() == 2);
  CHECK(link.server_pending() == 0);  // a new connection starts empty
  CHECK(pipe.recv(in).error() == errc::would_block);
}

TEST_CASE("faulty_transport: chunks, stalls, cuts inside a packet, refused opens, blackhole") {
  net::memory_link<256> link;
  net::faulty_transport<net::memory_pipe> t{net::memory_pipe{link}};

  t.plan().refuse_opens = 2;
  t.plan().open_error = thingwell::make_error_code(errc::host_not_found);
  CHECK(t.open().error() == errc::host_not_found);
  CHECK(t.open().error() == errc::host_not_found);
  REQUIRE(t.open().has_value());
  CHECK(t.stats().refused_opens == 2);
  CHECK(t.stats().opens == 1);

  t.plan().max_send_chunk = 3;
  CHECK(t.send(view("abcdefgh")).value_or(0) == 3);
  t.plan().max_send_chunk = 0;

  t.plan().stall_every = 2;
  int stalls = 0;
  for (int i = 0; i < 6; ++i) stalls += t.send(view("z")).error() == errc::would_block;
  CHECK(stalls == 3);
  t.plan().stall_every = 0;

  // 3 + 3 bytes so far; the cut at 10 lets 4 more through, then the link is gone.
  t.plan().cut_after_sent = 10;
  CHECK(t.send(view("0123456789")).value_or(0) == 4);
  CHECK(t.send(view("x")).error() == errc::connection_reset);
  CHECK(t.send(view("x")).error() == errc::connection_reset);
  CHECK_FALSE(link.connected());  // the far end sees the connection go
  CHECK(t.stats().cuts == 1);
  CHECK(drain(link).empty());     // a closed link keeps nothing
  t.close();

  t.plan().cut_after_sent = 0;
  REQUIRE(t.open().has_value());
  CHECK(t.send(view("abc")).value_or(0) == 3);  // counters start over on a new connection
  CHECK(drain(link) == "abc");

  t.plan().blackhole = true;
  link.server_write(view("reply"));
  CHECK(t.send(view("lost")).value_or(0) == 4);
  byte in[8];
  CHECK(t.recv(in).error() == errc::would_block);
  CHECK(link.server_pending() == 0);
  CHECK(t.stats().bytes_blackholed == 4);
}

// ---- the poll driver over the fault wrapper, a scripted broker at the far end ------------------------

using faulty_pipe = net::faulty_transport<net::memory_pipe>;

// Moves bytes between the link and the broker, the way a network would, and tells the broker when a
// connection starts and ends.
class wire {
 public:
  wire(net::memory_link_base& link, scripted_broker& broker) : link_(link), broker_(broker) {}

  void carry() {
    if (link_.connections() != seen_connections_ && link_.connected()) {
      seen_connections_ = link_.connections();
      broker_.connection_opened();
      open_ = true;
    } else if (open_ && !link_.connected()) {
      broker_.connection_closed();
      open_ = false;
    }
    if (!open_) return;
    byte buf[512];
    for (std::size_t n; (n = link_.server_read(buf)) != 0;) broker_.receive(bytes_view(buf, n));
    const bytes_view out = broker_.outbound();
    if (!out.empty()) broker_.consume(link_.server_write(out));
  }

 private:
  net::memory_link_base& link_;
  scripted_broker& broker_;
  std::uint32_t seen_connections_ = 0;
  bool open_ = false;
};

struct poll_rig {
  explicit poll_rig(const mqtt::session_config& config, const net::fault_plan& plan = {})
      : clock(time_point{duration{5'000'000}}),
        broker(config.version, clock),
        client(faulty_pipe{net::memory_pipe{link}, plan}, config, observer, mqtt::session_limits{}, {}, 7),
        w(link, broker) {
    broker.replies = {.connack = true, .pingresp = true, .suback = true, .unsuback = true, .puback = true, .qos2 = true};
  }

  thingwell::manual_clock clock;
  net::memory_link<1024> link;
  recording_observer observer;
  scripted_broker broker;
  net::poll_client<faulty_pipe> client;
  wire w;

  faulty_pipe& transport() { return client.transport(); }

  // Polls and carries bytes until `done` or until `limit` of simulated time has passed; time jumps to the
  // next deadline when nothing moves.
  template <class Done>
  bool run_until(Done done, duration limit = duration{600'000}) {
    const time_point end = clock.now() + limit;
    while (clock.now() <= end) {
      for (int i = 0; i < 8; ++i) {
        (void)client.poll(clock.now());
        w.carry();
      }
      if (done()) return true;
      const time_point next = client.poll(clock.now());
      w.carry();
      if (done()) return true;
      const duration step = next > clock.now() ? std::min<duration>(next - clock.now(), duration{50}) : duration{1};
      clock.advance(step);
    }
    return false;
  }
};

mqtt::session_config config_v5() {
  mqtt::session_config c = basic_config(mqtt::protocol_version::v5);
  c.keep_alive = 10;
  return c;
}

TEST_CASE("poll driver over a memory pipe: subscribe, QoS 0/1/2 both ways, with 1-byte reads and writes") {
  for (const std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{5}}) {
    CAPTURE(chunk);
    poll_rig r(config_v5(), {.max_send_chunk = chunk, .max_recv_chunk = chunk, .stall_every = chunk == 5 ? 3u : 0u});
    std::vector<std::string> got;
    REQUIRE(!r.client.start(r.clock.now()));
    REQUIRE(r.run_until([&] { return r.client.session().is_ready(); }));
    REQUIRE(r.client.subscribe("cmd/#", [&](const mqtt::publish& p) { got.emplace_back(text(p.payload)); }).has_value());
    REQUIRE(r.run_until([&] { return r.observer.count("subscribe_done") == 1; }));

    for (int i = 0; i < 30; ++i) {
      mqtt::publish_options o;
      o.qos = static_cast<mqtt::qos>(i % 3);
      auto t = r.client.publish("dt/x", view("m" + std::to_string(i)), o);
      REQUIRE_MESSAGE(t.has_value(), t.error().message());
    }
    REQUIRE(r.run_until([&] { return r.observer.count("publish_done") == 20; }));  // QoS 1 and 2 complete
    for (const event& e : r.observer.all("publish_done")) CHECK(!e.error);
    CHECK(r.broker.count(mqtt::packet_type::publish) == 30);

    r.broker.send_publish("cmd/a", "one", mqtt::qos::at_least_once, 11);
    r.broker.send_publish("cmd/b", "two", mqtt::qos::exactly_once, 12);
    REQUIRE(r.run_until([&] { return got.size() == 2; }));
    CHECK(got == std::vector<std::string>{"one", "two"});
    if (chunk == 1) CHECK(r.transport().stats().bytes_sent > 30);
  }
}

TEST_CASE("poll driver: refused opens take the backoff path, then the client connects") {
  mqtt::session_config c = config_v5();
  poll_rig r(c, {.refuse_opens = 3});
  REQUIRE(!r.client.start(r.clock.now()));
  REQUIRE(r.run_until([&] { return r.client.session().is_ready(); }));
  CHECK(r.observer.count("connect_failed") == 3);
  const auto backoffs = r.observer.all("backoff");
  REQUIRE(backoffs.size() == 3);
  CHECK(backoffs[0].delay == duration{1000});  // basic_config: no jitter, 1 s base, doubling
  CHECK(backoffs[1].delay == duration{2000});
  CHECK(backoffs[2].delay == duration{4000});
  CHECK(r.transport().stats().refused_opens == 3);
}

TEST_CASE("poll driver: the link cut inside a packet at every offset; every QoS 1 message completes") {
  // The cut falls at every byte of the first connection's traffic in turn: inside CONNECT, inside a
  // PUBLISH, between packets. The session reconnects and the messages are all acknowledged.
  mqtt::session_config c = config_v5();
  c.mode = mqtt::session_mode::always_resume;
  c.session_expiry = 600;
  for (std::uint64_t cut = 1; cut <= 160; cut += 3) {
    CAPTURE(cut);
    poll_rig r(c, {.cut_after_sent = cut});
    r.broker.connack_reply.session_present = false;
    REQUIRE(!r.client.start(r.clock.now()));
    std::vector<mqtt::token> tokens;
    for (int i = 0; i < 6; ++i) {
      mqtt::publish_options o;
      o.qos = mqtt::qos::at_least_once;
      auto t = r.client.publish("dt/cut", view("payload-" + std::to_string(i)), o);
      REQUIRE(t.has_value());
      tokens.push_back(*t);
    }
    // The first connection dies at the cut; the next ones are clean.
    REQUIRE(r.run_until([&] { return r.transport().stats().cuts == 1 || r.observer.count("publish_done") == 6; }));
    r.transport().plan().cut_after_sent = 0;
    REQUIRE(r.run_until([&] { return r.observer.count("publish_done") == 6; }));
    for (const event& e : r.observer.all("publish_done")) CHECK(!e.error);
    std::vector<mqtt::token> done;
    for (const event& e : r.observer.all("publish_done")) done.push_back(e.token);
    CHECK(done == tokens);  // completed in publish order
  }
}

TEST_CASE("poll driver: a blackholed link is declared dead within 1.5 x keep-alive, then reconnects") {
  poll_rig r(config_v5());
  REQUIRE(!r.client.start(r.clock.now()));
  REQUIRE(r.run_until([&] { return r.client.session().is_ready(); }));
  r.observer.clear();
  const time_point from = r.clock.now();
  r.transport().plan().blackhole = true;
  REQUIRE(r.run_until([&] { return r.observer.count("disconnected") == 1; }, duration{60'000}));
  const duration took = r.clock.now() - from;
  CHECK(took <= duration{15'000});  // keep-alive 10 s
  CHECK(took >= duration{10'000});  // not before a PINGREQ was due and went unanswered
  CHECK(r.observer.last("disconnected").error == errc::keep_alive_timeout);

  r.transport().plan().blackhole = false;
  r.transport().close();
  REQUIRE(r.run_until([&] { return r.client.session().is_ready(); }));
}

}  // namespace
