# Compiler flags for thingwell's own tests, examples and tools. Never applied to thingwell::thingwell: the
# library must not impose warnings or sanitizers on the projects that use it.
include_guard(GLOBAL)

# thingwell_dev_flags(<target> [NO_SANITIZE] [NO_RTTI])
#   Strict warnings (errors with THINGWELL_WERROR) and the THINGWELL_SANITIZE sanitizers.
#   NO_SANITIZE: for targets that choose their sanitizers themselves (libFuzzer builds).
#   NO_RTTI: the target is compiled with -fno-rtti.
function(thingwell_dev_flags target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_SANITIZE;NO_RTTI" "" "")
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                             -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
    if(THINGWELL_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  elseif(MSVC)
    target_compile_options(${target} PRIVATE /W4 /permissive-)
    if(THINGWELL_WERROR)
      target_compile_options(${target} PRIVATE /WX)
    endif()
  endif()

  if(THINGWELL_SANITIZE AND NOT arg_NO_SANITIZE)
    set(_flags -fsanitize=${THINGWELL_SANITIZE} -fno-omit-frame-pointer)
    # A sanitizer report that lets the test continue and pass is easy to miss.
    list(APPEND _flags -fno-sanitize-recover=all)
    if(arg_NO_RTTI AND THINGWELL_SANITIZE MATCHES "undefined|vptr")
      # The vptr check reads RTTI.
      list(APPEND _flags -fno-sanitize=vptr)
    endif()
    target_compile_options(${target} PRIVATE ${_flags})
    target_link_options(${target} PRIVATE -fsanitize=${THINGWELL_SANITIZE})
  endif()
endfunction()

# The environment sanitized test processes run with: fail loudly, print useful stacks.
function(thingwell_sanitizer_environment out_var)
  set(_env "")
  if(THINGWELL_SANITIZE)
    list(APPEND _env
      "ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:check_initialization_order=1:strict_string_checks=1:detect_stack_use_after_return=1"
      "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
      "LSAN_OPTIONS=report_objects=0")
  endif()
  set(${out_var} "${_env}" PARENT_SCOPE)
endfunction()
