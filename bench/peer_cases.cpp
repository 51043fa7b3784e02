// Work that thingwell and the peer C libraries both expose as a function call, measured side by side.
//
// Neither libmosquitto nor Paho C has a public "encode this packet into a buffer" or "decode this
// buffer" call: their packet codecs run only inside a connected client (see publish_e2e.cpp for that
// comparison). What they do expose, and what is therefore comparable one call to one call:
//
//   UTF-8 validation        mosquitto_validate_utf8             mqtt::is_valid_utf8
//   topic name check        mosquitto_pub_topic_check2          mqtt::validate_topic_name
//   topic filter check      mosquitto_sub_topic_check2          mqtt::validate_topic_filter
//   topic matching          mosquitto_topic_matches_sub2        mqtt::topic_matches
//   property block encode   Paho MQTTProperties_len/_write      property_block_size + write_property_block
//   property block decode   Paho MQTTProperties_read (+ _free)  read_property_block
//   building a property set mosquitto_property_add_* (+ free)   filling mqtt::properties
//                           Paho MQTTProperties_add (+ free)
//
// The Paho property functions are declared in the installed MQTTProperties.h but are not exported by
// libpaho-mqtt3c.so; they are reachable through the static libpaho-mqtt3c.a, which the build links when
// it exists (THINGWELL_BENCH_PAHO_STATIC). thingwell's property block functions live in mqtt::detail
// (the public entry points are encode/decode of whole packets); they do the same work as Paho's.
//
// The checks are not identical, and the notes in the output say how: mosquitto's topic checks do not
// validate UTF-8 (mosquitto_publish calls mosquitto_validate_utf8 separately, so a "+ utf8" row adds it),
// thingwell's do. Paho's _write does not validate (it trusts what _add accepted); thingwell's size pass
// validates every property for the packet type.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <thingwell/mqtt.hpp>

#include "bench.hpp"

#if THINGWELL_BENCH_WITH_MOSQUITTO
#  include <mosquitto.h>
#  include <mqtt_protocol.h>  // MQTT_PROP_* identifiers
#endif
#if THINGWELL_BENCH_WITH_PAHO
extern "C" {
#  include <MQTTProperties.h>
}
#endif

namespace mqtt = thingwell::mqtt;
using thingwell::byte;
using thingwell::bytes_view;

namespace {

constexpr std::string_view ascii_topic = "dt/thingwell/bench-device-0001/telemetry";
// French, Chinese and an emoji: two-, three- and four-byte sequences.
constexpr std::string_view utf8_topic = "capteurs/température/zone-é/设备/温度/\xF0\x9F\x8C\xA1/état";
constexpr std::string_view filter = "dt/+/bench-device-0001/#";

struct match_pair {
  std::string_view filter;
  std::string_view topic;
  bool expected;
};
constexpr match_pair match_pairs[] = {
    {"dt/thingwell/bench-device-0001/telemetry", "dt/thingwell/bench-device-0001/telemetry", true},
    {"dt/+/bench-device-0001/telemetry", "dt/thingwell/bench-device-0001/telemetry", true},
    {"dt/thingwell/#", "dt/thingwell/bench-device-0001/telemetry", true},
    {"dt/thingwell/bench-device-0002/+", "dt/thingwell/bench-device-0001/telemetry", false},
};

// The PUBLISH property set used by every property case, in identifier order so that Paho (which writes
// in insertion order) produces the same bytes as thingwell (which writes in identifier order).
constexpr std::string_view content_type = "application/json";
constexpr std::string_view response_topic = "dt/thingwell/bench-device-0001/response";
constexpr byte correlation[16] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE,
                                  0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF};
constexpr mqtt::user_property users[] = {{"source", "bench"}, {"seq", "42"}};

mqtt::properties make_properties() {
  mqtt::properties p;
  p.payload_format_indicator = 1;
  p.message_expiry_interval = 3600;
  p.content_type = content_type;
  p.response_topic = response_topic;
  p.correlation_data = bytes_view(correlation);
  p.user_properties = users;
  return p;
}

std::vector<byte> thingwell_property_block() {
  const mqtt::properties p = make_properties();
  auto size = mqtt::detail::property_block_size(p, mqtt::context_of(mqtt::packet_type::publish));
  if (!size) bench::fail("property_block_size failed");
  std::vector<byte> out(mqtt::varint_size(*size) + *size);
  thingwell::byte_writer w(out);
  mqtt::detail::write_property_block(w, p, *size);
  if (w.written() != out.size()) bench::fail("property block size mismatch");
  return out;
}

const std::vector<byte>& property_block() {
  static const std::vector<byte> block = thingwell_property_block();
  return block;
}

void add(std::string id, std::string what, std::string op, std::string impl, std::string note,
         std::function<std::uint64_t(std::uint64_t)> run) {
  bench::add(bench::wall_case(std::move(id), std::move(what), std::move(op), std::move(impl), std::move(run),
                              std::move(note)));
}

// ---- thingwell -----------------------------------------------------------------------------------------

void register_thingwell() {
  for (const auto& [name, text] : {std::pair{"ascii", ascii_topic}, std::pair{"multibyte", utf8_topic}}) {
    add(std::string("peer.utf8.") + name + ".thingwell",
        std::string("UTF-8 check, ") + std::to_string(text.size()) + " B " + name, "is_valid_utf8", "thingwell", "",
        [t = text](std::uint64_t n) {
          bench::escape(t.data());
          for (std::uint64_t i = 0; i < n; ++i) {
            const bool ok = mqtt::is_valid_utf8(t);
            if (!ok) bench::fail("utf8 rejected");
            bench::keep(ok);
          }
          return n;
        });
  }
  add("peer.topic_name.thingwell", "topic name check, 40 B", "validate_topic_name", "thingwell", "incl. UTF-8",
      [](std::uint64_t n) {
        bench::escape(ascii_topic.data());
        for (std::uint64_t i = 0; i < n; ++i) {
          const auto ec = mqtt::validate_topic_name(ascii_topic);
          if (ec) bench::fail("topic rejected");
          bench::keep(ec);
        }
        return n;
      });
  add("peer.topic_filter.thingwell", "topic filter check, 24 B", "validate_topic_filter", "thingwell", "incl. UTF-8",
      [](std::uint64_t n) {
        bench::escape(filter.data());
        for (std::uint64_t i = 0; i < n; ++i) {
          const auto ec = mqtt::validate_topic_filter(filter);
          if (ec) bench::fail("filter rejected");
          bench::keep(ec);
        }
        return n;
      });
  add("peer.match.thingwell", "topic match (4 pairs, per pair)", "topic_matches", "thingwell", "",
      [](std::uint64_t n) {
        for (std::uint64_t i = 0; i < n; ++i) {
          for (const match_pair& m : match_pairs) {
            bench::escape(m.topic.data());
            const bool r = mqtt::topic_matches(m.filter, m.topic);
            if (r != m.expected) bench::fail("topic_matches disagrees");
            bench::keep(r);
          }
        }
        return n * std::size(match_pairs);
      });

  static const mqtt::properties props = make_properties();
  add("peer.props_encode.thingwell", "property block, 7 props (PUBLISH)", "encode", "thingwell",
      "detail::property_block_size + write_property_block; validates", [](std::uint64_t n) {
        static byte out[256];
        bench::escape(&props);
        bench::escape(out);
        for (std::uint64_t i = 0; i < n; ++i) {
          auto size = mqtt::detail::property_block_size(props, mqtt::context_of(mqtt::packet_type::publish));
          if (!size) bench::fail("property_block_size failed");
          thingwell::byte_writer w(out);
          mqtt::detail::write_property_block(w, props, *size);
          bench::keep(out);
        }
        return n;
      });
  add("peer.props_build_encode.thingwell", "property block, 7 props (PUBLISH)", "build + encode", "thingwell",
      "fill mqtt::properties, then encode", [](std::uint64_t n) {
        static byte out[256];
        bench::escape(out);
        for (std::uint64_t i = 0; i < n; ++i) {
          mqtt::properties p = make_properties();
          bench::escape(&p);
          auto size = mqtt::detail::property_block_size(p, mqtt::context_of(mqtt::packet_type::publish));
          if (!size) bench::fail("property_block_size failed");
          thingwell::byte_writer w(out);
          mqtt::detail::write_property_block(w, p, *size);
          bench::keep(out);
        }
        return n;
      });
  add("peer.props_decode.thingwell", "property block, 7 props (PUBLISH)", "decode", "thingwell",
      "detail::read_property_block; validates, no allocation", [](std::uint64_t n) {
        const bytes_view block(property_block());
        bench::escape(block.data());
        for (std::uint64_t i = 0; i < n; ++i) {
          thingwell::byte_reader r(block);
          mqtt::properties p;
          const auto ec = mqtt::detail::read_property_block(r, mqtt::context_of(mqtt::packet_type::publish), p);
          if (ec) bench::fail("read_property_block failed");
          bench::keep(p);
        }
        return n;
      });
}

// ---- libmosquitto ----------------------------------------------------------------------------------------

#if THINGWELL_BENCH_WITH_MOSQUITTO
void register_mosquitto() {
  for (const auto& [name, text] : {std::pair{"ascii", ascii_topic}, std::pair{"multibyte", utf8_topic}}) {
    add(std::string("peer.utf8.") + name + ".mosquitto",
        std::string("UTF-8 check, ") + std::to_string(text.size()) + " B " + name, "mosquitto_validate_utf8",
        "libmosquitto", "", [t = text](std::uint64_t n) {
          bench::escape(t.data());
          for (std::uint64_t i = 0; i < n; ++i) {
            const int rc = mosquitto_validate_utf8(t.data(), static_cast<int>(t.size()));
            if (rc != MOSQ_ERR_SUCCESS) bench::fail("mosquitto rejected utf8");
            bench::keep(rc);
          }
          return n;
        });
  }
  add("peer.topic_name.mosquitto", "topic name check, 40 B", "mosquitto_pub_topic_check2", "libmosquitto",
      "no UTF-8 check", [](std::uint64_t n) {
        bench::escape(ascii_topic.data());
        for (std::uint64_t i = 0; i < n; ++i) {
          const int rc = mosquitto_pub_topic_check2(ascii_topic.data(), ascii_topic.size());
          if (rc != MOSQ_ERR_SUCCESS) bench::fail("mosquitto rejected topic");
          bench::keep(rc);
        }
        return n;
      });
  add("peer.topic_name_utf8.mosquitto", "topic name check, 40 B", "pub_topic_check2 + validate_utf8", "libmosquitto",
      "as mosquitto_publish does", [](std::uint64_t n) {
        bench::escape(ascii_topic.data());
        for (std::uint64_t i = 0; i < n; ++i) {
          int rc = mosquitto_validate_utf8(ascii_topic.data(), static_cast<int>(ascii_topic.size()));
          if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_pub_topic_check2(ascii_topic.data(), ascii_topic.size());
          if (rc != MOSQ_ERR_SUCCESS) bench::fail("mosquitto rejected topic");
          bench::keep(rc);
        }
        return n;
      });
  add("peer.topic_filter.mosquitto", "topic filter check, 24 B", "sub_topic_check2 + validate_utf8", "libmosquitto",
      "as mosquitto_subscribe does", [](std::uint64_t n) {
        bench::escape(filter.data());
        for (std::uint64_t i = 0; i < n; ++i) {
          int rc = mosquitto_validate_utf8(filter.data(), static_cast<int>(filter.size()));
          if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_sub_topic_check2(filter.data(), filter.size());
          if (rc != MOSQ_ERR_SUCCESS) bench::fail("mosquitto rejected filter");
          bench::keep(rc);
        }
        return n;
      });
  add("peer.match.mosquitto", "topic match (4 pairs, per pair)", "mosquitto_topic_matches_sub2", "libmosquitto", "",
      [](std::uint64_t n) {
        for (std::uint64_t i = 0; i < n; ++i) {
          for (const match_pair& m : match_pairs) {
            bench::escape(m.topic.data());
            bool r = false;
            const int rc = mosquitto_topic_matches_sub2(m.filter.data(), m.filter.size(), m.topic.data(), m.topic.size(), &r);
            if (rc != MOSQ_ERR_SUCCESS || r != m.expected) bench::fail("mosquitto_topic_matches_sub2 disagrees");
            bench::keep(r);
          }
        }
        return n * std::size(match_pairs);
      });
  add("peer.props_build.mosquitto", "property block, 7 props (PUBLISH)", "build (add_* + free_all)", "libmosquitto",
      "no public encode: a list of 7 heap nodes", [](std::uint64_t n) {
        const std::string ct(content_type), rt(response_topic);
        for (std::uint64_t i = 0; i < n; ++i) {
          mosquitto_property* list = nullptr;
          int rc = mosquitto_property_add_byte(&list, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
          rc |= mosquitto_property_add_int32(&list, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, 3600);
          rc |= mosquitto_property_add_string(&list, MQTT_PROP_CONTENT_TYPE, ct.c_str());
          rc |= mosquitto_property_add_string(&list, MQTT_PROP_RESPONSE_TOPIC, rt.c_str());
          rc |= mosquitto_property_add_binary(&list, MQTT_PROP_CORRELATION_DATA, correlation, sizeof correlation);
          rc |= mosquitto_property_add_string_pair(&list, MQTT_PROP_USER_PROPERTY, "source", "bench");
          rc |= mosquitto_property_add_string_pair(&list, MQTT_PROP_USER_PROPERTY, "seq", "42");
          if (rc != MOSQ_ERR_SUCCESS) bench::fail("mosquitto_property_add failed");
          bench::keep(list);
          mosquitto_property_free_all(&list);
        }
        return n;
      });
}
#endif

// ---- Paho C ----------------------------------------------------------------------------------------------

#if THINGWELL_BENCH_WITH_PAHO && THINGWELL_BENCH_PAHO_STATIC
MQTTProperty paho_string(MQTTPropertyCodes id, std::string_view s) {
  MQTTProperty p{};
  p.identifier = id;
  p.value.data.len = static_cast<int>(s.size());
  p.value.data.data = const_cast<char*>(s.data());  // _add copies the bytes
  return p;
}

void paho_build(MQTTProperties& props) {
  MQTTProperty p{};
  p.identifier = MQTTPROPERTY_CODE_PAYLOAD_FORMAT_INDICATOR;
  p.value.byte = 1;
  int rc = MQTTProperties_add(&props, &p);
  p = MQTTProperty{};
  p.identifier = MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL;
  p.value.integer4 = 3600;
  rc |= MQTTProperties_add(&props, &p);
  p = paho_string(MQTTPROPERTY_CODE_CONTENT_TYPE, content_type);
  rc |= MQTTProperties_add(&props, &p);
  p = paho_string(MQTTPROPERTY_CODE_RESPONSE_TOPIC, response_topic);
  rc |= MQTTProperties_add(&props, &p);
  p = paho_string(MQTTPROPERTY_CODE_CORRELATION_DATA,
                  std::string_view(reinterpret_cast<const char*>(correlation), sizeof correlation));
  rc |= MQTTProperties_add(&props, &p);
  for (const mqtt::user_property& u : users) {
    p = paho_string(MQTTPROPERTY_CODE_USER_PROPERTY, u.name);
    p.value.value.len = static_cast<int>(u.value.size());
    p.value.value.data = const_cast<char*>(u.value.data());
    rc |= MQTTProperties_add(&props, &p);
  }
  if (rc != 0) bench::fail("MQTTProperties_add failed");
}

void register_paho() {
  // Cross-check: the same property set must encode to the same bytes in both libraries, or the two
  // rows would not be measuring the same work.
  {
    MQTTProperties props = MQTTProperties_initializer;
    paho_build(props);
    std::vector<char> out(static_cast<std::size_t>(MQTTProperties_len(&props)));
    char* cursor = out.data();
    const int written = MQTTProperties_write(&cursor, &props);
    MQTTProperties_free(&props);
    const auto& ours = property_block();
    if (written != static_cast<int>(ours.size()) || out.size() != ours.size() ||
        std::memcmp(out.data(), ours.data(), ours.size()) != 0)
      bench::fail("Paho and thingwell encode the property set differently");
  }

  add("peer.props_encode.paho", "property block, 7 props (PUBLISH)", "encode (_len + _write)", "Paho C",
      "prebuilt list; no validation in _write", [](std::uint64_t n) {
        static MQTTProperties props = [] {
          MQTTProperties p = MQTTProperties_initializer;
          paho_build(p);
          return p;
        }();
        static char out[256];
        bench::escape(&props);
        for (std::uint64_t i = 0; i < n; ++i) {
          if (MQTTProperties_len(&props) > static_cast<int>(sizeof out)) bench::fail("too long");
          char* cursor = out;
          const int written = MQTTProperties_write(&cursor, &props);
          bench::keep(written);
          bench::keep(out);
        }
        return n;
      });
  add("peer.props_build_encode.paho", "property block, 7 props (PUBLISH)", "build + encode (+ free)", "Paho C",
      "_add copies each value to the heap", [](std::uint64_t n) {
        static char out[256];
        for (std::uint64_t i = 0; i < n; ++i) {
          MQTTProperties props = MQTTProperties_initializer;
          paho_build(props);
          char* cursor = out;
          const int written = MQTTProperties_write(&cursor, &props);
          bench::keep(written);
          bench::keep(out);
          MQTTProperties_free(&props);
        }
        return n;
      });
  add("peer.props_decode.paho", "property block, 7 props (PUBLISH)", "decode (_read + _free)", "Paho C",
      "allocates the array and copies values", [](std::uint64_t n) {
        static std::vector<char> block(property_block().begin(), property_block().end());
        bench::escape(block.data());
        for (std::uint64_t i = 0; i < n; ++i) {
          MQTTProperties props = MQTTProperties_initializer;
          char* cursor = block.data();
          const int rc = MQTTProperties_read(&props, &cursor, block.data() + block.size());
          if (rc != 1 || props.count != 7) bench::fail("MQTTProperties_read failed");
          bench::keep(props);
          MQTTProperties_free(&props);
        }
        return n;
      });
}
#endif

}  // namespace

void register_peer_cases() {
  register_thingwell();
#if THINGWELL_BENCH_WITH_MOSQUITTO
  register_mosquitto();
#endif
#if THINGWELL_BENCH_WITH_PAHO && THINGWELL_BENCH_PAHO_STATIC
  register_paho();
#endif
}
