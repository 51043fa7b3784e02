#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace thingwell::testing {

std::string exit_status::describe() const {
  if (exited) return "exit code " + std::to_string(code);
  if (signal != 0) return "killed by signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
  return "unknown exit status";
}

std::string describe_command(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) {
    if (!line.empty()) line += ' ';
    const bool plain = !arg.empty() && arg.find_first_of(" \t\"'\\$") == std::string::npos;
    line += plain ? arg : "'" + arg + "'";
  }
  return line;
}

namespace {

bool is_executable_file(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

exit_status decode_wait_status(int raw) {
  exit_status status;
  if (WIFEXITED(raw)) {
    status.exited = true;
    status.code = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    status.signal = WTERMSIG(raw);
  }
  return status;
}

class file_descriptor {
 public:
  explicit file_descriptor(int fd = -1) : fd_(fd) {}
  ~file_descriptor() { reset(); }
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  int get() const { return fd_; }
  void reset(int replacement = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = replacement;
  }

 private:
  int fd_;
};

void close_descriptors_from(unsigned first, unsigned last) {
  if (first > last) return;
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, first, last, 0) == 0) return;
#endif
  const long limit = ::sysconf(_SC_OPEN_MAX);
  const unsigned end = static_cast<unsigned>(std::min<unsigned long>(last, limit > 0 ? static_cast<unsigned long>(limit) : 1024UL));
  for (unsigned fd = first; fd <= end; ++fd) ::close(static_cast<int>(fd));
}

// Starts argv with stdout and stderr on `output_fd` (or /dev/null when negative) and returns its pid.
// Everything the child needs is prepared before fork(): between fork and exec only async-signal-safe
// calls are allowed, because other threads of the test (the fault proxy, the library) may hold locks.
pid_t spawn(const std::vector<std::string>& argv, const environment_additions& extra_env,
            const std::string& working_directory, int output_fd) {
  if (argv.empty()) throw std::runtime_error("spawn: empty argv");
  std::string program = argv[0];
  if (program.find('/') == std::string::npos) {
    program = find_executable(argv[0]);
    if (program.empty()) throw std::runtime_error("spawn: '" + argv[0] + "' not found on PATH");
  }

  std::vector<char*> child_argv;
  for (const auto& arg : argv) child_argv.push_back(const_cast<char*>(arg.c_str()));
  child_argv.push_back(nullptr);

  std::vector<std::string> env_storage;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto replaced = std::any_of(extra_env.begin(), extra_env.end(), [&](const auto& added) {
      return text.size() > added.first.size() && text.substr(0, added.first.size()) == added.first &&
             text[added.first.size()] == '=';
    });
    if (!replaced) env_storage.emplace_back(text);
  }
  for (const auto& [name, value] : extra_env) env_storage.push_back(name + "=" + value);
  std::vector<char*> child_env;
  for (auto& entry : env_storage) child_env.push_back(entry.data());
  child_env.push_back(nullptr);

  file_descriptor null_input(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  file_descriptor null_output(output_fd < 0 ? ::open("/dev/null", O_WRONLY | O_CLOEXEC) : -1);
  const int child_output = output_fd < 0 ? null_output.get() : output_fd;
  if (null_input.get() < 0 || child_output < 0) throw std::runtime_error("spawn: cannot open /dev/null");

  // The child reports an exec failure through this pipe; a successful exec closes it (O_CLOEXEC).
  int exec_error_pipe[2];
  if (::pipe2(exec_error_pipe, O_CLOEXEC) != 0) throw std::runtime_error("spawn: pipe2 failed");
  file_descriptor error_read(exec_error_pipe[0]);
  file_descriptor error_write(exec_error_pipe[1]);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("spawn: fork failed: ") + std::strerror(errno));

  if (pid == 0) {
    auto fail = [&](int error) {
      (void)!::write(error_write.get(), &error, sizeof error);
      ::_exit(127);
    };
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) ::signal(sig, SIG_DFL);
    if (::dup2(null_input.get(), 0) < 0 || ::dup2(child_output, 1) < 0 || ::dup2(child_output, 2) < 0) fail(errno);
    // Descriptors the test opened without O_CLOEXEC (a listening socket, say) must not leak into a
    // broker that may outlive them.
    const unsigned keep = static_cast<unsigned>(error_write.get());
    close_descriptors_from(3, keep - 1);
    close_descriptors_from(keep + 1, ~0U);
    if (!working_directory.empty() && ::chdir(working_directory.c_str()) != 0) fail(errno);
    ::execve(program.c_str(), child_argv.data(), child_env.data());
    fail(errno);
  }

  // Both sides set the group, so that signalling the group works whichever runs first.
  ::setpgid(pid, pid);
  error_write.reset();
  int child_errno = 0;
  ssize_t got;
  do {
    got = ::read(error_read.get(), &child_errno, sizeof child_errno);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof child_errno)) {
    int ignored;
    ::waitpid(pid, &ignored, 0);
    throw std::runtime_error("spawn: cannot execute " + describe_command(argv) + ": " + std::strerror(child_errno));
  }
  return pid;
}

}  // namespace

std::string find_executable(std::string_view name, const std::vector<std::string>& fallback_directories) {
  std::vector<std::string> directories;
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest(path);
    while (true) {
      const auto colon = rest.find(':');
      const std::string_view entry = rest.substr(0, colon);
      directories.emplace_back(entry.empty() ? "." : entry);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  directories.insert(directories.end(), fallback_directories.begin(), fallback_directories.end());
  for (const auto& directory : directories) {
    std::string candidate = directory + "/" + std::string(name);
    if (is_executable_file(candidate)) return candidate;
  }
  return {};
}

child_process::child_process(const process_options& options) : log_path_(options.log_path) {
  file_descriptor log;
  if (!options.log_path.empty()) {
    log.reset(::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (log.get() < 0) throw std::runtime_error("cannot open log " + options.log_path + ": " + std::strerror(errno));
  }
  pid_ = spawn(options.argv, options.extra_env, options.working_directory, log.get());
}

child_process::child_process(pid_t adopted_pid, std::string log_path)
    : pid_(adopted_pid), log_path_(std::move(log_path)) {}

child_process::~child_process() {
  if (pid_ > 0) terminate(std::chrono::seconds(3));
}

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), log_path_(std::move(other.log_path_)), status_(other.status_) {}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) terminate(std::chrono::seconds(3));
    pid_ = std::exchange(other.pid_, -1);
    log_path_ = std::move(other.log_path_);
    status_ = other.status_;
  }
  return *this;
}

bool child_process::reap_if_exited() {
  if (status_) return true;
  if (pid_ <= 0) return false;
  // Peek first without reaping: while the leader is a zombie its process group id cannot be reused,
  // so killing the group now reaches only our own leftover grandchildren.
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno == EINTR) return false;
    status_ = exit_status{};  // reaped elsewhere; nothing left to wait for
    return true;
  }
  if (info.si_pid == 0) return false;
  ::kill(-pid_, SIGKILL);
  int raw = 0;
  while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
  }
  status_ = decode_wait_status(raw);
  return true;
}

void child_process::signal_group(int signal_number) const {
  if (pid_ <= 0 || status_) return;
  if (::kill(-pid_, signal_number) != 0) ::kill(pid_, signal_number);
}

bool child_process::running() { return pid_ > 0 && !reap_if_exited(); }

std::optional<exit_status> child_process::status() {
  reap_if_exited();
  return status_;
}

std::optional<exit_status> child_process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(500);
  while (!reap_if_exited()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline || pid_ <= 0) return std::nullopt;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::microseconds(10'000));
  }
  return status_;
}

exit_status child_process::terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return status_.value_or(exit_status{});
  signal_group(SIGTERM);
  if (auto ended = wait(grace)) return *ended;
  return kill();
}

exit_status child_process::kill() {
  if (pid_ <= 0) return status_.value_or(exit_status{});
  signal_group(SIGKILL);
  // SIGKILL cannot be caught; the bound only guards against a child stuck in the kernel.
  if (auto ended = wait(std::chrono::seconds(10))) return *ended;
  return exit_status{};
}

command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                           const environment_additions& extra_env) {
  int output_pipe[2];
  if (::pipe2(output_pipe, O_CLOEXEC) != 0) throw std::runtime_error("run_command: pipe2 failed");
  file_descriptor output_read(output_pipe[0]);
  file_descriptor output_write(output_pipe[1]);
  child_process child(spawn(argv, extra_env, {}, output_write.get()), {});
  output_write.reset();

  command_result result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd readable{output_read.get(), POLLIN, 0};
    const int ready = ::poll(&readable, 1, static_cast<int>(std::min<long long>(left.count() + 1, 60'000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t got = ::read(output_read.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // end of output: the child closed it, normally by exiting
    result.output.append(buffer, static_cast<std::size_t>(got));
  }
  if (result.timed_out) {
    result.status = child.kill();
    return result;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (auto ended = child.wait(std::max(left, std::chrono::milliseconds(0)))) {
    result.status = *ended;
  } else {
    result.timed_out = true;
    result.status = child.kill();
  }
  return result;
}

}  // namespace thingwell::testing
