// thingwell — the device job agent: runs AWS IoT Jobs one at a time, dispatching each by its document's
// "operation" field to a handler the application registered (shared/aws-iot-protocol.md section 2,
// requirements J-01..J-07, J-09, J-12).
//
//   aws::job_agent<json::compact_reader<256>, store::memory_store<1, 16>> agent{link, store, {.thing_name = "pump-7"}};
//   agent.add("reboot", {.run = [](const auto& doc, auto& ctx) { ctx.succeed(); }, .on_resume = aws::resume_policy::fail});
//   ... agent.poll(now) from the loop (the Asio adapter does it for you)
//
// The conversation with the service:
//   - Subscribes to notify-next and to the answers it uses: start-next/accepted|rejected and, with a '+'
//     job id, <job>/update/accepted|rejected and <job>/get/accepted|rejected (one subscription for every
//     job: the client interface cannot unsubscribe, and a subscription per job would churn).
//   - On every connection (J-12) and on every notify-next while idle it publishes start-next, not
//     $next/get: start-next returns the IN_PROGRESS execution first (the one interrupted by a restart,
//     with the statusDetails saved in it, J-05), then the oldest QUEUED one, which it moves to
//     IN_PROGRESS in the same round trip. $next/get would need a second request (an update to
//     IN_PROGRESS) for every job, and a window in which two agents could both take the same job.
//   - Updates carry expectedVersion (J-09). VersionMismatch re-reads the execution ({job}/get) and sends
//     the update again with the version read (bounded). One update in flight; progress reported while one
//     is in flight waits, and only the newest progress is sent (the service keeps only the last anyway).
//   - After a terminal status is accepted, start-next again (J-03): queued jobs run in order, never two
//     at once.
//
// Never twice: before a handler starts, a record {job id, execution number, phase "run"} is written to
// the Persistence policy (atomic replace, one key); before a terminal status is sent the record becomes
// {phase "end", status, details}. When start-next hands over an execution that the record knows:
//   - phase "end": the terminal status was decided, maybe even accepted but the answer lost: it is sent
//     again, the handler does not run;
//   - phase "run": the device restarted mid-job: the operation's on_resume policy decides: resume (the
//     handler runs with ctx.resumed() and ctx.saved_details(), the checkpoint it reported) or fail
//     (FAILED with {"reason":"interrupted"}), for operations whose steps cannot be repeated.
// A redelivered notify-next or start-next answer for the execution that is running is ignored.
//
// Cancellation (J-06): while a job runs, a notify-next naming another execution (or none), an update
// rejected with InvalidStateTransition/TerminalStateReached/ResourceNotFound, or a re-read showing a
// terminal status the device did not set, means the service ended the execution (CANCELED, REMOVED,
// TIMED_OUT). A notify-next is only a hint (it may be stale): the execution is re-read first. The
// handler hears it through on_cancel and ctx.cancelled(); the agent sends no status for it (a false
// FAILED would be recorded against a job that was cancelled).
//
// Step timeouts (J-07): ctx.progress(details, minutes) sends stepTimeoutInMinutes. If the handler does
// not renew the step before `minutes` minus config.step_timeout_margin, the agent reports FAILED
// {"reason":"step_timeout"} itself and cancels the handler: a hung handler ends as FAILED with a reason
// instead of a silent TIMED_OUT.
//
// Memory: all inline, no heap. DetailsBytes bounds one statusDetails object (the agent holds five: the
// saved checkpoint, the update pending, the update in flight, the terminal details, a scratch); the
// persisted record is at most DetailsBytes + 128 bytes, so the store's value capacity must be that large.
// Handlers run on the thread that drives the client; the job document they get is valid during the call.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <system_error>

#include "../codec/json_reader.hpp"
#include "../codec/json_writer.hpp"
#include "../core/bytes.hpp"
#include "../core/clock.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/inplace_function.hpp"
#include "../core/result.hpp"
#include "../store/persistence.hpp"
#include "client_token.hpp"
#include "jobs_details.hpp"
#include "jobs_status.hpp"
#include "jobs_topics.hpp"
#include "limits.hpp"
#include "service_client.hpp"
#include "shadow_document.hpp"  // text_buffer

namespace thingwell::aws {

inline constexpr std::size_t max_state_key = 32;

struct job_agent_config {
  std::string_view thing_name;               // copied
  duration request_timeout{5000};            // start-next, update or re-read without an answer
  duration retry_delay{2000};                // after RequestThrottled or InternalError
  std::uint8_t version_retries = 3;          // VersionMismatch → re-read → send again, at most this often
  duration step_timeout_margin{5000};        // a step not renewed this long before AWS's step timer: FAILED
  std::string_view state_key = "tw.jobs";    // the persisted record's key (copied, at most 32 bytes)
  std::string_view token_prefix = "tw";      // clientToken prefix (see client_token.hpp)
  std::uint32_t token_nonce = 0;             // differs between boots
  json::limits document_limits{};            // for received documents (job documents are at most 32 KB)
};

// What happens to an operation's execution that was IN_PROGRESS when the device restarted.
enum class resume_policy : std::uint8_t {
  fail,    // FAILED {"reason":"interrupted"}: the safe default for steps that must not run twice
  resume,  // the handler runs again with ctx.resumed() and the checkpoint from ctx.saved_details()
};

enum class job_event_kind : std::uint8_t {
  started,      // a handler was given a new execution
  resumed,      // a handler was given an execution interrupted by a restart
  finished,     // the service accepted the terminal status
  cancelled,    // the service ended the execution (or the step watchdog did)
  unsupported,  // no handler for the operation: REJECTED
  redelivered,  // a finished execution came back: its terminal status was sent again, no handler ran
  error,        // a request failed: `error`, and AWS's `code` when it answered on */rejected
};

struct job_event {
  job_event_kind kind = job_event_kind::error;
  std::string_view job_id;      // valid during the call
  std::uint64_t execution_number = 0;
  job_status status = job_status::in_progress;  // finished: the terminal status
  std::error_code error;
  std::string_view code;        // e.g. "VersionMismatch"; valid during the call
};

struct job_agent_metrics {
  std::uint64_t start_next_sent = 0;
  std::uint64_t jobs_started = 0;
  std::uint64_t jobs_resumed = 0;
  std::uint64_t jobs_finished = 0;
  std::uint64_t jobs_cancelled = 0;
  std::uint64_t jobs_unsupported = 0;
  std::uint64_t redeliveries = 0;         // finished executions handed over again
  std::uint64_t duplicates_ignored = 0;   // the running execution handed over again
  std::uint64_t updates_sent = 0;
  std::uint64_t updates_accepted = 0;
  std::uint64_t progress_coalesced = 0;   // progress replaced by newer progress before it was sent
  std::uint64_t version_mismatches = 0;
  std::uint64_t rereads = 0;
  std::uint64_t rejected = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t foreign_answers = 0;
  std::uint64_t bad_documents = 0;
  std::uint64_t persist_errors = 0;
};

template <json::reader Reader, store::persistence Persistence, std::size_t MaxOperations = 8,
          std::size_t DetailsBytes = 512>
class job_agent final : public service {
  static_assert(MaxOperations > 0 && MaxOperations < 256, "1..255 operations");
  static_assert(DetailsBytes >= 64, "statusDetails buffers of at least 64 bytes");

 public:
  using reader_type = Reader;
  using value_type = typename Reader::value_type;
  static constexpr std::size_t details_bytes = DetailsBytes;
  static constexpr std::size_t record_bytes = DetailsBytes + 128;

  // A handle on the running execution. It is a small value: a handler that finishes later (after a
  // download, a reboot) keeps a copy. A handle of an execution that has ended, whether finished,
  // cancelled or timed out, refuses everything with errc::cancelled, so a late handler can never report
  // into the next job.
  class context {
   public:
    context() noexcept = default;

    std::string_view job_id() const noexcept { return live() ? agent_->job_.id() : std::string_view{}; }
    std::uint64_t execution_number() const noexcept { return live() ? agent_->job_.number : 0; }
    // Restarted mid-job under resume_policy::resume.
    bool resumed() const noexcept { return live() && agent_->job_.resumed; }
    // The statusDetails the execution carried when it was handed over ("" for none): the checkpoint
    // reported before a restart (J-05).
    std::string_view saved_details() const noexcept { return live() ? agent_->job_.saved.view() : std::string_view{}; }
    // Still running: the handler may report. False once finished, cancelled, or handed over for good.
    bool active() const noexcept { return live() && agent_->job_.stage == phase::running; }
    // The execution ended under the handler (or ended at all: a stale handle answers true as well).
    bool cancelled() const noexcept { return agent_ != nullptr && (!live() || agent_->job_.stopped); }

    // IN_PROGRESS with `details` (a JSON object of strings, "" for none). step_timeout_minutes: 0 none,
    // 1..10080 (re)starts AWS's step timer and the agent's watchdog, -1 stops both. Errors:
    // errc::cancelled, errc::busy (a terminal status was given already),
    // errc::job_status_details_invalid, errc::invalid_argument (step timeout), errc::buffer_too_small.
    std::error_code progress(std::string_view details = {}, std::int32_t step_timeout_minutes = 0) const noexcept {
      if (!live()) return errc::cancelled;
      return agent_->report(job_status::in_progress, details, step_timeout_minutes);
    }
    std::error_code succeed(std::string_view details = {}) const noexcept { return end(job_status::succeeded, details); }
    std::error_code fail(std::string_view details = {}) const noexcept { return end(job_status::failed, details); }
    // REJECTED with {"reason":"<reason>"} (J-08: a pre-check failed, the job does not fit this device).
    std::error_code reject(std::string_view reason) const noexcept {
      status_details<DetailsBytes> d;
      d.set("reason", reason);
      if (d.error()) return d.error();
      return end(job_status::rejected, d.view());
    }

   private:
    friend class job_agent;
    context(job_agent* a, std::uint32_t serial) noexcept : agent_(a), serial_(serial) {}
    bool live() const noexcept {
      return agent_ != nullptr && agent_->job_.stage != phase::idle && agent_->job_.serial == serial_;
    }
    std::error_code end(job_status s, std::string_view details) const noexcept {
      if (!live()) return errc::cancelled;
      return agent_->report(s, details, 0);
    }

    job_agent* agent_ = nullptr;
    std::uint32_t serial_ = 0;
  };

  struct operation {
    // Runs the job. `document` is the job document (valid during the call); report through ctx, now or
    // later from a copy of it.
    inplace_function<void(const value_type& document, context& ctx)> run;
    // The execution ended under the handler (cancelled, removed, timed out, step watchdog): stop, clean
    // up partial work. Nothing may be reported any more.
    inplace_function<void(context& ctx)> on_cancel;
    resume_policy on_resume = resume_policy::fail;
  };

  using event_handler = inplace_function<void(const job_event&)>;

  // Subscribes, and reads the persisted record. A bad thing name, state key or a full client is kept
  // and returned by error() and by every add().
  job_agent(service_client& client, Persistence& store, const job_agent_config& config,
            event_handler on_event = {}) noexcept
      : client_(client), store_(store), config_(config), tokens_(config.token_prefix, config.token_nonce),
        on_event_(std::move(on_event)) {
    config_.thing_name = {};
    config_.state_key = {};
    if (auto ec = check_thing_name(config.thing_name)) {
      error_ = ec;
      return;
    }
    if (config.state_key.empty() || config.state_key.size() > max_state_key) {
      error_ = errc::invalid_argument;
      return;
    }
    std::memcpy(thing_, config.thing_name.data(), config.thing_name.size());
    thing_size_ = config.thing_name.size();
    std::memcpy(key_, config.state_key.data(), config.state_key.size());
    key_size_ = config.state_key.size();
    load_record();
    if ((error_ = client_.attach(*this))) return;
    attached_ = true;
    static constexpr struct {
      jobs_operation op;
      jobs_response r;
    } topics[] = {{jobs_operation::notify_next, jobs_response::request}, {jobs_operation::start_next, jobs_response::accepted},
                  {jobs_operation::start_next, jobs_response::rejected},  {jobs_operation::update, jobs_response::accepted},
                  {jobs_operation::update, jobs_response::rejected},      {jobs_operation::describe, jobs_response::accepted},
                  {jobs_operation::describe, jobs_response::rejected}};
    for (const auto& t : topics) {
      topic_buffer buf;
      auto topic = make_jobs_topic(buf, thing_name(), t.op, "+", t.r);
      if (!topic) {
        error_ = topic.error();
        return;
      }
      auto sub = client_.subscribe(*topic, *this);
      if (!sub) {
        error_ = sub.error();
        return;
      }
      subs_[subs_count_++] = *sub;
    }
  }
  ~job_agent() override {
    if (attached_) client_.detach(*this);
  }
  job_agent(const job_agent&) = delete;
  job_agent& operator=(const job_agent&) = delete;

  std::error_code error() const noexcept { return error_; }
  std::string_view thing_name() const noexcept { return {thing_, thing_size_}; }

  // Registers the handler of an operation (the job document's "operation" value). Errors:
  // errc::invalid_argument (empty or longer than 64 bytes, no run), errc::busy (twice),
  // errc::capacity_exceeded (MaxOperations).
  std::error_code add(std::string_view name, operation op) noexcept {
    if (error_) return error_;
    if (name.empty() || name.size() > max_operation_name || !op.run) return errc::invalid_argument;
    if (find_operation(name) != nullptr) return errc::busy;
    if (ops_count_ == MaxOperations) return errc::capacity_exceeded;
    entry& e = ops_[ops_count_++];
    std::memcpy(e.name, name.data(), name.size());
    e.name_size = static_cast<std::uint8_t>(name.size());
    e.op = std::move(op);
    return {};
  }

  // ---- state, for applications and tests -----------------------------------------------------------

  // An execution is being run or finished.
  bool busy() const noexcept { return job_.stage != phase::idle; }
  std::string_view current_job() const noexcept { return busy() ? job_.id() : std::string_view{}; }
  std::uint64_t current_version() const noexcept { return busy() ? job_.version : 0; }
  // The handle of the running execution (inactive when idle).
  context current() noexcept { return context(this, job_.serial); }
  const job_agent_metrics& metrics() const noexcept { return metrics_; }

  // ---- timers ----------------------------------------------------------------------------------------

  void poll(time_point now) noexcept override {
    now_ = now;
    arm_all(now);
    if (start_.active && now >= start_.deadline) {
      ++metrics_.timeouts;
      start_ = request{};
      surface(errc::timed_out);
      ask_next();
    }
    if (update_.active && now >= update_.deadline) {
      // Applied or not? The re-read tells, and gives the version to send it again with.
      ++metrics_.timeouts;
      update_ = request{};
      restore_inflight();
      reread();
    }
    if (describe_.active && now >= describe_.deadline) {
      ++metrics_.timeouts;
      describe_ = request{};
      reread();
    }
    if (retry_ != retry::none && now >= retry_at_) {
      const retry what = retry_;
      retry_ = retry::none;
      if (what == retry::start_next) ask_next();
      else if (what == retry::reread) reread();
      else kick();
    }
    if (job_.stage == phase::running && job_.step_watch && job_.step_armed && now >= job_.step_deadline) step_expired();
    arm_all(now);
  }

  time_point next_deadline() const noexcept override {
    if ((start_.active && !start_.armed) || (update_.active && !update_.armed) || (describe_.active && !describe_.armed) ||
        (job_.step_watch && !job_.step_armed))
      return now_;  // something waits for a time base: poll at once
    time_point t = never;
    if (start_.active) t = std::min(t, start_.deadline);
    if (update_.active) t = std::min(t, update_.deadline);
    if (describe_.active) t = std::min(t, describe_.deadline);
    if (retry_ != retry::none) t = std::min(t, retry_at_);
    if (job_.stage == phase::running && job_.step_watch) t = std::min(t, job_.step_deadline);
    return t;
  }

  // ---- service: events from the client --------------------------------------------------------------

  void on_ready() noexcept override {
    if (subs_count_ != 0) subscribed_ = true;  // the client restored every subscription before telling us
    start_ = describe_ = update_ = request{};
    retry_ = retry::none;
    if (busy()) {
      reread();  // what happened to it while we were away: cancelled? our last update applied?
    } else {
      ask_next();  // J-12: never rely on notify alone
    }
  }

  void on_disconnected() noexcept override {
    start_ = describe_ = request{};
    if (update_.active) {
      update_ = request{};
      restore_inflight();
    }
    retry_ = retry::none;
  }

  void on_subscribed(subscription_id sub, std::error_code ec) noexcept override {
    if (std::find(subs_, subs_ + subs_count_, sub) == subs_ + subs_count_) return;
    if (ec) {
      surface(ec);
      return;
    }
    if (++subs_acked_ >= subs_count_ && !subscribed_) {
      subscribed_ = true;
      if (client_.is_ready()) on_ready();
    }
  }

  void on_message(std::string_view topic, std::string_view payload) noexcept override {
    auto t = parse_jobs_topic(topic);
    if (!t || t->thing != thing_name()) return;  // the thing name is checked before acting (section 2.1)
    auto doc = in_.parse(payload, config_.document_limits);
    if (!doc || doc->kind() != json::type::object) {
      ++metrics_.bad_documents;
      return;
    }
    const value_type& d = *doc;
    const bool accepted = t->response == jobs_response::accepted;
    switch (t->operation) {
      case jobs_operation::notify_next: on_notify_next(d); break;
      case jobs_operation::start_next:
        if (t->response != jobs_response::request) on_start_next(d, accepted);
        break;
      case jobs_operation::update:
        if (t->response != jobs_response::request) on_update_answer(t->job_id, d, accepted);
        break;
      case jobs_operation::describe:
        if (t->response != jobs_response::request) on_describe_answer(t->job_id, d, accepted);
        break;
      default: break;
    }
  }

 private:
  static constexpr std::size_t max_operation_name = 64;

  enum class phase : std::uint8_t { idle, running, finishing };
  enum class retry : std::uint8_t { none, start_next, reread, update };

  struct request {
    client_token token;
    time_point deadline = never;
    bool active = false;
    bool armed = false;
  };

  struct entry {
    char name[max_operation_name];
    std::uint8_t name_size = 0;
    operation op;
    std::string_view name_view() const noexcept { return {name, name_size}; }
  };

  struct update {
    bool used = false;
    job_status status = job_status::in_progress;
    std::int32_t step_minutes = 0;
    std::uint8_t mismatches = 0;
    text_buffer<DetailsBytes> details;  // empty: no statusDetails member
  };

  struct execution {
    phase stage = phase::idle;
    bool stopped = false;       // ended under the handler (cancelled, step watchdog)
    char job_id[max_job_id];
    std::uint8_t job_id_size = 0;
    std::uint64_t number = 0;
    std::uint64_t version = 0;  // the execution's versionNumber as last known; 0: unknown
    std::uint32_t serial = 0;   // increases per execution handed to a handler: stale handles are refused
    entry* op = nullptr;
    bool resumed = false;
    bool step_watch = false;
    bool step_armed = false;
    std::int32_t step_minutes = 0;
    time_point step_deadline = never;
    job_status final_status = job_status::succeeded;  // finishing: what was sent
    text_buffer<DetailsBytes> saved;

    std::string_view id() const noexcept { return {job_id, job_id_size}; }
  };

  // The persisted record, as loaded.
  struct stored {
    bool valid = false;
    bool ended = false;  // phase "end": the terminal status below was decided
    char job_id[max_job_id];
    std::uint8_t job_id_size = 0;
    std::uint64_t number = 0;
    job_status status = job_status::failed;
    text_buffer<DetailsBytes> details;
    std::string_view id() const noexcept { return {job_id, job_id_size}; }
  };

  // ---- helpers ---------------------------------------------------------------------------------------

  entry* find_operation(std::string_view name) noexcept {
    for (std::size_t i = 0; i < ops_count_; ++i)
      if (ops_[i].name_view() == name) return &ops_[i];
    return nullptr;
  }

  void arm(request& r, time_point now) const noexcept {
    if (r.active && !r.armed) {
      r.deadline = now + config_.request_timeout;
      r.armed = true;
    }
  }
  void arm_all(time_point now) noexcept {
    arm(start_, now);
    arm(update_, now);
    arm(describe_, now);
    if (job_.step_watch && !job_.step_armed) {
      // The watchdog fires before AWS's timer would: a FAILED with a reason beats a silent TIMED_OUT.
      const duration step = std::chrono::minutes(job_.step_minutes);
      job_.step_deadline = now + (step > config_.step_timeout_margin ? step - config_.step_timeout_margin : step / 2);
      job_.step_armed = true;
    }
  }

  bool can_send() const noexcept { return subscribed_ && client_.is_ready(); }

  void emit(job_event_kind kind, std::error_code ec = {}, std::string_view code = {}) noexcept {
    if (!on_event_) return;
    job_event e;
    e.kind = kind;
    e.job_id = job_.id();
    e.execution_number = job_.number;
    e.status = kind == job_event_kind::finished || kind == job_event_kind::redelivered || kind == job_event_kind::cancelled
                   ? job_.final_status
                   : job_status::in_progress;
    e.error = ec;
    e.code = code;
    on_event_(e);
  }
  void surface(std::error_code ec, std::string_view code = {}) noexcept { emit(job_event_kind::error, ec, code); }

  static std::error_code error_for(std::string_view code) noexcept {
    if (code == "VersionMismatch") return errc::aws_version_conflict;
    if (code == "InvalidStateTransition") return errc::job_state_transition_invalid;
    if (code == "TerminalStateReached") return errc::job_terminal_state;
    if (code == "ResourceNotFound") return errc::not_found;
    if (code == "RequestThrottled") return errc::aws_throttled;
    if (code == "InternalError") return errc::aws_service_error;
    if (code == "InvalidRequest" || code == "InvalidJson" || code == "InvalidTopic") return errc::aws_bad_request;
    return errc::aws_rejected;
  }

  static std::string_view string_of(const value_type& doc, std::string_view key, std::span<char> scratch) noexcept {
    auto v = doc.find(key);
    if (!v) return {};
    return v->get_string(scratch).value_or(std::string_view{});
  }
  static std::uint64_t uint_of(const value_type& doc, std::string_view key) noexcept {
    auto v = doc.find(key);
    if (!v) return 0;
    return v->get_uint64().value_or(0);
  }

  bool ours(const request& r, const value_type& doc) noexcept {
    char buf[max_client_token + 8];
    auto t = string_of(doc, "clientToken", buf);
    if (r.active && r.token.matches(t)) return true;
    ++metrics_.foreign_answers;
    return false;
  }

  // Builds "{...}" with the clientToken (needs no escaping) and publishes it; false when offline.
  bool publish(std::string_view topic, std::string_view head, request& r) noexcept {
    r.token = tokens_.next();
    std::size_t n = 0;
    bool fits = true;
    auto put = [&](std::string_view s) {
      if (!fits || s.size() > sizeof out_ - n) {
        fits = false;
        return;
      }
      if (!s.empty()) std::memcpy(out_ + n, s.data(), s.size());
      n += s.size();
    };
    put("{");
    put(head);
    if (!head.empty()) put(",");
    put(R"("clientToken":")");
    put(r.token.view());
    put("\"}");
    if (!fits) {
      surface(errc::buffer_too_small);
      return false;
    }
    if (client_.publish(topic, std::string_view(out_, n))) return false;
    r.active = true;
    r.armed = false;
    return true;
  }

  // ---- requests ------------------------------------------------------------------------------------

  void ask_next() noexcept {
    if (busy() || start_.active || !can_send()) return;
    ask_again_ = false;
    topic_buffer buf;
    auto topic = make_jobs_topic(buf, thing_name(), jobs_operation::start_next);
    if (!topic) return;
    if (publish(*topic, {}, start_)) ++metrics_.start_next_sent;
  }

  // Reads the running execution again (DescribeJobExecution): its version and whether it still runs.
  void reread() noexcept {
    if (!busy() || describe_.active || !can_send()) return;
    if (update_.active) {
      reread_after_update_ = true;  // its answer would make the read stale
      return;
    }
    topic_buffer buf;
    auto topic = make_jobs_topic(buf, thing_name(), jobs_operation::describe, job_.id());
    if (!topic) return;
    char head[64];
    json::writer w(head);
    w.begin_object().member("executionNumber", job_.number).member("includeJobDocument", false).end_object();
    auto text = w.finish();
    if (!text) return;
    if (publish(*topic, text->substr(1, text->size() - 2), describe_)) ++metrics_.rereads;
  }

  // Sends the pending update when nothing else about this execution is in flight.
  void kick() noexcept {
    if (!busy() || !pending_.used || update_.active || describe_.active || retry_ == retry::update || !can_send()) return;
    topic_buffer buf;
    auto topic = make_jobs_topic(buf, thing_name(), jobs_operation::update, job_.id());
    if (!topic) return;
    char* const head = head_;
    std::size_t n = 0;
    bool fits = true;
    auto put = [&](std::string_view s) {
      if (!fits || s.size() > sizeof head_ - n) {
        fits = false;
        return;
      }
      if (!s.empty()) std::memcpy(head + n, s.data(), s.size());
      n += s.size();
    };
    auto put_number = [&](std::int64_t v) {
      char digits[24];
      const auto r = std::to_chars(digits, digits + sizeof digits, v);
      put(std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)));
    };
    put(R"("status":")");
    put(to_string(pending_.status));
    put("\"");
    if (!pending_.details.empty()) {
      put(R"(,"statusDetails":)");
      put(pending_.details.view());
    }
    if (job_.version != 0) {
      put(R"(,"expectedVersion":)");
      put_number(static_cast<std::int64_t>(job_.version));
    }
    put(R"(,"executionNumber":)");
    put_number(static_cast<std::int64_t>(job_.number));
    // The new versionNumber comes back with the answer: the next expectedVersion is exact, not guessed.
    put(R"(,"includeJobExecutionState":true)");
    if (pending_.step_minutes != 0) {
      put(R"(,"stepTimeoutInMinutes":)");
      put_number(pending_.step_minutes);
    }
    if (!fits) {
      surface(errc::buffer_too_small);
      pending_.used = false;
      return;
    }
    if (!publish(*topic, std::string_view(head, n), update_)) return;
    ++metrics_.updates_sent;
    inflight_ = pending_;
    pending_.used = false;
  }

  // The update in flight was lost or must go again: it goes back unless something newer waits.
  void restore_inflight() noexcept {
    if (inflight_.used && !pending_.used) pending_ = inflight_;
    inflight_.used = false;
  }

  void retry_later(retry what) noexcept {
    retry_ = what;
    retry_at_ = now_ + config_.retry_delay;
    client_.reschedule();
  }

  // ---- the job's life ------------------------------------------------------------------------------

  // From a context: validated, then queued behind the update in flight.
  std::error_code report(job_status s, std::string_view details, std::int32_t step_minutes) noexcept {
    if (job_.stage != phase::running) return errc::busy;
    if (!device_may_set(job_status::in_progress, s)) return errc::job_state_transition_invalid;
    if (step_minutes != 0 && step_minutes != -1 && (step_minutes < 1 || step_minutes > 10080))
      return errc::invalid_argument;
    if (!details.empty()) {
      if (details.size() > DetailsBytes) return errc::buffer_too_small;
      auto v = check_.parse(details, json::limits{DetailsBytes, 2});
      if (!v) return errc::job_status_details_invalid;
      if (auto ec = check_status_details(*v, std::span<char>(scratch_))) return ec;
    }
    if (s == job_status::in_progress) {
      if (pending_.used) ++metrics_.progress_coalesced;
      const std::int32_t step = step_minutes != 0 ? step_minutes : (pending_.used ? pending_.step_minutes : 0);
      pending_.used = true;
      pending_.status = s;
      pending_.step_minutes = step;
      pending_.mismatches = 0;
      (void)pending_.details.assign(details);
      if (step_minutes > 0) {
        job_.step_watch = true;
        job_.step_armed = false;
        job_.step_minutes = step_minutes;
      } else if (step_minutes == -1) {
        job_.step_watch = false;
      }
    } else {
      // The decision is persisted before it is sent: a restart or a lost answer sends it again, and
      // never runs the handler a second time.
      job_.final_status = s;
      job_.stage = phase::finishing;
      job_.step_watch = false;
      (void)final_.assign(details);
      persist(true, s, details);
      if (pending_.used) ++metrics_.progress_coalesced;
      pending_.used = true;
      pending_.status = s;
      pending_.step_minutes = 0;
      pending_.mismatches = 0;
      (void)pending_.details.assign(details);
    }
    kick();
    client_.reschedule();
    return {};
  }

  // A new execution handed over by start-next.
  void take(const value_type& exec) noexcept {
    char idbuf[max_job_id + 8];
    const std::string_view id = string_of(exec, "jobId", idbuf);
    if (check_job_id(id)) {
      ++metrics_.bad_documents;
      return;
    }
    const std::uint64_t number = uint_of(exec, "executionNumber");
    char stbuf[24];
    const auto status = parse_job_status(string_of(exec, "status", stbuf)).value_or(job_status::in_progress);
    if (is_terminal(status)) return;  // nothing to run

    job_ = execution{};
    std::memcpy(job_.job_id, id.data(), id.size());
    job_.job_id_size = static_cast<std::uint8_t>(id.size());
    job_.number = number;
    job_.version = uint_of(exec, "versionNumber");
    job_.serial = ++serial_;
    pending_.used = inflight_.used = false;
    if (auto saved = exec.find("statusDetails"); saved && saved->kind() == json::type::object) {
      json::writer w(job_.saved.space());
      w.copy(*saved);
      auto text = w.finish();
      job_.saved.size = text && *text != "{}" ? text->size() : 0;
    }

    const bool known = record_.valid && record_.id() == id && record_.number == number;
    if (known && record_.ended) {
      // Decided before (a lost answer, a restart while sending): say it again, run nothing.
      ++metrics_.redeliveries;
      job_.stage = phase::finishing;
      job_.final_status = record_.status;
      (void)final_.assign(record_.details.view());
      emit(job_event_kind::redelivered);
      queue_final();
      return;
    }

    auto document = exec.find("jobDocument");
    char opbuf[max_operation_name + 8];
    std::string_view op_name;
    bool has_op = false;
    if (document && document->kind() == json::type::object) {
      if (auto o = document->find("operation"); o && o->kind() == json::type::string) {
        auto s = o->get_string(opbuf);
        if (s) {
          op_name = *s;
          has_op = true;
        }
      }
    }
    entry* e = has_op ? find_operation(op_name) : nullptr;
    job_.stage = phase::running;
    if (e == nullptr) {
      // J-04: REJECTED with the reason, the operation named so that the fleet's report says which.
      ++metrics_.jobs_unsupported;
      status_details<DetailsBytes> d;
      d.set("reason", !has_op ? "missing_operation" : "unsupported_operation");
      if (has_op && !op_name.empty()) d.set("operation", op_name.substr(0, max_operation_name));
      job_.final_status = job_status::rejected;
      emit(job_event_kind::unsupported);
      (void)report(job_status::rejected, d.view(), 0);
      return;
    }
    job_.op = e;
    if (known) {
      // Restarted mid-job (J-05): the operation decides.
      if (e->op.on_resume == resume_policy::fail) {
        status_details<64> d;
        d.set("reason", "interrupted");
        (void)report(job_status::failed, d.view(), 0);
        return;
      }
      job_.resumed = true;
      ++metrics_.jobs_resumed;
    } else {
      // Written before the handler starts: a restart from here on is a resume, never a fresh run.
      if (!persist(false, job_status::in_progress, {})) {
        status_details<64> d;
        d.set("reason", "state_not_persisted");
        (void)report(job_status::failed, d.view(), 0);
        return;
      }
      ++metrics_.jobs_started;
    }
    emit(job_.resumed ? job_event_kind::resumed : job_event_kind::started);
    context ctx(this, job_.serial);
    e->op.run(*document, ctx);
  }

  // The terminal status of the record goes out (redelivery).
  void queue_final() noexcept {
    pending_.used = true;
    pending_.status = job_.final_status;
    pending_.step_minutes = 0;
    pending_.mismatches = 0;
    (void)pending_.details.assign(final_.view());
    kick();
  }

  void finished() noexcept {
    ++metrics_.jobs_finished;
    emit(job_event_kind::finished);
    end_job();
  }

  // The service ended the execution under us (J-06): the handler stops, nothing is reported.
  void cancelled() noexcept {
    const bool was_running = job_.stage == phase::running;
    ++metrics_.jobs_cancelled;
    job_.final_status = job_status::canceled;
    entry* e = job_.op;
    const std::uint32_t serial = job_.serial;
    job_.stage = phase::idle;  // handles are dead before the handler hears of it
    job_.stopped = true;
    (void)store_.erase(key());  // it will not come back: a retry is a new execution number
    record_.valid = false;
    emit(job_event_kind::cancelled);
    if (was_running && e != nullptr && e->op.on_cancel) {
      context ctx(this, serial);
      e->op.on_cancel(ctx);
    }
    end_job();
  }

  void end_job() noexcept {
    job_.stage = phase::idle;
    job_.step_watch = false;
    pending_.used = inflight_.used = false;
    update_ = describe_ = request{};
    if (retry_ != retry::start_next) retry_ = retry::none;
    ask_next();
  }

  void step_expired() noexcept {
    // The handler did not renew its step: FAILED with the reason, then the handler is told to stop.
    entry* e = job_.op;
    const std::uint32_t serial = job_.serial;
    status_details<64> d;
    d.set("reason", "step_timeout");
    (void)report(job_status::failed, d.view(), 0);
    job_.stopped = true;
    emit(job_event_kind::cancelled, errc::timed_out);
    if (e != nullptr && e->op.on_cancel) {
      context ctx(this, serial);  // not live any more (finishing): cancelled() is true
      e->op.on_cancel(ctx);
    }
  }

  // ---- persistence ---------------------------------------------------------------------------------

  std::string_view key() const noexcept { return {key_, key_size_}; }

  // {"job":"<id>","n":<number>,"phase":"run"|"end"[,"status":"...","details":{...}]}
  bool persist(bool ended, job_status s, std::string_view details) noexcept {
    std::size_t n = 0;
    bool fits = true;
    auto put = [&](std::string_view t) {
      if (!fits || t.size() > sizeof record_buf_ - n) {
        fits = false;
        return;
      }
      if (!t.empty()) std::memcpy(record_buf_ + n, t.data(), t.size());
      n += t.size();
    };
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, job_.number);
    put(R"({"job":")");
    put(job_.id());
    put(R"(","n":)");
    put(std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)));
    put(ended ? R"(,"phase":"end","status":")" : R"(,"phase":"run")");
    if (ended) {
      put(to_string(s));
      put("\"");
      if (!details.empty()) {
        put(R"(,"details":)");
        put(details);
      }
    }
    put("}");
    if (fits) {
      if (auto w = store_.put(key(), as_bytes(std::string_view(record_buf_, n)))) {
        record_.valid = true;
        record_.ended = ended;
        std::memcpy(record_.job_id, job_.job_id, job_.job_id_size);
        record_.job_id_size = job_.job_id_size;
        record_.number = job_.number;
        record_.status = s;
        (void)record_.details.assign(details);
        return true;
      }
    }
    ++metrics_.persist_errors;
    surface(fits ? errc::storage_full : errc::buffer_too_small);
    return false;
  }

  void load_record() noexcept {
    auto got = store_.get(key(), mutable_bytes(reinterpret_cast<byte*>(record_buf_), sizeof record_buf_));
    if (!got) return;  // none, or damaged (storage_corrupt): nothing is known, no job is resumed
    auto doc = check_.parse(std::string_view(record_buf_, *got), json::limits{sizeof record_buf_, 3});
    if (!doc || doc->kind() != json::type::object) return;
    char buf[max_job_id + 8];
    const std::string_view id = string_of(*doc, "job", buf);
    if (check_job_id(id)) return;
    std::memcpy(record_.job_id, id.data(), id.size());
    record_.job_id_size = static_cast<std::uint8_t>(id.size());
    record_.number = uint_of(*doc, "n");
    char pb[16];
    record_.ended = string_of(*doc, "phase", pb) == "end";
    if (record_.ended) {
      auto s = parse_job_status(string_of(*doc, "status", pb));
      if (!s || !is_terminal(*s)) return;
      record_.status = *s;
      if (auto d = doc->find("details"); d && d->kind() == json::type::object) {
        json::writer w(record_.details.space());
        w.copy(*d);
        auto text = w.finish();
        record_.details.size = text ? text->size() : 0;
      }
    }
    record_.valid = true;
  }

  // ---- answers -------------------------------------------------------------------------------------

  void on_notify_next(const value_type& doc) noexcept {
    auto exec = doc.find("execution");
    if (!busy()) {
      if (!exec) return;  // the queue is empty
      if (start_.active) ask_again_ = true;  // the answer on its way may predate this job
      else ask_next();
      return;
    }
    if (job_.stage == phase::finishing) return;  // our terminal status made the head move: expected
    char buf[max_job_id + 8];
    if (exec && string_of(*exec, "jobId", buf) == job_.id() && uint_of(*exec, "executionNumber") == job_.number) {
      ++metrics_.duplicates_ignored;
      return;
    }
    // Another head while ours runs: ours probably ended under us. A hint only: read it again.
    reread();
  }

  void on_start_next(const value_type& doc, bool accepted) noexcept {
    if (!ours(start_, doc)) return;
    start_ = request{};
    if (!accepted) {
      ++metrics_.rejected;
      char cb[48];
      const std::string_view code = string_of(doc, "code", cb);
      const std::error_code ec = error_for(code);
      surface(ec, code);
      if (ec == errc::aws_throttled || ec == errc::aws_service_error) retry_later(retry::start_next);
      return;
    }
    auto exec = doc.find("execution");
    if (!exec || exec->kind() != json::type::object) {
      if (ask_again_) ask_next();  // nothing now, but a notify-next said something arrived
      return;
    }
    if (busy()) {
      ++metrics_.duplicates_ignored;
      return;
    }
    take(*exec);
  }

  void on_update_answer(std::string_view id, const value_type& doc, bool accepted) noexcept {
    if (!busy() || id != job_.id() || !ours(update_, doc)) return;
    update_ = request{};
    if (accepted) {
      ++metrics_.updates_accepted;
      const std::uint64_t v = [&]() -> std::uint64_t {
        if (auto st = doc.find("executionState")) return uint_of(*st, "versionNumber");
        return 0;
      }();
      job_.version = v != 0 ? v : (job_.version != 0 ? job_.version + 1 : 0);
      const bool terminal = inflight_.used && is_terminal(inflight_.status);
      inflight_.used = false;
      if (terminal) {
        finished();
        return;
      }
      after_update();
      return;
    }
    ++metrics_.rejected;
    char cb[48];
    const std::string_view code = string_of(doc, "code", cb);
    const std::error_code ec = error_for(code);
    if (ec == errc::aws_version_conflict) {
      ++metrics_.version_mismatches;
      const std::uint8_t tries = inflight_.mismatches;
      if (tries < config_.version_retries) {
        restore_inflight();
        if (pending_.used) pending_.mismatches = static_cast<std::uint8_t>(tries + 1);
        reread();
        return;
      }
      surface(ec, code);
      drop_inflight();
      return;
    }
    if (ec == errc::job_state_transition_invalid || ec == errc::job_terminal_state || ec == errc::not_found) {
      // The execution is not where we thought. Its state, when the answer carries it, says which way.
      if (auto st = doc.find("executionState")) {
        char sb[24];
        if (auto s = parse_job_status(string_of(*st, "status", sb))) {
          if (concluded(*s)) return;
          if (!is_terminal(*s)) {
            surface(ec, code);
            drop_inflight();
            return;
          }
        }
      }
      if (job_.stage == phase::finishing) finished();
      else cancelled();
      return;
    }
    surface(ec, code);
    if (ec == errc::aws_throttled || ec == errc::aws_service_error) {
      restore_inflight();
      retry_later(retry::update);
      return;
    }
    drop_inflight();
  }

  // A terminal status learned from the service: ours (finished) or not (cancelled). False for a
  // non-terminal one.
  bool concluded(job_status s) noexcept {
    if (!is_terminal(s)) return false;
    if (job_.stage == phase::finishing && s == job_.final_status) finished();
    else cancelled();
    return true;
  }

  // A refused update is not sent again unchanged; a refused terminal status still ends the job here
  // (the service will time it out), so that the device does not stop taking jobs.
  void drop_inflight() noexcept {
    const bool terminal = inflight_.used && is_terminal(inflight_.status);
    inflight_.used = false;
    if (terminal) {
      end_job();
      return;
    }
    after_update();
  }

  void after_update() noexcept {
    if (reread_after_update_) {
      reread_after_update_ = false;
      reread();
      return;
    }
    kick();
  }

  void on_describe_answer(std::string_view id, const value_type& doc, bool accepted) noexcept {
    if (!busy() || id != job_.id() || !ours(describe_, doc)) return;
    describe_ = request{};
    if (accepted) {
      auto exec = doc.find("execution");
      if (!exec || exec->kind() != json::type::object) {
        if (job_.stage == phase::finishing) finished();
        else cancelled();
        return;
      }
      char sb[24];
      const auto s = parse_job_status(string_of(*exec, "status", sb));
      if (s && concluded(*s)) return;
      if (const std::uint64_t v = uint_of(*exec, "versionNumber"); v != 0) job_.version = v;
      kick();
      return;
    }
    ++metrics_.rejected;
    char cb[48];
    const std::string_view code = string_of(doc, "code", cb);
    const std::error_code ec = error_for(code);
    if (ec == errc::job_terminal_state || ec == errc::not_found) {
      if (job_.stage == phase::finishing) finished();
      else cancelled();
      return;
    }
    surface(ec, code);
    retry_later(retry::reread);
  }

  service_client& client_;
  Persistence& store_;
  job_agent_config config_;
  client_token_generator tokens_;
  event_handler on_event_;
  std::error_code error_{};
  bool attached_ = false;
  char thing_[max_thing_name];
  std::size_t thing_size_ = 0;
  char key_[max_state_key];
  std::size_t key_size_ = 0;
  subscription_id subs_[7];
  std::uint8_t subs_count_ = 0;
  std::uint8_t subs_acked_ = 0;
  bool subscribed_ = false;
  entry ops_[MaxOperations];
  std::size_t ops_count_ = 0;

  execution job_;
  std::uint32_t serial_ = 0;
  stored record_;
  update pending_;
  update inflight_;
  text_buffer<DetailsBytes> final_;
  request start_, update_, describe_;
  bool ask_again_ = false;
  bool reread_after_update_ = false;
  retry retry_ = retry::none;
  time_point retry_at_ = never;
  time_point now_{};
  job_agent_metrics metrics_;

  Reader in_;     // the received document (the job document handed to a handler lives in it)
  Reader check_;  // statusDetails from a handler, and the persisted record
  char scratch_[DetailsBytes];
  char record_buf_[record_bytes];
  char head_[DetailsBytes + 192];  // an update request's members
  char out_[DetailsBytes + 320];   // the request as published
};

}  // namespace thingwell::aws
