// thingwell's poll driver under test: one thread, net::tcp, the session in caller-provided memory with a
// fixed receive buffer (so nothing is allocated after start-up).
//
// Usage as an application would write it: publish what the session accepts, then poll(); sleep in
// wait() (poll(2) on the socket) only when nothing can be done. Acknowledgements and received messages
// arrive in observer callbacks and subscription handlers, which publish the next message directly.
#include <thingwell/mqtt/session.hpp>
#include <thingwell/net/poll_client.hpp>
#include <thingwell/net/posix_tcp.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace client_bench {
namespace {

namespace tw = thingwell;
namespace mqtt = thingwell::mqtt;
using poll_client = tw::net::poll_client<tw::net::tcp>;

class thingwell_poll final : public client, public mqtt::session_observer {
 public:
  bool connect(const run_spec& spec, std::string& error) override {
    spec_ = spec;
    payload_.assign(static_cast<std::size_t>(spec.payload), tw::byte{'x'});
    config_.client_id = spec_.client_id;
    config_.version = spec.mqtt_version == 5 ? mqtt::protocol_version::v5 : mqtt::protocol_version::v311;
    config_.keep_alive = 60;
    config_.auto_topic_aliases = spec.topic_aliases;
    limits_ = mqtt::session_limits{};
    limits_.growable_input = false;  // the device configuration: a fixed receive buffer
    const std::size_t need = mqtt::session::memory_needed(limits_);
    memory_.reset(new tw::byte[need]);
    client_.emplace(tw::net::tcp{spec.host, static_cast<std::uint16_t>(spec.port)}, config_, *this, limits_,
                    tw::mutable_bytes{memory_.get(), need});
    if (spec.what == mode::roundtrip) {
      auto r = client_->subscribe(spec_.topic, [this](const mqtt::publish& m) { on_own_message(m); },
                                  {.max_qos = static_cast<mqtt::qos>(spec.qos)});
      if (!r) return error = "subscribe: " + r.error().message(), false;
    }
    if (auto ec = client_->start(clock_.now())) return error = "start: " + ec.message(), false;
    if (!drive_until([this] { return ready_ || failed_; }, 10000)) return error = "connect timed out", false;
    if (failed_) return error = "connect failed: " + failure_, false;
    return true;
  }

  bool run_qos0(long n, int /*lanes*/) override {
    marker_ = 0;
    marker_done_ = false;
    long issued = 0;
    const mqtt::publish_options q0{.qos = mqtt::qos::at_most_once};
    auto& session = client_->session();
    while (issued < n) {
      // Publish until 64 messages wait in the session's store, then let poll() hand them to the socket.
      // (Without topic aliases, QoS 0 messages go straight into the output buffer while it has room and
      // reach the store only once it is full; with them, every message passes through the store.)
      while (issued < n && session.metrics().queued < 64) {
        auto r = client_->publish(spec_.topic, payload_view(), q0);
        if (!r) return fail("publish: " + r.error().message());
        ++issued;
      }
      const tw::time_point next = client_->poll(clock_.now());
      if (failed_) return false;
      if (session.metrics().queued >= 64) client_->wait(clock_.now(), next);  // socket full: sleep until writable
    }
    auto r = client_->publish(spec_.topic, payload_view(), {.qos = mqtt::qos::at_least_once});
    if (!r) return fail("publish: " + r.error().message());
    marker_ = *r;
    return drive_until([this] { return marker_done_ || failed_; }, 60000) && !failed_;
  }

  bool run_qos1(pacer& p) override {
    pacer_ = &p;
    qos_ = mqtt::qos::at_least_once;
    issue();
    const bool ok = drive_until([&] { return p.done() || failed_; }, 120000) && !failed_;
    pacer_ = nullptr;
    return ok;
  }

  bool run_roundtrip(pacer& p, int qos) override {
    echo_ = &p;
    pacer_ = &p;
    qos_ = static_cast<mqtt::qos>(qos);
    issue();
    const bool ok = drive_until([&] { return p.done() || failed_; }, 120000) && !failed_;
    echo_ = nullptr;
    pacer_ = nullptr;
    return ok;
  }

  void idle(double seconds) override {
    const tw::time_point until = clock_.now() + tw::duration{static_cast<std::int64_t>(seconds * 1000)};
    (void)drive_until([&] { return clock_.now() >= until; }, static_cast<std::int64_t>(seconds * 1000) + 1000);
  }

  void disconnect() override {
    stopping_ = true;
    client_->stop(clock_.now());
    (void)drive_until([this] { return stopped_; }, 5000);
  }

  std::string error() const override { return failure_; }

  // ---- session_observer ----
  void on_ready() override { ready_ = true; }
  void on_connect_failed(const mqtt::connect_failed_event& e) override {
    failed_ = true;
    failure_ = e.error.message();
  }
  void on_disconnected(const mqtt::disconnected_event& e) override {
    if (!stopping_) {
      failed_ = true;
      failure_ = "disconnected: " + e.error.message();
    }
  }
  void on_stopped() override { stopped_ = true; }
  void on_publish_done(mqtt::token t, std::error_code ec) override {
    if (ec) {
      failed_ = true;
      failure_ = "publish failed: " + ec.message();
      return;
    }
    if (marker_ != 0 && t == marker_) {
      marker_done_ = true;
      return;
    }
    if (pacer_ != nullptr && echo_ == nullptr) {
      pacer_->completed();
      issue();
    }
  }

 private:
  tw::bytes_view payload_view() const noexcept { return {payload_.data(), payload_.size()}; }

  void on_own_message(const mqtt::publish& m) {
    if (echo_ == nullptr || m.topic != spec_.topic) return;
    echo_->completed();
    issue();
  }

  void issue() {
    while (pacer_->may_issue()) {
      pacer_->issued();
      auto r = client_->publish(spec_.topic, payload_view(), {.qos = qos_});
      if (!r) {
        fail("publish: " + r.error().message());
        return;
      }
    }
  }

  bool fail(std::string why) {
    failed_ = true;
    failure_ = std::move(why);
    return false;
  }

  template <class Done>
  bool drive_until(Done done, std::int64_t timeout_ms) {
    const tw::time_point give_up = clock_.now() + tw::duration{timeout_ms};
    while (!done()) {
      const tw::time_point now = clock_.now();
      if (now >= give_up) return false;
      const tw::time_point next = client_->poll(now);
      if (done()) break;
      client_->wait(clock_.now(), std::min(next, give_up));
    }
    return true;
  }

  run_spec spec_;
  std::vector<tw::byte> payload_;
  mqtt::session_config config_;
  mqtt::session_limits limits_;
  std::unique_ptr<tw::byte[]> memory_;
  std::optional<poll_client> client_;
  tw::system_clock clock_;
  mqtt::qos qos_ = mqtt::qos::at_least_once;
  pacer* pacer_ = nullptr;
  pacer* echo_ = nullptr;
  mqtt::token marker_ = 0;
  bool marker_done_ = false;
  bool ready_ = false;
  bool failed_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::string failure_;
};

}  // namespace

std::unique_ptr<client> make_thingwell_poll() { return std::make_unique<thingwell_poll>(); }

}  // namespace client_bench
