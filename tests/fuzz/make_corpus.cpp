// Writes the seed corpora in tests/fuzz/corpus/<target>/: a few valid packets of every type and version,
// property blocks for every place, streams for the frame reader, and topic/filter pairs. The output is
// deterministic; rerun it only to change the seeds, then commit the files.
//
//   c++ -std=c++20 -Iinclude tests/fuzz/make_corpus.cpp -o make_corpus && ./make_corpus tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../unit/mqtt_testing.hpp"

namespace {

namespace mqtt = thingwell::mqtt;
using mqtt_testing::byte_vector;
using mqtt_testing::packet_generator;
using mqtt_testing::protocol_version;

std::filesystem::path root;

void write(const std::string& target, const std::string& name, const byte_vector& bytes) {
  const std::filesystem::path dir = root / target;
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string lower(const char* s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// Small packets make better seeds: libFuzzer's default input limit is 4 KB.
byte_vector small_packet(packet_generator& gen, mqtt::packet_type t, protocol_version v) {
  while (true) {
    gen.clear();
    byte_vector b = mqtt_testing::encode_any(gen.make(t, v), v).bytes;
    if (b.size() <= 300) return b;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  root = argv[1];
  packet_generator gen(0xC0C0);

  for (protocol_version v : {protocol_version::v311, protocol_version::v5}) {
    const std::string target = v == protocol_version::v5 ? "decode_v5" : "decode_v311";
    const unsigned last = v == protocol_version::v5 ? 15 : 14;
    for (unsigned t = 1; t <= last; ++t) {
      const auto type = static_cast<mqtt::packet_type>(t);
      for (int i = 0; i < 2; ++i)
        write(target, lower(mqtt::to_string(type)) + "-" + std::to_string(i), small_packet(gen, type, v));
    }
  }

  // Streams: a few packets back to back behind the four parameter bytes.
  for (int i = 0; i < 6; ++i) {
    byte_vector s = {static_cast<mqtt_testing::byte>(i & 1), 0xFF, 0xFF, static_cast<mqtt_testing::byte>(i * 37)};
    if (i == 4) s[1] = s[2] = 0x00;  // a tiny maximum packet size
    for (int k = 0; k < 4; ++k) {
      const protocol_version v = (i + k) % 2 ? protocol_version::v5 : protocol_version::v311;
      gen.clear();
      const byte_vector p = small_packet(gen, static_cast<mqtt::packet_type>(gen.rng().between(1, 14)), v);
      s.insert(s.end(), p.begin(), p.end());
    }
    write("frame_reader", "stream-" + std::to_string(i), s);
  }

  // Property blocks for every place, with properties valid there.
  for (unsigned place = 0; place < 16; ++place) {
    if (place == 12 || place == 13) continue;  // PINGREQ and PINGRESP have no properties
    const mqtt::property_context context =
        place == 0 ? mqtt::will_context : mqtt::context_of(static_cast<mqtt::packet_type>(place));
    for (int i = 0; i < 2; ++i) {
      gen.clear();
      const mqtt::properties props = gen.properties(context);
      const std::uint32_t size = *mqtt::detail::property_block_size(props, context);
      byte_vector b(1 + mqtt::varint_size(size) + size);
      b[0] = static_cast<mqtt_testing::byte>(place);
      thingwell::byte_writer w(thingwell::mutable_bytes(b).subspan(1));
      mqtt::detail::write_property_block(w, props, size);
      write("properties", "place" + std::to_string(place) + "-" + std::to_string(i), b);
    }
  }

  // Filter and topic pairs.
  const std::pair<std::string, std::string> pairs[] = {
      {"sport/tennis/+", "sport/tennis/player1"}, {"sport/#", "sport"},        {"#", "$SYS/broker/load"},
      {"$share/g/a/+/c", "a//c"},                 {"+/+", "/finance"},         {"a/b", "a/b"},
      {"$aws/rules/r/#", "$aws/rules/r/x/y"},     {"\xC3\xA9/+", "\xC3\xA9/\xF0\x9F\x98\x80"},
  };
  int n = 0;
  for (const auto& [filter, topic] : pairs) {
    byte_vector b{static_cast<mqtt_testing::byte>(filter.size())};
    b.insert(b.end(), filter.begin(), filter.end());
    b.insert(b.end(), topic.begin(), topic.end());
    write("topic", "pair-" + std::to_string(n++), b);
  }
  return 0;
}
