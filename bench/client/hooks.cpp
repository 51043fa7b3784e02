// Allocation counting and connect() wrapping for client_bench (see hooks.hpp).
//
// glibc supports replacing malloc by defining these symbols in the program; its own __libc_* entry
// points do the real work. Nothing here may allocate on the counting path.
#include "hooks.hpp"

#include <dlfcn.h>
#include <execinfo.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {

std::atomic<std::uint64_t> g_allocs{0};
std::atomic<std::uint64_t> g_frees{0};
std::atomic<std::uint64_t> g_bytes{0};
std::atomic<int> g_trace_left{0};
std::atomic<int> g_trace_every{1};
std::atomic<std::uint64_t> g_trace_seen{0};
std::atomic<bool> g_nodelay{false};
std::atomic<int> g_last_socket{-1};
thread_local bool t_in_trace = false;

inline void counted(std::size_t size) noexcept {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  g_bytes.fetch_add(size, std::memory_order_relaxed);
  if (g_trace_left.load(std::memory_order_relaxed) > 0 && !t_in_trace &&
      g_trace_seen.fetch_add(1, std::memory_order_relaxed) % static_cast<std::uint64_t>(g_trace_every.load(std::memory_order_relaxed)) == 0) {
    t_in_trace = true;
    if (g_trace_left.fetch_sub(1, std::memory_order_relaxed) > 0) {
      void* frames[32];
      const int n = ::backtrace(frames, 32);
      static const char header[] = "---- allocation backtrace ----\n";
      (void)!::write(2, header, sizeof header - 1);
      ::backtrace_symbols_fd(frames, n, 2);  // writes directly, no malloc
    }
    t_in_trace = false;
  }
}

}  // namespace

extern "C" {

void* malloc(std::size_t size) noexcept {
  counted(size);
  return __libc_malloc(size);
}

void* calloc(std::size_t n, std::size_t size) noexcept {
  counted(n * size);
  return __libc_calloc(n, size);
}

void* realloc(void* p, std::size_t size) noexcept {
  if (p == nullptr) {
    counted(size);
    return __libc_realloc(p, size);
  }
  if (size == 0) {
    g_frees.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, size);
  }
  void* q = __libc_realloc(p, size);
  if (q != p) {  // moved: one new block and one freed
    counted(size);
    g_frees.fetch_add(1, std::memory_order_relaxed);
  }
  return q;
}

void free(void* p) noexcept {
  if (p != nullptr) g_frees.fetch_add(1, std::memory_order_relaxed);
  __libc_free(p);
}

void* memalign(std::size_t alignment, std::size_t size) noexcept {
  counted(size);
  return __libc_memalign(alignment, size);
}

void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  counted(size);
  return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  counted(size);
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

void* valloc(std::size_t size) noexcept {
  counted(size);
  return __libc_memalign(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)), size);
}

int connect(int fd, const sockaddr* address, socklen_t length) {
  using connect_fn = int (*)(int, const sockaddr*, socklen_t);
  static connect_fn real = reinterpret_cast<connect_fn>(::dlsym(RTLD_NEXT, "connect"));
  if (address != nullptr && (address->sa_family == AF_INET || address->sa_family == AF_INET6)) {
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM) {
      g_last_socket.store(fd, std::memory_order_relaxed);
      if (g_nodelay.load(std::memory_order_relaxed)) {
        const int one = 1;
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      }
    }
  }
  return real(fd, address, length);
}

}  // extern "C"

namespace client_bench::hooks {

alloc_counts read_allocs() noexcept {
  return {g_allocs.load(std::memory_order_relaxed), g_frees.load(std::memory_order_relaxed),
          g_bytes.load(std::memory_order_relaxed)};
}

void trace_allocations(int n, int every) noexcept {
  static bool primed = false;
  if (!primed) {  // the first backtrace() loads libgcc_s, which allocates: do it before tracing
    void* frames[4];
    (void)::backtrace(frames, 4);
    primed = true;
  }
  g_trace_every.store(every < 1 ? 1 : every, std::memory_order_relaxed);
  g_trace_seen.store(0, std::memory_order_relaxed);
  g_trace_left.store(n, std::memory_order_relaxed);
}

void force_nodelay(bool on) noexcept { g_nodelay.store(on, std::memory_order_relaxed); }
int last_connected_socket() noexcept { return g_last_socket.load(std::memory_order_relaxed); }

}  // namespace client_bench::hooks
