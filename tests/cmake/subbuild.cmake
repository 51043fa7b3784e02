# Configures, builds and optionally runs a separate CMake project, as a ctest test:
#   cmake -DJOB=<job.cmake> -P subbuild.cmake
# The job file sets SOURCE_DIR, BINARY_DIR, GENERATOR and optionally CONFIGURE_ARGS (list), BUILD_TARGETS
# (list), PARALLEL, FRESH (wipe BINARY_DIR first) and RUN (programs relative to BINARY_DIR that must exit 0).
# Used for the consumer projects and the clang fuzz build; every step echoes its command line so that a
# failure in the ctest log can be reproduced by hand.
cmake_minimum_required(VERSION 3.21)

if(NOT JOB OR NOT EXISTS "${JOB}")
  message(FATAL_ERROR "subbuild.cmake: pass -DJOB=<job file>")
endif()
include("${JOB}")

function(run_step)
  string(REPLACE ";" " " _shown "${ARGV}")
  message(STATUS "subbuild: ${_shown}")
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE _result)
  if(NOT _result EQUAL 0)
    message(FATAL_ERROR "subbuild: step failed (${_result}): ${_shown}")
  endif()
endfunction()

if(FRESH)
  file(REMOVE_RECURSE "${BINARY_DIR}")
endif()

set(_generator_args "")
if(GENERATOR AND NOT EXISTS "${BINARY_DIR}/CMakeCache.txt")
  set(_generator_args -G "${GENERATOR}")
endif()
run_step("${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}" ${_generator_args} ${CONFIGURE_ARGS})

set(_build_args --build "${BINARY_DIR}")
if(PARALLEL)
  list(APPEND _build_args --parallel ${PARALLEL})
endif()
if(BUILD_TARGETS)
  list(APPEND _build_args --target ${BUILD_TARGETS})
endif()
run_step("${CMAKE_COMMAND}" ${_build_args})

foreach(_program IN LISTS RUN)
  run_step("${BINARY_DIR}/${_program}")
endforeach()
