// thingwell's Asio driver under test: net::asio_client<net::asio_tcp> on a single-threaded io_context,
// with the library's default session limits and plain callbacks as completion tokens.
//
// Every publish is started on the client's strand (from a completion handler), so the driver takes
// the payload without copying it. QoS 0: `lanes` chains of publish → completion → next publish. A
// QoS 0 completion only says the message was accepted, so a chain pauses (1 ms timer) while more than
// 64 messages wait in the session's store behind a full output buffer, as an application that must
// not overrun the client would.
#include <thingwell/mqtt/session.hpp>
#include <thingwell/net/asio_client.hpp>
#include <thingwell/net/asio_tcp.hpp>

#include <asio/dispatch.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace client_bench {
namespace {

namespace tw = thingwell;
namespace mqtt = thingwell::mqtt;
using asio_client = tw::net::asio_client<tw::net::asio_tcp>;

class thingwell_asio final : public client {
 public:
  bool connect(const run_spec& spec, std::string& error) override {
    spec_ = spec;
    payload_.assign(static_cast<std::size_t>(spec.payload), tw::byte{'x'});
    tw::net::client_options o;
    o.host = spec.host;
    o.port = static_cast<std::uint16_t>(spec.port);
    o.client_id = spec.client_id;
    o.version = spec.mqtt_version == 5 ? mqtt::protocol_version::v5 : mqtt::protocol_version::v311;
    o.keep_alive = 60;
    client_.emplace(io_.get_executor(), std::move(o));
    pause_.emplace(client_->get_executor());
    if (spec.what == mode::roundtrip) {
      client_->async_subscribe(
          spec.topic, [this](const mqtt::publish& m) { on_own_message(m); },
          {.max_qos = static_cast<mqtt::qos>(spec.qos)}, [this](std::error_code ec, mqtt::reason_code) {
            if (ec) fail("subscribe: " + ec.message());
          });
    }
    bool connected = false;
    client_->async_connect([&](std::error_code ec) {
      if (ec) fail("connect: " + ec.message());
      connected = !ec;
      io_.stop();
    });
    run_for(std::chrono::seconds(10));
    if (!connected) return error = failure_.empty() ? "connect timed out" : failure_, false;
    return true;
  }

  bool run_qos0(long n, int lanes) override {
    q0_total_ = n;
    q0_issued_ = 0;
    marker_sent_ = false;
    done_ = false;
    asio::dispatch(client_->get_executor(), [this, lanes] {
      for (int i = 0; i < lanes; ++i) lane();
    });
    run_for(std::chrono::seconds(60));
    return done_ && failure_.empty();
  }

  bool run_qos1(pacer& p) override {
    pacer_ = &p;
    qos_ = mqtt::qos::at_least_once;
    asio::dispatch(client_->get_executor(), [this] { issue(); });
    run_for(std::chrono::seconds(120));
    pacer_ = nullptr;
    return p.done() && failure_.empty();
  }

  bool run_roundtrip(pacer& p, int qos) override {
    pacer_ = &p;
    echo_ = &p;
    qos_ = static_cast<mqtt::qos>(qos);
    asio::dispatch(client_->get_executor(), [this] { issue(); });
    run_for(std::chrono::seconds(120));
    pacer_ = echo_ = nullptr;
    return p.done() && failure_.empty();
  }

  void idle(double seconds) override { run_for(std::chrono::milliseconds(static_cast<long>(seconds * 1000))); }

  void disconnect() override {
    client_->async_disconnect([this](std::error_code) { io_.stop(); });
    run_for(std::chrono::seconds(5));
  }

  std::string error() const override { return failure_; }

 private:
  tw::bytes_view payload_view() const noexcept { return {payload_.data(), payload_.size()}; }

  void lane() {
    if (q0_issued_ >= q0_total_) return;
    if (client_->session().metrics().queued >= 64) {
      ++parked_;
      if (!pause_armed_) {
        pause_armed_ = true;
        pause_->expires_after(std::chrono::milliseconds(1));
        pause_->async_wait([this](std::error_code) {
          pause_armed_ = false;
          const int resume = parked_;
          parked_ = 0;
          for (int i = 0; i < resume; ++i) lane();
        });
      }
      return;
    }
    ++q0_issued_;
    client_->async_publish(spec_.topic, payload_view(), {.qos = mqtt::qos::at_most_once}, [this](std::error_code ec) {
      if (ec) return fail("publish: " + ec.message());
      if (q0_issued_ < q0_total_) return lane();
      if (marker_sent_) return;
      marker_sent_ = true;
      client_->async_publish(spec_.topic, payload_view(), {.qos = mqtt::qos::at_least_once}, [this](std::error_code ec2) {
        if (ec2) return fail("publish: " + ec2.message());
        done_ = true;
        io_.stop();
      });
    });
  }

  void issue() {
    while (pacer_ != nullptr && pacer_->may_issue()) {
      pacer_->issued();
      client_->async_publish(spec_.topic, payload_view(), {.qos = qos_}, [this](std::error_code ec) {
        if (ec) return fail("publish: " + ec.message());
        if (echo_ != nullptr || pacer_ == nullptr) return;  // round trips complete on receipt
        pacer_->completed();
        if (pacer_->done()) return io_.stop();
        issue();
      });
    }
  }

  void on_own_message(const mqtt::publish& m) {
    if (echo_ == nullptr || m.topic != spec_.topic) return;
    echo_->completed();
    if (echo_->done()) return io_.stop();
    issue();
  }

  void fail(std::string why) {
    if (failure_.empty()) failure_ = std::move(why);
    io_.stop();
  }

  // io_context::run() until a handler calls stop() or the time is up. (run_for() would dispatch one
  // handler per timed wait, which costs more than the client itself.)
  template <class Duration>
  void run_for(Duration d) {
    asio::steady_timer guard(io_, d);
    guard.async_wait([this](std::error_code ec) {
      if (!ec) io_.stop();
    });
    io_.restart();
    (void)io_.run();
    guard.cancel();
    io_.restart();
    (void)io_.poll();  // runs the guard's cancelled handler before the timer goes away
  }

  run_spec spec_;
  std::vector<tw::byte> payload_;
  asio::io_context io_{1};
  std::optional<asio_client> client_;
  std::optional<asio::steady_timer> pause_;
  bool pause_armed_ = false;
  int parked_ = 0;
  mqtt::qos qos_ = mqtt::qos::at_least_once;
  pacer* pacer_ = nullptr;
  pacer* echo_ = nullptr;
  long q0_total_ = 0;
  long q0_issued_ = 0;
  bool marker_sent_ = false;
  bool done_ = false;
  std::string failure_;
};

}  // namespace

std::unique_ptr<client> make_thingwell_asio() { return std::make_unique<thingwell_asio>(); }

}  // namespace client_bench
