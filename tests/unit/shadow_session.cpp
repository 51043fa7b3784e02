// The shadow service over a real mqtt::session through aws::session_client, against the scripted broker:
// the order on the wire is SUBSCRIBE, SUBACK, get, get/accepted, update (SH-01), and again after a
// reconnection.
#include <doctest/doctest.h>

#include <string>

#include <thingwell/aws/session_client.hpp>

#include "support/scripted_broker.hpp"
#include "support/shadow_testing.hpp"

namespace {

using session_testing::basic_config;
using session_testing::driver;
using session_testing::recording_observer;
using session_testing::scripted_broker;
using session_testing::text;
using session_testing::view;
using namespace shadow_testing;
namespace mqtt = thingwell::mqtt;

struct session_rig {
  thingwell::manual_clock clock{time_point{duration{1'000'000}}};
  recording_observer app;
  aws::session_client link{&app};
  mqtt::session session{basic_config(mqtt::protocol_version::v5), link};
  scripted_broker broker{mqtt::protocol_version::v5, clock};
  driver wire{session, broker, clock};
  aws::shadow_service<json::compact_reader<512>, 2, 1024> shadows{link, test_config()};

  session_rig() { link.bind(session); }

  // The loop of an application on the poll driver: the session's I/O, then the services' timers.
  void loop() {
    wire.pump();
    link.poll(clock.now());
    wire.pump();
  }
  void deliver(const std::string& topic, const std::string& payload) {
    mqtt::publish p;
    p.topic = topic;
    p.payload = view(payload);
    broker.send(p);
    loop();
  }
};

TEST_CASE("shadow over mqtt::session: SUBACK, then get, then the reported update (SH-01)") {
  session_rig r;
  recorder rec;
  rec.state = R"({"Color":"red","Status":"Great"})";
  auto lamp = r.shadows.add("", record(&rec));
  REQUIRE(lamp);
  CHECK(!r.session.start(r.clock.now()));
  r.loop();
  (void)r.broker.expect<mqtt::connect>();
  r.broker.send(mqtt::connack{});
  r.loop();
  const mqtt::subscribe sub = r.broker.expect<mqtt::subscribe>();
  std::string filters;
  for (const auto& s : sub.subscriptions) filters += std::string(s.filter) + " ";
  CHECK(filters ==
        "$aws/things/lamp-1/shadow/get/accepted $aws/things/lamp-1/shadow/get/rejected "
        "$aws/things/lamp-1/shadow/update/accepted $aws/things/lamp-1/shadow/update/rejected "
        "$aws/things/lamp-1/shadow/update/delta ");
  r.broker.expect_nothing();  // no get before the SUBACK
  r.broker.grant(sub);
  r.loop();
  const mqtt::publish get = r.broker.expect<mqtt::publish>();
  CHECK(get.topic == "$aws/things/lamp-1/shadow/get");
  CHECK(get.qos == mqtt::qos::at_most_once);
  const std::string token = token_of(text(get.payload));
  r.deliver("$aws/things/lamp-1/shadow/get/accepted", with_token(std::string(sample_get_accepted), token));
  CHECK(rec.take() == R"(delta v8 {"Color":"red"})");
  const mqtt::publish update = r.broker.expect<mqtt::publish>();
  CHECK(update.topic == "$aws/things/lamp-1/shadow/update");
  const std::string update_payload = text(update.payload);
  CHECK(update_payload.starts_with(R"({"state":{"reported":{"Color":"red"}})"));
  r.deliver("$aws/things/lamp-1/shadow/update/accepted",
            with_token(std::string(sample_update_accepted), token_of(update_payload), 9));
  CHECK(rec.take() == "reported v9");
  CHECK(r.app.count("ready") == 1);  // the application still sees its lifecycle events

  // The link drops; changes meanwhile go out once after the next get.
  r.wire.drop();
  r.loop();
  CHECK(!r.shadows.report(*lamp, R"({"Status":"Fine"})"));
  CHECK(!r.shadows.report(*lamp, R"({"Status":"Finer"})"));
  rec.state = R"({"Color":"red","Status":"Finer"})";  // what current_state tells after reconnecting
  CHECK(r.wire.advance_until(r.clock.now() + 60s, [&] { return r.broker.has_pending(); }));
  (void)r.broker.expect<mqtt::connect>();
  r.broker.send(mqtt::connack{});
  r.loop();
  r.broker.grant(r.broker.expect<mqtt::subscribe>());
  r.loop();
  const mqtt::publish get2 = r.broker.expect<mqtt::publish>();
  CHECK(get2.topic == "$aws/things/lamp-1/shadow/get");
  r.deliver("$aws/things/lamp-1/shadow/get/accepted",
            R"({"state":{"reported":{"Color":"red","Status":"Great"}},"version":9,"clientToken":")" +
                token_of(text(get2.payload)) + "\"}");
  const mqtt::publish update2 = r.broker.expect<mqtt::publish>();
  CHECK(text(update2.payload).starts_with(R"({"state":{"reported":{"Status":"Finer"}})"));
  r.broker.expect_nothing();
}

}  // namespace
