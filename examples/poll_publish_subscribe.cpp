// Publish and subscribe with the poll driver: one loop, no threads, no heap after start-up.
// The same code runs on a microcontroller with its own non-blocking transport instead of net::tcp.
//
//   poll_publish_subscribe [host] [port]        (defaults: localhost 1883)
#include <thingwell/thingwell.hpp>

#include <cstdio>
#include <cstdlib>

using namespace thingwell;

// Lifecycle events arrive here, on the thread that calls poll().
struct events final : mqtt::session_observer {
  void on_connecting(std::uint32_t attempt) override { std::printf("connecting (attempt %u)\n", attempt); }
  void on_ready() override {
    std::puts("ready");
    ready = true;
  }
  void on_connect_failed(const mqtt::connect_failed_event& e) override {
    std::printf("connect failed: %s\n", e.error.message().c_str());
  }
  void on_publish_done(mqtt::token, std::error_code ec) override {
    ++acknowledged;
    if (ec) std::printf("publish failed: %s\n", ec.message().c_str());
  }
  void on_stopped() override { stopped = true; }
  bool ready = false;
  bool stopped = false;
  int acknowledged = 0;
};

int main(int argc, char** argv) {
  const char* host = argc > 1 ? argv[1] : "localhost";
  const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 1883);

  mqtt::session_config config;
  config.client_id = "thingwell-example-poll";
  config.keep_alive = 30;

  // All of the client's memory, fixed at compile time: the compact profile needs a few kilobytes.
  alignas(std::max_align_t) static byte memory[16 * 1024];
  static_assert(sizeof(memory) >= 1);

  events ev;
  system_clock clock;
  net::poll_client<net::tcp> client{net::tcp{host, port}, config, ev, mqtt::compact_session_limits, memory};

  int received = 0;
  (void)client.subscribe("demo/poll/#", [&received](const mqtt::publish& m) {
    ++received;
    std::printf("received %.*s\n", int(m.payload.size()), reinterpret_cast<const char*>(m.payload.data()));
  });
  if (auto ec = client.start(clock.now())) {
    std::printf("cannot start: %s\n", ec.message().c_str());
    return 1;
  }

  bool published = false;
  const time_point give_up = clock.now() + duration{10000};
  while (!ev.stopped && clock.now() < give_up) {
    const time_point next = client.poll(clock.now());
    if (ev.ready && !published) {
      for (const char* text : {"one", "two", "three"})
        (void)client.publish("demo/poll/counting", as_bytes(text), {.qos = mqtt::qos::at_least_once});
      published = true;
    }
    if (received == 3 && ev.acknowledged == 3) client.stop(clock.now());
    client.wait(clock.now(), next);  // sleeps until the socket is ready or a timer is due
  }
  std::printf("received %d, acknowledged %d\n", received, ev.acknowledged);
  return received == 3 ? 0 : 1;
}
