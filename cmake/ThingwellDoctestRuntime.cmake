# Runs inside ctest (through TEST_INCLUDE_FILES, see ThingwellDoctest.cmake): lists the doctest cases of one
# executable and adds one test per case. Also runs as `cmake -D_tw_report=<file> -P` to be the body of a test
# that fails with the message in <file>.

if(DEFINED _tw_report)
  file(READ "${_tw_report}" _tw_text)
  message(FATAL_ERROR "${_tw_text}")
endif()

# Quoted values keep the ';' of LABELS and ENVIRONMENT lists inside one property.
function(_tw_set_properties name)
  set_tests_properties("${name}" PROPERTIES WORKING_DIRECTORY "${_tw_working_directory}")
  if(_tw_labels)
    set_tests_properties("${name}" PROPERTIES LABELS "${_tw_labels}")
  endif()
  if(_tw_timeout)
    set_tests_properties("${name}" PROPERTIES TIMEOUT "${_tw_timeout}")
  endif()
  if(_tw_environment)
    set_tests_properties("${name}" PROPERTIES ENVIRONMENT "${_tw_environment}")
  endif()
endfunction()

# A test that fails with an explanation, standing in for the tests that could not be listed.
function(_tw_failing_test name text)
  set(_report "${_tw_state}-${name}.txt")
  file(WRITE "${_report}" "${text}\n")
  add_test("${_tw_prefix}${name}" "${_tw_cmake}" "-D_tw_report=${_report}" -P "${_tw_runtime}")
  _tw_set_properties("${_tw_prefix}${name}")
endfunction()

if(NOT EXISTS "${_tw_executable}")
  _tw_failing_test(NOT_BUILT "${_tw_target} was not built (${_tw_executable} is missing): see the build log.")
  return()
endif()

set(_tw_list "${_tw_state}-list.txt")
if(NOT EXISTS "${_tw_list}" OR "${_tw_executable}" IS_NEWER_THAN "${_tw_list}")
  set(_tw_env_args "")
  foreach(_tw_var IN LISTS _tw_environment)
    list(APPEND _tw_env_args "${_tw_var}")
  endforeach()
  execute_process(
    COMMAND "${_tw_cmake}" -E env ${_tw_env_args} "${_tw_executable}" --list-test-cases --no-colors=true
    WORKING_DIRECTORY "${_tw_working_directory}"
    OUTPUT_VARIABLE _tw_output
    ERROR_VARIABLE _tw_error
    RESULT_VARIABLE _tw_result
    TIMEOUT 120)
  if(NOT _tw_result EQUAL 0)
    file(REMOVE "${_tw_list}")
    _tw_failing_test(DISCOVERY_FAILED
      "'${_tw_executable} --list-test-cases' failed (${_tw_result}):\n${_tw_output}\n${_tw_error}")
    return()
  endif()
  file(WRITE "${_tw_list}" "${_tw_output}")
else()
  file(READ "${_tw_list}" _tw_output)
endif()

# Test names may hold any character. Brackets, semicolons and backslashes mean something to CMake lists, so
# they are swapped for placeholders while the output is split into lines.
string(REPLACE "\\" "@tw_bs@" _tw_output "${_tw_output}")
string(REPLACE ";" "@tw_sc@" _tw_output "${_tw_output}")
string(REPLACE "[" "@tw_lb@" _tw_output "${_tw_output}")
string(REPLACE "]" "@tw_rb@" _tw_output "${_tw_output}")
string(REPLACE "\r" "" _tw_output "${_tw_output}")
string(REPLACE "\n" ";" _tw_lines "${_tw_output}")

set(_tw_count 0)
foreach(_tw_line IN LISTS _tw_lines)
  # doctest frames the list with "[doctest] ..." lines and rules of '='.
  if(_tw_line STREQUAL "" OR _tw_line MATCHES "^@tw_lb@doctest@tw_rb@" OR _tw_line MATCHES "^=+$")
    continue()
  endif()
  string(REPLACE "@tw_bs@" "\\" _tw_name "${_tw_line}")
  string(REPLACE "@tw_sc@" ";" _tw_name "${_tw_name}")
  string(REPLACE "@tw_lb@" "[" _tw_name "${_tw_name}")
  string(REPLACE "@tw_rb@" "]" _tw_name "${_tw_name}")

  # Two cases with one name run together under that name.
  string(MD5 _tw_hash "${_tw_prefix}${_tw_name}")
  if(DEFINED _tw_seen_${_tw_hash})
    continue()
  endif()
  set(_tw_seen_${_tw_hash} TRUE)

  # doctest splits --test-case on ',' unless escaped, and treats '\' as the escape.
  string(REPLACE "\\" "\\\\" _tw_filter "${_tw_name}")
  string(REPLACE "," "\\," _tw_filter "${_tw_filter}")
  add_test("${_tw_prefix}${_tw_name}" "${_tw_executable}" "--test-case=${_tw_filter}")
  _tw_set_properties("${_tw_prefix}${_tw_name}")
  math(EXPR _tw_count "${_tw_count} + 1")
endforeach()

if(_tw_count EQUAL 0)
  _tw_failing_test(NO_TESTS "${_tw_target} (${_tw_executable}) contains no test case.")
endif()
