// Topic names, topic filters and matching (MQTT 5 §4.7, §4.8.2; MQTT 3.1.1 §4.7).
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;
using thingwell::errc;

std::string check_name(std::string_view t) { return error_text(mqtt::validate_topic_name(t)); }
std::string check_filter(std::string_view f) { return error_text(mqtt::validate_topic_filter(f)); }

}  // namespace

TEST_CASE("mqtt topic: valid topic names") {
  for (std::string_view t : {"a", "/", "//", "a/b", "a//b", "/finance", "sport/tennis/player1", "$SYS/broker/load",
                             " ", "with space/x", "\xC3\xA9t\xC3\xA9/\xF0\x9F\x98\x80", "$aws/things/t1/shadow/update",
                             "a$b", "$"}) {
    CAPTURE(t);
    CHECK(check_name(t) == "success");
  }
  const std::string longest(mqtt::max_field_length, 'x');
  CHECK(check_name(longest) == "success");
}

TEST_CASE("mqtt topic: invalid topic names") {
  const struct {
    std::string_view topic;
    errc error;
  } rows[] = {
      {"", errc::bad_topic_name},  // [MQTT-4.7.3-1] at least one character
      {"+", errc::bad_topic_name},
      {"#", errc::bad_topic_name},
      {"a/+", errc::bad_topic_name},
      {"a/#", errc::bad_topic_name},
      {"a+b", errc::bad_topic_name},  // wildcards are not allowed anywhere in a name [MQTT-3.3.2-2]
      {"a#", errc::bad_topic_name},
      {std::string_view("a\0b", 3), errc::bad_utf8},  // [MQTT-4.7.3-2] no U+0000
      {"\xFF", errc::bad_utf8},
  };
  for (const auto& row : rows) {
    CAPTURE(row.topic);
    CHECK(check_name(row.topic) == error_text(row.error));
  }
  CHECK(check_name(std::string(mqtt::max_field_length + 1, 'x')) == error_text(errc::string_too_long));
}

TEST_CASE("mqtt topic: valid topic filters") {
  for (std::string_view f : {"#", "+", "+/+", "/+", "+/", "a/#", "a/+/b", "sport/tennis/#", "+/tennis/#", "a//b",
                             "$SYS/#", "$share/g/a", "$share/g/#", "$share/g/+/x", "$share/group.1/a/b",
                             "$share",       // no trailing '/': an ordinary filter
                             "$sharex/a",    // not the share prefix
                             "a$share/g/a", "\xC3\xA9/+"}) {
    CAPTURE(f);
    CHECK(check_filter(f) == "success");
  }
}

TEST_CASE("mqtt topic: invalid topic filters") {
  const struct {
    std::string_view filter;
    errc error;
  } rows[] = {
      {"", errc::bad_topic_filter},
      {"a#", errc::bad_topic_filter},      // '#' must occupy a whole level
      {"a/b#", errc::bad_topic_filter},
      {"#/", errc::bad_topic_filter},      // ... and be the last level
      {"a/#/b", errc::bad_topic_filter},
      {"##", errc::bad_topic_filter},
      {"+a", errc::bad_topic_filter},      // '+' must occupy a whole level
      {"a+/b", errc::bad_topic_filter},
      {"a/b+", errc::bad_topic_filter},
      {"++", errc::bad_topic_filter},
      {"$share/", errc::bad_topic_filter},        // share name missing
      {"$share//a", errc::bad_topic_filter},      // empty share name
      {"$share/g", errc::bad_topic_filter},       // no filter after the share name
      {"$share/g/", errc::bad_topic_filter},      // empty filter
      {"$share/g+/a", errc::bad_topic_filter},    // wildcard in the share name (§4.8.2)
      {"$share/#/a", errc::bad_topic_filter},
      {"$share/g/a#", errc::bad_topic_filter},    // the filter part follows the usual rules
      {std::string_view("a/\0", 3), errc::bad_utf8},
      {"\xC0\xAF", errc::bad_utf8},
  };
  for (const auto& row : rows) {
    CAPTURE(row.filter);
    CHECK(check_filter(row.filter) == error_text(row.error));
  }
  CHECK(check_filter(std::string(mqtt::max_field_length + 1, '+')) == error_text(errc::string_too_long));
}

TEST_CASE("mqtt topic: shared subscription prefix is split off") {
  auto s = mqtt::split_shared("$share/grp/a/+/c");
  CHECK(s.share_name == "grp");
  CHECK(s.filter == "a/+/c");
  s = mqtt::split_shared("a/b");
  CHECK(s.share_name.empty());
  CHECK(s.filter == "a/b");
  s = mqtt::split_shared("$share/grp");
  CHECK(s.share_name == "grp");
  CHECK(s.filter.empty());
  CHECK(mqtt::has_wildcard("a/+"));
  CHECK(mqtt::has_wildcard("#"));
  CHECK_FALSE(mqtt::has_wildcard("a/b"));
}

TEST_CASE("mqtt topic: matching table") {
  const struct {
    std::string_view filter;
    std::string_view topic;
    bool matches;
  } rows[] = {
      // MQTT 5 §4.7.1.2 examples
      {"sport/tennis/player1/#", "sport/tennis/player1", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
      {"sport/#", "sport", true},  // '#' also matches the parent level
      {"#", "sport/tennis", true},
      {"#", "/", true},
      // §4.7.1.3 examples
      {"sport/tennis/+", "sport/tennis/player1", true},
      {"sport/tennis/+", "sport/tennis/player2", true},
      {"sport/tennis/+", "sport/tennis/player1/ranking", false},
      {"sport/+", "sport", false},
      {"sport/+", "sport/", true},  // '+' matches an empty level
      {"+/+", "/finance", true},
      {"/+", "/finance", true},
      {"+", "/finance", false},
      {"+/tennis/#", "sport/tennis/player1", true},
      {"a/+/c", "a//c", true},
      {"+/+", "/", true},
      {"a/+", "a/b/c", false},
      {"a/#", "a/", true},
      {"a/#", "ab", false},
      {"a/b", "a/b/", false},
      {"a/b/", "a/b", false},
      {"a/b/", "a/b/", true},
      {"a", "ab", false},
      {"ab", "a", false},
      {"a/b", "a/c", false},
      // §4.7.2: a filter starting with a wildcard does not match a topic starting with '$'
      {"#", "$SYS/monitor/Clients", false},
      {"+/monitor/Clients", "$SYS/monitor/Clients", false},
      {"$SYS/#", "$SYS/monitor/Clients", true},
      {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
      {"+", "$", false},
      {"a/+", "a/$x", true},  // only the first level is special
      {"#", "a/$x", true},
      // shared subscriptions match on the part after the share name
      {"$share/g/sport/#", "sport/tennis", true},
      {"$share/g/#", "$SYS/x", false},
      {"$share/g/a/+", "a/b", true},
      {"$share/g/a/+", "g/a/b", false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.filter);
    CAPTURE(row.topic);
    CHECK(mqtt::topic_matches(row.filter, row.topic) == row.matches);
    CHECK(reference_topic_matches(row.filter, row.topic) == row.matches);
  }
}

TEST_CASE("mqtt topic: matching agrees with a level-by-level reference on random topics and filters") {
  packet_generator gen(0x70F1C);
  random_stream& rng = gen.rng();
  int matched = 0;
  for (int i = 0; i < 20'000; ++i) {
    gen.clear();
    // Short levels from a small alphabet so that topics and filters often line up.
    auto level = [&] {
      static const char* const pieces[] = {"", "a", "b", "ab", "$", "$a"};
      return std::string(pieces[rng.below(6)]);
    };
    std::string topic = level();
    for (std::uint32_t k = rng.below(4); k > 0; --k) topic += "/" + level();
    std::string filter;
    const std::uint32_t levels = rng.between(1, 5);
    for (std::uint32_t k = 0; k < levels; ++k) {
      if (k != 0) filter += '/';
      const std::uint32_t pick = rng.below(10);
      if (pick == 0 && k + 1 == levels) filter += '#';
      else if (pick < 3) filter += '+';
      else filter += level();
    }
    if (mqtt::validate_topic_name(topic) || mqtt::validate_topic_filter(filter)) continue;
    const bool expected = reference_topic_matches(filter, topic);
    matched += expected;
    if (mqtt::topic_matches(filter, topic) != expected) {
      FAIL_CHECK("filter \"", filter, "\" topic \"", topic, "\": expected ", expected);
      return;
    }
  }
  CHECK(matched > 500);  // both outcomes are common enough to mean something
}

TEST_CASE("mqtt topic: a topic name matches itself, '#' and a '+' per level") {
  packet_generator gen(0x5E1F);
  for (int i = 0; i < 2000; ++i) {
    gen.clear();
    const std::string topic = gen.topic_name();
    INFO(topic);
    REQUIRE(check_name(topic) == "success");
    REQUIRE(check_filter(topic) == "success");  // a valid name is a valid filter
    CHECK(mqtt::topic_matches(topic, topic));
    const bool dollar = topic[0] == '$';
    CHECK(mqtt::topic_matches("#", topic) == !dollar);
    std::string pluses = "+";
    for (char c : topic)
      if (c == '/') pluses += "/+";
    CHECK(mqtt::topic_matches(pluses, topic) == !dollar);
  }
}

TEST_CASE("mqtt topic: a topic name starting with $share/ is a valid name but a shared filter") {
  // Found by fuzzing the "a valid name is a filter that matches itself" rule: as a filter, "$share/..."
  // is a shared subscription, so the rule holds only outside that prefix.
  CHECK(check_name("$share/") == "success");
  CHECK(check_filter("$share/") == error_text(errc::bad_topic_filter));
  CHECK(check_name("$share/g/a") == "success");
  CHECK(check_filter("$share/g/a") == "success");
  CHECK_FALSE(mqtt::topic_matches("$share/g/a", "$share/g/a"));  // it subscribes to "a"
  CHECK(mqtt::topic_matches("$share/g/a", "a"));
}
