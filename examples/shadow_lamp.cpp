// A lamp that keeps its state in the Device Shadow: {"power":"on"|"off","brightness":0..100,"color":"..."}.
//
//   shadow_lamp --host H --port P --thing NAME [--ca F --cert F --key F] [--seconds N]
//
// With --ca/--cert/--key it connects with mutual TLS (AWS IoT Core, or a local broker with a test PKI);
// without them, plain TCP to a loopback broker (e.g. mosquitto with tools/emulator playing AWS). On every
// connection it gets the shadow, applies desired changes and reports its state; then it applies each
// delta and reports what it applied. One trace line per event:
//
//   lamp: connected
//   lamp: desired power=on brightness=40 -> applied, reported v12
//
// --seconds N: disconnect and exit after N seconds (for demos and scripts); 0 runs until killed.
#include <thingwell/thingwell.hpp>
#include <thingwell/aws/asio_service_client.hpp>
#include <thingwell/aws/shadow.hpp>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

using namespace thingwell;

namespace {

struct arguments {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  std::string thing = "lamp-1";
  std::string ca, cert, key;
  int seconds = 0;
};

std::optional<arguments> parse(int argc, char** argv) {
  arguments a;
  bool port_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    const char* value = argv[++i];
    if (flag == "--host") a.host = value;
    else if (flag == "--port") a.port = static_cast<std::uint16_t>(std::atoi(value)), port_given = true;
    else if (flag == "--thing") a.thing = value;
    else if (flag == "--ca") a.ca = value;
    else if (flag == "--cert") a.cert = value;
    else if (flag == "--key") a.key = value;
    else if (flag == "--seconds") a.seconds = std::atoi(value);
    else return std::nullopt;
  }
  const bool tls = !a.ca.empty() || !a.cert.empty() || !a.key.empty();
  if (tls && (a.ca.empty() || a.cert.empty() || a.key.empty())) return std::nullopt;
  if (tls && !port_given) a.port = 8883;
  return a;
}

// The lamp's hardware, as far as this example goes.
struct lamp_state {
  bool power = false;
  int brightness = 50;
  std::string color = "white";

  void write(json::writer& w) const {
    w.begin_object()
        .member("power", power ? "on" : "off")
        .member("brightness", brightness)
        .member("color", std::string_view(color))
        .end_object();
  }
};

using shadow_service = aws::shadow_service<json::compact_reader<512>, 1, 1024>;

struct lamp {
  lamp_state state;
  shadow_service* shadows = nullptr;
  aws::shadow_id id;
  std::string applied;  // what the last delta changed, printed with the version that reports it

  // Applies what is valid, reports exactly that.
  void on_delta(const json::compact_value& delta, std::uint64_t version) {
    char buf[256];
    json::writer w(buf);
    w.begin_object();
    std::string seen;
    for (const auto& m : delta.members()) {
      char kb[32];
      char vb[64];
      const auto key = m.key(kb).value_or("?");
      const auto v = m.value();
      if (key == "power") {
        auto s = v.get_string(vb);
        if (s && (*s == "on" || *s == "off")) {
          state.power = *s == "on";
          w.member("power", *s);
          seen += " power=" + std::string(*s);
          continue;
        }
      } else if (key == "brightness") {
        auto b = v.get_int64();
        if (b && *b >= 0 && *b <= 100) {
          state.brightness = static_cast<int>(*b);
          w.member("brightness", *b);
          seen += " brightness=" + std::to_string(*b);
          continue;
        }
      } else if (key == "color") {
        auto s = v.get_string(vb);
        if (s && !s->empty() && s->size() <= 32) {
          state.color = std::string(*s);
          w.member("color", *s);
          seen += " color=" + std::string(*s);
          continue;
        }
      }
      std::printf("lamp: desired %.*s (v%llu) -> ignored, not a valid lamp setting\n", int(key.size()), key.data(),
                  static_cast<unsigned long long>(version));
    }
    w.end_object();
    if (seen.empty()) return;
    applied = seen;
    if (auto fragment = w.finish()) {
      if (auto ec = shadows->report(id, *fragment))
        std::printf("lamp: report failed: %s\n", ec.message().c_str());
    }
  }

  void on_reported(std::uint64_t version) {
    if (!applied.empty()) {
      std::printf("lamp: desired%s -> applied, reported v%llu\n", applied.c_str(), static_cast<unsigned long long>(version));
      applied.clear();
    } else {
      std::printf("lamp: reported power=%s brightness=%d color=%s, v%llu\n", state.power ? "on" : "off", state.brightness,
                  state.color.c_str(), static_cast<unsigned long long>(version));
    }
    std::fflush(stdout);
  }

  void on_error(const aws::shadow_error& e) {
    std::printf("lamp: %.*s failed: %s%s%.*s\n", int(aws::to_string(e.operation).size()), aws::to_string(e.operation).data(),
                e.error.message().c_str(), e.message.empty() ? "" : " - ", int(e.message.size()), e.message.data());
    std::fflush(stdout);
  }
};

// Connection events, one line each.
struct trace_observer final : mqtt::session_observer {
  void on_ready() override { line("connected"); }
  void on_connect_failed(const mqtt::connect_failed_event& e) override {
    std::printf("lamp: connect failed: %s\n", e.error.message().c_str());
    std::fflush(stdout);
  }
  void on_disconnected(const mqtt::disconnected_event& e) override {
    std::printf("lamp: disconnected (%s)\n", mqtt::to_string(e.reason));
    std::fflush(stdout);
  }
  static void line(const char* what) {
    std::printf("lamp: %s\n", what);
    std::fflush(stdout);
  }
};

template <class Stream, class... StreamArgs>
int run(const arguments& args, StreamArgs&&... stream_args) {
  net::client_options options;
  options.host = args.host;
  options.port = args.port;
  options.client_id = args.thing;  // AWS IoT policies usually tie the client id to the thing name
  options.keep_alive = 30;

  asio::io_context io;
  net::asio_client<Stream> client{io.get_executor(), options, std::forward<StreamArgs>(stream_args)...};
  trace_observer trace;
  aws::asio_service_client<Stream> link{client, &trace};

  aws::shadow_config config;
  config.thing_name = args.thing;
  config.token_prefix = args.thing;
  config.token_nonce = static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  shadow_service shadows{link, config};
  if (shadows.error()) {
    std::fprintf(stderr, "lamp: %s\n", shadows.error().message().c_str());
    return 2;
  }

  lamp device;
  device.shadows = &shadows;
  shadow_service::handlers h;
  h.on_delta = [d = &device](const json::compact_value& delta, std::uint64_t v) { d->on_delta(delta, v); };
  h.on_reported = [d = &device](std::uint64_t v) { d->on_reported(v); };
  h.on_error = [d = &device](const aws::shadow_error& e) { d->on_error(e); };
  h.current_state = [d = &device](json::writer& w) { d->state.write(w); };
  auto id = shadows.add("", std::move(h));
  if (!id) {
    std::fprintf(stderr, "lamp: %s\n", id.error().message().c_str());
    return 2;
  }
  device.id = *id;

  client.async_connect([](std::error_code) {});  // failures are traced; reconnection runs on its own

  asio::steady_timer stop_timer{io};
  if (args.seconds > 0) {
    stop_timer.expires_after(std::chrono::seconds(args.seconds));
    stop_timer.async_wait([&](std::error_code) {
      asio::post(client.get_executor(), [&] {
        trace_observer::line("stopping");
        client.async_disconnect([](std::error_code) {});
      });
    });
  }
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = parse(argc, argv);
  if (!args) {
    std::fprintf(stderr, "usage: shadow_lamp --host H --port P --thing NAME [--ca F --cert F --key F] [--seconds N]\n");
    return 2;
  }
  if (aws::check_thing_name(args->thing)) {
    std::fprintf(stderr, "lamp: invalid thing name\n");
    return 2;
  }
  std::printf("lamp: thing %s at %s:%u (%s)\n", args->thing.c_str(), args->host.c_str(), unsigned(args->port),
              args->ca.empty() ? "plain TCP, loopback only" : "mutual TLS");
  std::fflush(stdout);
  if (args->ca.empty()) return run<net::asio_tcp>(*args);
#if THINGWELL_WITH_WOLFSSL
  auto context = net::wolfssl_context::create(net::device_tls_config(
      args->host, args->port, net::pem_file{args->ca}, net::pem_file{args->cert}, net::pem_file{args->key}));
  if (!context) {
    std::fprintf(stderr, "lamp: TLS setup failed: %s\n", context.error().message().c_str());
    return 2;
  }
  return run<net::asio_tls>(*args, std::cref(*context));
#else
  std::fprintf(stderr, "lamp: built without wolfSSL: TLS is not available\n");
  return 2;
#endif
}
