// A complete MQTT 5 client on a Cortex-M4: the poll driver over a non-blocking transport, with all of
// its memory in one static block. The "network" here is a stand-in broker that answers with
// hand-written bytes, so the image runs under QEMU with no network: CONNECT → CONNACK, SUBSCRIBE →
// SUBACK, PUBLISH QoS 1 → PUBACK and the message echoed back to our subscription.
// On a real board, replace loopback_broker with the modem's or the TCP/IP stack's socket calls.
#include <thingwell/net/poll_client.hpp>

#include <cstring>

using namespace thingwell;

namespace {

// A transport whose peer is a scripted broker living in RAM.
class loopback_broker {
 public:
  result<net::open_status> open() noexcept { return net::open_status::open; }
  void close() noexcept {}

  result<std::size_t> send(bytes_view out) noexcept {
    // Handle one whole packet at a time (the session writes packets whole).
    const std::uint8_t type = out[0] >> 4;
    if (type == 1) reply({0x20, 0x03, 0x00, 0x00, 0x00});                      // CONNACK, no properties
    if (type == 8) reply({0x90, 0x04, out[2], out[3], 0x00, 0x01});             // SUBACK granting QoS 1
    if (type == 3 && (out[0] & 0x06) == 0x02) {                                 // PUBLISH QoS 1
      const std::size_t topic_end = 2 + 2 + ((out[2] << 8) | out[3]);
      reply({0x40, 0x03, out[topic_end], out[topic_end + 1], 0x00});            // PUBACK
      echo(out);
    }
    std::size_t n = 2 + out[1];  // every packet here is shorter than 128 bytes
    return n < out.size() ? n : out.size();
  }

  result<std::size_t> recv(mutable_bytes in) noexcept {
    if (pending_ == 0) return errc::would_block;
    const std::size_t n = pending_ < in.size() ? pending_ : in.size();
    std::memcpy(in.data(), inbox_, n);
    std::memmove(inbox_, inbox_ + n, pending_ - n);
    pending_ -= n;
    return n;
  }

 private:
  void reply(std::initializer_list<byte> bytes) noexcept {
    for (byte b : bytes) inbox_[pending_++] = b;
  }
  // The broker delivers the message to our own subscription, as QoS 0.
  void echo(bytes_view publish) noexcept {
    const std::size_t topic_length = (publish[2] << 8) | publish[3];
    const std::size_t body = publish[1] - 2;  // minus the packet identifier
    inbox_[pending_++] = 0x30;
    inbox_[pending_++] = static_cast<byte>(body);
    std::memcpy(inbox_ + pending_, publish.data() + 2, 2 + topic_length);
    pending_ += 2 + topic_length;
    const std::size_t rest = body - 2 - topic_length;
    std::memcpy(inbox_ + pending_, publish.data() + 4 + topic_length + 2, rest);  // properties + payload
    pending_ += rest;
  }

  byte inbox_[256];
  std::size_t pending_ = 0;
};

struct events final : mqtt::session_observer {
  void on_ready() override { ready = true; }
  void on_publish_done(mqtt::token, std::error_code ec) override { acknowledged += ec ? 0 : 1; }
  bool ready = false;
  int acknowledged = 0;
};

alignas(8) byte client_memory[12 * 1024];

}  // namespace

int main() {
  mqtt::session_config config;
  config.client_id = "sensor-7";
  config.keep_alive = 60;
  config.limits = mqtt::aws_iot_core_limits;

  events ev;
  if (mqtt::session::memory_needed(mqtt::compact_session_limits) > sizeof(client_memory)) return 1;
  net::poll_client<loopback_broker> client{loopback_broker{}, config, ev, mqtt::compact_session_limits, client_memory,
                                           /*seed=*/0x5EED};
  int received = 0;
  (void)client.subscribe("cmd/sensor-7/#", [&received](const mqtt::publish& m) { received += m.payload.size() == 2; });

  time_point now{};
  if (client.start(now)) return 2;
  for (int step = 0; step < 100 && !ev.ready; ++step) client.poll(now += duration{10});
  if (!ev.ready) return 3;
  if (!client.publish("cmd/sensor-7/led", as_bytes("on"), {.qos = mqtt::qos::at_least_once})) return 4;
  for (int step = 0; step < 100 && (received == 0 || ev.acknowledged == 0); ++step) client.poll(now += duration{10});
  return received == 1 && ev.acknowledged == 1 ? 0 : 5;
}
