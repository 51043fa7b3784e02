// thingwell store benchmark: append and replay throughput of the file log, with an fsync for every record
// and with group commit (every 64 records, or every 10 ms through commit(now)), for 64-byte and 1 KB
// records.
//
//   store_bench                 the table; the log lives in a fresh directory under $TMPDIR (or /tmp)
//   store_bench --dir PATH      put the directories under PATH instead (the file system decides the numbers)
//   store_bench --seconds S     time budget per append run (default 1.5)
//
// "append" is append() until the budget is spent (the last commit included); "replay" opens the log again
// (recovery reads and checks every record) and then peeks and pops everything, committing pops with the
// same policy. Numbers are payload bytes; each record also carries a 24-byte header on disk.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <thingwell/store/file_log.hpp>

namespace st = thingwell::store;
using thingwell::byte;

namespace {

struct policy {
  const char* name;
  st::commit_policy commit;
  bool timed;  // call commit(now) after every operation
};

[[noreturn]] void fail(const char* what, std::error_code ec) {
  std::fprintf(stderr, "store_bench: %s: %s\n", what, ec.message().c_str());
  std::exit(2);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void remove_tree(const std::string& dir) {
  std::string cmd = "rm -rf '" + dir + "'";
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "store_bench: could not remove %s\n", dir.c_str());
}

void run(const std::string& base, const policy& p, std::size_t record_size, double budget) {
  std::string dir = base + "/store-bench-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(2);
  }
  st::file_log_config config;
  config.commit = p.commit;
  config.max_segments = 4096;
  std::vector<byte> payload(record_size);
  for (std::size_t i = 0; i < record_size; ++i) payload[i] = static_cast<byte>('a' + i % 26);
  thingwell::system_clock clock;

  std::uint64_t appended = 0;
  double append_s = 0;
  {
    auto opened = st::file_log::open(dir, config);
    if (!opened) fail("open", opened.error());
    auto& log = *opened;
    const auto t0 = std::chrono::steady_clock::now();
    while (appended % 64 != 0 || seconds_since(t0) < budget) {
      if (auto r = log.append(payload); !r) fail("append", r.error());
      if (p.timed)
        if (auto r = log.commit(clock.now()); !r) fail("commit", r.error());
      ++appended;
    }
    if (auto r = log.commit(); !r) fail("commit", r.error());
    append_s = seconds_since(t0);
    if (auto r = log.close(); !r) fail("close", r.error());
  }

  double replay_s = 0;
  std::uint64_t replayed = 0;
  {
    std::vector<byte> out(record_size);
    const auto t0 = std::chrono::steady_clock::now();
    auto opened = st::file_log::open(dir, config);
    if (!opened) fail("reopen", opened.error());
    auto& log = *opened;
    while (auto r = log.peek(out)) {
      if (auto q = log.pop(); !q) fail("pop", q.error());
      if (p.timed)
        if (auto c = log.commit(clock.now()); !c) fail("commit", c.error());
      ++replayed;
    }
    if (auto r = log.commit(); !r) fail("commit", r.error());
    replay_s = seconds_since(t0);
  }
  if (replayed != appended) {
    std::fprintf(stderr, "store_bench: replayed %llu of %llu records\n", static_cast<unsigned long long>(replayed),
                 static_cast<unsigned long long>(appended));
    std::exit(2);
  }
  remove_tree(dir);

  const double mb = static_cast<double>(appended * record_size) / 1e6;
  std::printf("%-22s %6zu B  %9llu rec  append %10.0f rec/s %8.2f MB/s   replay %10.0f rec/s %8.2f MB/s\n", p.name,
              record_size, static_cast<unsigned long long>(appended), static_cast<double>(appended) / append_s,
              mb / append_s, static_cast<double>(replayed) / replay_s, mb / replay_s);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  double budget = 1.5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      base = argv[++i];
    } else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      budget = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: store_bench [--dir PATH] [--seconds S]\n");
      return 2;
    }
  }

  const policy policies[] = {
      {"fsync every record", st::commit_policy{1, 0, thingwell::duration{0}}, false},
      {"group: every 64", st::commit_policy{64, 0, thingwell::duration{0}}, false},
      {"group: every 10 ms", st::commit_policy{0, 0, thingwell::duration{10}}, true},
  };
  std::printf("file log in %s, %.1f s per append run\n", base.c_str(), budget);
  for (std::size_t size : {std::size_t{64}, std::size_t{1024}})
    for (const policy& p : policies) run(base, p, size, budget);
  return 0;
}
