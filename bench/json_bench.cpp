// thingwell JSON benchmark: parse a ~1 KB AWS IoT shadow document (/get/accepted shape) with the compact
// reader and with simdjson (DOM, runtime-dispatched kernel), and write one with json::writer.
//
// Standalone (not part of the codec_bench program):
//   g++ -std=c++20 -O2 -DNDEBUG -Iinclude bench/json_bench.cpp -lsimdjson -o json_bench && ./json_bench
// Without simdjson installed, add -DTHINGWELL_WITH_SIMDJSON=0 and drop -lsimdjson.
//
// Reports the median of 7 timed batches of at least 50 ms each, in ns per document.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <thingwell/codec/json_compact.hpp>
#include <thingwell/codec/json_writer.hpp>
#if THINGWELL_WITH_SIMDJSON
#  include <thingwell/codec/json_simdjson.hpp>
#endif

namespace json = thingwell::json;

namespace {

template <class T>
inline void keep(const T& value) noexcept {
  asm volatile("" : : "m"(value) : "memory");
}

// A shadow with twelve properties in desired and reported, their metadata, a delta and the usual
// top-level fields: about 1 KB.
std::string shadow_document() {
  std::string props_d, props_r, meta_d, meta_r;
  const char* names[] = {"power", "mode", "fan", "target", "eco", "light", "lock", "alarm", "zone", "speed", "timer", "label"};
  for (int i = 0; i < 12; ++i) {
    const std::string n = names[i];
    const std::string sep = i ? "," : "";
    props_d += sep + "\"" + n + "\":" + (i % 3 == 0 ? "\"on\"" : i % 3 == 1 ? std::to_string(20 + i) : "21.5");
    props_r += sep + "\"" + n + "\":" + (i % 3 == 0 ? "\"off\"" : i % 3 == 1 ? std::to_string(20 + i) : "21.5");
    meta_d += sep + "\"" + n + "\":{\"timestamp\":" + std::to_string(1719855498 + i) + "}";
    meta_r += sep + "\"" + n + "\":{\"timestamp\":" + std::to_string(1719853620 + i) + "}";
  }
  return "{\"state\":{\"desired\":{" + props_d + "},\"reported\":{" + props_r +
         "},\"delta\":{\"power\":\"on\",\"lock\":\"on\"}},\"metadata\":{\"desired\":{" + meta_d + "},\"reported\":{" +
         meta_r + "}},\"version\":8,\"timestamp\":1719856723,\"clientToken\":\"e6e3123c-5d3e-4c8f-9a3f-0b1c2d3e4f50\"}";
}

template <class F>
double ns_per_op(F&& op) {
  using clock = std::chrono::steady_clock;
  std::uint64_t n = 1;
  for (;;) {  // calibrate to >= 50 ms
    const auto t0 = clock::now();
    for (std::uint64_t i = 0; i < n; ++i) op();
    if (clock::now() - t0 >= std::chrono::milliseconds(50)) break;
    n *= 2;
  }
  std::vector<double> batches;
  for (int b = 0; b < 7; ++b) {
    const auto t0 = clock::now();
    for (std::uint64_t i = 0; i < n; ++i) op();
    batches.push_back(std::chrono::duration<double, std::nano>(clock::now() - t0).count() / static_cast<double>(n));
  }
  std::sort(batches.begin(), batches.end());
  return batches[3];
}

// What a shadow service does with a delta: the version and every desired property.
template <class V>
std::int64_t use(const V& doc) {
  std::int64_t acc = doc.find("version")->get_int64().value_or(0);
  auto desired = json::find_path(doc, {"state", "desired"});
  for (const auto& m : desired->members()) acc += static_cast<std::int64_t>(m.value().kind());
  return acc;
}

}  // namespace

int main() {
  const std::string doc = shadow_document();
  std::printf("document: %zu bytes\n", doc.size());

  static json::compact_reader<512> compact;
  std::printf("%-44s %8.0f ns/doc\n", "compact reader: parse",
              ns_per_op([&] { auto r = compact.parse(doc); keep(r); }));
  std::printf("%-44s %8.0f ns/doc\n", "compact reader: parse + version + desired",
              ns_per_op([&] { auto r = compact.parse(doc); auto v = use(*r); keep(v); }));
#if THINGWELL_WITH_SIMDJSON
  static json::simdjson_reader simd;
  std::printf("%-44s %8.0f ns/doc  (kernel: %s)\n", "simdjson reader: parse",
              ns_per_op([&] { auto r = simd.parse(doc); keep(r); }),
              simdjson::get_active_implementation()->name().c_str());
  std::printf("%-44s %8.0f ns/doc\n", "simdjson reader: parse + version + desired",
              ns_per_op([&] { auto r = simd.parse(doc); auto v = use(*r); keep(v); }));
#endif
  static char out[2048];
  auto parsed = compact.parse(doc);
  std::printf("%-44s %8.0f ns/doc\n", "writer: copy() of the compact document",
              ns_per_op([&] { json::writer w(out); w.copy(*parsed); auto r = w.finish(); keep(r); }));
  return 0;
}
