// libFuzzer target: the compact JSON reader against simdjson (differential), and the writer against both.
//
// For every input, under the default limits and under a small depth limit:
//   - both readers accept it or both reject it, with a json_* code (or capacity/size codes);
//   - for an accepted document both give the same walk: types, keys, strings, integers and doubles
//     (json_cases::dump);
//   - json::writer::copy() of either reader's value is a document that reads back to the same walk.
// Without simdjson (THINGWELL_WITH_SIMDJSON=0) only the compact reader and the writer are checked.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <thingwell/codec/json_compact.hpp>
#include <thingwell/codec/json_writer.hpp>
#if THINGWELL_WITH_SIMDJSON
#  include <thingwell/codec/json_simdjson.hpp>
#endif

#include "../unit/json_cases.hpp"

namespace {

namespace json = thingwell::json;
using thingwell::errc;

constexpr std::size_t max_input = 1 << 16;

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& a = {}, const std::string& b = {}) {
  std::fprintf(stderr, "fuzz_json check failed: %s\n  input (%zu bytes): %.*s\n  a: %s\n  b: %s\n", what, input.size(),
               static_cast<int>(input.size() < 512 ? input.size() : 512), input.data(), a.c_str(), b.c_str());
  std::abort();
}

bool is_json_error(std::error_code ec) {
  if (ec.category() != thingwell::thingwell_category()) return false;
  const int v = ec.value();
  return (v >= static_cast<int>(errc::json_syntax) && v <= static_cast<int>(errc::json_number_out_of_range)) ||
         ec == errc::capacity_exceeded;
}

char scratch[max_input];
std::unique_ptr<char[]> out_buffer(new char[16 * max_input + 64]);

template <class V>
std::string walk(const V& v, std::string_view input, const char* who) {
  std::string d;
  if (!json_cases::dump(v, scratch, d)) fail("an accessor failed on an accepted document", input, who);
  return d;
}

// Copies v through the writer and reads the result back with the compact reader: the walk must not change.
template <class V>
void check_copy(const V& v, const std::string& expected, std::string_view input, json::basic_compact_reader& reader,
                const json::limits& lim) {
  json::writer w(std::span<char>(out_buffer.get(), 16 * input.size() + 64));
  w.copy(v);
  auto text = w.finish();
  if (!text) fail("writer::copy failed", input, thingwell::describe(static_cast<errc>(text.error().value())));
  json::limits roomy = lim;
  roomy.max_bytes = 16 * max_input + 64;
  auto again = reader.parse(*text, roomy);
  if (!again) fail("the copy does not parse", input, std::string(*text));
  const std::string d = walk(*again, input, "copy");
  if (d != expected) fail("the copy reads back differently", input, expected, d);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > max_input) return 0;
  static auto* compact = new json::compact_reader<max_input>;  // n bytes never need more than n tokens
  static auto* compact_copy = new json::compact_reader<16 * max_input + 64>;  // for the writer output
#if THINGWELL_WITH_SIMDJSON
  static auto* simd = new json::simdjson_reader;
#endif
  const std::string_view input(size == 0 ? "" : reinterpret_cast<const char*>(data), size);

  const json::limits limit_sets[] = {{max_input, 32}, {max_input, 1 + size % 5}};
  for (const json::limits& lim : limit_sets) {
    auto a = compact->parse(input, lim);
    if (!a && !is_json_error(a.error())) fail("compact: unexpected error category", input);
#if THINGWELL_WITH_SIMDJSON
    auto b = simd->parse(input, lim);
    if (!b && !is_json_error(b.error())) fail("simdjson: unexpected error category", input);
    if (a.has_value() != b.has_value())
      fail("readers disagree on validity", input, a ? "compact accepts" : thingwell::describe(static_cast<errc>(a.error().value())),
           b ? "simdjson accepts" : thingwell::describe(static_cast<errc>(b.error().value())));
    if (!a) {
      // A document whose only fault is its depth gets json_too_deep from both. (With several faults the
      // readers may report different ones: simdjson checks UTF-8 and structure before depth.)
      if ((a.error() == errc::json_too_deep) != (b.error() == errc::json_too_deep) &&
          compact_copy->parse(input, json::limits{max_input, max_input}))
        fail("readers disagree on the depth error", input);
      continue;
    }
    const std::string da = walk(*a, input, "compact");
    const std::string db = walk(*b, input, "simdjson");
    if (da != db) fail("readers disagree on the content", input, da, db);
    check_copy(*b, da, input, *compact_copy, lim);
#else
    if (!a) continue;
    const std::string da = walk(*a, input, "compact");
#endif
    check_copy(*a, da, input, *compact_copy, lim);
  }
  return 0;
}
