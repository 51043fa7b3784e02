# Sets up, builds and tests a Meson project, as a ctest test:
#   cmake -DJOB=<job.cmake> -P meson.cmake
# The job file sets MESON, SOURCE_DIR, BUILD_DIR, CXX and optionally SETUP_ARGS (list), PARALLEL, STAGE_DIR,
# SUBPROJECT (name) with SUBPROJECT_DIR, TEST (run `meson test`) and RUN (programs relative to BUILD_DIR).
# With STAGE_DIR the project is copied there first and SUBPROJECT_DIR is linked in as subprojects/<SUBPROJECT>,
# which is how a user vendors thingwell, without keeping a symlink in the repository.
cmake_minimum_required(VERSION 3.21)

if(NOT JOB OR NOT EXISTS "${JOB}")
  message(FATAL_ERROR "meson.cmake: pass -DJOB=<job file>")
endif()
include("${JOB}")

function(run_step)
  string(REPLACE ";" " " _shown "${ARGV}")
  message(STATUS "meson: ${_shown}")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env "CXX=${CXX}" ${ARGV} RESULT_VARIABLE _result)
  if(NOT _result EQUAL 0)
    message(FATAL_ERROR "meson: step failed (${_result}): ${_shown}")
  endif()
endfunction()

set(_source "${SOURCE_DIR}")
if(STAGE_DIR)
  file(REMOVE_RECURSE "${STAGE_DIR}")
  file(COPY "${SOURCE_DIR}/" DESTINATION "${STAGE_DIR}")
  if(SUBPROJECT)
    file(MAKE_DIRECTORY "${STAGE_DIR}/subprojects")
    file(CREATE_LINK "${SUBPROJECT_DIR}" "${STAGE_DIR}/subprojects/${SUBPROJECT}" SYMBOLIC COPY_ON_ERROR)
  endif()
  set(_source "${STAGE_DIR}")
endif()

if(EXISTS "${BUILD_DIR}/meson-private/coredata.dat")
  run_step("${MESON}" setup --reconfigure ${SETUP_ARGS} "${BUILD_DIR}" "${_source}")
else()
  file(REMOVE_RECURSE "${BUILD_DIR}")
  run_step("${MESON}" setup ${SETUP_ARGS} "${BUILD_DIR}" "${_source}")
endif()
set(_jobs "")
if(PARALLEL)
  set(_jobs -j ${PARALLEL})
endif()
run_step("${MESON}" compile -C "${BUILD_DIR}" ${_jobs})
if(TEST)
  run_step("${MESON}" test -C "${BUILD_DIR}" --print-errorlogs)
endif()
foreach(_program IN LISTS RUN)
  run_step("${BUILD_DIR}/${_program}")
endforeach()
