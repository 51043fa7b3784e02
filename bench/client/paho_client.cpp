// Paho MQTT C++ (mqtt::async_client over Paho C's MQTTAsync) under test.
//
// Paho runs its own send and receive threads; the benchmark never waits on tokens in the hot path.
// Each publish carries an action listener; its on_success (PUBACK for QoS 1, "written" for QoS 0)
// publishes the next message from Paho's thread, and received messages arrive in the message_arrived
// callback, which does the same for round trips. No persistence; maxInflight stays at Paho's default
// (65535), above every window used, so the benchmark's window is the only limit. Paho has no
// TCP_NODELAY option: the benchmark sets it on Paho's socket from its connect() wrapper (hooks.hpp).
#include <mqtt/async_client.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"
#include "hooks.hpp"

namespace client_bench {
namespace {

class paho_client final : public client, public mqtt::callback, public mqtt::iaction_listener {
 public:
  ~paho_client() override = default;

  bool connect(const run_spec& spec, std::string& error) override {
    spec_ = spec;
    payload_.assign(static_cast<std::size_t>(spec.payload), 'x');
    topic_ = mqtt::string_ref(spec.topic);  // made once: passing a std::string would copy it per publish
    hooks::force_nodelay(true);
    const int version = spec.mqtt_version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    try {
      cli_ = std::make_unique<mqtt::async_client>("tcp://" + spec.host + ":" + std::to_string(spec.port), spec.client_id,
                                                  mqtt::create_options(version));
      cli_->set_callback(*this);
      auto b = mqtt::connect_options_builder();
      b.mqtt_version(version).keep_alive_interval(std::chrono::seconds(60)).automatic_reconnect(false);
      if (version == MQTTVERSION_5) b.clean_start(true);
      else b.clean_session(true);
      cli_->connect(b.finalize())->wait();
      if (spec.what == mode::roundtrip) cli_->subscribe(spec.topic, spec.qos)->wait();
    } catch (const std::exception& e) {
      return error = e.what(), false;
    }
    return true;
  }

  bool run_qos0(long n, int lanes) override {
    int k = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      q0_total_ = n;
      q0_issued_ = 0;
      state_ = phase::qos0;
      finished_ = false;
      for (; k < lanes && q0_issued_ < q0_total_; ++k) ++q0_issued_;
    }
    for (int i = 0; i < k; ++i)
      if (!publish(0, *this)) return false;
    return wait_finished(60);
  }

  bool run_qos1(pacer& p) override { return run_paced(p, 1, phase::acked); }
  bool run_roundtrip(pacer& p, int qos) override { return run_paced(p, qos, phase::echo); }

  void idle(double seconds) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(seconds * 1000)));
  }

  void disconnect() override {
    try {
      cli_->disconnect()->wait();
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }

  std::string error() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return failure_;
  }

 private:
  enum class phase { none, qos0, marker, acked, echo };

  bool run_paced(pacer& p, int qos, phase ph) {
    int k = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pacer_ = &p;
      qos_ = qos;
      state_ = ph;
      finished_ = false;
      k = reserve();
    }
    for (int i = 0; i < k; ++i)
      if (!publish(qos, *this)) return false;
    const bool ok = wait_finished(120);
    std::lock_guard<std::mutex> lock(mutex_);
    pacer_ = nullptr;
    state_ = phase::none;
    return ok;
  }

  bool wait_finished(int seconds) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait_for(lock, std::chrono::seconds(seconds), [this] { return finished_ || !failure_.empty(); });
    return finished_ && failure_.empty();
  }

  // Paho runs the listeners while holding its own lock, so the benchmark never calls Paho while
  // holding mutex_ (lock order: Paho's, then ours). Decisions are taken under mutex_, calls made after.
  bool publish(int qos, mqtt::iaction_listener& listener) {
    try {
      cli_->publish(topic_, payload_.data(), payload_.size(), qos, false, nullptr, listener);
    } catch (const std::exception& e) {
      fail(std::string("publish: ") + e.what());
      return false;
    }
    return true;
  }

  // With mutex_ held: how many publishes the window allows now (counted as issued).
  int reserve() {
    int k = 0;
    while (pacer_->may_issue()) {
      pacer_->issued();
      ++k;
    }
    return k;
  }

  // The QoS 1 message that ends a QoS 0 run.
  struct marker_listener final : mqtt::iaction_listener {
    explicit marker_listener(paho_client& c) : owner(c) {}
    void on_success(const mqtt::token&) override {
      std::lock_guard<std::mutex> lock(owner.mutex_);
      owner.state_ = phase::none;
      owner.finish();
    }
    void on_failure(const mqtt::token& t) override { owner.on_failure(t); }
    paho_client& owner;
  };

  void finish() {
    finished_ = true;
    done_cv_.notify_all();
  }

  // ---- iaction_listener (publish outcomes) ----
  void on_success(const mqtt::token&) override {
    int k = 0;
    int qos = 0;
    bool marker = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      qos = qos_;
      switch (state_) {
        case phase::qos0:
          if (q0_issued_ < q0_total_) {
            ++q0_issued_;
            qos = 0;
            k = 1;
          } else {
            state_ = phase::marker;  // the other lanes' last QoS 0 completions may still arrive
            marker = true;
          }
          break;
        case phase::acked:
          pacer_->completed();
          if (pacer_->done()) return finish();
          k = reserve();
          break;
        case phase::marker:
        case phase::echo:
        case phase::none: break;
      }
    }
    if (marker) (void)publish(1, marker_);
    for (int i = 0; i < k; ++i) (void)publish(qos, *this);
  }
  void on_failure(const mqtt::token& t) override {
    std::lock_guard<std::mutex> lock(mutex_);
    failure_ = "publish failed, rc " + std::to_string(t.get_return_code());
    done_cv_.notify_all();
  }

  // ---- callback ----
  void message_arrived(mqtt::const_message_ptr m) override {
    int k = 0;
    int qos = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      qos = qos_;
      if (state_ != phase::echo || m->get_topic() != spec_.topic) return;
      pacer_->completed();
      if (pacer_->done()) return finish();
      k = reserve();
    }
    for (int i = 0; i < k; ++i) (void)publish(qos, *this);
  }
  void delivery_complete(mqtt::delivery_token_ptr) override {}
  void connection_lost(const std::string& cause) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failure_.empty()) failure_ = "connection lost: " + cause;
    done_cv_.notify_all();
  }
  void fail(const std::string& why) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failure_.empty()) failure_ = why;
    done_cv_.notify_all();
  }

  run_spec spec_;
  std::vector<char> payload_;
  mqtt::string_ref topic_;
  std::unique_ptr<mqtt::async_client> cli_;
  mutable std::mutex mutex_;
  std::condition_variable done_cv_;
  phase state_ = phase::none;
  pacer* pacer_ = nullptr;
  int qos_ = 1;
  long q0_total_ = 0;
  long q0_issued_ = 0;
  marker_listener marker_{*this};
  bool finished_ = false;
  std::string failure_;
};

}  // namespace

std::unique_ptr<client> make_paho() { return std::make_unique<paho_client>(); }

}  // namespace client_bench
