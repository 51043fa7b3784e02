// The whole library from one file: this program sees only single_include/thingwell/thingwell.hpp.
// It publishes one QoS 1 message to itself with the poll driver and exits.
//
//   hello [host] [port]        (defaults: localhost 1883)
#include <thingwell/thingwell.hpp>

#include <cstdio>
#include <cstdlib>

using namespace thingwell;

int main(int argc, char** argv) {
  struct events final : mqtt::session_observer {
    void on_ready() override { ready = true; }
    void on_publish_done(mqtt::token, std::error_code ec) override { acknowledged = !ec; }
    void on_stopped() override { stopped = true; }
    bool ready = false, acknowledged = false, stopped = false;
  } ev;

  mqtt::session_config config;
  config.client_id = "thingwell-hello";
  const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 1883);
  net::poll_client<net::tcp> client{net::tcp{argc > 1 ? argv[1] : "localhost", port}, config, ev};

  bool received = false;
  (void)client.subscribe("demo/hello", [&](const mqtt::publish&) { received = true; });
  system_clock clock;
  if (client.start(clock.now())) return 1;
  const time_point give_up = clock.now() + duration{10000};
  bool sent = false;
  while (!ev.stopped && clock.now() < give_up) {
    const time_point next = client.poll(clock.now());
    if (ev.ready && !sent) sent = bool(client.publish("demo/hello", as_bytes("hello"), {.qos = mqtt::qos::at_least_once}));
    if (received && ev.acknowledged) client.stop(clock.now());
    client.wait(clock.now(), next);
  }
  std::printf("hello: %s\n", received && ev.acknowledged ? "sent, acknowledged and received" : "failed");
  return received && ev.acknowledged ? 0 : 1;
}
