// libmosquitto under test, driven the fastest way its API allows: one thread, no loop thread.
//
// Without mosquitto_loop_start(), mosquitto_publish() called outside a callback writes the packet to
// the socket at once (one write per message, plus the one-byte wake-up write to its internal
// socketpair that libmosquitto makes in either mode); mosquitto_loop() waits in select for the socket,
// reads acknowledgements and messages, and writes what could not be written earlier. A loop thread
// (mosquitto_loop_start) would add a thread hand-off per message on top of the same writes.
// Callbacks only count completions; publishing happens in the main loop, outside callbacks, where it
// is written immediately rather than queued until the next loop pass. MOSQ_OPT_TCP_NODELAY is set, and
// the send maximum (in-flight limit) is raised to the benchmark's window when that is above 20.
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace client_bench {
namespace {

class mosquitto_client final : public client {
 public:
  ~mosquitto_client() override {
    if (mosq_ != nullptr) mosquitto_destroy(mosq_);
    mosquitto_lib_cleanup();
  }

  bool connect(const run_spec& spec, std::string& error) override {
    spec_ = spec;
    payload_.assign(static_cast<std::size_t>(spec.payload), 'x');
    mosquitto_lib_init();
    mosq_ = mosquitto_new(spec.client_id.c_str(), true, this);
    if (mosq_ == nullptr) return error = "mosquitto_new failed", false;
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, spec.mqtt_version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    // Never below the benchmark's window (which alone paces the run), nor below the default of 20.
    const int window = std::max(20, spec.window);
    if (spec.mqtt_version == 5) mosquitto_int_option(mosq_, MOSQ_OPT_SEND_MAXIMUM, window);
    else mosquitto_max_inflight_messages_set(mosq_, static_cast<unsigned>(window));
    mosquitto_connect_v5_callback_set(mosq_, [](mosquitto*, void* self, int rc, int, const mosquitto_property*) {
      auto* me = static_cast<mosquitto_client*>(self);
      if (rc != 0) me->fail("CONNACK " + std::to_string(rc));
      else me->connected_ = true;
    });
    mosquitto_subscribe_v5_callback_set(mosq_, [](mosquitto*, void* self, int, int n, const int* granted, const mosquitto_property*) {
      auto* me = static_cast<mosquitto_client*>(self);
      if (n < 1 || granted[0] > 2) me->fail("subscribe refused");
      else me->subscribed_ = true;
    });
    mosquitto_publish_v5_callback_set(mosq_, [](mosquitto*, void* self, int mid, int rc, const mosquitto_property*) {
      static_cast<mosquitto_client*>(self)->on_publish(mid, rc);
    });
    mosquitto_message_v5_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m, const mosquitto_property*) {
      static_cast<mosquitto_client*>(self)->on_message(m);
    });
    mosquitto_disconnect_v5_callback_set(mosq_, [](mosquitto*, void* self, int rc, const mosquitto_property*) {
      auto* me = static_cast<mosquitto_client*>(self);
      me->disconnected_ = true;
      if (!me->stopping_) me->fail("disconnected " + std::to_string(rc));
    });
    if (int rc = mosquitto_connect(mosq_, spec.host.c_str(), spec.port, 60); rc != MOSQ_ERR_SUCCESS)
      return error = std::string("connect: ") + mosquitto_strerror(rc), false;
    if (!loop_until([this] { return connected_ || !failure_.empty(); }, 10000) || !connected_)
      return error = failure_.empty() ? "connect timed out" : failure_, false;
    if (spec.what == mode::roundtrip) {
      if (int rc = mosquitto_subscribe_v5(mosq_, nullptr, spec.topic.c_str(), spec.qos, 0, nullptr); rc != MOSQ_ERR_SUCCESS)
        return error = std::string("subscribe: ") + mosquitto_strerror(rc), false;
      if (!loop_until([this] { return subscribed_ || !failure_.empty(); }, 10000) || !subscribed_)
        return error = failure_.empty() ? "subscribe timed out" : failure_, false;
    }
    return true;
  }

  bool run_qos0(long n, int /*lanes*/) override {
    for (long i = 0; i < n; ++i) {
      if (!publish(0, nullptr)) return false;
      // Packets that met a full socket stay queued inside the library: let the loop write them (it
      // waits in select until the socket is writable) before queueing more.
      if (mosquitto_want_write(mosq_)) {
        if (int rc = mosquitto_loop(mosq_, 1000, 1); rc != MOSQ_ERR_SUCCESS)
          return fail(std::string("loop: ") + mosquitto_strerror(rc)), false;
      }
    }
    marker_done_ = false;
    if (!publish(1, &marker_mid_)) return false;
    return loop_until([this] { return marker_done_ || !failure_.empty(); }, 60000) && failure_.empty();
  }

  bool run_qos1(pacer& p) override { return run_paced(p, 1, false); }
  bool run_roundtrip(pacer& p, int qos) override { return run_paced(p, qos, true); }

  void idle(double seconds) override {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
    (void)loop_until([&] { return std::chrono::steady_clock::now() >= until; }, static_cast<long>(seconds * 1000) + 1000,
                     static_cast<int>(seconds * 1000));
  }

  void disconnect() override {
    stopping_ = true;
    mosquitto_disconnect(mosq_);
    (void)loop_until([this] { return disconnected_; }, 5000);
  }

  std::string error() const override { return failure_; }

 private:
  bool run_paced(pacer& p, int qos, bool echo) {
    pacer_ = &p;
    echo_ = echo;
    while (!p.done()) {
      while (p.may_issue()) {
        p.issued();
        if (!publish(qos, nullptr)) return false;
      }
      if (int rc = mosquitto_loop(mosq_, 1000, 1); rc != MOSQ_ERR_SUCCESS)
        return fail(std::string("loop: ") + mosquitto_strerror(rc)), false;
      if (!failure_.empty()) return false;
    }
    pacer_ = nullptr;
    return true;
  }

  bool publish(int qos, int* mid) {
    const int rc = mosquitto_publish_v5(mosq_, mid, spec_.topic.c_str(), static_cast<int>(payload_.size()), payload_.data(),
                                        qos, false, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) return fail(std::string("publish: ") + mosquitto_strerror(rc)), false;
    return true;
  }

  void on_publish(int mid, int rc) {
    if (rc >= 128) return fail("PUBACK reason " + std::to_string(rc));  // 16 = no matching subscribers: success
    if (mid == marker_mid_ && marker_mid_ != 0) {
      marker_done_ = true;
      marker_mid_ = 0;
      return;
    }
    if (pacer_ != nullptr && !echo_) pacer_->completed();
  }

  void on_message(const mosquitto_message* m) {
    if (pacer_ == nullptr || !echo_ || std::strcmp(m->topic, spec_.topic.c_str()) != 0) return;
    pacer_->completed();
  }

  template <class Done>
  bool loop_until(Done done, long timeout_ms, int wait_ms = 1000) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
      if (std::chrono::steady_clock::now() >= give_up) return false;
      const int rc = mosquitto_loop(mosq_, wait_ms, 1);
      if (rc != MOSQ_ERR_SUCCESS && !(stopping_ && rc == MOSQ_ERR_NO_CONN)) {
        fail(std::string("loop: ") + mosquitto_strerror(rc));
        return false;
      }
    }
    return true;
  }

  void fail(std::string why) {
    if (failure_.empty()) failure_ = std::move(why);
  }

  run_spec spec_;
  std::vector<char> payload_;
  mosquitto* mosq_ = nullptr;
  pacer* pacer_ = nullptr;
  bool echo_ = false;
  int marker_mid_ = 0;
  bool marker_done_ = false;
  bool connected_ = false;
  bool subscribed_ = false;
  bool disconnected_ = false;
  bool stopping_ = false;
  std::string failure_;
};

}  // namespace

std::unique_ptr<client> make_mosquitto() { return std::make_unique<mosquitto_client>(); }

}  // namespace client_bench
