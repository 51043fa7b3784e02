// The JSON group of thingwell::errc: numbered from 700, one message each, not MQTT "malformed".
#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <string>

#include <thingwell/core/error.hpp>

using thingwell::errc;

TEST_CASE("json errors: contiguous from 700, each with its own message") {
  constexpr errc codes[] = {errc::json_syntax,     errc::json_too_deep,      errc::json_too_large,
                            errc::json_bad_number, errc::json_bad_string,    errc::json_bad_utf8,
                            errc::json_type_mismatch, errc::json_number_out_of_range};
  std::set<std::string> seen;
  int expected = 700;
  for (errc e : codes) {
    CHECK(static_cast<int>(e) == expected++);
    const char* text = thingwell::describe(e);
    CHECK(std::strcmp(text, "unknown thingwell error") != 0);
    CHECK(seen.insert(text).second);
    CHECK_FALSE(thingwell::is_malformed(e));
    CHECK(std::error_code(e).message() == text);
  }
}
