# Installs the pinned JavaScript packages of tests/interop/js (package.json + package-lock.json) into the build
# tree with `npm ci`, once per lock file: the ctest fixture interop.js.npm_install runs it before the JS tests.
#   cmake -DNPM=<npm or empty> -DSOURCE=<tests/interop/js> -DPREFIX=<build>/interop/js -P npm_install.cmake
# Without npm it prints "SKIP: ..." (the test's SKIP_REGULAR_EXPRESSION) and the JS tests skip themselves too.
if(NOT NPM OR NOT EXISTS "${NPM}")
  message("SKIP: npm not found (Debian: apt-get install nodejs npm, or scripts/install-deps.sh)")
  return()
endif()

file(MAKE_DIRECTORY "${PREFIX}")
set(_stamp "${PREFIX}/node_modules/.thingwell-package-lock.json")
if(EXISTS "${_stamp}")
  file(READ "${_stamp}" _installed)
  file(READ "${SOURCE}/package-lock.json" _wanted)
  if(_installed STREQUAL _wanted AND EXISTS "${PREFIX}/node_modules/aws-iot-device-sdk/package.json")
    message(STATUS "interop: the JavaScript packages are installed in ${PREFIX}")
    return()
  endif()
endif()

file(COPY_FILE "${SOURCE}/package.json" "${PREFIX}/package.json" ONLY_IF_DIFFERENT)
file(COPY_FILE "${SOURCE}/package-lock.json" "${PREFIX}/package-lock.json" ONLY_IF_DIFFERENT)
message(STATUS "interop: ${NPM} ci in ${PREFIX}")
execute_process(
  COMMAND "${NPM}" ci --no-audit --no-fund --loglevel=error
  WORKING_DIRECTORY "${PREFIX}"
  RESULT_VARIABLE _result
  TIMEOUT 240)
if(NOT _result EQUAL 0)
  message(FATAL_ERROR "interop: npm ci failed (${_result}); is the npm registry reachable?")
endif()
file(COPY_FILE "${SOURCE}/package-lock.json" "${_stamp}")
