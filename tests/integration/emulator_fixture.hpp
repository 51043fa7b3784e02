// Shared fixture of the emulator tests (emulator_*.cpp): tools/emulator as a child process on a mosquitto
// broker, its admin command line, and an inbox for a device's received messages.
//
// Header only, for emulator_*.cpp alone: THINGWELL_EMULATOR_PATH is defined for those translation units only.
#pragma once

#ifndef THINGWELL_EMULATOR_PATH
#error "emulator_fixture.hpp is for emulator_*.cpp only (THINGWELL_EMULATOR_PATH is not defined)"
#endif

#include <doctest/doctest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "mosquitto.hpp"
#include "process.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

#include <thingwell/codec/json_simdjson.hpp>
#include <thingwell/codec/json_writer.hpp>
#include <thingwell/net/asio_client.hpp>

namespace thingwell::testing::emulator {

// The whole of a file ("" when it does not exist).
inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A field of a JSON document, re-written compactly ("" when absent): checks compare text.
inline std::string json_at(const std::string& doc, std::initializer_list<std::string_view> path) {
  json::simdjson_reader reader;
  auto root = reader.parse(doc, {.max_bytes = 1 << 20, .max_depth = 64});
  if (!root) return "<not JSON>";
  auto v = json::find_path(*root, path);
  if (!v) return "";
  char buffer[64 * 1024];
  json::writer w(buffer);
  w.copy(*v);
  auto text = w.finish();
  return text ? std::string(*text) : std::string("<too large>");
}

// The broker the emulator tests run on: nothing queued for offline clients.
inline mosquitto_options broker_options() {
  mosquitto_options o;
  o.max_queued_messages = 0;
  return o;
}

// Where the broker is, as the emulator's arguments.
inline std::vector<std::string> broker_args(std::uint16_t port) {
  return {"--broker-host", "127.0.0.1", "--broker-port", std::to_string(port)};
}

struct options {
  std::vector<std::string> broker{};  // broker_args(), and TLS arguments where wanted
  std::vector<std::string> extra{};   // further arguments of the service ("--seconds-per-minute", "1")
  std::string directory = "emulator";  // the name hint of its temporary directory
  bool numbered_client_ids = true;  // "emulator-0", "emulator-1", ... one per start; else "emulator"
};

// The emulator program with its own data directory, which outlives restarts of the process. Started by
// the constructor; ready once it logs that it serves (the log line comes from on_ready, after the SUBACKs).
class process {
 public:
  explicit process(options o) : options_(std::move(o)), files_(options_.directory) { start(); }
  ~process() {
    if (process_) process_->terminate(std::chrono::seconds(2));
  }
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  void start() {
    process_options o;
    o.argv = {THINGWELL_EMULATOR_PATH};
    o.argv.insert(o.argv.end(), options_.broker.begin(), options_.broker.end());
    o.argv.insert(o.argv.end(), {"--data-dir", file("data"), "--client-id",
                                 options_.numbered_client_ids ? "emulator-" + std::to_string(starts_) : "emulator"});
    o.argv.insert(o.argv.end(), options_.extra.begin(), options_.extra.end());
    o.log_path = file("emulator.log");
    const std::size_t logged_before = read_text(o.log_path).size();
    ++starts_;
    process_ = std::make_unique<child_process>(o);
    const bool ready = wait_until(
        [&] { return read_text(o.log_path).find("connected, serving", logged_before) != std::string::npos; },
        std::chrono::seconds(10));
    INFO(log());
    REQUIRE(ready);
  }

  // SIGTERM, as a user's Ctrl-C or a service manager would: the emulator must exit cleanly.
  exit_status stop() {
    auto status = process_->terminate(std::chrono::seconds(5));
    process_.reset();
    return status;
  }

  // An admin command ("shadow", "get", ...; "jobs", "create", ...) on the same broker, run to completion.
  command_result admin(std::vector<std::string> command) const {
    std::vector<std::string> argv{THINGWELL_EMULATOR_PATH};
    argv.insert(argv.end(), command.begin(), command.end());
    argv.insert(argv.end(), options_.broker.begin(), options_.broker.end());
    argv.insert(argv.end(), {"--timeout", "5"});
    return run_command(argv, std::chrono::seconds(10));
  }

  const std::vector<std::string>& broker_args() const { return options_.broker; }
  std::string file(const std::string& name) const { return files_.file(name); }
  std::string data_dir() const { return file("data"); }
  std::string log() const { return read_text(file("emulator.log")); }

 private:
  options options_;
  temp_dir files_;
  int starts_ = 0;
  std::unique_ptr<child_process> process_;
};

// What a failed check wants to see: the emulator's log and the end of the broker's.
inline std::string diagnostics(const process& emulator, const mosquitto_broker& broker) {
  return "emulator log:\n" + emulator.log() + "\nbroker log:\n" + broker.log_tail(20);
}

// The messages a device received (topic, payload), filled by its client's thread and taken by the test's.
class inbox {
 public:
  template <class Publish>
  void add(const Publish& p) {
    std::lock_guard lock(mutex_);
    received_.push_back(
        {std::string(p.topic), std::string(reinterpret_cast<const char*>(p.payload.data()), p.payload.size())});
  }

  // The oldest message on `topic` not taken yet, waiting up to `timeout`.
  std::optional<std::string> take(const std::string& topic, std::chrono::milliseconds timeout) {
    std::optional<std::string> found;
    wait_until(
        [&] {
          std::lock_guard lock(mutex_);
          for (auto it = received_.begin(); it != received_.end(); ++it) {
            if (it->first != topic) continue;
            found = it->second;
            received_.erase(it);
            return true;
          }
          return false;
        },
        timeout);
    return found;
  }

  // The answer to a request on `topic`: on <topic>/accepted or /rejected, whichever comes (within 5 s), as
  // the kind ("accepted", "rejected"; "" for none) and the document.
  std::pair<std::string, std::string> answer(const std::string& topic) {
    std::pair<std::string, std::string> found;
    wait_until(
        [&] {
          std::lock_guard lock(mutex_);
          for (auto it = received_.begin(); it != received_.end(); ++it) {
            if (it->first != topic + "/accepted" && it->first != topic + "/rejected") continue;
            found = {it->first.substr(topic.size() + 1), it->second};
            received_.erase(it);
            return true;
          }
          return false;
        },
        std::chrono::seconds(5));
    return found;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> received_;
};

// A device: thingwell's Asio client on its own thread, recording every message of its subscriptions.
template <class Stream>
class asio_device {
 public:
  // Subscribed before connecting: the connect completes once the broker has granted them.
  template <class... StreamArgs>
  asio_device(const net::client_options& options, const std::vector<std::string>& filters,
              const mqtt::subscribe_options& subscribe, StreamArgs&&... stream_args)
      : client_(io_.get_executor(), options, std::forward<StreamArgs>(stream_args)...) {
    runner_ = std::thread([this] { io_.run(); });
    for (const auto& filter : filters) {
      client_.async_subscribe(
          filter, [this](const mqtt::publish& p) { inbox_.add(p); }, subscribe,
          [](std::error_code ec, mqtt::reason_code) { CHECK_FALSE(ec); });
    }
    client_.async_connect(asio::use_future).get();
  }
  ~asio_device() {
    client_.async_disconnect(asio::use_future).get();
    guard_.reset();
    runner_.join();
  }
  asio_device(const asio_device&) = delete;
  asio_device& operator=(const asio_device&) = delete;

  void publish(const std::string& topic, const std::string& payload) {
    client_.async_publish(topic, payload, {.qos = mqtt::qos::at_least_once}, asio::use_future).get();
  }

  // The oldest message on `topic` not taken yet, waiting up to `timeout`.
  std::optional<std::string> take(const std::string& topic, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return inbox_.take(topic, timeout);
  }

  // Whether anything arrives on `topic` within `window` (for "not published" checks).
  bool quiet_on(const std::string& topic, std::chrono::milliseconds window = std::chrono::milliseconds(300)) {
    return !take(topic, window);
  }

  // Sends a request and returns the answer on <request>/accepted or /rejected, whichever comes.
  std::pair<std::string, std::string> request(const std::string& topic, const std::string& payload) {
    publish(topic, payload);
    return inbox_.answer(topic);
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  net::asio_client<Stream> client_;
  std::thread runner_;
  inbox inbox_;
};

}  // namespace thingwell::testing::emulator
