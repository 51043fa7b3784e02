# The version is written in three places that must agree: project() in CMakeLists.txt (passed as -DVERSION),
# THINGWELL_VERSION_STRING in core/config.hpp and project() in meson.build.
#   cmake -DSOURCE_DIR=<repository> -DVERSION=<x.y.z> -P check_version.cmake
cmake_minimum_required(VERSION 3.21)

set(_errors "")

file(STRINGS "${SOURCE_DIR}/include/thingwell/core/config.hpp" _line
     REGEX "^#define[ \t]+THINGWELL_VERSION_STRING[ \t]+\"")
string(REGEX REPLACE ".*\"([^\"]*)\".*" "\\1" _header_version "${_line}")
if(NOT _header_version STREQUAL VERSION)
  string(APPEND _errors "  include/thingwell/core/config.hpp says '${_header_version}'\n")
endif()

foreach(_part MAJOR MINOR PATCH)
  file(STRINGS "${SOURCE_DIR}/include/thingwell/core/config.hpp" _line
       REGEX "^#define[ \t]+THINGWELL_VERSION_${_part}[ \t]+[0-9]+")
  string(REGEX REPLACE ".*[ \t]([0-9]+).*" "\\1" _number_${_part} "${_line}")
endforeach()
if(NOT "${_number_MAJOR}.${_number_MINOR}.${_number_PATCH}" STREQUAL VERSION)
  string(APPEND _errors "  THINGWELL_VERSION_MAJOR/MINOR/PATCH say '${_number_MAJOR}.${_number_MINOR}.${_number_PATCH}'\n")
endif()

if(EXISTS "${SOURCE_DIR}/meson.build")
  file(READ "${SOURCE_DIR}/meson.build" _meson)
  # Not meson_version.
  string(REGEX MATCH "[^_A-Za-z]version[ \t]*:[ \t]*'([^']*)'" _match "${_meson}")
  if(NOT CMAKE_MATCH_1 STREQUAL VERSION)
    string(APPEND _errors "  meson.build says '${CMAKE_MATCH_1}'\n")
  endif()
endif()

if(_errors)
  message(FATAL_ERROR "CMakeLists.txt says version ${VERSION}, but\n${_errors}")
endif()
message(STATUS "version ${VERSION} everywhere")
