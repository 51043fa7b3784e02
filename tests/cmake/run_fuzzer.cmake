# Runs one libFuzzer binary for a while, as the ctest test fuzz.<name>:
#   cmake -DFUZZER=<binary> -DNAME=<name> -DSECONDS=<n> -DWORK_DIR=<dir> -DSEEDS=<dir> -DREGRESSIONS=<dir>
#         [-DDICT=<file>] -P run_fuzzer.cmake
# The source tree is only read: libFuzzer writes new inputs to the first corpus directory, which is in the
# build tree and keeps growing from run to run; the seeds and regressions are passed as extra, read-only
# corpus directories, so every regression is re-run before fuzzing starts.
cmake_minimum_required(VERSION 3.21)

foreach(_var FUZZER NAME SECONDS WORK_DIR)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "run_fuzzer.cmake: -D${_var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${FUZZER}")
  message(FATAL_ERROR "run_fuzzer.cmake: ${FUZZER} does not exist (was the fuzz build skipped or broken?)")
endif()

set(_corpus "${WORK_DIR}/corpus")
set(_artifacts "${WORK_DIR}/artifacts")
file(REMOVE_RECURSE "${_artifacts}")
file(MAKE_DIRECTORY "${_corpus}" "${_artifacts}")

set(_args
  -max_total_time=${SECONDS}
  -timeout=10
  -rss_limit_mb=2048
  -print_final_stats=1
  "-artifact_prefix=${_artifacts}/")
if(DICT AND EXISTS "${DICT}")
  list(APPEND _args "-dict=${DICT}")
endif()
list(APPEND _args "${_corpus}")
foreach(_dir IN ITEMS "${SEEDS}" "${REGRESSIONS}")
  if(_dir AND IS_DIRECTORY "${_dir}")
    list(APPEND _args "${_dir}")
  endif()
endforeach()

string(REPLACE ";" " " _shown "${FUZZER};${_args}")
message(STATUS "fuzz.${NAME}: ${_shown}")
execute_process(COMMAND "${FUZZER}" ${_args} WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE _result)
if(NOT _result EQUAL 0)
  file(GLOB _found "${_artifacts}/*")
  string(REPLACE ";" "\n  " _found "${_found}")
  message(FATAL_ERROR "fuzz.${NAME} failed (${_result}). Inputs that reproduce it:\n  ${_found}\n"
                      "Replay one with the fuzzer binary, fix the bug, then keep the input as a regression: "
                      "copy it to tests/fuzz/regressions/${NAME}/.")
endif()
