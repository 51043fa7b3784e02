// client_bench: one MQTT client library, one workload, one process; prints one RESULT line.
//
//   client_bench --client thingwell-poll|thingwell-asio|mosquitto|paho|none
//                --mode qos0|qos1|latency|roundtrip|idle [--window N] [--count N] [--warmup N]
//                [--payload BYTES] [--qos 0|1] [--mqtt 5|4] [--host H] [--port P] [--idle-seconds S]
//                [--trace-allocs N [--trace-every K]] [--topic-aliases 0|1]
//
// The process connects, runs a warm-up of the same workload (so that caches, allocator pools and
// the broker's session are in their steady state), then measures: wall time, the process's CPU time
// (getrusage RUSAGE_SELF: user + system of all its threads, the client library's own threads
// included), and the allocations made by any code in the process (hooks.cpp). Under callgrind the
// measured part is bracketed by CALLGRIND_ZERO_STATS / CALLGRIND_DUMP_STATS_AT("measure").
//
// `--client none` connects nothing: with --mode idle it gives the resident memory of a process that
// only links the same libraries, the baseline for idle-client memory.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"
#include "hooks.hpp"

// Which clients this binary contains (the build also makes one binary per client, so that the idle
// memory of each is measured in a process that links nothing else).
#ifndef CLIENT_BENCH_WITH_THINGWELL_POLL
#  define CLIENT_BENCH_WITH_THINGWELL_POLL 1
#endif
#ifndef CLIENT_BENCH_WITH_THINGWELL_ASIO
#  define CLIENT_BENCH_WITH_THINGWELL_ASIO 1
#endif
#ifndef CLIENT_BENCH_WITH_MOSQUITTO
#  define CLIENT_BENCH_WITH_MOSQUITTO 1
#endif
#ifndef CLIENT_BENCH_WITH_PAHO
#  define CLIENT_BENCH_WITH_PAHO 1
#endif

namespace client_bench {
namespace {

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "client_bench: %s\n"
               "usage: client_bench --client thingwell-poll|thingwell-asio|mosquitto|paho|none\n"
               "                    --mode qos0|qos1|latency|roundtrip|idle [--window N] [--count N] [--warmup N]\n"
               "                    [--payload BYTES] [--qos 0|1] [--mqtt 5|4] [--host H] [--port P]\n"
               "                    [--idle-seconds S] [--trace-allocs N [--trace-every K]]\n"
               "                    [--topic-aliases 0|1]\n",
               why);
  std::exit(2);
}

struct options {
  run_spec spec;
  int trace_allocs = 0;
  int trace_every = 1;
};

options parse(int argc, char** argv) {
  options o;
  std::string m;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--client") o.spec.client = value();
    else if (a == "--mode") m = value();
    else if (a == "--window") o.spec.window = std::stoi(value());
    else if (a == "--count") o.spec.count = std::stol(value());
    else if (a == "--warmup") o.spec.warmup = std::stol(value());
    else if (a == "--payload") o.spec.payload = std::stoi(value());
    else if (a == "--qos") o.spec.qos = std::stoi(value());
    else if (a == "--mqtt") o.spec.mqtt_version = std::stoi(value());
    else if (a == "--host") o.spec.host = value();
    else if (a == "--port") o.spec.port = std::stoi(value());
    else if (a == "--idle-seconds") o.spec.idle_seconds = std::stod(value());
    else if (a == "--trace-allocs") o.trace_allocs = std::stoi(value());
    else if (a == "--trace-every") o.trace_every = std::stoi(value());
    else if (a == "--topic-aliases") o.spec.topic_aliases = std::stoi(value()) != 0;
    else if (a == "--help" || a == "-h") usage("help");
    else usage(("unknown argument " + a).c_str());
  }
  if (m == "qos0") o.spec.what = mode::qos0;
  else if (m == "qos1") o.spec.what = mode::qos1;
  else if (m == "latency") o.spec.what = mode::latency;
  else if (m == "roundtrip") o.spec.what = mode::roundtrip;
  else if (m == "idle") o.spec.what = mode::idle;
  else usage("--mode is required");
  if (o.spec.client.empty()) usage("--client is required");
  if (o.spec.qos < 0 || o.spec.qos > 1) usage("--qos must be 0 or 1");
  if (o.spec.mqtt_version != 5 && o.spec.mqtt_version != 4) usage("--mqtt must be 5 or 4");
  if (o.spec.count < 1 || o.spec.window < 1 || o.spec.payload < 0) usage("bad count, window or payload");
  return o;
}

std::unique_ptr<client> make(const std::string& name) {
#if CLIENT_BENCH_WITH_THINGWELL_POLL
  if (name == "thingwell-poll") return make_thingwell_poll();
#endif
#if CLIENT_BENCH_WITH_THINGWELL_ASIO
  if (name == "thingwell-asio") return make_thingwell_asio();
#endif
#if CLIENT_BENCH_WITH_MOSQUITTO
  if (name == "mosquitto") return make_mosquitto();
#endif
#if CLIENT_BENCH_WITH_PAHO
  if (name == "paho") return make_paho();
#endif
  usage(("unknown client (or not built in): " + name).c_str());
}

const char* mode_name(mode m) {
  switch (m) {
    case mode::qos0: return "qos0";
    case mode::qos1: return "qos1";
    case mode::latency: return "latency";
    case mode::roundtrip: return "roundtrip";
    case mode::idle: return "idle";
    case mode::none: return "none";
  }
  return "?";
}

// Resident memory from /proc/self/status, in kB.
struct memory_use {
  long rss = -1, anon = -1, file = -1, threads = -1;
};
memory_use read_memory() {
  memory_use m;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    auto field = [&](const char* name, long& out) {
      const std::size_t n = std::strlen(name);
      if (line.compare(0, n, name) == 0) out = std::atol(line.c_str() + n);
    };
    field("VmRSS:", m.rss);
    field("RssAnon:", m.anon);
    field("RssFile:", m.file);
    field("Threads:", m.threads);
  }
  return m;
}

double cpu_seconds(const rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct snapshot {
  std::int64_t wall_ns;
  rusage usage;
  hooks::alloc_counts allocs;
};
snapshot take() {
  snapshot s{};
  s.allocs = hooks::read_allocs();
  getrusage(RUSAGE_SELF, &s.usage);
  s.wall_ns = now_ns();
  return s;
}

void print_memory(const memory_use& m) {
  std::printf(" rss_kb=%ld rss_anon_kb=%ld rss_file_kb=%ld threads=%ld", m.rss, m.anon, m.file, m.threads);
}

int run(const options& o) {
  run_spec spec = o.spec;
  char ids[64];
  std::snprintf(ids, sizeof ids, "%010ld", static_cast<long>(::getpid()));
  // Same length for every client: the packets on the wire are the same size.
  if (spec.topic.empty()) spec.topic = std::string("bench/") + ids + "/t";
  if (spec.client_id.empty()) spec.client_id = std::string("cb-") + ids;

  if (spec.client == "none") {
    if (spec.what != mode::idle) usage("--client none only makes sense with --mode idle");
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(spec.idle_seconds * 1000)));
    std::printf("RESULT client=none mode=idle");
    print_memory(read_memory());
    std::printf("\n");
    return 0;
  }

  std::unique_ptr<client> c = make(spec.client);
  std::string error;
  if (!c->connect(spec, error)) {
    std::fprintf(stderr, "client_bench: %s: %s\n", spec.client.c_str(), error.c_str());
    return 1;
  }
  int nodelay = -1;
  if (const int fd = hooks::last_connected_socket(); fd >= 0) {
    int v = 0;
    socklen_t len = sizeof v;
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0) nodelay = v != 0;
  }

  if (spec.what == mode::idle) {
    c->idle(spec.idle_seconds);
    const memory_use m = read_memory();
    std::printf("RESULT client=%s mode=idle nodelay=%d", spec.client.c_str(), nodelay);
    print_memory(m);
    std::printf("\n");
    c->disconnect();
    return 0;
  }

  const long warm = spec.warmup >= 0 ? spec.warmup : std::max(500L, spec.count / 10);
  const bool timed = spec.what == mode::latency || spec.what == mode::roundtrip;
  auto workload = [&](long n, pacer* p) {
    switch (spec.what) {
      case mode::qos0: return c->run_qos0(n, spec.window);
      case mode::qos1:
      case mode::latency: return c->run_qos1(*p);
      case mode::roundtrip: return c->run_roundtrip(*p, spec.qos);
      default: return false;
    }
  };
  if (warm > 0) {
    pacer p(warm, spec.window, false);
    if (!workload(warm, &p)) {
      std::fprintf(stderr, "client_bench: %s warm-up failed: %s\n", spec.client.c_str(), c->error().c_str());
      return 1;
    }
  }
  pacer p(spec.count, spec.window, timed);  // allocated before measuring

  const snapshot before = take();
  if (o.trace_allocs > 0) hooks::trace_allocations(o.trace_allocs, o.trace_every);
  CALLGRIND_ZERO_STATS;
  const bool ok = workload(spec.count, &p);
  CALLGRIND_DUMP_STATS_AT("measure");
  const snapshot after = take();
  hooks::trace_allocations(0);
  if (!ok) {
    std::fprintf(stderr, "client_bench: %s run failed: %s\n", spec.client.c_str(), c->error().c_str());
    return 1;
  }

  // Whether MQTT 5 topic aliases may be used: only thingwell assigns them (the Asio driver always does).
  const int aliases = spec.mqtt_version == 5 && (spec.client == "thingwell-asio" ||
                                                 (spec.client == "thingwell-poll" && spec.topic_aliases));
  const double n = static_cast<double>(spec.count);
  const double seconds = static_cast<double>(after.wall_ns - before.wall_ns) / 1e9;
  const double user = static_cast<double>(after.usage.ru_utime.tv_sec - before.usage.ru_utime.tv_sec) +
                      static_cast<double>(after.usage.ru_utime.tv_usec - before.usage.ru_utime.tv_usec) / 1e6;
  const double cpu = cpu_seconds(after.usage) - cpu_seconds(before.usage);
  std::printf("RESULT client=%s mode=%s window=%d qos=%d count=%ld payload=%d mqtt=%d aliases=%d nodelay=%d seconds=%.4f msgs_per_s=%.0f"
              " cpu_us_per_msg=%.3f user_us_per_msg=%.3f sys_us_per_msg=%.3f allocs_per_msg=%.4f frees_per_msg=%.4f"
              " alloc_bytes_per_msg=%.1f",
              spec.client.c_str(), mode_name(spec.what), spec.window,
              spec.what == mode::qos0 ? 0 : (spec.what == mode::roundtrip ? spec.qos : 1), spec.count, spec.payload,
              spec.mqtt_version, aliases, nodelay, seconds, n / seconds, cpu * 1e6 / n, user * 1e6 / n, (cpu - user) * 1e6 / n,
              static_cast<double>(after.allocs.allocs - before.allocs.allocs) / n,
              static_cast<double>(after.allocs.frees - before.allocs.frees) / n,
              static_cast<double>(after.allocs.bytes - before.allocs.bytes) / n);
  if (timed) {
    auto& s = p.samples();
    std::sort(s.begin(), s.end());
    auto at = [&](double q) { return static_cast<double>(s[static_cast<std::size_t>(q * static_cast<double>(s.size() - 1))]) / 1e3; };
    std::printf(" p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f", at(0.5), at(0.9), at(0.99), at(1.0));
  }
  print_memory(read_memory());
  std::printf("\n");
  std::fflush(stdout);
  c->disconnect();
  return 0;
}

}  // namespace
}  // namespace client_bench

int main(int argc, char** argv) { return client_bench::run(client_bench::parse(argc, argv)); }
