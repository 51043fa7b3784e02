# Checks on the repository as a whole, registered as ctest tests so that the one ctest run of
# scripts/test.sh reports them in its summary line.

# build: the build of this tree is complete. scripts/test.sh keeps going past compile errors so that every
# test that can run does; this test turns a failed compile (an example, a tool) into a failed test. After a
# complete build it has nothing to do. It runs first and alone (high COST, RUN_SERIAL) because if it does
# relink something, no test may be running that executable at that moment.
add_test(NAME build COMMAND "${CMAKE_COMMAND}" --build "${PROJECT_BINARY_DIR}" --config $<CONFIG>)
set_tests_properties(build PROPERTIES LABELS build TIMEOUT 1800 RUN_SERIAL TRUE COST 1000000)

# version.consistent: CMake, the headers and Meson announce the same version.
add_test(NAME version.consistent
  COMMAND "${CMAKE_COMMAND}" "-DSOURCE_DIR=${PROJECT_SOURCE_DIR}" "-DVERSION=${PROJECT_VERSION}"
          -P "${CMAKE_CURRENT_SOURCE_DIR}/cmake/check_version.cmake")
set_tests_properties(version.consistent PROPERTIES LABELS repository)

# single-include.fresh: single_include/thingwell/thingwell.hpp is what tools/amalgamate.py makes today.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME single-include.fresh
    COMMAND "${Python3_EXECUTABLE}" "${PROJECT_SOURCE_DIR}/tools/amalgamate.py" --check)
  set_tests_properties(single-include.fresh PROPERTIES LABELS repository)
  # `cmake --build build --target thingwell-amalgamate` regenerates the single header.
  add_custom_target(thingwell-amalgamate
    COMMAND "${Python3_EXECUTABLE}" "${PROJECT_SOURCE_DIR}/tools/amalgamate.py"
    COMMENT "Generating single_include/thingwell/thingwell.hpp" VERBATIM)
else()
  message(STATUS "thingwell: python3 not found, single-include.fresh is not registered")
endif()

# mcu.size: the MCU examples cross-build for a Cortex-M4, print their size and run under QEMU.
find_program(THINGWELL_ARM_GXX arm-none-eabi-g++ DOC "Cortex-M cross compiler for the mcu.size test")
find_program(THINGWELL_BASH bash)
if(THINGWELL_ARM_GXX AND THINGWELL_BASH)
  add_test(NAME mcu.size
    COMMAND "${THINGWELL_BASH}" "${PROJECT_SOURCE_DIR}/scripts/mcu-size.sh" "${PROJECT_BINARY_DIR}/mcu")
  set_tests_properties(mcu.size PROPERTIES LABELS mcu TIMEOUT 900 PROCESSORS 2)
else()
  message(STATUS "thingwell: arm-none-eabi-g++ not found, mcu.size is not registered")
endif()

# meson.unit: the Meson build of the library and its unit tests.
find_program(THINGWELL_MESON meson DOC "Meson, for the meson.* tests")
if(THINGWELL_MESON)
  set(_job "${PROJECT_BINARY_DIR}/meson-job.cmake")
  file(WRITE "${_job}" "
set(MESON [==[${THINGWELL_MESON}]==])
set(CXX [==[${CMAKE_CXX_COMPILER}]==])
set(SOURCE_DIR [==[${PROJECT_SOURCE_DIR}]==])
set(BUILD_DIR [==[${PROJECT_BINARY_DIR}/meson]==])
set(SETUP_ARGS --buildtype=plain)  # no -g: the fastest compile
set(PARALLEL 2)
set(TEST TRUE)
")
  add_test(NAME meson.unit
    COMMAND "${CMAKE_COMMAND}" "-DJOB=${_job}" -P "${CMAKE_CURRENT_SOURCE_DIR}/cmake/meson.cmake")
  set_tests_properties(meson.unit PROPERTIES LABELS meson TIMEOUT 1200 PROCESSORS 2)
else()
  message(STATUS "thingwell: meson not found, the meson tests are not registered")
endif()
