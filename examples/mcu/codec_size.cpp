// The MQTT codec on a Cortex-M4: encodes and decodes the packets a small device uses, in caller
// buffers, with no heap. Built by scripts/mcu-size.sh, which reports its flash size and runs it under
// QEMU; main returns 0 when every round trip matched.
#include <thingwell/mqtt/decode.hpp>
#include <thingwell/mqtt/encode.hpp>
#include <thingwell/mqtt/frame_reader.hpp>

using namespace thingwell;
using namespace thingwell::mqtt;

namespace {

int check_publish(protocol_version v) {
  byte buffer[128];
  publish out;
  out.topic = "dt/sensor-7/temperature";
  out.payload = as_bytes("{\"c\":21.5}");
  out.qos = qos::at_least_once;
  out.packet_id = 42;
  auto n = encode(out, v, buffer);
  if (!n) return 1;
  auto in = decode_publish({buffer, *n}, v);
  if (!in || in->topic != out.topic || !equal(in->payload, out.payload) || in->packet_id != 42) return 2;
  return 0;
}

int check_connect() {
  byte buffer[128];
  connect c;
  c.client_id = "sensor-7";
  c.keep_alive = 60;
  c.will = will_message{"dt/sensor-7/status", as_bytes("offline"), qos::at_least_once, true, {}};
  c.props.session_expiry_interval = 3600;
  auto n = encode(c, protocol_version::v5, buffer);
  if (!n) return 3;
  auto d = decode_connect({buffer, *n});
  if (!d || d->client_id != c.client_id || !d->will || d->props.session_expiry_interval != 3600u) return 4;
  return 0;
}

int check_subscribe_and_stream() {
  byte buffer[64];
  const subscription wanted[] = {{"cmd/sensor-7/#", qos::at_least_once}};
  subscribe s;
  s.packet_id = 7;
  s.subscriptions = wanted;
  auto n = encode(s, protocol_version::v5, buffer);
  if (!n) return 5;
  // A SUBACK arriving one byte at a time.
  const byte suback_bytes[] = {0x90, 0x04, 0x00, 0x07, 0x00, 0x01};
  static_frame_reader<64> reader;
  int frames = 0;
  for (byte b : suback_bytes) {
    (void)reader.feed({&b, 1});
    auto f = reader.next();
    if (!f) return 6;
    if (f->empty()) continue;
    auto ack = decode_suback(*f, protocol_version::v5);
    if (!ack || ack->packet_id != 7 || *ack->reasons.begin() != reason_code::granted_qos_1) return 7;
    ++frames;
  }
  return frames == 1 ? 0 : 8;
}

}  // namespace

int main() {
  if (int e = check_publish(protocol_version::v311)) return e;
  if (int e = check_publish(protocol_version::v5)) return 10 + e;
  if (int e = check_connect()) return e;
  return check_subscribe_and_stream();
}
