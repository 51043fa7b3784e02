// Round trips over randomised packets: a seeded generator builds valid packets of every type for both
// versions; each must encode to exactly encoded_size() bytes, decode to an equal packet, and re-encode to
// the same bytes. The seed is fixed so that a failure reproduces; the iteration counts keep the whole
// file well under a second without sanitizers.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "mqtt_testing.hpp"

namespace {

using namespace mqtt_testing;
using mqtt::packet_type;

constexpr int rounds_per_type = 400;

// Encodes `p`, decodes the bytes, compares, re-encodes. Returns false (after reporting) on the first
// problem so that a loop stops at the first bad packet instead of flooding the output.
bool round_trips(const mqtt::packet& p, protocol_version v) {
  const encoding first = encode_any(p, v);
  INFO("type ", mqtt::to_string(mqtt::type_of(p)), ", ", version_name(v));
  if (first.error) {
    FAIL_CHECK("a valid packet failed to encode: ", first.error.message());
    return false;
  }
  if (first.size_mismatch) {
    FAIL_CHECK("encoded_size() differs from the bytes encode() wrote");
    return false;
  }
  INFO("bytes: ", hex(first.bytes));
  auto decoded = mqtt::decode(first.bytes, v);
  if (!decoded) {
    FAIL_CHECK("the encoder's output does not decode: ", decoded.error().message());
    return false;
  }
  const std::string diff = difference(p, *decoded);
  if (!diff.empty()) {
    FAIL_CHECK("decoded packet differs in ", diff);
    return false;
  }
  const encoding second = encode_any(*decoded, v);
  if (second.error || second.bytes != first.bytes) {
    FAIL_CHECK("re-encoding the decoded packet gives other bytes: ", hex(second.bytes));
    return false;
  }
  return true;
}

void run_round_trips(protocol_version v, std::uint64_t seed) {
  packet_generator gen(seed);
  const unsigned last = v == protocol_version::v5 ? 15 : 14;
  int passed = 0;
  for (unsigned t = 1; t <= last; ++t) {
    for (int i = 0; i < rounds_per_type; ++i) {
      gen.clear();
      if (!round_trips(gen.make(static_cast<packet_type>(t), v), v)) return;
      ++passed;
    }
  }
  CHECK(passed == static_cast<int>(last) * rounds_per_type);
}

}  // namespace

TEST_CASE("mqtt round trip: random MQTT 3.1.1 packets of every type encode, decode and re-encode identically") {
  run_round_trips(protocol_version::v311, 0x7E57'0311);
}

TEST_CASE("mqtt round trip: random MQTT 5 packets of every type encode, decode and re-encode identically") {
  run_round_trips(protocol_version::v5, 0x7E57'0005);
}

TEST_CASE("mqtt round trip: the generator covers what the round trip claims to cover") {
  // Guards the test above against a generator that quietly stopped producing the interesting cases.
  packet_generator gen(42);
  bool empty_topic_with_alias = false, several_subscription_ids = false, multibyte_text = false,
       will_properties = false, short_puback = false, long_remaining_length = false, shared_filter = false;
  for (int i = 0; i < 3000; ++i) {
    gen.clear();
    const mqtt::packet p = gen.make_any(protocol_version::v5);
    if (auto* pub = std::get_if<mqtt::publish>(&p)) {
      empty_topic_with_alias |= pub->topic.empty() && pub->props.topic_alias.has_value();
      several_subscription_ids |= pub->props.subscription_identifiers.size() > 1;
      long_remaining_length |= pub->payload.size() > 16'384;
      for (char c : pub->topic) multibyte_text |= (static_cast<unsigned char>(c) & 0xF8) == 0xF0;
    }
    if (auto* c = std::get_if<mqtt::connect>(&p)) {
      will_properties |= c->will && c->will->props.will_delay_interval.has_value();
    }
    if (auto* a = std::get_if<mqtt::puback>(&p)) {
      short_puback |= a->reason == mqtt::reason_code::success && !mqtt::detail::has_properties(a->props);
    }
    if (auto* s = std::get_if<mqtt::subscribe>(&p)) {
      for (const auto& sub : s->subscriptions) shared_filter |= !mqtt::split_shared(sub.filter).share_name.empty();
    }
  }
  CHECK(empty_topic_with_alias);
  CHECK(several_subscription_ids);
  CHECK(multibyte_text);
  CHECK(will_properties);
  CHECK(short_puback);
  CHECK(long_remaining_length);
  CHECK(shared_filter);
}
