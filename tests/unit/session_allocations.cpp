// Proof that a compact session on caller memory allocates nothing: not at construction, not at start,
// not in a whole connect / subscribe / publish / receive / ping / reconnect cycle.
//
// This file also holds the replacement global operator new functions that feed the allocation counter
// (support/allocation_counter.hpp): replacements may not be inline, so exactly one file defines them.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include "support/allocation_counter.hpp"
#include "support/scripted_broker.hpp"

namespace {

[[noreturn]] void out_of_memory() {
#if defined(__cpp_exceptions)
  throw std::bad_alloc();
#else
  std::abort();
#endif
}

void* counted_malloc(std::size_t n) noexcept {
  ++session_testing::heap_allocations;
  return std::malloc(n != 0 ? n : 1);
}

void* counted_aligned(std::size_t n, std::align_val_t a) noexcept {
  ++session_testing::heap_allocations;
  const auto align = static_cast<std::size_t>(a);
  const std::size_t size = ((n != 0 ? n : 1) + align - 1) / align * align;  // aligned_alloc wants a multiple
  return std::aligned_alloc(align, size);
}

}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_malloc(n)) return p;
  out_of_memory();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_malloc(n)) return p;
  out_of_memory();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted_aligned(n, a)) return p;
  out_of_memory();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  if (void* p = counted_aligned(n, a)) return p;
  out_of_memory();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

using namespace session_testing;
using mqtt::protocol_version;
using mqtt::qos;

// Counts instead of recording: a recording observer would allocate inside the session's calls.
class counting_observer : public mqtt::session_observer {
 public:
  std::size_t connected = 0;
  std::size_t ready = 0;
  std::size_t disconnected = 0;
  std::size_t published = 0;
  std::size_t failed = 0;
  std::size_t subscribed = 0;
  std::size_t unmatched = 0;

  void on_connected(const mqtt::connected_event&) override { ++connected; }
  void on_ready() override { ++ready; }
  void on_disconnected(const mqtt::disconnected_event&) override { ++disconnected; }
  void on_publish_done(mqtt::token, std::error_code ec) override { ++(ec ? failed : published); }
  void on_subscribe_done(mqtt::token, mqtt::reason_code) override { ++subscribed; }
  void on_message(const mqtt::publish&) override { ++unmatched; }
};

TEST_CASE("session: the allocation counter sees allocations") {
  CHECK(counting_works());
}

TEST_CASE("session: a compact session on caller memory allocates nothing, ever") {
  for (const protocol_version v : both_versions) {
    INFO(version_name(v));
    thingwell::manual_clock clock{time_point{duration{5'000'000}}};
    counting_observer observer;
    const mqtt::session_limits limits = mqtt::compact_session_limits;
    std::vector<byte> memory(mqtt::session::memory_needed(limits));
    mqtt::session_config config = basic_config(v);
    config.keep_alive = 30;

    allocation_scope construction;
    mqtt::session session(config, observer, limits, thingwell::mutable_bytes(memory), 7);
    CHECK(construction.count() == 0);

    scripted_broker broker(v, clock);
    broker.replies = auto_replies{.connack = true, .pingresp = true, .suback = true, .unsuback = true, .puback = true,
                                  .qos2 = true};
    driver link(session, broker, clock);

    CHECK_FALSE(link.in_session([&] { return session.start(clock.now()); }));
    link.pump();
    CHECK(observer.ready == 1);

    std::size_t handled = 0;
    auto subscribe = [&](std::string_view filter) {
      return link.in_session([&] {
        return session.subscribe(filter, [h = &handled](const mqtt::publish&) { ++*h; });
      });
    };
    CHECK(subscribe("cmd/#").has_value());
    CHECK(subscribe("config/+").has_value());
    link.pump();
    CHECK(observer.subscribed == 2);

    auto publish_burst = [&](int count, int offset) {
      for (int i = 0; i < count; ++i) {
        const qos q = static_cast<qos>((i + offset) % 3);  // 0, 1 and 2 in turn
        const bool ok = link.in_session([&] {
          mqtt::publish_options o;
          o.qos = q;
          return session.publish("telemetry/thing-1", view("0123456789abcdef"), o).has_value();
        });
        CHECK(ok);
        link.pump();
        if (i % 10 == 0) {  // and messages the other way
          broker.send_publish("cmd/reboot", "now", static_cast<qos>(i / 10 % 3),
                              static_cast<std::uint16_t>(1 + i / 10 % 100));
          broker.send_publish("nobody/listens", "x");
          link.pump();
        }
      }
    };
    publish_burst(1000, 0);
    CHECK(observer.published == 1000 * 2 / 3);  // QoS 1 and 2 complete
    CHECK(handled == 100);
    CHECK(observer.unmatched == 100);

    // Keep-alive, a lost link, the reconnect, more traffic, an unsubscribe.
    link.advance(90s);
    link.drop();
    link.advance(70s);
    CHECK(observer.ready == 2);
    publish_burst(300, 1);
    CHECK(link.in_session([&] { return session.unsubscribe("config/+").has_value(); }));
    link.pump();

    CHECK(observer.failed == 0);
    CHECK(observer.disconnected == 1);
    CHECK(link.session_allocations == 0);
    CHECK(session.metrics().pings_sent >= 2);
  }
}

}  // namespace
