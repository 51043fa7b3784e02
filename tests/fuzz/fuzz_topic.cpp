// libFuzzer target: topic name and filter validation and matching, checked for consistency with each
// other and against the level-by-level reference matcher and the reference UTF-8 decoder.
//
// Input: byte 0 gives the length of the filter (modulo what is there); the filter follows, then the
// topic name.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../unit/mqtt_testing.hpp"

namespace {

namespace mqtt = thingwell::mqtt;

[[noreturn]] void fail(const char* what, std::string_view filter, std::string_view topic) {
  std::fprintf(stderr, "fuzz check failed: %s (filter \"%.*s\", topic \"%.*s\")\n", what,
               static_cast<int>(filter.size()), filter.data(), static_cast<int>(topic.size()), topic.data());
  std::abort();
}

void check_string(std::string_view s) {
  if (mqtt::is_valid_utf8(s) != mqtt_testing::reference_utf8_valid(s)) fail("UTF-8 validators disagree", s, {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t split = rest.empty() ? 0 : data[0] % (rest.size() + 1);
  const std::string_view filter = rest.substr(0, split);
  const std::string_view topic = rest.substr(split);
  check_string(filter);
  check_string(topic);

  const bool name_ok = !mqtt::validate_topic_name(topic);
  const bool filter_ok = !mqtt::validate_topic_filter(filter);

  // As a filter, a name that starts with "$share/" means a shared subscription; every other valid
  // topic name is a filter without wildcards that matches itself.
  if (name_ok && !topic.starts_with(mqtt::share_prefix)) {
    if (mqtt::validate_topic_filter(topic)) fail("a valid topic name is not a valid filter", topic, topic);
    if (!mqtt::topic_matches(topic, topic)) fail("a topic name does not match itself", topic, topic);
  }
  if (name_ok) {
    const bool dollar = topic[0] == '$';
    if (mqtt::topic_matches("#", topic) == dollar) fail("'#' and the $ rule disagree", "#", topic);
    std::string pluses = "+";
    for (char c : topic)
      if (c == '/') pluses += "/+";
    if (mqtt::topic_matches(pluses, topic) == dollar) fail("one '+' per level and the $ rule disagree", pluses, topic);
    // The limits checks accept what validation accepts, up to the profile's own limits.
    const std::string_view counted = mqtt::counted_topic_part(mqtt::aws_iot_core_limits, topic);
    if (counted.size() > topic.size() || topic.substr(topic.size() - counted.size()) != counted)
      fail("counted part is not a suffix of the topic", {}, topic);
    (void)mqtt::check_publish_topic(mqtt::aws_iot_core_limits, topic);
  }
  if (filter_ok) {
    const auto shared = mqtt::split_shared(filter);
    if (!shared.share_name.empty() && (shared.filter.empty() || shared.share_name.find('/') != std::string_view::npos))
      fail("shared filter split wrongly", filter, {});
    (void)mqtt::check_subscribe_filter(mqtt::aws_iot_core_limits, filter);
  }
  if (name_ok && filter_ok) {
    const bool matches = mqtt::topic_matches(filter, topic);
    if (matches != mqtt_testing::reference_topic_matches(filter, topic))
      fail("matcher disagrees with reference", filter, topic);
    // A filter without wildcards matches exactly the equal topic.
    const std::string_view plain = mqtt::split_shared(filter).filter;
    if (!mqtt::has_wildcard(plain) && matches != (plain == topic))
      fail("a plain filter matches another topic", filter, topic);
  }
  return 0;
}
