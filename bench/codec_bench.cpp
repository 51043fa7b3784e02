// thingwell codec benchmark: encode and decode rates for CONNECT, PUBLISH and SUBACK, frame splitting,
// and (in peer_cases.cpp and publish_e2e.cpp) the comparable work of libmosquitto and Paho C.
//
//   codec_bench                  human-readable table of timed results
//   codec_bench --tsv            the same, tab-separated (one line per case)
//   codec_bench --callgrind      fixed iteration counts with callgrind markers; run under
//                                valgrind --tool=callgrind (see run_codec_bench.sh)
//   codec_bench --filter TEXT    only the cases whose id contains TEXT
//   codec_bench --list           case ids
//   codec_bench --min-time S     seconds per timed batch (default 0.05), --batches N (default 7)
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <thingwell/mqtt.hpp>

#include "bench.hpp"

namespace mqtt = thingwell::mqtt;
using thingwell::byte;
using thingwell::bytes_view;

namespace bench {

std::vector<case_def>& registry() {
  static std::vector<case_def> cases;
  return cases;
}

void fail(const std::string& what) {
  std::fprintf(stderr, "codec_bench: %s\n", what.c_str());
  std::exit(2);
}

}  // namespace bench

// Registered by the other translation units of the program (empty when a peer is not built in).
void register_peer_cases();
void register_publish_e2e_cases();
bool publish_e2e_prepare();  // starts the sink process; must run before any thread exists

namespace {

// ---- the packets --------------------------------------------------------------------------------------
// Shapes of a typical AWS IoT device: a ~40-byte telemetry topic, a JSON payload, a client id of a few
// dozen characters, a SUBACK for the eight filters AWS allows in one SUBSCRIBE.

constexpr std::string_view topic = "dt/thingwell/bench-device-0001/telemetry";
constexpr std::string_view client_id = "thingwell-bench-device-0001";
constexpr std::string_view username = "?SDK=thingwell&Version=0.1.0";

std::vector<byte> make_payload(std::size_t n) {
  // JSON-looking bytes; the codec does not look inside, but a realistic payload keeps memcpy honest.
  static constexpr std::string_view pattern = R"({"temperature":21.5,"humidity":40.25,"seq":123456,"ok":true},)";
  std::vector<byte> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<byte>(pattern[i % pattern.size()]);
  return out;
}

const std::vector<byte>& payload_64() {
  static const std::vector<byte> p = make_payload(64);
  return p;
}
const std::vector<byte>& payload_4k() {
  static const std::vector<byte> p = make_payload(4096);
  return p;
}

mqtt::connect make_connect(mqtt::protocol_version v) {
  mqtt::connect c;
  c.version = v;
  c.client_id = client_id;
  c.clean_start = true;
  c.keep_alive = 60;
  c.username = username;
  if (v == mqtt::protocol_version::v5) {
    c.props.session_expiry_interval = 3600;
    c.props.receive_maximum = 64;
    c.props.maximum_packet_size = 128 * 1024;
  }
  return c;
}

mqtt::publish make_publish(mqtt::qos q, const std::vector<byte>& payload) {
  mqtt::publish p;
  p.topic = topic;
  p.payload = payload;
  p.qos = q;
  p.packet_id = q == mqtt::qos::at_most_once ? 0 : 4242;
  return p;
}

constexpr mqtt::reason_code suback_codes_v5[] = {
    mqtt::reason_code::granted_qos_1, mqtt::reason_code::granted_qos_1, mqtt::reason_code::granted_qos_1,
    mqtt::reason_code::granted_qos_1, mqtt::reason_code::granted_qos_1, mqtt::reason_code::success,
    mqtt::reason_code::granted_qos_1, mqtt::reason_code::not_authorized};
constexpr mqtt::reason_code suback_codes_v311[] = {
    mqtt::reason_code::granted_qos_1, mqtt::reason_code::granted_qos_1, mqtt::reason_code::granted_qos_1,
    mqtt::reason_code::granted_qos_1, mqtt::reason_code::granted_qos_1, mqtt::reason_code::success,
    mqtt::reason_code::granted_qos_1, mqtt::reason_code::unspecified_error};

template <class Packet>
std::vector<byte> encode_once(const Packet& p, mqtt::protocol_version v) {
  auto size = mqtt::encoded_size(p, v);
  if (!size) bench::fail(std::string("encoded_size failed: ") + size.error().message());
  std::vector<byte> out(*size);
  auto n = mqtt::encode(p, v, out);
  if (!n || *n != out.size()) bench::fail("encode failed");
  return out;
}

// ---- case builders ---------------------------------------------------------------------------------------

constexpr std::size_t scratch_size = 8192;
constexpr std::size_t segment = 1460;  // an Ethernet MSS: how stream bytes arrive from a socket

// Packets and frames live as long as the program: the cases keep pointers to them.
template <class T>
const T& keep_alive(T value) {
  return *new T(std::move(value));
}

template <class Packet>
void add_encode(const std::string& key, const std::string& what, const Packet& packet, mqtt::protocol_version v) {
  bench::add(bench::wall_case(key + ".encode", what, "encode", "thingwell", [p = &packet, v](std::uint64_t n) {
                static byte out[scratch_size];
                bench::escape(p);
                bench::escape(out);
                for (std::uint64_t i = 0; i < n; ++i) {
                  auto r = mqtt::encode(*p, v, out);
                  if (!r) bench::fail("encode failed");
                  bench::keep(*r);
                }
                return n;
              }));
}

// Decodes `frame` with `decode`, which returns a result<...>.
template <class Decode>
void add_decode(const std::string& key, const std::string& what, const std::string& op, const std::vector<byte>& frame,
                Decode decode) {
  bench::add(bench::wall_case(key + "." + op, what, op, "thingwell", [f = &frame, decode](std::uint64_t n) {
                const bytes_view in(*f);
                bench::escape(in.data());
                for (std::uint64_t i = 0; i < n; ++i) {
                  auto r = decode(in);
                  if (!r) bench::fail("decode failed: " + r.error().message());
                  bench::keep(r);
                }
                return n;
              }));
}

// The full set for one packet: encode, its specific decoder, and the generic mqtt::decode (variant).
template <class Packet, class Decode>
void add_packet(const std::string& key, const std::string& what, const Packet& packet, mqtt::protocol_version v,
                const std::string& specific_name, Decode specific) {
  const std::vector<byte>& frame = keep_alive(encode_once(packet, v));
  // A benchmark of a decoder that rejects the frame would measure the error path: check first.
  if (!specific(bytes_view(frame))) bench::fail(key + ": " + specific_name + " rejects the encoded frame");
  if (!mqtt::decode(frame, v)) bench::fail(key + ": decode rejects the encoded frame");
  add_encode(key, what, packet, v);
  add_decode(key, what, specific_name, frame, specific);
  add_decode(key, what, "decode", frame, [v](bytes_view in) { return mqtt::decode(in, v); });
}

// A stream of `count` copies of `frame`, delivered in TCP-segment-sized chunks through a frame_reader.
// One operation is one packet handed out (and, with `decode_too`, decoded).
void add_stream(const std::string& key, const std::string& what, const std::vector<byte>& frame, std::size_t count,
                mqtt::protocol_version v, bool decode_too) {
  std::vector<byte> stream;
  for (std::size_t i = 0; i < count; ++i) stream.insert(stream.end(), frame.begin(), frame.end());
  const std::vector<byte>& s = keep_alive(std::move(stream));
  const std::string op = decode_too ? "frame_reader+decode" : "frame_reader";
  bench::case_def c = bench::wall_case(
      key + (decode_too ? ".stream_decode" : ".stream"), what, op, "thingwell",
      [s = &s, count, v, decode_too](std::uint64_t n) {
                static mqtt::static_frame_reader<16384> reader;
                std::uint64_t packets = 0;
                for (std::uint64_t i = 0; i < n; ++i) {
                  reader.reset();
                  std::size_t offset = 0;
                  while (offset < s->size()) {
                    const std::size_t chunk = std::min(segment, s->size() - offset);
                    offset += reader.feed(bytes_view(*s).subspan(offset, chunk));
                    for (;;) {
                      auto f = reader.next();
                      if (!f) bench::fail("frame_reader: " + f.error().message());
                      if (f->empty()) break;
                      ++packets;
                      if (decode_too) {
                        auto p = mqtt::decode(*f, v);
                        if (!p) bench::fail("decode in stream failed");
                        bench::keep(p);
                      } else {
                        bench::keep(*f);
                      }
                    }
                  }
                }
                if (packets != n * count) bench::fail("frame_reader lost packets");
                return packets;
      },
      "1460-byte segments");
  c.callgrind_iterations = 20;
  bench::add(std::move(c));
}

void register_codec_cases() {
  using mqtt::protocol_version;
  constexpr auto v5 = protocol_version::v5;
  constexpr auto v311 = protocol_version::v311;

  const auto decode_connect = [](bytes_view in) { return mqtt::decode_connect(in); };
  const auto decode_publish_v5 = [](bytes_view in) { return mqtt::decode_publish(in, protocol_version::v5); };
  const auto decode_publish_v311 = [](bytes_view in) { return mqtt::decode_publish(in, protocol_version::v311); };

  add_packet("connect.v5", "CONNECT v5 (id, user, 3 props)", keep_alive(make_connect(v5)), v5, "decode_connect",
             decode_connect);
  add_packet("connect.v311", "CONNECT 3.1.1 (id, user)", keep_alive(make_connect(v311)), v311, "decode_connect",
             decode_connect);

  struct publish_shape {
    const char* key;
    const char* what;
    mqtt::qos q;
    const std::vector<byte>& payload;
  };
  const publish_shape shapes[] = {
      {"q0.64", "QoS 0, 64 B", mqtt::qos::at_most_once, payload_64()},
      {"q1.64", "QoS 1, 64 B", mqtt::qos::at_least_once, payload_64()},
      {"q0.4k", "QoS 0, 4 KB", mqtt::qos::at_most_once, payload_4k()},
      {"q1.4k", "QoS 1, 4 KB", mqtt::qos::at_least_once, payload_4k()},
  };
  for (const auto& s : shapes) {
    add_packet(std::string("publish.v5.") + s.key, std::string("PUBLISH v5 ") + s.what,
               keep_alive(make_publish(s.q, s.payload)), v5, "decode_publish", decode_publish_v5);
  }
  for (const auto& s : shapes) {
    if (s.payload.size() != 64) continue;
    add_packet(std::string("publish.v311.") + s.key, std::string("PUBLISH 3.1.1 ") + s.what,
               keep_alive(make_publish(s.q, s.payload)), v311, "decode_publish", decode_publish_v311);
  }

  // Properties on a PUBLISH: what they add to the same 64-byte message.
  static constexpr thingwell::mqtt::user_property users[] = {{"source", "bench"}};
  mqtt::publish with_props = make_publish(mqtt::qos::at_least_once, payload_64());
  with_props.props.message_expiry_interval = 3600;
  with_props.props.content_type = "application/json";
  with_props.props.user_properties = users;
  add_packet("publish.v5.q1.64.props", "PUBLISH v5 QoS 1, 64 B + 3 props", keep_alive(with_props), v5,
             "decode_publish", decode_publish_v5);

  // Scatter/gather: only the bytes before a 4 KB payload are written; the payload is sent from where it lies.
  const mqtt::publish& big = keep_alive(make_publish(mqtt::qos::at_least_once, payload_4k()));
  bench::add(bench::wall_case("publish.v5.q1.4k.header", "PUBLISH v5 QoS 1, 4 KB", "encode_publish_header", "thingwell",
              [p = &big](std::uint64_t n) {
                static byte out[64];
                bench::escape(p);
                bench::escape(out);
                for (std::uint64_t i = 0; i < n; ++i) {
                  auto r = mqtt::encode_publish_header(*p, protocol_version::v5, out);
                  if (!r) bench::fail("encode_publish_header failed");
                  bench::keep(*r);
                }
                return n;
              }, "bytes before the payload"));

  mqtt::suback sa5;
  sa5.packet_id = 4242;
  sa5.reasons = suback_codes_v5;
  add_packet("suback.v5", "SUBACK v5, 8 codes", keep_alive(sa5), v5, "decode_suback",
             [](bytes_view in) { return mqtt::decode_suback(in, protocol_version::v5); });
  mqtt::suback sa311;
  sa311.packet_id = 4242;
  sa311.reasons = suback_codes_v311;
  add_packet("suback.v311", "SUBACK 3.1.1, 8 codes", keep_alive(sa311), v311, "decode_suback",
             [](bytes_view in) { return mqtt::decode_suback(in, protocol_version::v311); });

  // Streams: 256 small publishes (about 30 per segment) and 32 large ones (each spanning segments).
  const auto& small = keep_alive(encode_once(make_publish(mqtt::qos::at_least_once, payload_64()), v5));
  const auto& large = keep_alive(encode_once(make_publish(mqtt::qos::at_least_once, payload_4k()), v5));
  add_stream("stream.v5.q1.64", "256 x PUBLISH v5 QoS 1, 64 B", small, 256, v5, false);
  add_stream("stream.v5.q1.64", "256 x PUBLISH v5 QoS 1, 64 B", small, 256, v5, true);
  add_stream("stream.v5.q1.4k", "32 x PUBLISH v5 QoS 1, 4 KB", large, 32, v5, false);
  add_stream("stream.v5.q1.4k", "32 x PUBLISH v5 QoS 1, 4 KB", large, 32, v5, true);
}

// ---- running ---------------------------------------------------------------------------------------------

struct options {
  bool tsv = false;
  bool callgrind = false;
  bool list = false;
  std::string filter;
  double min_time = 0.05;
  int batches = 7;
};

double now_seconds(bench::clock_kind k) {
  if (k == bench::clock_kind::process_cpu) {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct timing {
  double ns_per_op = 0;    // median over batches, on the case's clock
  double wall_ns_per_op = 0;
  std::uint64_t ops = 0;   // per batch
};

timing time_case(const bench::case_def& c, const options& o) {
  // Calibrate: grow the iteration count until one batch lasts about min_time.
  std::uint64_t iterations = 1;
  for (;;) {
    const double t0 = now_seconds(bench::clock_kind::wall);
    c.run(iterations);
    const double elapsed = now_seconds(bench::clock_kind::wall) - t0;
    if (elapsed >= o.min_time / 2 || iterations >= (std::uint64_t{1} << 40)) {
      if (elapsed > 0) iterations = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(iterations * o.min_time / elapsed));
      break;
    }
    iterations *= elapsed < o.min_time / 64 ? 16 : 2;
  }
  std::vector<double> per_op, wall_per_op;
  timing t;
  for (int b = 0; b < o.batches; ++b) {
    const double w0 = now_seconds(bench::clock_kind::wall);
    const double c0 = now_seconds(c.clock);
    const std::uint64_t ops = c.run(iterations);
    const double c1 = now_seconds(c.clock);
    const double w1 = now_seconds(bench::clock_kind::wall);
    per_op.push_back((c1 - c0) * 1e9 / static_cast<double>(ops));
    wall_per_op.push_back((w1 - w0) * 1e9 / static_cast<double>(ops));
    t.ops = ops;
  }
  std::sort(per_op.begin(), per_op.end());
  std::sort(wall_per_op.begin(), wall_per_op.end());
  t.ns_per_op = per_op[per_op.size() / 2];
  t.wall_ns_per_op = wall_per_op[wall_per_op.size() / 2];
  return t;
}

void print_header(const options& o) {
  std::printf("# sizeof: packet %zu, properties %zu, result<packet> %zu, publish %zu bytes; callgrind.h %s\n",
              sizeof(mqtt::packet), sizeof(mqtt::properties), sizeof(thingwell::result<mqtt::packet>),
              sizeof(mqtt::publish), THINGWELL_BENCH_HAVE_CALLGRIND ? "yes" : "no");
  if (o.callgrind) {
    std::printf("# id\tops\n");
  } else if (o.tsv) {
    std::printf("# id\twhat\top\timpl\tclock\tns_per_op\tops_per_s\tnote\n");
  } else {
    std::printf("%-36s %-24s %-14s %12s %14s  %s\n", "what", "operation", "impl", "ns/op", "ops/s", "note");
  }
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--tsv") o.tsv = true;
    else if (a == "--callgrind") o.callgrind = true;
    else if (a == "--list") o.list = true;
    else if (a == "--filter" && i + 1 < argc) o.filter = argv[++i];
    else if (a == "--min-time" && i + 1 < argc) o.min_time = std::atof(argv[++i]);
    else if (a == "--batches" && i + 1 < argc) o.batches = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr,
                   "usage: %s [--tsv] [--callgrind] [--list] [--filter TEXT] [--min-time SECONDS] [--batches N]\n",
                   argv[0]);
      return 1;
    }
  }

  // The end-to-end cases fork a sink process; forking must happen while the program is one thread.
  if (!o.list && !publish_e2e_prepare()) std::fprintf(stderr, "codec_bench: no loopback sink, end-to-end cases skipped\n");

  register_codec_cases();
  register_peer_cases();
  register_publish_e2e_cases();

  if (o.list) {
    for (const auto& c : bench::registry()) std::printf("%s\n", c.id.c_str());
    return 0;
  }

  print_header(o);
  for (const auto& c : bench::registry()) {
    if (!o.filter.empty() && c.id.find(o.filter) == std::string::npos) continue;
    if (c.setup && !c.setup()) {
      std::fprintf(stderr, "codec_bench: %s skipped (setup failed)\n", c.id.c_str());
      continue;
    }
    if (o.callgrind) {
      // Warm up outside the measured region (first-touch page faults, lazy binding of peer libraries).
      c.run(std::max<std::uint64_t>(1, c.callgrind_iterations / 10));
      CALLGRIND_ZERO_STATS;
      const std::uint64_t ops = c.run(c.callgrind_iterations);
      CALLGRIND_DUMP_STATS_AT(c.id.c_str());
      std::printf("%s\t%llu\n", c.id.c_str(), static_cast<unsigned long long>(ops));
    } else {
      const timing t = time_case(c, o);
      const double ops_per_s = 1e9 / t.wall_ns_per_op;
      const char* clock = c.clock == bench::clock_kind::wall ? "wall" : "cpu";
      if (o.tsv) {
        std::printf("%s\t%s\t%s\t%s\t%s\t%.2f\t%.0f\t%s\n", c.id.c_str(), c.what.c_str(), c.op.c_str(), c.impl.c_str(),
                    clock, t.ns_per_op, ops_per_s, c.note.c_str());
      } else {
        std::printf("%-36s %-24s %-14s %12.1f %14.0f  %s%s\n", c.what.c_str(), c.op.c_str(), c.impl.c_str(),
                    t.ns_per_op, ops_per_s, c.clock == bench::clock_kind::process_cpu ? "[CPU] " : "",
                    c.note.c_str());
      }
    }
    std::fflush(stdout);
    if (c.teardown) c.teardown();
  }
  return 0;
}
