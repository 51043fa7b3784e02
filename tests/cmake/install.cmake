# Installs a build tree into a fresh prefix, so that no file of an earlier install can hide a missing one.
#   cmake -DBINARY_DIR=<build> -DPREFIX=<prefix> [-DCONFIG=<config>] -P install.cmake
cmake_minimum_required(VERSION 3.21)

file(REMOVE_RECURSE "${PREFIX}")
set(_config "")
if(CONFIG)
  set(_config --config "${CONFIG}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BINARY_DIR}" --prefix "${PREFIX}" ${_config}
                RESULT_VARIABLE _result)
if(NOT _result EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BINARY_DIR} --prefix ${PREFIX} failed (${_result})")
endif()
