// thingwell emulator — the service process: shadow_service and jobs_service bound to a broker connection,
// to the data directory and (for the Jobs timers) to a clock.
#include "serve.hpp"

#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <functional>
#include <optional>
#include <string>

#include "broker_client.hpp"
#include "jobs_service.hpp"
#include "jobs_store.hpp"
#include "jobs_topics.hpp"
#include "shadow_service.hpp"
#include "shadow_store.hpp"
#include "shadow_topics.hpp"

namespace thingwell::emulator {

namespace {

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "2024-07-01T18:19:23Z thingwell-emulator: <text>" on stderr, flushed so that tests and pipes see it at once.
void log_line(const std::string& text) {
  const std::time_t t = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::fprintf(stderr, "%s thingwell-emulator: %s\n", stamp, text.c_str());
  std::fflush(stderr);
}

// Connection events in the log: someone starting the emulator before the broker wants to see it retry.
struct connection_log final : mqtt::session_observer {
  void on_ready() override { log_line("connected, serving Device Shadow and Jobs requests"); }
  void on_connect_failed(const mqtt::connect_failed_event& e) override {
    log_line("cannot connect to the broker (attempt " + std::to_string(e.attempt) + "): " + e.error.message());
  }
  void on_disconnected(const mqtt::disconnected_event& e) override {
    log_line("disconnected from the broker: " + (e.error ? e.error.message() : std::string("closed")));
  }
};

}  // namespace

int serve(const command_line& cl) {
  shadow_service service;
  std::optional<shadow_store> store;
  if (!cl.data_dir.empty()) {
    store.emplace(cl.data_dir);
    if (auto ec = store->open()) {
      log_line("cannot use data directory " + cl.data_dir + ": " + ec.message());
      return 2;
    }
    auto loaded = store->load();
    for (const auto& why : loaded.skipped) log_line("skipped " + why);
    for (auto& [key, document] : loaded.shadows) service.restore(key, std::move(document));
    log_line("loaded " + std::to_string(loaded.shadows.size()) + " shadow(s) from " + cl.data_dir);
  }

  jobs_limits limits;
  limits.seconds_per_minute = cl.seconds_per_minute;
  jobs_service jobs(limits);
  std::optional<jobs_store> job_store;
  if (!cl.data_dir.empty()) {
    job_store.emplace(cl.data_dir);
    if (auto ec = job_store->open()) {
      log_line("cannot use data directory " + cl.data_dir + ": " + ec.message());
      return 2;
    }
    std::string error;
    if (auto record = job_store->load(error)) {
      // A state file this program cannot read is not overwritten silently: the user decides what to do.
      if (!jobs.restore(*record)) {
        log_line(job_store->file() + " is not a jobs state file written by this emulator");
        return 2;
      }
      log_line("loaded the jobs state from " + job_store->file());
    } else if (!error.empty()) {
      log_line("cannot read " + error);
      return 2;
    }
  }

  asio::io_context io;
  const auto options = client_options_for(cl.broker, "thingwell-emulator");
  return with_broker_client(io, cl.broker, options, [&](auto& client) {
    connection_log events;
    client.set_observer(&events);

    auto on_request = [&](const mqtt::publish& p) {
      const std::string_view payload(reinterpret_cast<const char*>(p.payload.data()), p.payload.size());
      shadow_outcome outcome = service.handle(p.topic, payload, unix_seconds());
      // Stored before anything is published: a device never sees an "accepted" that a crash would undo.
      if (outcome.changed && store) {
        if (auto ec = store->save(*outcome.changed, *service.find(*outcome.changed)))
          log_line("cannot save shadow " + outcome.changed->describe() + ": " + ec.message());
      }
      for (const auto& m : outcome.messages) {
        client.async_publish(m.topic, m.payload, {.qos = mqtt::qos::at_least_once}, [topic = m.topic](std::error_code ec) {
          if (ec) log_line("publish to " + topic + " failed: " + ec.message());
        });
      }
      if (!cl.quiet && !outcome.summary.empty()) log_line(outcome.summary);
    };

    // Stored before anything is published, as for shadows; then the answers and events go out.
    auto deliver_jobs = [&](const jobs_outcome& outcome) {
      if (outcome.changed && job_store) {
        if (auto ec = job_store->save(jobs.to_record())) log_line("cannot save the jobs state: " + ec.message());
      }
      for (const auto& m : outcome.messages) {
        client.async_publish(m.topic, m.payload, {.qos = mqtt::qos::at_least_once}, [topic = m.topic](std::error_code ec) {
          if (ec) log_line("publish to " + topic + " failed: " + ec.message());
        });
      }
      if (!cl.quiet && !outcome.summary.empty()) log_line(outcome.summary);
    };
    auto on_jobs_request = [&](const mqtt::publish& p) {
      const std::string_view payload(reinterpret_cast<const char*>(p.payload.data()), p.payload.size());
      deliver_jobs(jobs.handle(p.topic, payload, unix_seconds()));
    };
    // The handler may only capture a few pointers.
    auto jobs_handler = [h = &on_jobs_request](const mqtt::publish& p) { (*h)(p); };

    // The step and in-progress timers: a deadline is in whole seconds, so twice a second is late by at most
    // half a second (AWS itself may be a minute early or late, §2.3).
    asio::steady_timer ticker(io);
    std::function<void()> schedule_tick = [&] {
      ticker.expires_after(std::chrono::milliseconds(500));
      ticker.async_wait([&](std::error_code ec) {
        if (ec) return;
        deliver_jobs(jobs.expire(unix_seconds()));
        schedule_tick();
      });
    };
    schedule_tick();

    int exit_code = 0;
    // no_local: the jobs filter also matches the service's own answers and events, which it need not read.
    for (const auto& filter : jobs_topic_filters()) {
      client.async_subscribe(filter, jobs_handler, {.max_qos = mqtt::qos::at_least_once, .no_local = true},
                             [&, filter](std::error_code ec, mqtt::reason_code) {
                               if (!ec) return;
                               log_line("the broker refused the subscription " + filter + ": " + ec.message());
                               exit_code = 1;
                               io.stop();
                             });
    }
    for (const auto& filter : request_topic_filters()) {
      client.async_subscribe(filter, on_request, {.max_qos = mqtt::qos::at_least_once},
                             [&, filter](std::error_code ec, mqtt::reason_code) {
                               if (!ec) return;
                               // Without its request topics the service would sit there answering nothing.
                               log_line("the broker refused the subscription " + filter + ": " + ec.message());
                               exit_code = 1;
                               io.stop();
                             });
    }

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code ec, int signal_number) {
      if (ec) return;
      log_line(std::string("stopping on ") + (signal_number == SIGINT ? "SIGINT" : "SIGTERM"));
      ticker.cancel();
      client.async_disconnect([&](std::error_code) { io.stop(); });
    });

    // Reconnection goes on in the background; the first failure is only logged (by the observer).
    client.async_connect([](std::error_code) {});
    io.run();
    client.set_observer(nullptr);
    return exit_code;
  });
}

}  // namespace thingwell::emulator
