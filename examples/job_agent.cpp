// A device that runs AWS IoT Jobs with two operations:
//
//   {"operation":"reboot"}                               simulated: waits a second, then SUCCEEDED
//   {"operation":"set-config","key":"K","value":"V"}     writes V to <state-dir>/config/K, progress, SUCCEEDED
//
//   job_agent --host H --port P --thing NAME [--ca F --cert F --key F] [--seconds N] [--state-dir D]
//
// With --ca/--cert/--key it connects with mutual TLS (AWS IoT Core, or a local broker with a test PKI);
// without them, plain TCP to a loopback broker (e.g. mosquitto with tools/emulator playing AWS). The
// agent's state (which execution runs, what was decided) lives in <state-dir>/agent (a file log), so a
// reboot job interrupted by a real power cut is not run again: reboot's resume policy is "fail", a
// set-config is idempotent and resumes. One trace line per event:
//
//   agent: connected
//   agent: job cfg-1 started
//   agent: set-config flow=12
//   agent: job cfg-1 finished SUCCEEDED
//
// --seconds N: disconnect and exit after N seconds (for demos and scripts); 0 runs until killed.
#include <thingwell/thingwell.hpp>
#include <thingwell/aws/asio_service_client.hpp>
#include <thingwell/aws/jobs.hpp>
#include <thingwell/store/file_log.hpp>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

using namespace thingwell;

namespace {

struct arguments {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  std::string thing = "device-1";
  std::string ca, cert, key;
  std::string state_dir = "job-agent-state";
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
    else if (flag == "--state-dir") a.state_dir = value;
    else return std::nullopt;
  }
  const bool tls = !a.ca.empty() || !a.cert.empty() || !a.key.empty();
  if (tls && (a.ca.empty() || a.cert.empty() || a.key.empty())) return std::nullopt;
  if (tls && !port_given) a.port = 8883;
  return a;
}

void trace(const std::string& line) {
  std::printf("agent: %s\n", line.c_str());
  std::fflush(stdout);
}

using agent_type = aws::job_agent<json::compact_reader<512>, store::file_log, 4, 1024>;
using context = agent_type::context;

const char* kind_name(aws::job_event_kind k) {
  switch (k) {
    case aws::job_event_kind::started: return "started";
    case aws::job_event_kind::resumed: return "resumed after a restart";
    case aws::job_event_kind::finished: return "finished";
    case aws::job_event_kind::cancelled: return "cancelled";
    case aws::job_event_kind::unsupported: return "rejected: unsupported operation";
    case aws::job_event_kind::redelivered: return "redelivered, sending its status again";
    case aws::job_event_kind::error: return "error";
  }
  return "?";
}

// Writes `value` to dir/key through a temporary file and a rename: a reader never sees half a value.
std::error_code write_config(const std::filesystem::path& dir, std::string_view key, std::string_view value) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ec;
  const auto target = dir / std::string(key);
  const auto temp = dir / (std::string(key) + ".tmp");
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(value.data(), static_cast<std::streamsize>(value.size()));
    out.put('\n');
    if (!out.flush()) return std::make_error_code(std::errc::io_error);
  }
  std::filesystem::rename(temp, target, ec);
  return ec;
}

// Connection events, one line each.
struct trace_observer final : mqtt::session_observer {
  void on_ready() override { trace("connected"); }
  void on_connect_failed(const mqtt::connect_failed_event& e) override { trace("connect failed: " + e.error.message()); }
  void on_disconnected(const mqtt::disconnected_event& e) override {
    trace(std::string("disconnected (") + mqtt::to_string(e.reason) + ")");
  }
};

template <class Stream, class... StreamArgs>
int run(const arguments& args, StreamArgs&&... stream_args) {
  net::client_options options;
  options.host = args.host;
  options.port = args.port;
  options.client_id = args.thing;
  options.keep_alive = 30;

  const std::filesystem::path state_dir = args.state_dir;
  std::error_code dir_error;
  std::filesystem::create_directories(state_dir / "agent", dir_error);
  store::file_log_config log_config;
  log_config.write_buffer_bytes = 4096;
  log_config.read_cache_bytes = 4096;
  auto log = store::file_log::open((state_dir / "agent").string(), log_config);
  if (!log) {
    trace("cannot open the state directory: " + log.error().message());
    return 2;
  }

  asio::io_context io;
  net::asio_client<Stream> client{io.get_executor(), options, std::forward<StreamArgs>(stream_args)...};
  trace_observer observer;
  aws::asio_service_client<Stream> link{client, &observer};

  aws::job_agent_config config;
  config.thing_name = args.thing;
  config.token_prefix = args.thing;
  config.token_nonce = static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  agent_type agent{link, *log, config, [](const aws::job_event& e) {
                     std::string line = "job " + std::string(e.job_id) + " " + kind_name(e.kind);
                     if (e.kind == aws::job_event_kind::finished) line += " " + std::string(aws::to_string(e.status));
                     if (e.error) line += ": " + e.error.message();
                     if (!e.code.empty()) line += " (" + std::string(e.code) + ")";
                     trace(line);
                   }};
  if (agent.error()) {
    trace("cannot start the job agent: " + agent.error().message());
    return 2;
  }

  // reboot: simulated. A real device would persist "rebooting" in statusDetails, reboot, and succeed
  // when it comes back; here a timer stands in for the reboot.
  asio::steady_timer reboot_timer{client.get_executor()};
  agent_type::operation reboot;
  reboot.run = [t = &reboot_timer](const json::compact_value&, context& ctx) {
    trace("rebooting (simulated) for job " + std::string(ctx.job_id()));
    (void)ctx.progress(R"({"step":"rebooting"})");
    t->expires_after(std::chrono::seconds(1));
    t->async_wait([ctx](std::error_code ec) mutable {
      if (ec || ctx.cancelled()) return;
      trace("back up after reboot");
      (void)ctx.succeed(R"({"step":"rebooted"})");
    });
  };
  reboot.on_cancel = [t = &reboot_timer](context&) { t->cancel(); };
  reboot.on_resume = aws::resume_policy::fail;  // never reboot twice for one job
  if (auto ec = agent.add("reboot", std::move(reboot))) {
    trace("add reboot: " + ec.message());
    return 2;
  }

  // set-config: writes key/value. Idempotent, so a restart resumes it.
  agent_type::operation set_config;
  const std::filesystem::path config_dir = state_dir / "config";
  set_config.run = [dir = &config_dir](const json::compact_value& doc, context& ctx) {
    char kb[128];
    char vb[1024];
    auto key = doc.find("key");
    auto value = doc.find("value");
    auto k = key ? key->get_string(kb) : result<std::string_view>(errc::not_found);
    auto v = value ? value->get_string(vb) : result<std::string_view>(errc::not_found);
    // The key names a file: the job id alphabet ([a-zA-Z0-9_-], 1..64) keeps it inside the directory.
    if (!k || !v || aws::check_job_id(*k)) {
      (void)ctx.reject("bad_key_or_value");
      return;
    }
    trace("set-config " + std::string(*k) + "=" + std::string(*v));
    (void)ctx.progress(R"({"step":"writing"})");
    if (auto ec = write_config(*dir, *k, *v)) {
      aws::status_details<256> d;
      d.set("reason", "write_failed").set("error", ec.message());
      (void)ctx.fail(d.view());
      return;
    }
    aws::status_details<256> d;
    d.set("step", "written").set("key", *k);
    (void)ctx.succeed(d.view());
  };
  set_config.on_resume = aws::resume_policy::resume;
  if (auto ec = agent.add("set-config", std::move(set_config))) {
    trace("add set-config: " + ec.message());
    return 2;
  }

  client.async_connect([](std::error_code) {});  // failures are traced; reconnection runs on its own

  asio::steady_timer stop_timer{io};
  if (args.seconds > 0) {
    stop_timer.expires_after(std::chrono::seconds(args.seconds));
    stop_timer.async_wait([&](std::error_code) {
      asio::post(client.get_executor(), [&] {
        trace("stopping");
        reboot_timer.cancel();
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
    std::fprintf(stderr,
                 "usage: job_agent --host H --port P --thing NAME [--ca F --cert F --key F] [--seconds N] [--state-dir D]\n");
    return 2;
  }
  if (aws::check_thing_name(args->thing)) {
    std::fprintf(stderr, "agent: invalid thing name\n");
    return 2;
  }
  std::printf("agent: thing %s at %s:%u (%s), state in %s\n", args->thing.c_str(), args->host.c_str(),
              unsigned(args->port), args->ca.empty() ? "plain TCP, loopback only" : "mutual TLS", args->state_dir.c_str());
  std::fflush(stdout);
  if (args->ca.empty()) return run<net::asio_tcp>(*args);
#if THINGWELL_WITH_WOLFSSL
  auto context = net::wolfssl_context::create(net::device_tls_config(
      args->host, args->port, net::pem_file{args->ca}, net::pem_file{args->cert}, net::pem_file{args->key}));
  if (!context) {
    std::fprintf(stderr, "agent: TLS setup failed: %s\n", context.error().message().c_str());
    return 2;
  }
  return run<net::asio_tls>(*args, std::cref(*context));
#else
  std::fprintf(stderr, "agent: built without wolfSSL: TLS is not available\n");
  return 2;
#endif
}
