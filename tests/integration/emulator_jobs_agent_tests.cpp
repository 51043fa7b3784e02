// The device job agent (include/thingwell/aws/jobs.hpp) against tools/emulator's Jobs service over a real
// mosquitto on loopback: aws::asio_service_client over net::asio_client<net::asio_tcp> on its own thread,
// the admin command line playing the cloud, `jobs list --json` as the service's view of the truth.
#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mosquitto.hpp"
#include "process.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

#include <thingwell/aws/asio_service_client.hpp>
#include <thingwell/aws/jobs.hpp>
#include <thingwell/codec/json_compact.hpp>
#include <thingwell/codec/json_simdjson.hpp>
#include <thingwell/codec/json_writer.hpp>
#include <thingwell/net/asio_client.hpp>
#include <thingwell/store/memory_store.hpp>

#ifdef THINGWELL_EMULATOR_PATH

#include "emulator_fixture.hpp"

using namespace std::chrono_literals;
using namespace thingwell;
namespace tt = thingwell::testing;
namespace emu = thingwell::testing::emulator;

namespace {

// One execution as `jobs list --json` shows it.
struct listed_execution {
  std::string status;
  std::string details;  // statusDetails, compact JSON ("" when absent)
  std::string version;
};
using listing = std::map<std::string, listed_execution>;  // by job id (one thing per test)

std::string compact(const json::simdjson_value& v) {
  static char buffer[64 * 1024];
  json::writer w(buffer);
  w.copy(v);
  auto text = w.finish();
  return text ? std::string(*text) : std::string("<too large>");
}

// The emulator with one "minute" of job timers lasting one second.
class agent_emulator : public emu::process {
 public:
  explicit agent_emulator(std::uint16_t port)
      : process({.broker = emu::broker_args(port),
                 .extra = {"--seconds-per-minute", "1"},
                 .directory = "emulator-jobs-agent",
                 .numbered_client_ids = false}) {}

  // `jobs create ID --things THING --document <file with json>`
  void create(const std::string& id, const std::string& thing, const std::string& json) const {
    const auto path = file("doc-" + id + ".json");
    std::ofstream(path) << json;
    auto r = admin({"jobs", "create", id, "--things", thing, "--document", path});
    INFO(r.output);
    REQUIRE(r.success());
  }
  listing list(const std::string& thing) const {
    auto r = admin({"jobs", "list", "--thing", thing, "--json"});
    listing out;
    const auto brace = r.output.find('{');
    if (!r.success() || brace == std::string::npos) return out;
    json::simdjson_reader reader;
    auto root = reader.parse(std::string_view(r.output).substr(brace), {.max_bytes = 1 << 22, .max_depth = 64});
    if (!root) return out;
    auto executions = root->find("executions");
    if (!executions) return out;
    for (const auto& e : executions->elements()) {
      auto id = e.find("jobId");
      if (!id) continue;
      std::string key = compact(*id);
      key = key.size() >= 2 ? key.substr(1, key.size() - 2) : key;
      listed_execution x;
      if (auto s = e.find("status")) x.status = compact(*s);
      if (auto d = e.find("statusDetails")) x.details = compact(*d);
      if (auto v = e.find("versionNumber")) x.version = compact(*v);
      out[key] = x;
    }
    return out;
  }
  // Waits until `job` shows `status` (quoted JSON, e.g. "\"SUCCEEDED\"") in the listing.
  std::optional<listed_execution> wait_status(const std::string& thing, const std::string& job, const std::string& status,
                                              std::chrono::milliseconds timeout = 8s) const {
    std::optional<listed_execution> found;
    tt::wait_until(
        [&] {
          auto l = list(thing);
          auto it = l.find(job);
          if (it == l.end() || it->second.status != "\"" + status + "\"") return false;
          found = it->second;
          return true;
        },
        timeout);
    return found;
  }
};

using store_type = store::memory_store<1, 64, 4, 512>;
using agent_type = aws::job_agent<json::compact_reader<512>, store_type, 4, 256>;
using context = agent_type::context;
using document = agent_type::value_type;

// A device: the agent over the Asio client on its own thread. Handlers are installed by `setup` before
// the thread starts; afterwards everything touching the agent goes through on_strand().
class agent_device {
 public:
  agent_device(std::uint16_t port, const std::string& thing, store_type& store,
               const std::function<void(agent_type&, agent_device&)>& setup)
      : client_(io_.get_executor(), options(port, thing)), link_(client_),
        agent_(link_, store, config(thing), [this](const aws::job_event& e) { record(e); }) {
    REQUIRE_FALSE(agent_.error());
    setup(agent_, *this);
    client_.async_connect([](std::error_code) {});
    runner_ = std::thread([this] { io_.run(); });
  }
  ~agent_device() {
    // The client keeps timers of its own: the loop is stopped once the DISCONNECT is out.
    asio::post(client_.get_executor(), [this] { client_.async_disconnect([this](std::error_code) { io_.stop(); }); });
    if (!tt::wait_until([this] { return io_.stopped(); }, 3s)) io_.stop();
    runner_.join();
  }

  // Runs f on the client's strand and waits for it.
  template <class F>
  auto on_strand(F f) {
    using R = decltype(f());
    std::packaged_task<R()> task(std::move(f));
    auto done = task.get_future();
    asio::post(client_.get_executor(), [&task] { task(); });
    return done.get();
  }

  std::vector<std::string> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  bool saw(const std::string& event, std::chrono::milliseconds timeout = 8s) {
    return tt::wait_until(
        [&] {
          std::lock_guard lock(mutex_);
          return std::find(events_.begin(), events_.end(), event) != events_.end();
        },
        timeout);
  }
  void note(const std::string& event) {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
  }
  aws::job_agent_metrics metrics() {
    return on_strand([this] { return agent_.metrics(); });
  }
  agent_type& agent() { return agent_; }
  net::asio_client<net::asio_tcp>& client() { return client_; }

 private:
  static net::client_options options(std::uint16_t port, const std::string& thing) {
    net::client_options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.client_id = thing;
    o.version = mqtt::protocol_version::v5;
    o.memory.output_bytes = 256 * 1024;
    o.memory.store_bytes = 4 * 1024 * 1024;
    return o;
  }
  static aws::job_agent_config config(const std::string& thing) {
    aws::job_agent_config c;
    c.thing_name = thing;
    c.token_nonce = static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return c;
  }
  void record(const aws::job_event& e) {
    std::string line;
    switch (e.kind) {
      case aws::job_event_kind::started: line = "started"; break;
      case aws::job_event_kind::resumed: line = "resumed"; break;
      case aws::job_event_kind::finished: line = "finished"; break;
      case aws::job_event_kind::cancelled: line = "cancelled"; break;
      case aws::job_event_kind::unsupported: line = "unsupported"; break;
      case aws::job_event_kind::redelivered: line = "redelivered"; break;
      case aws::job_event_kind::error: line = "error"; break;
    }
    line += ":" + std::string(e.job_id);
    if (e.kind == aws::job_event_kind::finished) line += ":" + std::string(aws::to_string(e.status));
    if (e.kind == aws::job_event_kind::error) line += ":" + e.error.message() + ":" + std::string(e.code);
    note(line);
  }

  asio::io_context io_;
  net::asio_client<net::asio_tcp> client_;
  aws::asio_service_client<net::asio_tcp> link_;
  agent_type agent_;
  std::thread runner_;
  std::mutex mutex_;
  std::vector<std::string> events_;
};

struct agent_world {
  tt::mosquitto_broker broker{[] {
    auto o = emu::broker_options();
    o.debug_log = false;
    return o;
  }()};
  std::unique_ptr<agent_emulator> emulator;
  store_type store;  // the device's persistent state: kept across agent instances

  agent_world() {
    broker.start();
    emulator = std::make_unique<agent_emulator>(broker.plain_port());
  }
  std::string diagnostics() const { return emu::diagnostics(*emulator, broker); }
};

// The handle of the running execution, parked by a handler for the test to finish later (on the strand).
struct parked {
  std::optional<context> ctx;
  std::string document_op;
};

}  // namespace

TEST_CASE("emulator jobs agent: a job runs, reports progress, and ends SUCCEEDED") {
  agent_world w;
  INFO(w.diagnostics());
  parked p;
  agent_device dev(w.broker.plain_port(), "pump-1", w.store, [&p](agent_type& a, agent_device& d) {
    agent_type::operation op;
    op.run = [&p, &d](const document&, context& ctx) {
      d.note("run:" + std::string(ctx.job_id()));
      CHECK_FALSE(ctx.progress(R"({"step":"half"})"));
      p.ctx = ctx;
    };
    REQUIRE_FALSE(a.add("set-config", std::move(op)));
  });
  w.emulator->create("cfg-1", "pump-1", R"({"operation":"set-config","key":"speed","value":"3"})");
  REQUIRE(dev.saw("run:cfg-1"));
  auto progress = w.emulator->wait_status("pump-1", "cfg-1", "IN_PROGRESS");
  REQUIRE(progress);
  // start-next may still be the last word for a moment: wait for the progress itself.
  REQUIRE(tt::wait_until([&] { return w.emulator->list("pump-1")["cfg-1"].details == R"({"step":"half"})"; }, 5s));

  CHECK_FALSE(dev.on_strand([&p] { return p.ctx->succeed(R"({"step":"done"})"); }));
  auto done = w.emulator->wait_status("pump-1", "cfg-1", "SUCCEEDED");
  REQUIRE(done);
  CHECK(done->details == R"({"step":"done"})");
  CHECK(dev.saw("finished:cfg-1:SUCCEEDED"));
  const auto m = dev.metrics();
  CHECK(m.jobs_started == 1);
  CHECK(m.jobs_finished == 1);
  CHECK(m.version_mismatches == 0);
  CHECK_FALSE(dev.on_strand([&dev] { return dev.agent().busy(); }));
}

TEST_CASE("emulator jobs agent: an operation without a handler is REJECTED with the reason") {
  agent_world w;
  INFO(w.diagnostics());
  agent_device dev(w.broker.plain_port(), "pump-1", w.store, [](agent_type& a, agent_device&) {
    agent_type::operation op;
    op.run = [](const document&, context& ctx) { (void)ctx.succeed(); };
    REQUIRE_FALSE(a.add("reboot", std::move(op)));
  });
  w.emulator->create("fw-1", "pump-1", R"({"operation":"firmware-update"})");
  auto rejected = w.emulator->wait_status("pump-1", "fw-1", "REJECTED");
  REQUIRE(rejected);
  CHECK(rejected->details == R"({"reason":"unsupported_operation","operation":"firmware-update"})");
  CHECK(dev.saw("unsupported:fw-1"));
  CHECK(dev.saw("finished:fw-1:REJECTED"));

  // The agent takes the next job afterwards.
  w.emulator->create("rb-1", "pump-1", R"({"operation":"reboot"})");
  CHECK(w.emulator->wait_status("pump-1", "rb-1", "SUCCEEDED"));
}

TEST_CASE("emulator jobs agent: a forced cancel during the run reaches the handler, and nothing is sent after") {
  agent_world w;
  INFO(w.diagnostics());
  parked p;
  agent_device dev(w.broker.plain_port(), "pump-1", w.store, [&p](agent_type& a, agent_device& d) {
    agent_type::operation op;
    op.run = [&p, &d](const document&, context& ctx) {
      CHECK_FALSE(ctx.progress(R"({"got":"10%"})"));
      p.ctx = ctx;
      d.note("run:" + std::string(ctx.job_id()));
    };
    op.on_cancel = [&d](context& ctx) { d.note(std::string("on_cancel:") + (ctx.cancelled() ? "cancelled" : "live")); };
    REQUIRE_FALSE(a.add("download", std::move(op)));
  });
  w.emulator->create("dl-1", "pump-1", R"({"operation":"download"})");
  REQUIRE(dev.saw("run:dl-1"));
  REQUIRE(tt::wait_until([&] { return w.emulator->list("pump-1")["dl-1"].details == R"({"got":"10%"})"; }, 5s));

  auto forced = w.emulator->admin({"jobs", "cancel", "dl-1", "--force"});
  INFO(forced.output);
  REQUIRE(forced.success());
  REQUIRE(dev.saw("on_cancel:cancelled"));
  CHECK(dev.saw("cancelled:dl-1"));
  const auto sent = dev.metrics().updates_sent;
  // The parked handle is dead: a late handler cannot report into the service.
  CHECK(dev.on_strand([&p] { return p.ctx->cancelled(); }));
  CHECK(dev.on_strand([&p] { return p.ctx->succeed(); }) == errc::cancelled);
  CHECK(dev.on_strand([&p] { return p.ctx->progress(R"({"got":"20%"})"); }) == errc::cancelled);
  std::this_thread::sleep_for(300ms);
  CHECK(dev.metrics().updates_sent == sent);
  auto l = w.emulator->list("pump-1");
  CHECK(l["dl-1"].status == R"("CANCELED")");
  CHECK(l["dl-1"].details == R"({"got":"10%"})");
  CHECK_FALSE(dev.on_strand([&dev] { return dev.agent().busy(); }));
}

TEST_CASE("emulator jobs agent: a restart mid-job resumes under resume_policy::resume and fails under ::fail") {
  agent_world w;
  INFO(w.diagnostics());
  auto setup = [](parked& p) {
    return [&p](agent_type& a, agent_device& d) {
      agent_type::operation resumable;
      resumable.run = [&p, &d](const document&, context& ctx) {
        d.note("run:" + std::string(ctx.job_id()) + (ctx.resumed() ? ":resumed:" : ":fresh:") +
               std::string(ctx.saved_details()));
        if (!ctx.resumed()) (void)ctx.progress(R"({"step":"2"})");
        p.ctx = ctx;
      };
      resumable.on_resume = aws::resume_policy::resume;
      REQUIRE_FALSE(a.add("set-config", std::move(resumable)));
      agent_type::operation fragile;
      fragile.run = [&p, &d](const document&, context& ctx) {
        d.note("run:" + std::string(ctx.job_id()) + (ctx.resumed() ? ":resumed" : ":fresh"));
        p.ctx = ctx;
      };
      fragile.on_resume = aws::resume_policy::fail;
      REQUIRE_FALSE(a.add("reboot", std::move(fragile)));
    };
  };

  // resume: the second agent gets the checkpoint and finishes the job.
  w.emulator->create("cfg-r", "pump-1", R"({"operation":"set-config"})");
  {
    parked p;
    agent_device first(w.broker.plain_port(), "pump-1", w.store, setup(p));
    REQUIRE(first.saw("run:cfg-r:fresh:"));
    REQUIRE(tt::wait_until([&] { return w.emulator->list("pump-1")["cfg-r"].details == R"({"step":"2"})"; }, 5s));
  }  // the device goes away mid-job
  {
    parked p;
    agent_device second(w.broker.plain_port(), "pump-1", w.store, setup(p));
    REQUIRE(second.saw(R"(run:cfg-r:resumed:{"step":"2"})"));
    CHECK(second.saw("resumed:cfg-r"));
    CHECK_FALSE(second.on_strand([&p] { return p.ctx->succeed(); }));
    CHECK(w.emulator->wait_status("pump-1", "cfg-r", "SUCCEEDED"));
    CHECK(second.metrics().jobs_resumed == 1);
  }

  // fail: the second agent reports FAILED {"reason":"interrupted"} and runs nothing.
  w.emulator->create("rb-f", "pump-1", R"({"operation":"reboot"})");
  {
    parked p;
    agent_device first(w.broker.plain_port(), "pump-1", w.store, setup(p));
    REQUIRE(first.saw("run:rb-f:fresh"));
    REQUIRE(w.emulator->wait_status("pump-1", "rb-f", "IN_PROGRESS"));
  }
  {
    parked p;
    agent_device second(w.broker.plain_port(), "pump-1", w.store, setup(p));
    auto failed = w.emulator->wait_status("pump-1", "rb-f", "FAILED");
    REQUIRE(failed);
    CHECK(failed->details == R"({"reason":"interrupted"})");
    CHECK(second.saw("finished:rb-f:FAILED"));
    for (const auto& e : second.events()) CHECK(e.rfind("run:rb-f", 0) == std::string::npos);
  }
}

TEST_CASE("emulator jobs agent: queued jobs run one at a time in creation order") {
  constexpr int jobs = 100;
  agent_world w;
  INFO(w.diagnostics());
  std::vector<std::string> order;
  agent_device dev(w.broker.plain_port(), "pump-1", w.store, [&order](agent_type& a, agent_device&) {
    agent_type::operation op;
    op.run = [&order](const document&, context& ctx) {
      order.emplace_back(ctx.job_id());
      CHECK_FALSE(ctx.succeed());
    };
    REQUIRE_FALSE(a.add("count", std::move(op)));
  });
  REQUIRE(tt::wait_until([&] { return dev.metrics().start_next_sent >= 1; }, 5s));
  // Straight on the admin topic (what `jobs create` sends), in one go: ids sort opposite to creation.
  std::vector<std::string> created;
  for (int i = 0; i < jobs; ++i) created.push_back("job-" + std::to_string(999 - i));
  dev.on_strand([&] {
    for (int i = 0; i < jobs; ++i)
      dev.client().async_publish("$thingwell/emulator/jobs/create",
                                 R"({"jobId":")" + created[std::size_t(i)] +
                                     R"(","targets":["pump-1"],"document":{"operation":"count"}})",
                                 {.qos = mqtt::qos::at_least_once}, [](std::error_code ec) { CHECK_FALSE(ec); });
  });
  const auto t0 = std::chrono::steady_clock::now();
  const bool all = tt::wait_until([&] { return dev.metrics().jobs_finished == std::uint64_t(jobs); }, 30s);
  MESSAGE(jobs << " jobs in " << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
                << " ms");
  REQUIRE(all);
  CHECK(dev.on_strand([&] { return order; }) == created);
  auto l = w.emulator->list("pump-1");
  CHECK(l.size() == std::size_t(jobs));
  int succeeded = 0;
  for (const auto& [id, e] : l) succeeded += e.status == R"("SUCCEEDED")";
  CHECK(succeeded == jobs);
}

#else

TEST_CASE("emulator jobs agent: emulator tests skipped" * doctest::skip()) {}

#endif  // THINGWELL_EMULATOR_PATH
