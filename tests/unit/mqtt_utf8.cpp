// MQTT UTF-8 strings (MQTT 5 §1.5.4, MQTT 3.1.1 §1.5.3): well-formed UTF-8 without U+0000 or surrogates.
#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <cstdint>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;

std::string_view sv(const char* s, std::size_t n) { return {s, n}; }

}  // namespace

TEST_CASE("mqtt utf8: well-formed strings are accepted") {
  const std::string_view valid[] = {
      "",
      "a",
      "sport/tennis/player1",
      "\x01\x1F\x7F",             // control characters: a sender SHOULD NOT, a receiver may accept
      "\xC2\x80",                 // U+0080, the first two-byte code point
      "\xDF\xBF",                 // U+07FF
      "\xE0\xA0\x80",             // U+0800, the first three-byte code point
      "\xED\x9F\xBF",             // U+D7FF, just below the surrogates
      "\xEE\x80\x80",             // U+E000, just above them
      "\xEF\xBB\xBF",             // U+FEFF: [MQTT-1.5.4-3] says it must not be skipped or stripped
      "\xEF\xBF\xBF",             // U+FFFF, a non-character: allowed
      "\xF0\x90\x80\x80",         // U+10000, the first four-byte code point
      "\xF4\x8F\xBF\xBF",         // U+10FFFF, the last code point
      "A\xF0\xAA\x9B\x94",        // MQTT 5 §1.5.4 example: "A" followed by U+2A6D4
      "\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80 0123456789",
  };
  for (std::string_view s : valid) {
    CAPTURE(hex(thingwell::as_bytes(s)));
    CHECK(mqtt::is_valid_utf8(s));
    CHECK(reference_utf8_valid(s));
  }
}

TEST_CASE("mqtt utf8: ill-formed strings, U+0000 and surrogates are refused") {
  const struct {
    const char* what;
    std::string_view bytes;
  } invalid[] = {
      {"U+0000", sv("\0", 1)},
      {"U+0000 after text", sv("ab\0", 3)},
      {"overlong U+0000 (C0 80)", "\xC0\x80"},
      {"overlong '/' (C0 AF)", "\xC0\xAF"},
      {"overlong two-byte lead C1", "\xC1\xBF"},
      {"overlong three-byte", "\xE0\x80\x80"},
      {"overlong three-byte U+07FF", "\xE0\x9F\xBF"},
      {"overlong four-byte", "\xF0\x80\x80\x80"},
      {"overlong four-byte U+FFFF", "\xF0\x8F\xBF\xBF"},
      {"surrogate U+D800", "\xED\xA0\x80"},
      {"surrogate U+DBFF", "\xED\xAF\xBF"},
      {"surrogate U+DC00", "\xED\xB0\x80"},
      {"surrogate U+DFFF", "\xED\xBF\xBF"},
      {"surrogate pair written as CESU-8", "\xED\xA0\xBD\xED\xB8\x80"},
      {"above U+10FFFF (F4 90)", "\xF4\x90\x80\x80"},
      {"lead F5", "\xF5\x80\x80\x80"},
      {"five-byte lead F8", "\xF8\x88\x80\x80\x80"},
      {"six-byte lead FC", "\xFC\x84\x80\x80\x80\x80"},
      {"0xFE", "\xFE"},
      {"0xFF", "\xFF"},
      {"lone continuation 0x80", "\x80"},
      {"lone continuation 0xBF", "\xBF"},
      {"truncated two-byte", "\xC2"},
      {"truncated three-byte", "\xE2\x82"},
      {"truncated four-byte", "\xF0\x9F\x98"},
      {"continuation missing, ASCII follows", "\xC2\x41"},
      {"third byte not a continuation", "\xE0\xA0\x41"},
      {"fourth byte not a continuation", "\xF0\x90\x80\xC0"},
  };
  for (const auto& row : invalid) {
    CAPTURE(row.what);
    CHECK_FALSE(mqtt::is_valid_utf8(row.bytes));
    CHECK_FALSE(reference_utf8_valid(row.bytes));
  }
}

TEST_CASE("mqtt utf8: a bad sequence is found at every offset around the eight-byte fast path") {
  // The validator checks ASCII eight bytes at a time; a fault must be seen whether it sits inside a
  // chunk, across a chunk boundary or in the tail.
  const std::string_view faults[] = {sv("\0", 1), "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\xFF"};
  for (std::string_view fault : faults) {
    for (std::size_t before = 0; before < 20; ++before) {
      for (std::size_t after : {0, 1, 7, 8, 9}) {
        const std::string s = std::string(before, 'a') + std::string(fault) + std::string(after, 'b');
        if (mqtt::is_valid_utf8(s)) {
          FAIL_CHECK("accepted ", hex(thingwell::as_bytes(s)));
          return;
        }
      }
      // The same position holding a good multi-byte character must pass.
      const std::string ok = std::string(before, 'a') + "\xF0\x9F\x98\x80" + std::string(9, 'b');
      CHECK(mqtt::is_valid_utf8(ok));
    }
  }
}

TEST_CASE("mqtt utf8: random byte strings agree with a code-point-by-code-point reference") {
  random_stream rng(0x0BADC0DE);
  // Bytes drawn mostly from UTF-8 lead and continuation ranges, so that near-valid strings are common.
  const thingwell::byte pool[] = {0x00, 0x01, 0x2F, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                  0xDF, 0xE0, 0xE1, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xF8, 0xFF};
  int valid = 0;
  for (int i = 0; i < 30'000; ++i) {
    std::string s;
    const std::uint32_t n = rng.below(24);
    for (std::uint32_t k = 0; k < n; ++k) {
      s += rng.chance(50) ? static_cast<char>(rng.between('a', 'z'))
                          : static_cast<char>(pool[rng.below(sizeof pool)]);
    }
    const bool expected = reference_utf8_valid(s);
    valid += expected;
    if (mqtt::is_valid_utf8(s) != expected) {
      FAIL_CHECK("disagreement on ", hex(thingwell::as_bytes(s)));
      return;
    }
  }
  // Both outcomes were exercised.
  CHECK(valid > 1000);
  CHECK(valid < 29'000);
}

TEST_CASE("mqtt utf8: every code point is accepted except U+0000 and the surrogates") {
  auto encode = [](std::string& s, std::uint32_t cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  };
  // The valid ones in runs of 4096 (a run fails if any one of them is refused), the invalid ones alone.
  std::string run;
  int refused_runs = 0;
  int accepted_alone = 0;
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const bool valid = cp != 0 && (cp < 0xD800 || cp > 0xDFFF);
    if (valid) {
      encode(run, cp);
      if (cp % 4096 == 4095 || cp == 0x10FFFF) {
        refused_runs += !mqtt::is_valid_utf8(run);
        run.clear();
      }
    } else {
      std::string alone;
      encode(alone, cp);
      accepted_alone += mqtt::is_valid_utf8(alone);
    }
  }
  CHECK(refused_runs == 0);
  CHECK(accepted_alone == 0);
}
