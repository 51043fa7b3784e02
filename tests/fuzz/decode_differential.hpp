// The check behind fuzz_decode_v311 and fuzz_decode_v5: decode arbitrary bytes; whatever decodes must
// encode again, decode to an equal packet, and the second encoding must equal the first. Any
// disagreement between encoder and decoder aborts, so that libFuzzer records the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>

#include "../unit/mqtt_testing.hpp"

namespace fuzz_mqtt {

namespace mqtt = thingwell::mqtt;
using mqtt_testing::byte_vector;

[[noreturn]] inline void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz check failed: %s %s\n", what, detail.c_str());
  std::abort();
}

// MQTT 3.1.1 CONNACK return codes 6..255 are reserved; the decoder reads them as a failure and the
// encoder writes the closest 3.1.1 code, so that field alone does not survive a trip through 3.1.1.
inline void normalise(mqtt::packet& p, mqtt::protocol_version v) {
  if (v != mqtt::protocol_version::v311) return;
  if (auto* c = std::get_if<mqtt::connack>(&p)) c->reason = mqtt::from_v311_connack(mqtt::to_v311_connack(c->reason));
}

// Every element of a decoded list can be walked, and the walk agrees with size().
template <class List>
void walk(const List& list) {
  std::size_t n = 0;
  for (auto it = list.begin(); it != list.end(); ++it) ++n;
  if (n != list.size()) fail("list walk length differs from size()");
}

inline void walk_properties(const mqtt::properties& p) {
  walk(p.user_properties);
  walk(p.subscription_identifiers);
}

inline void walk_packet(const mqtt::packet& p) {
  std::visit(
      [](const auto& pk) {
        using P = std::remove_cvref_t<decltype(pk)>;
        if constexpr (!std::is_same_v<P, mqtt::pingreq> && !std::is_same_v<P, mqtt::pingresp>)
          walk_properties(pk.props);
        if constexpr (std::is_same_v<P, mqtt::connect>) {
          if (pk.will) walk_properties(pk.will->props);
        }
        if constexpr (std::is_same_v<P, mqtt::subscribe>) walk(pk.subscriptions);
        if constexpr (std::is_same_v<P, mqtt::suback> || std::is_same_v<P, mqtt::unsuback>) walk(pk.reasons);
        if constexpr (std::is_same_v<P, mqtt::unsubscribe>) walk(pk.filters);
      },
      p);
}

inline void check_decode(const std::uint8_t* data, std::size_t size, mqtt::protocol_version v) {
  const thingwell::bytes_view in(data, size);
  auto decoded = mqtt::decode(in, v);
  if (!decoded) {
    const std::error_code ec = decoded.error();
    if (ec.category() != thingwell::thingwell_category()) fail("decode error outside thingwell's category");
    // The reason an MQTT 5 client would send for it must be one DISCONNECT may carry.
    if (!mqtt::is_allowed(mqtt::disconnect_reason_for(ec), mqtt::packet_type::disconnect))
      fail("disconnect reason not allowed in DISCONNECT", ec.message());
    return;
  }
  walk_packet(*decoded);

  // The fixed header agrees with what was decoded.
  auto header = mqtt::peek_fixed_header(in);
  if (!header || header->size + std::size_t{header->remaining_length} != size ||
      header->type != mqtt::type_of(*decoded))
    fail("fixed header disagrees with the decoded frame");

  const mqtt_testing::encoding first = mqtt_testing::encode_any(*decoded, v);
  if (first.error) fail("a decoded packet does not encode", first.error.message());
  if (first.size_mismatch) fail("encoded_size() differs from encode()");
  // The decoder accepts no redundant encodings except omittable fields (v5 short forms) and any
  // property order, so the encoder's canonical form is never longer than what was received.
  if (first.bytes.size() > size) fail("re-encoding is longer than the input", mqtt_testing::hex(first.bytes));

  auto again = mqtt::decode(first.bytes, v);
  if (!again) fail("the encoder's output does not decode", again.error().message());
  mqtt::packet expected = *decoded;
  normalise(expected, v);
  const std::string diff = mqtt_testing::difference(expected, *again);
  if (!diff.empty()) fail("decode(encode(decode(x))) differs in", diff);

  const mqtt_testing::encoding second = mqtt_testing::encode_any(*again, v);
  if (second.error || second.bytes != first.bytes) fail("encoding is not stable");
  // MQTT 3.1.1 has one encoding per packet (no properties, no optional fields): the input comes back
  // byte for byte, except a reserved CONNACK return code.
  const bool reserved_connack = std::holds_alternative<mqtt::connack>(*decoded) && size == 4 && data[3] > 5;
  if (v == mqtt::protocol_version::v311 && !reserved_connack && !thingwell::equal(first.bytes, in))
    fail("a 3.1.1 frame re-encodes to other bytes", mqtt_testing::hex(first.bytes));
}

}  // namespace fuzz_mqtt
