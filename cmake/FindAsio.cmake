# FindAsio — standalone Asio (think-async.com), which ships neither a CMake package nor a pkg-config file.
#
# Result: imported target Asio::Asio, variables Asio_FOUND, Asio_VERSION, Asio_INCLUDE_DIR.
# Asio::Asio carries ASIO_STANDALONE (never fall back to Boost.Asio headers) and ASIO_NO_DEPRECATED (keep
# thingwell honest about the current API), and links Threads::Threads because Asio's reactor needs it.
# Hint: Asio_ROOT or Asio_INCLUDE_DIR.

find_path(Asio_INCLUDE_DIR NAMES asio.hpp PATH_SUFFIXES asio/include)
mark_as_advanced(Asio_INCLUDE_DIR)

if(Asio_INCLUDE_DIR AND EXISTS "${Asio_INCLUDE_DIR}/asio/version.hpp")
  file(STRINGS "${Asio_INCLUDE_DIR}/asio/version.hpp" _asio_version_line
       REGEX "^#define[ \t]+ASIO_VERSION[ \t]+[0-9]+")
  string(REGEX REPLACE ".*ASIO_VERSION[ \t]+([0-9]+).*" "\\1" _asio_version_number "${_asio_version_line}")
  # ASIO_VERSION is major * 100000 + minor * 100 + patch.
  math(EXPR _asio_major "${_asio_version_number} / 100000")
  math(EXPR _asio_minor "${_asio_version_number} / 100 % 1000")
  math(EXPR _asio_patch "${_asio_version_number} % 100")
  set(Asio_VERSION "${_asio_major}.${_asio_minor}.${_asio_patch}")
  unset(_asio_version_line)
  unset(_asio_version_number)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Asio
  REQUIRED_VARS Asio_INCLUDE_DIR
  VERSION_VAR Asio_VERSION)

if(Asio_FOUND AND NOT TARGET Asio::Asio)
  set(THREADS_PREFER_PTHREAD_FLAG ON)
  find_package(Threads QUIET)
  add_library(Asio::Asio INTERFACE IMPORTED)
  set_target_properties(Asio::Asio PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${Asio_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "ASIO_STANDALONE;ASIO_NO_DEPRECATED")
  if(TARGET Threads::Threads)
    set_property(TARGET Asio::Asio APPEND PROPERTY INTERFACE_LINK_LIBRARIES Threads::Threads)
  endif()
endif()
