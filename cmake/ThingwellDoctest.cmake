# thingwell_doctest_discover(<target> PREFIX <prefix>
#                            [LABELS <label>...] [ENVIRONMENT <VAR=value>...] [TIMEOUT <seconds>]
#                            [WORKING_DIRECTORY <dir>])
#
# Registers every doctest case of <target> as its own CTest test named <prefix><case name>.
#
# doctest's own doctest_discover_tests() lists the cases in a POST_BUILD step. We list them when ctest
# starts instead (like gtest_discover_tests' PRE_TEST mode), because:
#   - the build never runs a test binary, so a sanitizer report or crash during static initialisation shows
#     up as a failed test in the ctest summary instead of as a build failure with no summary at all;
#   - an executable that failed to build still produces a failing test (<prefix>NOT_BUILT), so a broken
#     build cannot make a test run look green;
#   - doctest 2.4.9's script writes an invalid set_tests_properties() call when PROPERTIES sets LABELS, and
#     cannot pass an ENVIRONMENT with more than one variable.
# The list is cached next to the executable and refreshed whenever the executable is newer.
include_guard(GLOBAL)

function(thingwell_doctest_discover target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "PREFIX;WORKING_DIRECTORY;TIMEOUT" "LABELS;ENVIRONMENT")
  # Found from this file's own directory, so the function works from any directory of the project (a variable
  # set when the module is included would be visible only below the directory that included it first).
  set(_THINGWELL_DOCTEST_RUNTIME "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/ThingwellDoctestRuntime.cmake")
  if(NOT arg_WORKING_DIRECTORY)
    set(arg_WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
  endif()

  get_property(_multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
  if(_multi_config)
    set(_suffix "-$<CONFIG>")
  else()
    set(_suffix "")
  endif()
  set(_base "${CMAKE_CURRENT_BINARY_DIR}/${target}-doctest")

  # Each list travels as one bracket argument so that it reaches the ctest script unsplit.
  file(GENERATE OUTPUT "${_base}${_suffix}.cmake" CONTENT
"set(_tw_cmake [==[${CMAKE_COMMAND}]==])
set(_tw_runtime [==[${_THINGWELL_DOCTEST_RUNTIME}]==])
set(_tw_executable [==[$<TARGET_FILE:${target}>]==])
set(_tw_target [==[${target}]==])
set(_tw_prefix [==[${arg_PREFIX}]==])
set(_tw_working_directory [==[${arg_WORKING_DIRECTORY}]==])
set(_tw_state [==[${_base}${_suffix}]==])
set(_tw_labels [==[${arg_LABELS}]==])
set(_tw_environment [==[${arg_ENVIRONMENT}]==])
set(_tw_timeout [==[${arg_TIMEOUT}]==])
include(\"\${_tw_runtime}\")
")

  if(_multi_config)
    set(_include "${_base}-include.cmake")
    file(WRITE "${_include}"
"if(CTEST_CONFIGURATION_TYPE AND EXISTS \"${_base}-\${CTEST_CONFIGURATION_TYPE}.cmake\")
  include(\"${_base}-\${CTEST_CONFIGURATION_TYPE}.cmake\")
else()
  add_test([==[${arg_PREFIX}NO_CONFIGURATION]==] [==[${CMAKE_COMMAND}]==] -E false)
endif()
")
  else()
    set(_include "${_base}.cmake")
  endif()
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${_include}")
endfunction()
