// thingwell — compile-time configuration.
//
// Every switch has a sensible default that is detected from the compiler and the available headers.
// A project overrides any of them by defining the macro on the command line or in a header named
// <thingwell_config.hpp> found on the include path (picked up automatically with __has_include).
#pragma once

#if defined(__has_include)
#  if __has_include(<thingwell_config.hpp>)
#    include <thingwell_config.hpp>
#  endif
#endif

// Exceptions: thingwell never throws, but it must know whether it may call code that does
// (the Asio driver only) and whether try/catch compiles at all.
#ifndef THINGWELL_HAS_EXCEPTIONS
#  if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#    define THINGWELL_HAS_EXCEPTIONS 1
#  else
#    define THINGWELL_HAS_EXCEPTIONS 0
#  endif
#endif

#ifndef THINGWELL_HAS_RTTI
#  if defined(__cpp_rtti) || defined(__GXX_RTTI) || defined(_CPPRTTI)
#    define THINGWELL_HAS_RTTI 1
#  else
#    define THINGWELL_HAS_RTTI 0
#  endif
#endif

// Optional dependencies. The build system defines these to 0 or 1; a plain #include detects them.
#ifndef THINGWELL_WITH_ASIO
#  if defined(__has_include) && __has_include(<asio.hpp>) && THINGWELL_HAS_EXCEPTIONS
#    define THINGWELL_WITH_ASIO 1
#  else
#    define THINGWELL_WITH_ASIO 0
#  endif
#endif

#ifndef THINGWELL_WITH_WOLFSSL
#  if defined(__has_include) && __has_include(<wolfssl/options.h>)
#    define THINGWELL_WITH_WOLFSSL 1
#  else
#    define THINGWELL_WITH_WOLFSSL 0
#  endif
#endif

#ifndef THINGWELL_WITH_SIMDJSON
#  if defined(__has_include) && __has_include(<simdjson.h>) && THINGWELL_HAS_EXCEPTIONS
#    define THINGWELL_WITH_SIMDJSON 1
#  else
#    define THINGWELL_WITH_SIMDJSON 0
#  endif
#endif

#ifndef THINGWELL_WITH_FMT
#  if defined(__has_include) && __has_include(<fmt/format.h>)
#    define THINGWELL_WITH_FMT 1
#  else
#    define THINGWELL_WITH_FMT 0
#  endif
#endif

// POSIX sockets and files (Linux, macOS); off on bare-metal targets.
#ifndef THINGWELL_HAS_POSIX
#  if defined(__unix__) || defined(__APPLE__)
#    define THINGWELL_HAS_POSIX 1
#  else
#    define THINGWELL_HAS_POSIX 0
#  endif
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define THINGWELL_LIKELY(x) __builtin_expect(!!(x), 1)
#  define THINGWELL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#  define THINGWELL_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#  define THINGWELL_LIKELY(x) (x)
#  define THINGWELL_UNLIKELY(x) (x)
#  define THINGWELL_ALWAYS_INLINE inline
#endif

// An internal invariant. Never used for input validation: bad input is an error value.
#ifndef THINGWELL_ASSERT
#  include <cassert>
#  define THINGWELL_ASSERT(cond) assert(cond)
#endif

#define THINGWELL_VERSION_MAJOR 0
#define THINGWELL_VERSION_MINOR 1
#define THINGWELL_VERSION_PATCH 0
#define THINGWELL_VERSION_STRING "0.1.0"
