// libFuzzer target: mqtt::decode over arbitrary bytes as MQTT 3.1.1, with the encoder as a differential
// oracle (see decode_differential.hpp).
#include <cstddef>
#include <cstdint>

#include "decode_differential.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz_mqtt::check_decode(data, size, thingwell::mqtt::protocol_version::v311);
  return 0;
}
