// A device for outbox_sigkill_tests.cpp: publishes numbered durable QoS 1 messages through a file-log
// outbox and says on stdout which ones publish() reported durable. The test SIGKILLs it at random
// moments and starts it again over the same directory; every message reported here must reach the
// subscriber in the end.
//
//   outbox_device <data dir> <broker port> <client id> <run> <messages> <interval ms> [drain]
//
// Payloads are "<run>:<n>" with n counting from 0 in each run: the run number comes from the test, so
// a message identity never depends on what a killed run managed to record (a counter kept in the store
// could lag behind the messages it numbered, and a reused number would hide a loss as a duplicate).
//
// stdout, one line each, written with write(2) so that nothing sits in a stdio buffer when SIGKILL
// comes (a line is either fully in the file or absent):
//   O <run> restored=<n> resumed=<n>   the outbox was opened (replay done)
//   D <run>:<n>                         publish() returned durable == true for this message
//   X <run> delivered=<n>               drain mode: the outbox is empty, the device stops cleanly
//   E <text>                            an error; the device exits with status 2
//
// "Durable" is honest here: commit_on_publish commits the store inside publish() (fdatasync of the
// segment) before it returns, and the device prints only when status.durable says so. The file log
// itself commits only when told (every_records = 0), so the state records (packet identifier, done)
// ride along with the next publish commit or the 20 ms pump commit: losing one of those in a kill only
// makes a message go out again (a duplicate), never lost.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <thingwell/mqtt/session.hpp>
#include <thingwell/net/poll_client.hpp>
#include <thingwell/net/posix_tcp.hpp>
#include <thingwell/store/file_log.hpp>
#include <thingwell/store/outbox.hpp>

using namespace thingwell;

namespace {

void say(const char* line, std::size_t n) {
  while (n != 0) {
    const ssize_t w = ::write(STDOUT_FILENO, line, n);
    if (w <= 0) return;
    line += w;
    n -= static_cast<std::size_t>(w);
  }
}

template <class... Args>
void sayf(const char* format, Args... args) {
  char line[160];
  const int n = std::snprintf(line, sizeof line, format, args...);
  if (n > 0) say(line, std::min(static_cast<std::size_t>(n), sizeof line - 1));
}

[[noreturn]] void fail(const char* what, std::error_code ec = {}) {
  sayf("E %s: %s\n", what, ec ? ec.message().c_str() : "");
  std::_Exit(2);
}

struct quiet_observer final : mqtt::session_observer {};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s <dir> <port> <client id> <run> <messages> <interval ms> [drain]\n", argv[0]);
    return 64;
  }
  const std::string directory = argv[1];
  const auto port = static_cast<std::uint16_t>(std::strtoul(argv[2], nullptr, 10));
  const std::string client_id = argv[3];
  const unsigned long run = std::strtoul(argv[4], nullptr, 10);
  const unsigned long messages = std::strtoul(argv[5], nullptr, 10);
  const long interval_ms = std::strtol(argv[6], nullptr, 10);
  const bool drain = argc > 7 && std::strcmp(argv[7], "drain") == 0;

  store::file_log_config lc;
  lc.commit.every_records = 0;  // the outbox decides when to commit (see the file comment)
  auto log = store::file_log::open(directory, lc);
  if (!log) fail("file_log::open", log.error());

  mqtt::session_config sc;
  sc.version = mqtt::protocol_version::v5;
  sc.client_id = client_id;
  // The broker keeps the session across the kill, so restored messages are resent with DUP=1 and
  // their packet identifiers instead of being published again.
  sc.mode = mqtt::session_mode::always_resume;
  sc.session_expiry = 3600;
  sc.keep_alive = 30;
  sc.reconnect = backoff_config{.base = duration{20}, .cap = duration{200}, .floor = duration{0},
                                .reset_after = duration{1000}, .mode = jitter::none};
  mqtt::session_limits limits;
  limits.store_records = 1024;
  limits.store_bytes = 1 << 20;
  quiet_observer observer;
  net::poll_client<net::tcp> client(net::tcp{"127.0.0.1", port}, sc, observer, limits);

  store::outbox_config oc;
  oc.max_records = 1 << 16;
  oc.max_bytes = std::size_t{1} << 22;
  oc.max_message_bytes = 128;
  // Reject rather than evict: an evicted message was reported durable and would (rightly) never arrive,
  // which this test would count as a loss. The device just publishes the same message again later.
  oc.overflow = store::overflow_policy::reject;
  oc.feed_window = 16;
  oc.commit_on_publish = true;
  oc.commit_interval = duration{20};
  store::outbox box(client.session(), *log, oc);

  system_clock clock;
  if (auto r = box.open(clock.now()); !r) fail("outbox::open", r.error());
  {
    const auto m = box.metrics(clock.now());
    sayf("O %lu restored=%llu resumed=%llu\n", run, static_cast<unsigned long long>(m.restored),
         static_cast<unsigned long long>(m.resumed));
  }
  if (auto ec = client.start(clock.now())) fail("start", ec);

  unsigned long next = 0;
  time_point next_publish = clock.now();
  char payload[48];
  char topic[32];
  std::snprintf(topic, sizeof topic, "sigkill/%s", client_id.c_str());
  for (;;) {
    time_point now = clock.now();
    if (next < messages && now >= next_publish) {
      const int n = std::snprintf(payload, sizeof payload, "%lu:%lu", run, next);
      store::message_options o;
      o.qos = mqtt::qos::at_least_once;
      o.durable = true;
      auto s = box.publish(topic, bytes_view(reinterpret_cast<const byte*>(payload), static_cast<std::size_t>(n)), o, now);
      if (s && s->durable) {
        sayf("D %s\n", payload);
        ++next;
        next_publish = now + duration{interval_ms};
      } else if (!s && s.error() != errc::outbox_full) {
        fail("publish", s.error());
      }
      // Full (or dropped, which reject never answers): try the same number again once it drained a bit.
    }
    box.pump(now);
    time_point deadline = client.poll(now);
    now = clock.now();
    box.pump(now);
    deadline = std::min(deadline, box.next_deadline(now));
    if (next < messages) deadline = std::min(deadline, next_publish);
    if (drain && next >= messages && box.depth() == 0) break;
    client.wait(clock.now(), std::min(deadline, clock.now() + duration{50}));
  }
  const auto m = box.metrics(clock.now());
  (void)box.commit();
  client.stop(clock.now());
  (void)log->close();
  sayf("X %lu delivered=%llu\n", run, static_cast<unsigned long long>(m.delivered));
  return 0;
}
