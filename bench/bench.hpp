// A minimal benchmark harness: named cases, wall or CPU timing, and callgrind markers.
//
// Each case runs an operation in a loop. Timed runs calibrate the loop to last at least a few tens of
// milliseconds and report the median of several batches. Under callgrind (--callgrind) each case runs a
// fixed number of iterations between CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS_AT(<case id>), so
// that every dump holds exactly the instructions of that case; run_codec_bench.sh divides by the number
// of operations the program printed for it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#if defined(__has_include)
#  if __has_include(<valgrind/callgrind.h>)
#    include <valgrind/callgrind.h>
#    define THINGWELL_BENCH_HAVE_CALLGRIND 1
#  endif
#endif
#ifndef THINGWELL_BENCH_HAVE_CALLGRIND
#  define THINGWELL_BENCH_HAVE_CALLGRIND 0
#  define CALLGRIND_ZERO_STATS
#  define CALLGRIND_DUMP_STATS_AT(name)
#endif

namespace bench {

// Keeps the optimizer from proving a result unused (and deleting the work that produced it), and
// from assuming memory is unchanged across iterations (and hoisting the work out of the loop).
template <class T>
inline void keep(const T& value) noexcept {
  asm volatile("" : : "m"(value) : "memory");
}
inline void escape(const void* p) noexcept { asm volatile("" : : "g"(p) : "memory"); }
inline void clobber() noexcept { asm volatile("" : : : "memory"); }

enum class clock_kind {
  wall,         // steady_clock around the loop: a pure in-memory operation on an idle core
  process_cpu,  // user + system CPU of the whole process (every thread): work that involves the kernel
};

struct case_def {
  std::string id;     // unique; joins timed results with callgrind dumps
  std::string what;   // the packet or input, e.g. "PUBLISH v5 QoS 0, 64 B"
  std::string op;     // e.g. "encode", "decode_publish"
  std::string impl;   // "thingwell", "libmosquitto", "Paho C"
  clock_kind clock = clock_kind::wall;
  // Performs `iterations` iterations and returns how many operations (packets) that was.
  std::function<std::uint64_t(std::uint64_t iterations)> run;
  std::function<bool()> setup;  // optional; false skips the case (e.g. a peer could not connect)
  std::function<void()> teardown;
  std::uint64_t callgrind_iterations = 2000;
  std::string note;
};

std::vector<case_def>& registry();

inline void add(case_def c) { registry().push_back(std::move(c)); }

// The common shape: an in-memory operation timed on the wall clock.
inline case_def wall_case(std::string id, std::string what, std::string op, std::string impl,
                          std::function<std::uint64_t(std::uint64_t)> run, std::string note = {}) {
  case_def c;
  c.id = std::move(id);
  c.what = std::move(what);
  c.op = std::move(op);
  c.impl = std::move(impl);
  c.run = std::move(run);
  c.note = std::move(note);
  return c;
}

// Stops the program with a message: a benchmark that measures a failing operation measures nothing.
[[noreturn]] void fail(const std::string& what);

}  // namespace bench
