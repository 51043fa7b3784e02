// Splitting a byte stream into packets: any split of the stream yields exactly the packets sent; the
// maximum packet size is enforced from the fixed header before storage grows; errors are sticky.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;
using thingwell::errc;
using thingwell::bytes_view;

struct stream {
  byte_vector bytes;
  std::vector<byte_vector> packets;
  std::size_t largest = 0;
};

// `count` random packets of both versions, back to back, none larger than `max_size`.
stream make_stream(std::uint64_t seed, int count, std::size_t max_size = SIZE_MAX) {
  packet_generator gen(seed);
  stream s;
  for (int i = 0; i < count; ++i) {
    gen.clear();
    const protocol_version v = gen.rng().chance(50) ? protocol_version::v5 : protocol_version::v311;
    byte_vector p = encode_any(gen.make_any(v), v).bytes;
    if (p.size() > max_size) {
      --i;
      continue;
    }
    s.largest = std::max(s.largest, p.size());
    s.bytes.insert(s.bytes.end(), p.begin(), p.end());
    s.packets.push_back(std::move(p));
  }
  return s;
}

// Feeds `s` in chunks whose sizes `next_chunk` picks, draining packets after every chunk.
template <class NextChunk>
std::vector<byte_vector> run(mqtt::frame_reader& reader, const byte_vector& bytes, NextChunk next_chunk) {
  std::vector<byte_vector> out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t chunk = std::min(next_chunk(), bytes.size() - pos);
    std::size_t taken = 0;
    while (taken < chunk) {
      const std::size_t n = reader.feed(bytes_view(bytes.data() + pos + taken, chunk - taken));
      taken += n;
      while (true) {
        auto frame = reader.next();
        REQUIRE(frame.has_value());
        if (frame->empty()) break;
        out.emplace_back(frame->begin(), frame->end());
      }
      REQUIRE((n != 0 || taken == chunk));  // a drained reader always has room for more
    }
    pos += chunk;
  }
  return out;
}

bool same_packets(const std::vector<byte_vector>& got, const stream& s) {
  if (got.size() != s.packets.size()) {
    FAIL_CHECK(got.size(), " packets instead of ", s.packets.size());
    return false;
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != s.packets[i]) {
      FAIL_CHECK("packet ", i, " differs: ", hex(got[i]));
      return false;
    }
  }
  return true;
}

byte_vector header_claiming(std::uint32_t remaining) {
  byte_vector h{0x30};
  thingwell::byte len[4];
  h.insert(h.end(), len, len + mqtt::write_varint(len, remaining));
  return h;
}

}  // namespace

TEST_CASE("mqtt frame reader: one byte at a time yields exactly the packets") {
  const stream s = make_stream(1, 300);
  mqtt::dynamic_frame_reader dynamic(16);
  CHECK(same_packets(run(dynamic, s.bytes, [] { return std::size_t{1}; }), s));
  mqtt::static_frame_reader<32 * 1024> fixed;
  REQUIRE(s.largest <= fixed.capacity());
  CHECK(same_packets(run(fixed, s.bytes, [] { return std::size_t{1}; }), s));
  CHECK(dynamic.buffered() == 0);
  CHECK(fixed.buffered() == 0);
}

TEST_CASE("mqtt frame reader: a stream split in two at every position yields exactly the packets") {
  const stream s = make_stream(2, 60, 300);  // small packets: every split costs a whole run
  for (std::size_t split = 0; split <= s.bytes.size(); ++split) {
    CAPTURE(split);
    std::size_t calls = 0;
    auto two_parts = [&] { return calls++ == 0 ? std::max<std::size_t>(split, 1) : s.bytes.size(); };
    mqtt::static_frame_reader<32 * 1024> fixed;
    if (!same_packets(run(fixed, s.bytes, two_parts), s)) return;
    calls = 0;
    mqtt::dynamic_frame_reader dynamic(64);
    if (!same_packets(run(dynamic, s.bytes, two_parts), s)) return;
  }
}

TEST_CASE("mqtt frame reader: random chunk sizes yield exactly the packets") {
  for (std::uint64_t seed = 10; seed < 20; ++seed) {
    CAPTURE(seed);
    const stream s = make_stream(seed, 200);
    random_stream rng(seed);
    auto chunk = [&] { return std::size_t{rng.chance(10) ? rng.between(1, 40'000) : rng.between(1, 300)}; };
    mqtt::static_frame_reader<32 * 1024> fixed;
    CHECK(same_packets(run(fixed, s.bytes, chunk), s));
    mqtt::dynamic_frame_reader dynamic(rng.between(16, 512));
    CHECK(same_packets(run(dynamic, s.bytes, chunk), s));
  }
}

TEST_CASE("mqtt frame reader: receiving through prepare() and commit() yields exactly the packets") {
  // The zero-copy path: the transport writes straight into the reader's free space.
  const stream s = make_stream(3, 300);
  random_stream rng(3);
  mqtt::dynamic_frame_reader reader(32);
  std::vector<byte_vector> got;
  std::size_t pos = 0;
  while (pos < s.bytes.size()) {
    const thingwell::mutable_bytes space = reader.prepare();
    REQUIRE_FALSE(space.empty());
    const std::size_t n = std::min({space.size(), s.bytes.size() - pos, std::size_t{rng.between(1, 500)}});
    std::copy_n(s.bytes.begin() + static_cast<std::ptrdiff_t>(pos), n, space.begin());
    reader.commit(n);
    pos += n;
    while (auto frame = reader.next()) {
      if (frame->empty()) break;
      got.emplace_back(frame->begin(), frame->end());
    }
  }
  CHECK(same_packets(got, s));
}

TEST_CASE("mqtt frame reader: packets decoded straight from the reader's storage") {
  const stream s = make_stream(4, 100);
  mqtt::static_frame_reader<32 * 1024> reader;
  std::size_t decoded = 0;
  std::size_t pos = 0;
  while (pos < s.bytes.size()) {
    pos += reader.feed(bytes_view(s.bytes.data() + pos, std::min<std::size_t>(777, s.bytes.size() - pos)));
    while (auto frame = reader.next()) {
      if (frame->empty()) break;
      // The version is unknown here; one of the two decodes it (they differ only in the body).
      CHECK((mqtt::decode(*frame, protocol_version::v5).has_value() ||
             mqtt::decode(*frame, protocol_version::v311).has_value()));
      ++decoded;
    }
  }
  CHECK(decoded == s.packets.size());
}

TEST_CASE("mqtt frame reader: a claimed 256 MB packet allocates nothing before its bytes arrive") {
  mqtt::dynamic_frame_reader reader;  // the default allows packets up to 256 MB
  const std::size_t before = reader.capacity();
  reader.feed(header_claiming(mqtt::max_varint));
  auto frame = reader.next();
  REQUIRE(frame.has_value());
  CHECK(frame->empty());
  // Room to receive into, but no growth: memory follows bytes received, not bytes announced.
  CHECK_FALSE(reader.prepare().empty());
  CHECK(reader.capacity() == before);
}

TEST_CASE("mqtt frame reader: the maximum packet size is enforced from the fixed header") {
  mqtt::dynamic_frame_reader reader(4096, 1024);
  CHECK(reader.max_packet_size() == 1024);
  const std::size_t before = reader.capacity();
  reader.feed(header_claiming(mqtt::max_varint));
  auto frame = reader.next();
  REQUIRE_FALSE(frame.has_value());
  CHECK(error_text(frame.error()) == error_text(errc::packet_too_large));
  (void)reader.prepare();
  CHECK(reader.capacity() == before);

  // Exactly the limit passes; one byte more does not (the limit counts the fixed header too).
  mqtt::dynamic_frame_reader exact(16, 1024);
  byte_vector packet = header_claiming(1024 - 3);  // 1 + 2-byte length + 1021 = 1024
  packet.resize(1024, 0);
  packet[3] = 0;  // topic length 0: the bytes are not decoded here
  std::size_t pos = 0;
  bool got = false;
  while (pos < packet.size()) {
    pos += exact.feed(bytes_view(packet.data() + pos, packet.size() - pos));
    auto f = exact.next();
    REQUIRE(f.has_value());
    got |= f->size() == 1024;
  }
  CHECK(got);
  CHECK(exact.capacity() <= 1024);

  mqtt::dynamic_frame_reader over(16, 1024);
  over.feed(header_claiming(1024 - 2));  // 1025 bytes in all
  CHECK(error_text(over.next().error()) == error_text(errc::packet_too_large));
}

TEST_CASE("mqtt frame reader: a dynamic reader grows with the bytes received, at most doubling") {
  mqtt::dynamic_frame_reader reader(64);
  byte_vector packet = header_claiming(100'000);
  packet.resize(packet.size() + 100'000, 0x42);
  std::size_t pos = 0;
  std::size_t received_before_growth = 0;
  bool doubled_too_far = false;
  byte_vector got;
  while (pos < packet.size()) {
    const std::size_t capacity = reader.capacity();
    const thingwell::mutable_bytes space = reader.prepare();
    if (reader.capacity() != capacity) {
      // Grown only when the storage was full, and to at most twice what had arrived.
      doubled_too_far |= reader.capacity() > 2 * received_before_growth;
    }
    const std::size_t n = std::min(space.size(), packet.size() - pos);
    std::copy_n(packet.begin() + static_cast<std::ptrdiff_t>(pos), n, space.begin());
    reader.commit(n);
    pos += n;
    received_before_growth = pos;
    auto f = reader.next();
    REQUIRE(f.has_value());
    if (!f->empty()) got.assign(f->begin(), f->end());
  }
  CHECK_FALSE(doubled_too_far);
  CHECK(got == packet);
  CHECK(reader.capacity() >= packet.size());
  CHECK(reader.capacity() < 2 * packet.size());
}

TEST_CASE("mqtt frame reader: lowering the maximum below a packet being received stops the growth") {
  mqtt::dynamic_frame_reader reader(64);
  byte_vector packet = header_claiming(10'000);
  packet.resize(200, 0);
  reader.feed(packet);
  REQUIRE(reader.next().value().empty());
  reader.set_max_packet_size(128);
  for (int i = 0; i < 4; ++i) {
    (void)reader.prepare();
    reader.commit(0);
  }
  CHECK(reader.capacity() <= 128);
  CHECK(error_text(reader.next().error()) == error_text(errc::packet_too_large));
}

TEST_CASE("mqtt frame reader: a static reader refuses packets above its size") {
  mqtt::static_frame_reader<64> reader;
  CHECK(reader.capacity() == 64);
  CHECK(reader.max_packet_size() == 64);
  reader.set_max_packet_size(1'000'000);  // cannot exceed the storage
  CHECK(reader.max_packet_size() == 64);

  byte_vector fits = header_claiming(62);  // 64 bytes in all
  fits.resize(64, 0);
  reader.feed(fits);
  auto frame = reader.next();
  REQUIRE(frame.has_value());
  CHECK(frame->size() == 64);

  reader.feed(header_claiming(63));  // 65 bytes in all
  CHECK(error_text(reader.next().error()) == error_text(errc::packet_too_large));

  mqtt::static_frame_reader<64> smaller;
  smaller.set_max_packet_size(10);
  smaller.feed(header_claiming(9));  // 11 bytes
  CHECK(error_text(smaller.next().error()) == error_text(errc::packet_too_large));
}

TEST_CASE("mqtt frame reader: an error is sticky until reset") {
  mqtt::static_frame_reader<256> reader;
  reader.feed(from_hex("c0 00 30 80 80 80 80 01"));  // PINGREQ, then a five-byte remaining length
  auto first = reader.next();
  REQUIRE(first.has_value());
  CHECK(hex(*first) == "c0 00");
  CHECK(error_text(reader.next().error()) == error_text(errc::bad_varint));
  CHECK(error_text(reader.error()) == error_text(errc::bad_varint));
  reader.feed(from_hex("d0 00"));  // valid bytes later do not resynchronise the stream
  CHECK(error_text(reader.next().error()) == error_text(errc::bad_varint));
  CHECK(error_text(reader.next().error()) == error_text(errc::bad_varint));

  reader.reset();
  CHECK(error_text(reader.error()) == "success");
  CHECK(reader.buffered() == 0);
  reader.feed(from_hex("d0 00"));
  CHECK(hex(reader.next().value()) == "d0 00");
}

TEST_CASE("mqtt frame reader: stream-level errors") {
  const struct {
    const char* what;
    const char* bytes;
    errc error;
  } rows[] = {
      {"reserved packet type 0", "00", errc::bad_packet_type},
      {"type 0 after a packet", "e0 00 0f", errc::bad_packet_type},
      {"non-minimal remaining length", "30 80 00", errc::bad_varint},
      {"five-byte remaining length", "30 ff ff ff ff", errc::bad_varint},
  };
  for (const auto& row : rows) {
    CAPTURE(row.what);
    mqtt::dynamic_frame_reader reader;
    reader.feed(from_hex(row.bytes));
    std::error_code ec;
    for (int i = 0; i < 3 && !ec; ++i) {
      auto f = reader.next();
      if (!f) ec = f.error();
    }
    CHECK(error_text(ec) == error_text(row.error));
  }
}

TEST_CASE("mqtt frame reader: an incomplete fixed header waits for more bytes") {
  mqtt::static_frame_reader<16> reader;
  for (const char* part : {"30", "ff", "ff", "7f"}) {  // a 256 MB claim, one byte at a time
    reader.feed(from_hex(part));
    if (std::string(part) != "7f") CHECK(reader.next().value().empty());
  }
  CHECK(error_text(reader.next().error()) == error_text(errc::packet_too_large));
}

TEST_CASE("mqtt frame reader: scan_frame reports a packet's size once its header is complete") {
  CHECK(mqtt::scan_frame({}, 100).value() == 0);
  CHECK(mqtt::scan_frame(from_hex("30"), 100).value() == 0);
  CHECK(mqtt::scan_frame(from_hex("30 80"), 100).value() == 0);
  CHECK(mqtt::scan_frame(from_hex("30 05"), 100).value() == 7);
  CHECK(mqtt::scan_frame(from_hex("30 80 01"), 1000).value() == 131);
  CHECK(error_text(mqtt::scan_frame(from_hex("30 80 01"), 130).error()) == error_text(errc::packet_too_large));
  CHECK(mqtt::scan_frame(from_hex("30 ff ff ff 7f"), 0xFFFFFFFFu).value() == 5u + mqtt::max_varint);
}

TEST_CASE("mqtt frame reader: feed takes only what fits until packets are taken out") {
  mqtt::static_frame_reader<8> reader;
  const byte_vector four_pings = from_hex("c0 00 c0 00 c0 00 c0 00 c0 00");
  CHECK(reader.feed(four_pings) == 8);
  CHECK(reader.feed(four_pings) == 0);  // full of complete packets nobody has taken
  CHECK(reader.buffered() == 8);
  int pings = 0;
  while (auto f = reader.next()) {
    if (f->empty()) break;
    ++pings;
  }
  CHECK(pings == 4);
  CHECK(reader.feed(bytes_view(four_pings).subspan(8)) == 2);
  CHECK(hex(reader.next().value()) == "c0 00");
}
