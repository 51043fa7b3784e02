#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace thingwell::testing {

// How a child ended: a normal exit with a code, or death by a signal.
struct exit_status {
  bool exited = false;
  int code = -1;
  int signal = 0;

  bool success() const { return exited && code == 0; }
  std::string describe() const;  // "exit code 1", "killed by signal 9 (Killed)"
};

using environment_additions = std::vector<std::pair<std::string, std::string>>;

struct process_options {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH unless it contains a '/'
  environment_additions extra_env;  // added to, or replacing entries of, the parent's environment
  std::string log_path;           // stdout and stderr appended here; empty discards them
  std::string working_directory;  // empty keeps the parent's
};

struct command_result {
  exit_status status;
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved as written

  bool success() const { return !timed_out && status.success(); }
};

// A child process in its own process group that cannot outlive the test: it is terminated on
// destruction, and the kernel kills it (PR_SET_PDEATHSIG) if the test process dies first.
// Limitation of PR_SET_PDEATHSIG: it fires when the *thread* that spawned the child exits, so spawn
// long-lived children from a thread that lives as long as they should (the test's main thread).
// Not thread-safe: use one child_process from one thread at a time.
class child_process {
 public:
  // Throws std::runtime_error when the program cannot be found or executed.
  explicit child_process(const process_options& options);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  bool running();
  // SIGTERM to the process group, then SIGKILL when it has not exited within `grace`.
  exit_status terminate(std::chrono::milliseconds grace = std::chrono::seconds(5));
  exit_status kill();
  // The exit status once the child has ended within `timeout`, otherwise nullopt (still running).
  std::optional<exit_status> wait(std::chrono::milliseconds timeout);
  // The exit status if the child has already ended; never blocks.
  std::optional<exit_status> status();

 private:
  friend command_result run_command(const std::vector<std::string>&, std::chrono::milliseconds,
                                    const environment_additions&);
  child_process(pid_t adopted_pid, std::string log_path);

  bool reap_if_exited();
  void signal_group(int signal_number) const;

  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<exit_status> status_;
};

// Runs a program to completion with a deadline and captures its output; the child (and its
// process group) is killed at the deadline. Throws only when the program cannot be started.
command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                           const environment_additions& extra_env = {});

// The absolute path of `name` found on PATH, then in `fallback_directories`; empty when absent.
std::string find_executable(std::string_view name, const std::vector<std::string>& fallback_directories = {});

// The argv as a shell-like line, for error messages.
std::string describe_command(const std::vector<std::string>& argv);

}  // namespace thingwell::testing
