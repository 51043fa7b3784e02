// thingwell — the Device Shadow client: the classic shadow and named shadows of one thing, kept in sync
// with AWS IoT over MQTT (shared/aws-iot-protocol.md section 1, requirements SH-01..SH-09, SH-11).
//
//   aws::shadow_service<json::compact_reader<256>> shadows{link, {.thing_name = "lamp-1"}};
//   auto lamp = shadows.add("", {.on_delta = [&](const auto& delta, std::uint64_t v) { apply(delta); }});
//   shadows.report(*lamp, R"({"power":"on"})");
//   ... shadows.poll(now) from the loop (the Asio adapter does it for you)
//
// What it does, per shadow:
//   - Subscribes to get/accepted|rejected, update/accepted|rejected, update/delta (and update/documents
//     when there is a documents handler) before anything is published; the client restores them on every
//     reconnection, and on every ready event the service publishes `get`.
//   - The get answer is reconciled: desired keys that differ from the device's state go to the delta
//     handler, the device's state (current_state callback, plus what was reported while offline) is
//     compared with the cloud's reported section and only what differs is reported, in one update.
//   - Deltas: stale ones (version <= known) are dropped, a gap (version > known + 1) triggers a full get,
//     and the handler receives only the keys that differ from what the device has reported.
//   - report(fragment) merges into a pending fragment (newest wins per key, null kept so that the cloud
//     deletes the key). Changes within coalesce_window become one update; nothing is sent when the
//     cloud already has those values; while offline the fragment waits for the next connection.
//   - One get and one update in flight per shadow, each with its own clientToken; answers are matched by
//     token (others' answers are ignored) and time out after request_timeout.
//   - Rejections: 409 re-gets, merges and retries (bounded); 429 and 5xx are reported and the fragment
//     is kept for the next report or connection; 400, 401, 403, 404, 413 and 415 are reported and the
//     fragment dropped, never retried unchanged.
//   - min_report_interval (SH-08, off by default): updates carrying report()s go out at most once per
//     interval, with the newest value of every key; reports held back are counted. Updates the cloud
//     asked for (the acknowledgement of a delta, the reconciliation after a get) are not delayed.
//   - remove() deletes the cloud's document (SH-09). The delete answers are subscribed only when used:
//     most devices never delete, and each subscription costs. Once deleted (or a delete is answered 404)
//     the cloud's reported state is known to be empty and the version baseline is forgotten, because AWS
//     continues from the deleted version only within 48 h (section 1.7): the next version seen is taken
//     as it is. A get answered 404 is an empty shadow too, not an error.
//
// Memory: all inline, no heap. Per shadow three buffers of DocBytes (the cloud's reported state as last
// known, the pending fragment, the fragment in flight); per service three more for intermediate results,
// and four Readers (received document, delivered delta, two for merging). A document larger than its
// buffer is an error (errc::buffer_too_small), never truncated.
//
// Handlers run on the thread that drives the client and may call report() and get(). The JSON values
// they receive are valid during the call only.
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
#include "../core/clock.hpp"
#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/inplace_function.hpp"
#include "../core/result.hpp"
#include "client_token.hpp"
#include "limits.hpp"
#include "service_client.hpp"
#include "shadow_document.hpp"
#include "topics.hpp"

namespace thingwell::aws {

struct shadow_config {
  std::string_view thing_name;            // copied
  duration request_timeout{5000};         // get or update without an answer: errc::timed_out
  duration coalesce_window{100};          // reports within this window become one update
  duration min_report_interval{0};        // SH-08: at least this long between updates of report()s; 0: off
  std::uint8_t conflict_retries = 2;      // 409 → get, merge, retry; then errc::aws_version_conflict
  bool send_version = false;              // optimistic locking: updates carry the known version
  std::string_view token_prefix = "tw";   // clientToken prefix, e.g. the MQTT client id (last 40 bytes)
  std::uint32_t token_nonce = 0;          // differs between boots (a random number): see client_token.hpp
  json::limits document_limits{};         // for received documents
};

// A failed or timed-out request, or a local check that refused to send.
struct shadow_error {
  shadow_operation operation = shadow_operation::update;
  std::error_code error;        // errc::timed_out, errc::aws_*, errc::not_found, errc::not_authorized,
                                // errc::shadow_document_too_large, or a subscription's reason code
  int code = 0;                 // the service's code (400, 409, ...) when it rejected the request
  std::string_view message;     // the service's message; valid during the call
};

// What the application hears about one shadow. Every handler is optional.
template <json::value V>
struct shadow_handlers {
  // Desired state that differs from the device's: only those keys. Apply them, then report() what was
  // applied: that report is the acknowledgement (it is sent right after the handler returns).
  inplace_function<void(const V& delta, std::uint64_t version)> on_delta;
  // An update was accepted; the cloud's document now has this version.
  inplace_function<void(std::uint64_t version)> on_reported;
  inplace_function<void(const shadow_error&)> on_error;
  // update/documents (subscribed only when this is set): the document before and after each update.
  inplace_function<void(const V& previous, const V& current)> on_documents;
  // The cloud's document is gone: deleted by remove(), or by anyone else once the delete answers are
  // subscribed (at add() when this is set, otherwise at the first remove()). `version` is the deleted
  // document's, 0 when there was none (a 404 to our delete).
  inplace_function<void(std::uint64_t version)> on_deleted;
  // Writes the device's whole reported state as one object, e.g. {"power":"on","brightness":40}. Called
  // after each get answer (every connection): what differs from the cloud's reported state is sent.
  inplace_function<void(json::writer&)> current_state;
};

struct shadow_id {
  std::uint8_t index = 0xFF;
  friend bool operator==(shadow_id, shadow_id) = default;
};

struct shadow_metrics {
  std::uint64_t gets_sent = 0;
  std::uint64_t updates_sent = 0;
  std::uint64_t updates_accepted = 0;
  std::uint64_t reports = 0;             // report() calls that were merged
  std::uint64_t reports_unchanged = 0;   // pending fragments dropped because the cloud had those values
  std::uint64_t deltas_delivered = 0;
  std::uint64_t deltas_stale = 0;
  std::uint64_t version_gaps = 0;
  std::uint64_t conflicts = 0;
  std::uint64_t rejected = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t foreign_answers = 0;     // answers with a token that is not ours
  std::uint64_t bad_documents = 0;       // received payloads that did not parse
  std::uint64_t deletes_sent = 0;
  std::uint64_t deletes_accepted = 0;    // ours, someone else's, and our 404s (nothing left to delete)
  std::uint64_t reports_rate_limited = 0; // report() calls held back by min_report_interval (SH-08)
};

template <json::reader Reader, std::size_t MaxShadows = 2, std::size_t DocBytes = 1024>
class shadow_service final : public service {
  static_assert(MaxShadows > 0 && MaxShadows < 0xFF, "1..254 shadows");
  static_assert(DocBytes >= 64, "shadow buffers of at least 64 bytes");

 public:
  using reader_type = Reader;
  using value_type = typename Reader::value_type;
  using handlers = shadow_handlers<value_type>;

  static constexpr std::size_t max_shadows = MaxShadows;
  static constexpr std::size_t document_bytes = DocBytes;

  // Attaches to the client. A bad thing name or a full client is kept and returned by error() and by
  // every add().
  shadow_service(service_client& client, const shadow_config& config) noexcept
      : client_(client), config_(config), tokens_(config.token_prefix, config.token_nonce) {
    config_.thing_name = {};
    if (auto ec = check_thing_name(config.thing_name)) {
      error_ = ec;
      return;
    }
    std::memcpy(thing_, config.thing_name.data(), config.thing_name.size());
    thing_size_ = config.thing_name.size();
    error_ = client_.attach(*this);
  }
  ~shadow_service() override { client_.detach(*this); }
  shadow_service(const shadow_service&) = delete;
  shadow_service& operator=(const shadow_service&) = delete;

  std::error_code error() const noexcept { return error_; }
  std::string_view thing_name() const noexcept { return {thing_, thing_size_}; }

  // Adds a shadow: "" for the classic shadow, otherwise a named one. Subscribes at once (the client
  // sends the subscriptions when it connects). Errors: errc::shadow_name_invalid, errc::capacity_exceeded
  // (MaxShadows, or the client's subscriptions), errc::busy (the same name twice).
  result<shadow_id> add(std::string_view name, handlers h = {}) noexcept {
    if (error_) return error_;
    if (!name.empty()) {
      if (auto ec = check_shadow_name(name)) return ec;
    }
    if (find(name) != nullptr) return errc::busy;
    if (count_ == MaxShadows) return errc::capacity_exceeded;
    entry& e = entries_[count_];  // never used before: entries are only ever appended
    std::memcpy(e.name, name.data(), name.size());
    e.name_size = static_cast<std::uint8_t>(name.size());
    e.h = std::move(h);
    const shadow_id id{static_cast<std::uint8_t>(count_)};
    ++count_;
    static constexpr struct {
      shadow_operation op;
      shadow_response r;
    } topics[] = {{shadow_operation::get, shadow_response::accepted},    {shadow_operation::get, shadow_response::rejected},
                  {shadow_operation::update, shadow_response::accepted}, {shadow_operation::update, shadow_response::rejected},
                  {shadow_operation::update, shadow_response::delta},    {shadow_operation::update, shadow_response::documents}};
    const std::size_t wanted = e.h.on_documents ? 6 : 5;
    for (std::size_t i = 0; i < wanted; ++i) {
      topic_buffer buf;
      auto topic = make_shadow_topic(buf, thing_name(), name, topics[i].op, topics[i].r);
      if (!topic) return topic.error();
      auto sub = client_.subscribe(*topic, *this);
      if (!sub) return sub.error();  // the entry stays, without every subscription: get never succeeds
      e.subs[e.subs_count++] = *sub;
    }
    // To hear deletes made by others as well: then the delete answers are needed from the start.
    if (e.h.on_deleted) {
      if (auto ec = subscribe_delete(e)) return ec;
    }
    // Added while connected: the get follows the SUBACKs (on_subscribed).
    return id;
  }

  // Merges `fragment` (a JSON object of reported keys; null deletes a key) into what will be reported.
  // Errors (nothing changes): JSON errors of the fragment, errc::json_type_mismatch (not an object),
  // errc::shadow_document_too_large (reported state beyond 8 KB), errc::buffer_too_small (DocBytes).
  std::error_code report(shadow_id id, std::string_view fragment) noexcept {
    entry* e = at(id);
    if (e == nullptr) return errc::invalid_argument;
    {
      auto f = b_.parse(fragment, fragment_limits());
      if (!f) return f.error();
      if (f->kind() != json::type::object) return errc::json_type_mismatch;
    }
    auto merged = apply_into(scratch_[0].space(), e->pending.view(), fragment, nulls::keep);
    if (!merged) return merged.error();
    if (merged->size() > max_shadow_document) return errc::shadow_document_too_large;
    // The state the cloud would hold: what it has plus everything we are about to send.
    auto state = apply_into(scratch_[1].space(), e->cache_valid ? e->cache.view() : std::string_view("{}"), *merged,
                            nulls::remove);
    if (!state) return state.error() == errc::buffer_too_small && DocBytes < max_shadow_document ? state.error()
                                                                                                   : errc::shadow_document_too_large;
    if (state->size() + e->desired_bytes > max_shadow_document) return errc::shadow_document_too_large;
    if (auto ec = e->pending.assign(*merged)) return ec;
    ++metrics_.reports;
    if (delivering_ != e && now_ < rate_limited_until(*e)) ++metrics_.reports_rate_limited;
    e->held = false;
    if (!e->flush_scheduled) {
      // The window starts at the last poll: early by at most one loop turn, never late.
      e->flush_scheduled = true;
      e->flush_at = now_ + config_.coalesce_window;
      e->flush_armed = true;
    }
    // Reported from a delta handler: the acknowledgement goes out as soon as the handler returns.
    if (delivering_ == e) e->flush_now = true;
    else client_.reschedule();
    return {};
  }

  // Asks for the full document now (it is also asked for on every connection).
  std::error_code get(shadow_id id) noexcept {
    entry* e = at(id);
    if (e == nullptr) return errc::invalid_argument;
    if (!client_.is_ready()) return errc::not_connected;
    request_get(*e);
    client_.reschedule();
    return {};
  }

  // Deletes the cloud's document (the "delete" operation). What was reported before and not sent yet
  // belongs to the deleted document and is dropped; reports made afterwards wait for the answer, then
  // create the shadow again. on_deleted tells the outcome, on_error a rejection or errc::timed_out (not
  // retried: asking again is safe, a second delete is answered 404, which counts as deleted).
  // Errors: errc::not_connected, errc::busy (a delete on its way), the client's subscribe errors.
  std::error_code remove(shadow_id id) noexcept {
    entry* e = at(id);
    if (e == nullptr) return errc::invalid_argument;
    if (!client_.is_ready()) return errc::not_connected;
    if (e->delete_wanted) return errc::busy;
    if (auto ec = subscribe_delete(*e)) return ec;
    e->pending.clear();
    e->flush_scheduled = false;
    e->held = false;
    e->delete_wanted = true;
    request_delete(*e);  // or once subscribed (on_subscribed)
    client_.reschedule();
    return {};
  }

  // ---- state, for applications and tests -----------------------------------------------------------

  std::size_t size() const noexcept { return count_; }
  std::uint64_t version(shadow_id id) const noexcept { return at(id) ? at(id)->version : 0; }
  bool synced(shadow_id id) const noexcept { return at(id) && at(id)->synced; }
  // The reported fragment waiting to be sent (empty: nothing).
  std::string_view pending(shadow_id id) const noexcept { return at(id) ? at(id)->pending.view() : std::string_view{}; }
  // The cloud's reported state as last known (empty: unknown).
  std::string_view reported(shadow_id id) const noexcept {
    return at(id) && at(id)->cache_valid ? at(id)->cache.view() : std::string_view{};
  }
  bool update_in_flight(shadow_id id) const noexcept { return at(id) && at(id)->update.active; }
  bool delete_in_flight(shadow_id id) const noexcept { return at(id) && at(id)->delete_wanted; }
  const shadow_metrics& metrics() const noexcept { return metrics_; }

  // ---- timers ----------------------------------------------------------------------------------------

  void poll(time_point now) noexcept override {
    now_ = now;
    polling_ = true;
    for (std::size_t i = 0; i < count_; ++i) {
      entry& e = entries_[i];
      // Deadlines of requests made from events (which carry no time) start now.
      arm(e.get, now);
      arm(e.update, now);
      arm(e.del, now);
      // An update sent from an event went out after the last poll: counting from now is late by at most
      // one loop turn, so the interval is never shorter than asked.
      if (!e.last_update_armed) {
        e.last_update = now;
        e.last_update_armed = true;
      }
      if (e.flush_scheduled && !e.flush_armed) {
        e.flush_at = now + config_.coalesce_window;
        e.flush_armed = true;
      }
      if (e.get.active && now >= e.get.deadline) {
        const bool silent = e.get.retry;
        e.get = request{};
        if (!silent) {
          ++metrics_.timeouts;
          surface(e, shadow_operation::get, errc::timed_out);
        }
        request_get(e);
      }
      if (e.update.active && now >= e.update.deadline) {
        ++metrics_.timeouts;
        restore_inflight(e);
        e.held = true;  // the next report or connection sends it again, not a loop of timeouts
        surface(e, shadow_operation::update, errc::timed_out);
      }
      if (e.del.active && now >= e.del.deadline) {
        ++metrics_.timeouts;
        e.del = request{};
        e.delete_wanted = false;
        surface(e, shadow_operation::remove, errc::timed_out);
      }
      if (e.flush_scheduled && now >= e.flush_at && now >= rate_limited_until(e) && can_flush(e)) flush(e);
      // Requests made just now start their time now.
      arm(e.get, now);
      arm(e.update, now);
      arm(e.del, now);
    }
    polling_ = false;
  }

  time_point next_deadline() const noexcept override {
    time_point t = never;
    for (std::size_t i = 0; i < count_; ++i) {
      const entry& e = entries_[i];
      if ((e.get.active && !e.get.armed) || (e.update.active && !e.update.armed) || (e.del.active && !e.del.armed) ||
          (e.flush_scheduled && !e.flush_armed) || (!e.last_update_armed && config_.min_report_interval > duration{0}))
        return now_;  // something waits for a time base: poll at once
      if (e.get.active) t = std::min(t, e.get.deadline);
      if (e.update.active) t = std::min(t, e.update.deadline);
      if (e.del.active) t = std::min(t, e.del.deadline);
      if (e.flush_scheduled && can_flush(e)) t = std::min(t, std::max(e.flush_at, rate_limited_until(e)));
    }
    return t;
  }

  // ---- service: events from the client --------------------------------------------------------------

  void on_ready() noexcept override {
    for (std::size_t i = 0; i < count_; ++i) {
      entry& e = entries_[i];
      // The client restored every subscription before telling us.
      if (e.subs_count != 0) e.subscribed = true;
      if (e.delete_subs_count == 2) e.delete_subscribed = true;
      e.synced = false;
      e.held = false;
      e.get = request{};
      e.del = request{};
      // A delete lost with the last connection goes first, so that the get answer comes after it.
      request_delete(e);
      request_get(e);
    }
  }

  void on_disconnected() noexcept override {
    for (std::size_t i = 0; i < count_; ++i) {
      entry& e = entries_[i];
      e.synced = false;
      e.get = request{};
      e.conflicts = 0;
      e.del = request{};  // still wanted: sent again on the next connection
      // Not an error: the fragment joins what was reported meanwhile and goes out after the next get.
      if (e.update.active) restore_inflight(e);
    }
  }

  void on_subscribed(subscription_id sub, std::error_code ec) noexcept override {
    for (std::size_t i = 0; i < count_; ++i) {
      entry& e = entries_[i];
      if (std::find(e.delete_subs, e.delete_subs + e.delete_subs_count, sub) != e.delete_subs + e.delete_subs_count) {
        if (ec) {
          // No delete answers would ever come: refuse the delete now rather than let it time out.
          e.delete_wanted = false;
          surface(e, shadow_operation::remove, ec);
          return;
        }
        if (++e.delete_acked >= e.delete_subs_count && e.delete_subs_count == 2) {
          e.delete_subscribed = true;
          request_delete(e);
        }
        return;
      }
      if (std::find(e.subs, e.subs + e.subs_count, sub) == e.subs + e.subs_count) continue;
      if (ec) {
        surface(e, shadow_operation::get, ec);
        return;
      }
      if (++e.subs_acked >= e.subs_count && !e.subscribed) {
        e.subscribed = true;
        if (client_.is_ready() && !e.synced) request_get(e);
      }
      return;
    }
  }

  void on_message(std::string_view topic, std::string_view payload) noexcept override {
    auto t = parse_shadow_topic(topic);
    if (!t || t->thing != thing_name()) return;
    entry* e = find(t->shadow);
    if (e == nullptr || t->response == shadow_response::request) return;
    auto doc = in_.parse(payload, config_.document_limits);
    if (!doc || doc->kind() != json::type::object) {
      ++metrics_.bad_documents;
      return;
    }
    const value_type& d = *doc;
    switch (t->response) {
      case shadow_response::accepted:
        if (t->operation == shadow_operation::get) on_get_accepted(*e, d);
        else if (t->operation == shadow_operation::update) on_update_accepted(*e, d);
        else on_delete_accepted(*e, d);
        break;
      case shadow_response::rejected:
        if (t->operation == shadow_operation::get) on_get_rejected(*e, d);
        else if (t->operation == shadow_operation::update) on_update_rejected(*e, d);
        else on_delete_rejected(*e, d);
        break;
      case shadow_response::delta: on_delta(*e, d); break;
      case shadow_response::documents: on_documents(*e, d); break;
      case shadow_response::request: break;
    }
  }

 private:
  struct request {
    client_token token;
    time_point deadline = never;
    bool active = false;
    bool armed = false;  // deadline set from a poll's time
    bool retry = false;  // a rejected get waiting to be asked again (no timeout report)
  };

  struct entry {
    char name[max_shadow_name];
    std::uint8_t name_size = 0;
    handlers h;
    subscription_id subs[6];
    std::uint8_t subs_count = 0;
    std::uint8_t subs_acked = 0;
    bool subscribed = false;       // every response topic subscribed
    bool synced = false;           // a get answer arrived on this connection
    bool cache_valid = false;
    bool held = false;             // pending waits for the next report() or connection
    bool flush_scheduled = false;
    bool flush_armed = false;
    bool flush_now = false;
    bool delete_subscribed = false; // both delete answers subscribed
    bool delete_wanted = false;     // remove() called, no answer yet (sent once subscribed and connected)
    bool last_update_armed = true;  // last_update is a poll's time
    bool updated = false;           // an update was sent: last_update means something
    subscription_id delete_subs[2];
    std::uint8_t delete_subs_count = 0;
    std::uint8_t delete_acked = 0;
    std::uint8_t conflicts = 0;
    std::uint64_t version = 0;     // highest version applied; 0: unknown
    std::size_t desired_bytes = 0; // size of the desired section at the last get, for the 8 KB check
    time_point flush_at = never;
    time_point last_update{};      // when the last update was sent, for min_report_interval
    request get, update, del;
    text_buffer<DocBytes> cache;     // the cloud's reported section
    text_buffer<DocBytes> pending;   // reported changes not sent yet
    text_buffer<DocBytes> inflight;  // reported changes of the update in flight

    std::string_view name_view() const noexcept { return {name, name_size}; }
  };

  // Room for an update request around a DocBytes fragment.
  static constexpr std::size_t request_bytes = DocBytes + 128;

  static json::limits fragment_limits() noexcept { return {DocBytes, 16}; }

  entry* at(shadow_id id) noexcept { return id.index < count_ ? &entries_[id.index] : nullptr; }
  const entry* at(shadow_id id) const noexcept { return id.index < count_ ? &entries_[id.index] : nullptr; }

  entry* find(std::string_view name) noexcept {
    for (std::size_t i = 0; i < count_; ++i)
      if (entries_[i].name_view() == name) return &entries_[i];
    return nullptr;
  }

  void arm(request& r, time_point now) const noexcept {
    if (r.active && !r.armed) {
      r.deadline = now + config_.request_timeout;
      r.armed = true;
    }
  }

  bool can_flush(const entry& e) const noexcept {
    // Not while a delete is on its way: an update racing it could be applied before or after it.
    return e.synced && !e.held && !e.update.active && !e.get.active && !e.delete_wanted && !e.pending.empty() &&
           client_.is_ready();
  }

  // Until when report()s of this shadow wait (SH-08); the epoch when there is no limit.
  time_point rate_limited_until(const entry& e) const noexcept {
    if (config_.min_report_interval <= duration{0} || !e.updated) return time_point{};
    return e.last_update + config_.min_report_interval;
  }

  void surface(entry& e, shadow_operation op, std::error_code ec, int code = 0, std::string_view message = {}) noexcept {
    if (e.h.on_error) e.h.on_error(shadow_error{op, ec, code, message});
  }

  // ---- JSON plumbing -------------------------------------------------------------------------------

  // Writes `base` (empty: nothing) with `patch` (empty: nothing) merged in, into out. Uses a_ and b_.
  result<std::string_view> apply_into(std::span<char> out, std::string_view base, std::string_view patch,
                                      nulls mode) noexcept {
    json::writer w(out);
    const json::limits lim{DocBytes, 16};
    if (patch.empty()) {
      if (base.empty()) return errc::invalid_argument;
      auto b = a_.parse(base, lim);
      if (!b) return b.error();
      w.copy(*b);
      return w.finish();
    }
    auto p = b_.parse(patch, lim);
    if (!p) return p.error();
    if (base.empty()) {
      merge<value_type>(w, nullptr, *p, mode);
    } else {
      auto b = a_.parse(base, lim);
      if (!b) return b.error();
      const value_type bv = *b;
      merge(w, &bv, *p, mode);
    }
    return w.finish();
  }

  // The reported state the cloud will have once everything known is applied: cache ⊕ in flight ⊕ pending.
  result<std::string_view> effective_reported(entry& e) noexcept {
    std::string_view state = e.cache_valid ? e.cache.view() : std::string_view("{}");
    if (!e.inflight.empty()) {
      auto s = apply_into(scratch_[0].space(), state, e.inflight.view(), nulls::remove);
      if (!s) return s.error();
      state = *s;
    }
    if (e.pending.empty()) return state;
    return apply_into(scratch_[1].space(), state, e.pending.view(), nulls::remove);
  }

  // The fragment in flight failed or was lost: it goes back in front of what was reported since.
  void restore_inflight(entry& e) noexcept {
    if (!e.inflight.empty()) {
      if (e.pending.empty()) {
        (void)e.pending.assign(e.inflight.view());
      } else if (auto m = apply_into(scratch_[0].space(), e.inflight.view(), e.pending.view(), nulls::keep)) {
        (void)e.pending.assign(*m);
      }
      e.flush_scheduled = true;
      e.flush_armed = false;
    }
    e.inflight.clear();
    e.update = request{};
  }

  static result<std::string_view> client_token_of(const value_type& doc, std::span<char> scratch) noexcept {
    auto t = doc.find("clientToken");
    if (!t) return t.error();
    return t->get_string(scratch);
  }

  static std::uint64_t version_of(const value_type& doc) noexcept {
    auto v = doc.find("version");
    if (!v) return 0;
    return v->get_uint64().value_or(0);
  }

  // Whether the answer carries this request's token; counts foreign answers.
  bool ours(const request& r, const value_type& doc) noexcept {
    char buf[max_client_token + 8];
    auto t = client_token_of(doc, buf);
    if (t && r.active && r.token.matches(*t)) return true;
    ++metrics_.foreign_answers;
    return false;
  }

  // ---- requests ------------------------------------------------------------------------------------

  void request_get(entry& e) noexcept {
    if (e.get.active || !e.subscribed || !client_.is_ready()) return;
    topic_buffer buf;
    auto topic = make_shadow_topic(buf, thing_name(), e.name_view(), shadow_operation::get);
    if (!topic) return;
    request r;
    r.token = tokens_.next();
    char payload[max_client_token + 32];
    json::writer w(payload);
    w.begin_object().member("clientToken", r.token.view()).end_object();
    auto text = w.finish();
    if (!text) return;
    if (client_.publish(*topic, *text)) return;  // offline after all: on_ready asks again
    r.active = true;
    e.get = r;
    ++metrics_.gets_sent;
  }

  // Subscribes what is still missing of delete/accepted and delete/rejected.
  std::error_code subscribe_delete(entry& e) noexcept {
    static constexpr shadow_response answers[] = {shadow_response::accepted, shadow_response::rejected};
    for (std::size_t i = e.delete_subs_count; i < 2; ++i) {
      topic_buffer buf;
      auto topic = make_shadow_topic(buf, thing_name(), e.name_view(), shadow_operation::remove, answers[i]);
      if (!topic) return topic.error();
      auto sub = client_.subscribe(*topic, *this);
      if (!sub) return sub.error();
      e.delete_subs[e.delete_subs_count++] = *sub;
    }
    return {};
  }

  // Publishes the delete remove() asked for, once its answers are subscribed and we are connected.
  void request_delete(entry& e) noexcept {
    if (!e.delete_wanted || e.del.active || !e.delete_subscribed || !client_.is_ready()) return;
    topic_buffer buf;
    auto topic = make_shadow_topic(buf, thing_name(), e.name_view(), shadow_operation::remove);
    if (!topic) return;
    request r;
    r.token = tokens_.next();
    char payload[max_client_token + 32];
    json::writer w(payload);
    w.begin_object().member("clientToken", r.token.view()).end_object();
    auto text = w.finish();
    if (!text) return;
    if (client_.publish(*topic, *text)) return;  // offline after all: on_ready sends it
    r.active = true;
    e.del = r;
    ++metrics_.deletes_sent;
  }

  // Sends the pending fragment, minus what the cloud already has, as one update.
  void flush(entry& e) noexcept {
    e.flush_now = false;
    if (!can_flush(e)) return;
    // The part of pending that changes the cloud's reported state: into scratch 0.
    std::string_view diff;
    {
      json::writer w(scratch_[0].space());
      const json::limits lim{DocBytes, 16};
      auto p = a_.parse(e.pending.view(), lim);
      if (!p) {
        e.pending.clear();
        return;
      }
      if (e.cache_valid) {
        auto c = b_.parse(e.cache.view(), lim);
        if (!c) return;
        const value_type cv = *c;
        difference(w, *p, &cv);
      } else {
        difference<value_type>(w, *p, nullptr);
      }
      auto d = w.finish();
      if (!d) {
        surface(e, shadow_operation::update, d.error());
        return;
      }
      diff = *d;
    }
    e.flush_scheduled = false;
    e.pending.clear();
    if (diff == "{}") {
      ++metrics_.reports_unchanged;
      return;
    }
    if (diff.size() + e.desired_bytes > max_shadow_document) {
      surface(e, shadow_operation::update, errc::shadow_document_too_large);
      return;
    }
    (void)e.inflight.assign(diff);  // no larger than pending

    topic_buffer buf;
    auto topic = make_shadow_topic(buf, thing_name(), e.name_view(), shadow_operation::update);
    request r;
    r.token = tokens_.next();
    auto payload = update_request(scratch_[1].space(), e.inflight.view(), r.token.view(),
                                  config_.send_version ? e.version : 0);
    if (!topic || !payload) {
      e.inflight.clear();
      surface(e, shadow_operation::update, !topic ? topic.error() : payload.error());
      return;
    }
    if (client_.publish(*topic, *payload)) {
      restore_inflight(e);  // offline: the next connection sends it
      return;
    }
    r.active = true;
    e.update = r;
    ++metrics_.updates_sent;
    e.updated = true;
    e.last_update = now_;
    e.last_update_armed = polling_;
  }

  // {"state":{"reported":<fragment>},"clientToken":"<token>"[,"version":N]} — the fragment is already
  // valid JSON and the token needs no escaping, so this is plain concatenation.
  static result<std::string_view> update_request(std::span<char> out, std::string_view fragment, std::string_view token,
                                                 std::uint64_t version) noexcept {
    std::size_t n = 0;
    bool fits = true;
    auto put = [&](std::string_view s) {
      if (!fits || s.size() > out.size() - n) {
        fits = false;
        return;
      }
      std::memcpy(out.data() + n, s.data(), s.size());
      n += s.size();
    };
    put(R"({"state":{"reported":)");
    put(fragment);
    put(R"(},"clientToken":")");
    put(token);
    put("\"");
    if (version != 0) {
      char digits[24];
      const auto r = std::to_chars(digits, digits + sizeof digits, version);
      put(R"(,"version":)");
      put(std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)));
    }
    put("}");
    if (!fits) return errc::buffer_too_small;
    return std::string_view(out.data(), n);
  }

  // ---- answers -------------------------------------------------------------------------------------

  void on_get_accepted(entry& e, const value_type& doc) noexcept {
    if (!ours(e.get, doc)) return;
    e.get = request{};
    e.version = std::max(e.version, version_of(doc));
    auto reported = json::find_path(doc, {"state", "reported"});
    if (reported && reported->kind() == json::type::object) {
      json::writer w(e.cache.space());
      w.copy(*reported);
      auto text = w.finish();
      e.cache.size = text ? text->size() : 0;
      e.cache_valid = static_cast<bool>(text);
    } else {
      (void)e.cache.assign("{}");
      e.cache_valid = true;
    }
    auto desired = json::find_path(doc, {"state", "desired"});
    e.desired_bytes = 0;
    if (desired && desired->kind() == json::type::object) {
      json::writer w(scratch_[2].space());
      w.copy(*desired);
      e.desired_bytes = w.finish() ? w.size() : 0;
    }
    synchronise(e, desired ? &*desired : nullptr);
  }

  void on_get_rejected(entry& e, const value_type& doc) noexcept {
    if (!ours(e.get, doc)) return;
    const int code = code_of(doc);
    if (code == 404) {
      // No document (never created, or deleted): the first update creates it. Not an error (SH-09).
      // The version baseline goes too, as after a delete (forget()).
      e.get = request{};
      (void)e.cache.assign("{}");
      e.cache_valid = true;
      e.desired_bytes = 0;
      e.version = 0;
      synchronise(e, nullptr);
      return;
    }
    ++metrics_.rejected;
    // Asked again after request_timeout, without a timeout report.
    e.get.token.clear();
    e.get.retry = true;
    e.get.armed = false;
    char buf[128];
    surface(e, shadow_operation::get, error_for(code), code, message_of(doc, buf));
  }

  // The connection's first answer: desired that differs goes to the handler, the device's state goes
  // out as one update.
  void synchronise(entry& e, const value_type* desired) noexcept {
    e.synced = true;
    if (desired != nullptr && desired->kind() == json::type::object) deliver(e, *desired, e.version);
    if (e.h.current_state) {
      json::writer w(scratch_[2].space());
      e.h.current_state(w);
      if (auto state = w.finish()) {
        // The device's state is the newest word on every key it names.
        auto merged = e.pending.empty() ? result<std::string_view>(*state)
                                        : apply_into(scratch_[0].space(), e.pending.view(), *state, nulls::keep);
        if (merged && !e.pending.assign(*merged)) e.flush_scheduled = true;
      } else {
        surface(e, shadow_operation::update, state.error());
      }
    }
    flush(e);
  }

  // Hands the keys of `delta` that differ from what the device has reported to the handler.
  void deliver(entry& e, const value_type& delta, std::uint64_t version) noexcept {
    if (!e.h.on_delta) return;
    const json::limits lim{DocBytes, 16};
    json::writer w(view_buffer_.space());
    auto state = effective_reported(e);
    if (state) {
      if (auto s = b_.parse(*state, lim)) {
        const value_type sv = *s;
        difference(w, delta, &sv);
      } else {
        w.copy(delta);
      }
    } else {
      w.copy(delta);
    }
    auto text = w.finish();
    if (!text) {
      surface(e, shadow_operation::update, text.error());
      return;
    }
    if (*text == "{}") return;
    auto view = view_.parse(*text, lim);
    if (!view) return;
    ++metrics_.deltas_delivered;
    entry* const outer = delivering_;
    delivering_ = &e;
    e.h.on_delta(*view, version);
    delivering_ = outer;
  }

  void on_update_accepted(entry& e, const value_type& doc) noexcept {
    const std::uint64_t v = version_of(doc);
    if (!ours(e.update, doc)) {
      // Another client's update: keep our picture of the cloud's reported state right.
      auto reported = json::find_path(doc, {"state", "reported"});
      if (e.cache_valid && reported && reported->kind() == json::type::object && v > e.version) {
        json::writer w(scratch_[2].space());
        w.copy(*reported);
        if (auto text = w.finish()) {
          auto m = apply_into(scratch_[0].space(), e.cache.view(), *text, nulls::remove);
          if (!m || e.cache.assign(*m)) e.cache_valid = false;
        }
      }
      return;
    }
    const std::uint64_t before = e.version;
    e.version = std::max(e.version, v);
    if (e.cache_valid) {
      auto m = apply_into(scratch_[0].space(), e.cache.view(), e.inflight.view(), nulls::remove);
      if (!m || e.cache.assign(*m)) e.cache_valid = false;
    }
    e.inflight.clear();
    e.update = request{};
    e.conflicts = 0;
    ++metrics_.updates_accepted;
    // Someone else's update came in between, maybe with a delta we will now think stale: look.
    if (before != 0 && v > before + 1) {
      ++metrics_.version_gaps;
      request_get(e);
    }
    if (e.h.on_reported) e.h.on_reported(v);
  }

  void on_update_rejected(entry& e, const value_type& doc) noexcept {
    if (!ours(e.update, doc)) return;
    ++metrics_.rejected;
    const int code = code_of(doc);
    char buf[128];
    const std::string_view message = message_of(doc, buf);
    if (code == 409) {
      ++metrics_.conflicts;
      if (e.conflicts < config_.conflict_retries) {
        // get, merge, retry: the get answer reconciles and sends the fragment with the new version.
        ++e.conflicts;
        restore_inflight(e);
        request_get(e);
        return;
      }
      e.conflicts = 0;
    }
    if (code == 429 || code >= 500) {
      restore_inflight(e);
      e.held = true;  // sent with the next report or connection: no blind retry loop
    } else {
      e.inflight.clear();
      e.update = request{};
    }
    surface(e, shadow_operation::update, error_for(code), code, message);
  }

  // Whoever deleted it, the cloud's document is gone; only our own answer ends our request.
  void on_delete_accepted(entry& e, const value_type& doc) noexcept {
    if (ours(e.del, doc)) {
      e.del = request{};
      e.delete_wanted = false;
    }
    forget(e, version_of(doc));
  }

  void on_delete_rejected(entry& e, const value_type& doc) noexcept {
    if (!ours(e.del, doc)) return;
    e.del = request{};
    e.delete_wanted = false;
    const int code = code_of(doc);
    if (code == 404) {
      // Nothing to delete: what was asked for holds (SH-09).
      forget(e, 0);
      return;
    }
    ++metrics_.rejected;
    char buf[128];
    surface(e, shadow_operation::remove, error_for(code), code, message_of(doc, buf));
  }

  // The local model of a deleted document: no reported state, no desired state, no version. The version
  // is not kept as a floor: within 48 h AWS re-creates the shadow from the deleted version on, after that
  // from 1 (section 1.7), so the next version seen becomes the baseline, whatever it is.
  void forget(entry& e, std::uint64_t deleted_version) noexcept {
    ++metrics_.deletes_accepted;
    (void)e.cache.assign("{}");
    e.cache_valid = true;
    e.desired_bytes = 0;
    e.version = 0;
    e.conflicts = 0;
    if (e.h.on_deleted) e.h.on_deleted(deleted_version);
  }

  void on_delta(entry& e, const value_type& doc) noexcept {
    if (!e.synced) return;  // the get on its way carries the whole desired state
    const std::uint64_t v = version_of(doc);
    if (v == 0) {
      ++metrics_.bad_documents;
      return;
    }
    if (v <= e.version) {
      ++metrics_.deltas_stale;
      return;
    }
    if (e.version != 0 && v > e.version + 1) {
      ++metrics_.version_gaps;
      request_get(e);
      return;
    }
    e.version = v;
    auto state = doc.find("state");
    if (!state || state->kind() != json::type::object) return;
    deliver(e, *state, v);
    if (e.flush_now) flush(e);
  }

  void on_documents(entry& e, const value_type& doc) noexcept {
    if (!e.h.on_documents) return;
    auto previous = doc.find("previous");
    auto current = doc.find("current");
    if (!current) return;
    e.h.on_documents(previous ? *previous : value_type{}, *current);
  }

  static int code_of(const value_type& doc) noexcept {
    auto c = doc.find("code");
    if (!c) return 0;
    const std::int64_t v = c->get_int64().value_or(0);
    return v > 0 && v < 1000 ? static_cast<int>(v) : 0;
  }

  static std::string_view message_of(const value_type& doc, std::span<char> scratch) noexcept {
    auto m = doc.find("message");
    if (!m) return {};
    return m->get_string(scratch).value_or(std::string_view{});
  }

  static std::error_code error_for(int code) noexcept {
    switch (code) {
      case 400:
      case 415: return errc::aws_bad_request;
      case 401:
      case 403: return errc::not_authorized;
      case 404: return errc::not_found;
      case 409: return errc::aws_version_conflict;
      case 413: return errc::aws_payload_too_large;
      case 429: return errc::aws_throttled;
      default: return code >= 500 && code < 600 ? errc::aws_service_error : errc::aws_rejected;
    }
  }

  service_client& client_;
  shadow_config config_;
  client_token_generator tokens_;
  std::error_code error_{};
  char thing_[max_thing_name];
  std::size_t thing_size_ = 0;
  entry entries_[MaxShadows];
  std::size_t count_ = 0;
  entry* delivering_ = nullptr;  // the shadow whose delta handler is running
  time_point now_{};             // of the last poll
  bool polling_ = false;         // inside poll(): now_ is the current time
  shadow_metrics metrics_;
  Reader in_;    // the received document
  Reader view_;  // the delta handed to a handler (report() from the handler must not invalidate it)
  Reader a_;     // merging
  Reader b_;
  text_buffer<request_bytes> scratch_[3];
  text_buffer<DocBytes> view_buffer_;
};

}  // namespace thingwell::aws
