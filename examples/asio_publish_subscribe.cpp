// Publish and subscribe with the Asio driver and plain callbacks.
//
//   asio_publish_subscribe [host] [port]        (defaults: localhost 1883)
//
// Subscribes to demo/greetings/#, publishes five QoS 1 messages to it, prints them as they come
// back, then disconnects cleanly.
#include <thingwell/thingwell.hpp>

#include <asio/io_context.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace thingwell;

int main(int argc, char** argv) {
  net::client_options options;
  options.host = argc > 1 ? argv[1] : "localhost";
  options.port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 1883);
  options.client_id = "thingwell-example-callbacks";

  asio::io_context io;
  net::asio_client<net::asio_tcp> client{io.get_executor(), options};
  constexpr int total = 5;
  int received = 0;

  auto on_message = [&](const mqtt::publish& m) {
    std::printf("received %.*s: %.*s\n", int(m.topic.size()), m.topic.data(), int(m.payload.size()),
                reinterpret_cast<const char*>(m.payload.data()));
    if (++received == total) client.async_disconnect([](std::error_code) { std::puts("disconnected"); });
  };

  client.async_connect([&](std::error_code ec) {
    if (ec) {
      std::printf("connect failed: %s\n", ec.message().c_str());
      client.async_disconnect([](std::error_code) {});
      return;
    }
    std::puts("connected");
    client.async_subscribe("demo/greetings/#", on_message, {}, [&](std::error_code refused, mqtt::reason_code granted) {
      if (refused) return (void)std::printf("subscribe failed: %s\n", refused.message().c_str());
      std::printf("subscribed, granted QoS %d\n", int(granted));
      for (int i = 1; i <= total; ++i) {
        const std::string text = "hello #" + std::to_string(i);
        client.async_publish("demo/greetings/callbacks", text, {.qos = mqtt::qos::at_least_once},
                             [i](std::error_code lost) { std::printf("message %d %s\n", i, lost ? lost.message().c_str() : "acknowledged"); });
      }
    });
  });

  io.run();
  return received == total ? 0 : 1;
}
