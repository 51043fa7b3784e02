// Shared pieces of client_bench: what a run is asked to do, the publish pacer, and the interface
// every client under test implements.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace client_bench {

enum class mode { qos0, qos1, latency, roundtrip, idle, none };

struct run_spec {
  std::string client;
  mode what = mode::qos1;
  std::string host = "127.0.0.1";
  int port = 1883;
  int window = 1;
  long count = 20000;
  long warmup = -1;          // -1: a tenth of count (at least 500)
  int payload = 64;
  int qos = 0;               // roundtrip only: QoS of the publish and of the subscription
  int mqtt_version = 5;      // 5 or 4 (3.1.1), the same for every client
  double idle_seconds = 2.0;
  bool topic_aliases = true; // thingwell only: MQTT 5 topic aliases chosen by the session (its default)
  std::string topic;         // set from the client name and process id when empty
  std::string client_id;
};

inline std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Keeps at most `window` publishes outstanding and, when timed, records for each message the time from
// its publish call to its completion (PUBACK, or receipt of the message back from the broker).
// Completions come back in publish order (one connection, one broker), so a ring of send times suffices.
// All storage is allocated before measuring starts.
class pacer {
 public:
  pacer(long count, int window, bool timed)
      : count_(count), window_(window < 1 ? 1 : window), timed_(timed),
        sent_at_(timed ? static_cast<std::size_t>(window_) : 0), samples_(timed ? static_cast<std::size_t>(count) : 0) {}

  bool may_issue() const noexcept { return issued_ < count_ && issued_ - completed_ < window_; }
  bool all_issued() const noexcept { return issued_ >= count_; }
  void issued() noexcept {
    if (timed_) sent_at_[static_cast<std::size_t>(issued_ % window_)] = now_ns();
    ++issued_;
  }
  void completed() noexcept {
    if (timed_ && completed_ < count_)
      samples_[static_cast<std::size_t>(completed_)] = now_ns() - sent_at_[static_cast<std::size_t>(completed_ % window_)];
    ++completed_;
  }
  bool done() const noexcept { return completed_ >= count_; }
  long issued_count() const noexcept { return issued_; }
  long completed_count() const noexcept { return completed_; }
  long count() const noexcept { return count_; }
  int window() const noexcept { return window_; }
  std::vector<std::int64_t>& samples() noexcept { return samples_; }

 private:
  long count_;
  long window_;
  bool timed_;
  long issued_ = 0;
  long completed_ = 0;
  std::vector<std::int64_t> sent_at_;
  std::vector<std::int64_t> samples_;
};

// One client library under test. Every call blocks until it is finished; errors end the run.
class client {
 public:
  virtual ~client() = default;
  // Connects (and, for roundtrip runs, subscribes to spec.topic); returns false with a message on failure.
  virtual bool connect(const run_spec& spec, std::string& error) = 0;
  // Publishes n QoS 0 messages as fast as the client accepts them, then one QoS 1 message, and returns
  // when that one is acknowledged: the broker has then read every message before it.
  virtual bool run_qos0(long n, int lanes) = 0;
  // QoS 1 publishes, p.window() unacknowledged at most; returns when all are acknowledged.
  virtual bool run_qos1(pacer& p) = 0;
  // Publishes to its own subscription, p.window() outstanding at most; a message completes when it
  // comes back from the broker.
  virtual bool run_roundtrip(pacer& p, int qos) = 0;
  // Keeps the connection serviced (keep-alive, reads) for this long.
  virtual void idle(double seconds) = 0;
  virtual void disconnect() = 0;
  // Why the last call failed.
  virtual std::string error() const = 0;
};

std::unique_ptr<client> make_thingwell_poll();
std::unique_ptr<client> make_thingwell_asio();
std::unique_ptr<client> make_mosquitto();
std::unique_ptr<client> make_paho();

}  // namespace client_bench
