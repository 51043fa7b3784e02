// Publish and subscribe with the Asio driver and C++20 coroutines.
//
//   asio_coroutines [host] [port]        (defaults: localhost 1883)
#include <thingwell/thingwell.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace thingwell;
using asio::use_awaitable;
// Completion as a tuple: errors come back as values instead of exceptions.
constexpr auto as_tuple = asio::experimental::as_tuple(use_awaitable);

asio::awaitable<int> run(net::asio_client<net::asio_tcp>& client) {
  auto [connected] = co_await client.async_connect(as_tuple);
  if (connected) {
    std::printf("connect failed: %s\n", connected.message().c_str());
    co_return 1;
  }
  int received = 0;
  auto [subscribed, granted] = co_await client.async_subscribe(
      "demo/coroutines/#", [&](const mqtt::publish& m) {
        ++received;
        std::printf("received %.*s\n", int(m.payload.size()), reinterpret_cast<const char*>(m.payload.data()));
      },
      {}, as_tuple);
  if (subscribed) co_return 1;
  std::printf("subscribed, granted QoS %d\n", int(granted));

  for (int i = 1; i <= 3; ++i) {
    // Each co_await resumes when the broker's PUBACK arrives.
    auto [published] = co_await client.async_publish("demo/coroutines/reading", "reading " + std::to_string(i),
                                                     {.qos = mqtt::qos::at_least_once}, as_tuple);
    std::printf("reading %d: %s\n", i, published ? published.message().c_str() : "acknowledged");
  }
  asio::steady_timer pause{co_await asio::this_coro::executor, std::chrono::milliseconds(200)};
  while (received < 3) {
    co_await pause.async_wait(as_tuple);
    pause.expires_after(std::chrono::milliseconds(50));
  }
  co_await client.async_disconnect(as_tuple);
  std::puts("disconnected");
  co_return 0;
}

int main(int argc, char** argv) {
  net::client_options options;
  options.host = argc > 1 ? argv[1] : "localhost";
  options.port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 1883);
  options.client_id = "thingwell-example-coroutines";

  asio::io_context io;
  net::asio_client<net::asio_tcp> client{io.get_executor(), options};
  int status = 1;
  asio::co_spawn(io, run(client), [&](std::exception_ptr, int result) { status = result; });
  io.run();
  return status;
}
