// Process-wide instrumentation of client_bench (hooks.cpp):
//
//  - malloc, calloc, realloc, free and the aligned allocators are defined in the executable and
//    forwarded to glibc's __libc_* functions, counting every call. Shared libraries (libmosquitto,
//    Paho, libstdc++'s operator new) resolve these names to the executable's definitions, so their
//    allocations are counted too, from every thread.
//  - connect() is wrapped to remember the last TCP socket connected and, when asked, to set
//    TCP_NODELAY on it (for clients that offer no option of their own).
#pragma once

#include <cstdint>

namespace client_bench::hooks {

struct alloc_counts {
  std::uint64_t allocs = 0;  // malloc, calloc, realloc of a new or moved block, aligned variants
  std::uint64_t frees = 0;   // free of a non-null pointer
  std::uint64_t bytes = 0;   // bytes requested
};

alloc_counts read_allocs() noexcept;

// Prints a backtrace of the next `n` allocations (any thread) to stderr, or of every `every`-th one
// (sampling keeps the process close to its normal speed: printing a backtrace is slow, and a slow
// process takes different paths, e.g. re-arms timers more often).
void trace_allocations(int n, int every = 1) noexcept;

// From now on, connect() sets TCP_NODELAY on TCP sockets before connecting.
void force_nodelay(bool on) noexcept;
// The descriptor of the last TCP socket passed to connect(), or -1.
int last_connected_socket() noexcept;

}  // namespace client_bench::hooks
