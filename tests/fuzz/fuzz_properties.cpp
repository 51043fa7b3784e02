// libFuzzer target: an MQTT 5 property block read for one packet type (or the Will Properties). What the
// reader accepts must measure, write and read back to the same properties, in no more bytes.
//
// Input: byte 0 selects the place (0: Will Properties, 1..15: packet type); the rest is the block,
// length prefix included.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "../unit/mqtt_testing.hpp"

namespace {

namespace mqtt = thingwell::mqtt;

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz check failed: %s %s\n", what, detail.c_str());
  std::abort();
}

template <class List>
void walk(const List& list) {
  std::size_t n = 0;
  for (auto it = list.begin(); it != list.end(); ++it) ++n;
  if (n != list.size()) fail("list walk length differs from size()");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned place = data[0] % 16;
  const mqtt::property_context context =
      place == 0 ? mqtt::will_context : mqtt::context_of(static_cast<mqtt::packet_type>(place));

  thingwell::byte_reader r(thingwell::bytes_view(data + 1, size - 1));
  mqtt::properties props;
  const std::error_code ec = mqtt::detail::read_property_block(r, context, props);
  if (ec) {
    if (!mqtt::is_allowed(mqtt::disconnect_reason_for(ec), mqtt::packet_type::disconnect))
      fail("disconnect reason not allowed in DISCONNECT", ec.message());
    return 0;
  }
  walk(props.user_properties);
  walk(props.subscription_identifiers);
  const std::size_t consumed = size - 1 - r.remaining();

  auto block = mqtt::detail::property_block_size(props, context);
  if (!block) fail("accepted properties do not measure", block.error().message());
  const std::size_t written_size = mqtt::varint_size(*block) + *block;
  if (written_size > consumed) fail("rewritten block is longer than the one read");

  mqtt_testing::byte_vector out(written_size);
  thingwell::byte_writer w(out);
  mqtt::detail::write_property_block(w, props, *block);
  if (w.written() != written_size) fail("written size differs from the measured size");

  thingwell::byte_reader again(out);
  mqtt::properties back;
  if (auto ec2 = mqtt::detail::read_property_block(again, context, back))
    fail("rewritten block is refused", ec2.message());
  if (!again.empty()) fail("rewritten block leaves bytes behind");
  const std::string diff = mqtt_testing::property_difference(props, back);
  if (!diff.empty()) fail("rewritten block reads back differently in", diff);
  return 0;
}
