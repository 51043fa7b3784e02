// libFuzzer target: a byte stream fed in random chunks through a static and a dynamic frame_reader
// must yield exactly the frames (and the same final error or incomplete tail) as scanning the whole
// stream at once with scan_frame().
//
// Input: byte 0 selects the receive path (feed or prepare/commit), bytes 1-2 the maximum packet size,
// byte 3 seeds the chunk sizes; the rest is the stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../unit/mqtt_testing.hpp"

namespace {

namespace mqtt = thingwell::mqtt;
using thingwell::bytes_view;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz check failed: %s\n", what);
  std::abort();
}

struct outcome {
  std::vector<bytes_view> frames;
  std::error_code error;
  std::size_t tail = 0;  // bytes of an incomplete last packet
};

outcome scan_all(bytes_view stream, std::uint32_t max_packet) {
  outcome out;
  while (true) {
    auto size = mqtt::scan_frame(stream, max_packet);
    if (!size) {
      out.error = size.error();
      return out;
    }
    if (*size == 0 || *size > stream.size()) {
      out.tail = stream.size();
      return out;
    }
    out.frames.push_back(stream.first(*size));
    stream = stream.subspan(*size);
  }
}

void run(mqtt::frame_reader& reader, bytes_view stream, const outcome& expected, bool zero_copy,
         mqtt_testing::random_stream& rng) {
  std::size_t frame_index = 0;
  std::error_code error;
  auto drain = [&] {
    while (!error) {
      auto f = reader.next();
      if (!f) {
        error = f.error();
        if (error != expected.error) fail("reader reports another error than the scan");
        if (reader.next().error() != error) fail("error is not sticky");
        return;
      }
      if (f->empty()) return;
      if (frame_index >= expected.frames.size()) fail("reader yields more frames than the scan");
      if (!thingwell::equal(*f, expected.frames[frame_index])) fail("reader yields another frame");
      ++frame_index;
    }
  };
  std::size_t pos = 0;
  while (pos < stream.size() && !error) {
    const std::size_t wanted = rng.chance(20) ? stream.size() : rng.between(1, 64);
    const std::size_t chunk = std::min(stream.size() - pos, wanted);
    const std::size_t end = pos + chunk;
    while (pos < end && !error) {
      std::size_t n = 0;
      if (zero_copy) {
        const thingwell::mutable_bytes space = reader.prepare();
        n = std::min(space.size(), end - pos);
        std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(pos), n, space.begin());
        reader.commit(n);
      } else {
        n = reader.feed(stream.subspan(pos, end - pos));
      }
      pos += n;
      drain();
      if (n == 0 && !error) fail("a drained reader took no bytes");
    }
  }
  if (error) return;
  if (expected.error) fail("the scan found an error the reader did not");
  if (frame_index != expected.frames.size()) fail("reader yields fewer frames than the scan");
  if (reader.buffered() != expected.tail) fail("reader holds another tail than the scan");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const bool zero_copy = (data[0] & 1) != 0;
  const std::uint32_t selector = static_cast<std::uint32_t>(data[1] << 8 | data[2]);
  const std::uint32_t max_packet = selector == 0xFFFF ? mqtt::max_varint + 5 : 2 + selector;
  const bytes_view stream(data + 4, size - 4);

  constexpr std::size_t static_size = 512;
  {
    mqtt::static_frame_reader<static_size> reader;
    reader.set_max_packet_size(max_packet);
    const outcome expected = scan_all(stream, std::min<std::uint32_t>(max_packet, static_size));
    mqtt_testing::random_stream rng(data[3]);
    run(reader, stream, expected, zero_copy, rng);
  }
  {
    mqtt::dynamic_frame_reader reader(16 + data[3], max_packet);
    const outcome expected = scan_all(stream, max_packet);
    mqtt_testing::random_stream rng(data[3] + 1u);
    run(reader, stream, expected, zero_copy, rng);
    // Memory follows the bytes received: never more than twice the stream (or the initial size).
    if (reader.capacity() > std::max<std::size_t>(16 + data[3], 2 * stream.size())) fail("reader grew too far");
  }
  return 0;
}
