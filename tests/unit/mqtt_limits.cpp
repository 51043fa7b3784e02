// Broker limits: the AWS IoT Core profile (topic length and levels, Basic Ingest prefix, payload size,
// client id, keep-alive range, QoS) and the permissive MQTT specification profile.
#include <doctest/doctest.h>

#include <string>

#include "mqtt_checks.hpp"

namespace {

using namespace mqtt_testing;
using thingwell::errc;
const mqtt::broker_limits& aws = mqtt::aws_iot_core_limits;
const mqtt::broker_limits& spec = mqtt::mqtt_spec_limits;

std::string ok() { return "success"; }
std::string err(errc e) { return error_text(e); }

}  // namespace

TEST_CASE("mqtt limits: AWS topic length is 256 bytes") {
  const std::string at_limit(256, 't');
  CHECK(error_text(mqtt::check_publish_topic(aws, at_limit)) == ok());
  CHECK(error_text(mqtt::check_publish_topic(aws, at_limit + "t")) == err(errc::topic_too_long));
  CHECK(error_text(mqtt::check_subscribe_filter(aws, at_limit + "t")) == err(errc::topic_too_long));
  // Bytes, not characters: 128 two-byte characters fill the limit.
  std::string wide;
  for (int i = 0; i < 128; ++i) wide += "\xC3\xA9";
  CHECK(error_text(mqtt::check_publish_topic(aws, wide)) == ok());
  CHECK(error_text(mqtt::check_publish_topic(aws, wide + "x")) == err(errc::topic_too_long));
}

TEST_CASE("mqtt limits: AWS topics have at most 7 forward slashes") {
  CHECK(error_text(mqtt::check_publish_topic(aws, "1/2/3/4/5/6/7/8")) == ok());
  CHECK(error_text(mqtt::check_publish_topic(aws, "1/2/3/4/5/6/7/8/9")) == err(errc::topic_too_many_levels));
  CHECK(error_text(mqtt::check_publish_topic(aws, "///////")) == ok());
  CHECK(error_text(mqtt::check_publish_topic(aws, "////////")) == err(errc::topic_too_many_levels));
  CHECK(error_text(mqtt::check_subscribe_filter(aws, "+/+/+/+/+/+/+/#")) == ok());
  CHECK(error_text(mqtt::check_subscribe_filter(aws, "+/+/+/+/+/+/+/+/#")) == err(errc::topic_too_many_levels));
}

TEST_CASE("mqtt limits: the AWS Basic Ingest prefix does not count towards the limits") {
  const std::string prefix = "$aws/rules/my_rule/";
  CHECK(error_text(mqtt::check_publish_topic(aws, prefix + std::string(256, 't'))) == ok());
  CHECK(error_text(mqtt::check_publish_topic(aws, prefix + std::string(257, 't'))) == err(errc::topic_too_long));
  CHECK(error_text(mqtt::check_publish_topic(aws, prefix + "1/2/3/4/5/6/7/8")) == ok());
  CHECK(error_text(mqtt::check_publish_topic(aws, prefix + "1/2/3/4/5/6/7/8/9")) ==
        err(errc::topic_too_many_levels));
  CHECK(mqtt::counted_topic_part(aws, "$aws/rules/r/a/b") == "a/b");
  // Only with the profile switch on: the plain MQTT profile counts the whole topic.
  CHECK(mqtt::counted_topic_part(spec, "$aws/rules/r/a/b") == "$aws/rules/r/a/b");
  // Other $aws topics count in full.
  CHECK(mqtt::counted_topic_part(aws, "$aws/things/t/shadow/update") == "$aws/things/t/shadow/update");
}

TEST_CASE("mqtt limits: a shared subscription prefix does not count towards the limits") {
  CHECK(mqtt::counted_topic_part(aws, "$share/group/a/b") == "a/b");
  CHECK(error_text(mqtt::check_subscribe_filter(aws, "$share/g/1/2/3/4/5/6/7/8")) == ok());
  CHECK(error_text(mqtt::check_subscribe_filter(aws, "$share/g/" + std::string(256, 'f'))) == ok());
}

TEST_CASE("mqtt limits: topics are checked for MQTT validity first") {
  CHECK(error_text(mqtt::check_publish_topic(aws, "a/+")) == err(errc::bad_topic_name));
  CHECK(error_text(mqtt::check_publish_topic(aws, "")) == err(errc::bad_topic_name));
  CHECK(error_text(mqtt::check_subscribe_filter(aws, "a/#/b")) == err(errc::bad_topic_filter));
}

TEST_CASE("mqtt limits: AWS payload is at most 128 KB") {
  CHECK(error_text(mqtt::check_payload(aws, 128 * 1024)) == ok());
  CHECK(error_text(mqtt::check_payload(aws, 128 * 1024 + 1)) == err(errc::payload_too_large));
  CHECK(error_text(mqtt::check_payload(spec, mqtt::max_varint)) == ok());
}

TEST_CASE("mqtt limits: AWS client id is at most 128 bytes and may not start with '$'") {
  CHECK(error_text(mqtt::check_client_id(aws, std::string(128, 'c'))) == ok());
  CHECK(error_text(mqtt::check_client_id(aws, std::string(129, 'c'))) == err(errc::client_id_invalid));
  CHECK(error_text(mqtt::check_client_id(aws, "$device")) == err(errc::client_id_invalid));
  CHECK(error_text(mqtt::check_client_id(aws, "dev$ice")) == ok());
  CHECK(error_text(mqtt::check_client_id(aws, "\xFF")) == err(errc::bad_utf8));
  CHECK(error_text(mqtt::check_client_id(spec, "$device")) == ok());
  CHECK(error_text(mqtt::check_client_id(spec, std::string(mqtt::max_field_length, 'c'))) == ok());
  CHECK(error_text(mqtt::check_client_id(spec, std::string(mqtt::max_field_length + 1, 'c'))) ==
        err(errc::client_id_invalid));
}

TEST_CASE("mqtt limits: AWS keep-alive is 30..1200 seconds and never 0") {
  CHECK(error_text(mqtt::check_keep_alive(aws, 30)) == ok());
  CHECK(error_text(mqtt::check_keep_alive(aws, 1200)) == ok());
  CHECK(error_text(mqtt::check_keep_alive(aws, 29)) == err(errc::keep_alive_out_of_range));
  CHECK(error_text(mqtt::check_keep_alive(aws, 1201)) == err(errc::keep_alive_out_of_range));
  CHECK(error_text(mqtt::check_keep_alive(aws, 0)) == err(errc::keep_alive_out_of_range));
  CHECK(error_text(mqtt::check_keep_alive(spec, 0)) == ok());
  CHECK(error_text(mqtt::check_keep_alive(spec, 65535)) == ok());
  CHECK(error_text(mqtt::check_keep_alive(spec, 1)) == ok());
}

TEST_CASE("mqtt limits: AWS supports QoS 0 and 1 only") {
  CHECK(error_text(mqtt::check_qos(aws, mqtt::qos::at_most_once)) == ok());
  CHECK(error_text(mqtt::check_qos(aws, mqtt::qos::at_least_once)) == ok());
  CHECK(error_text(mqtt::check_qos(aws, mqtt::qos::exactly_once)) == err(errc::qos_not_supported));
  CHECK(error_text(mqtt::check_qos(spec, mqtt::qos::exactly_once)) == ok());
}

TEST_CASE("mqtt limits: the AWS profile's other documented quotas") {
  CHECK(aws.max_filters_per_subscribe == 8);
  CHECK(aws.max_subscriptions == 50);
  CHECK(aws.max_inflight == 100);
  CHECK(aws.publishes_per_second == 100);
  CHECK(aws.bytes_per_second == 512u * 1024u);
  CHECK(spec.max_topic_bytes == mqtt::max_field_length);
  CHECK(spec.max_payload_bytes == mqtt::max_varint);
}
