# FindWolfSSL — wolfSSL, which installs a pkg-config file but no CMake package on most distributions.
#
# Result: imported target WolfSSL::WolfSSL, variables WolfSSL_FOUND, WolfSSL_VERSION, WolfSSL_INCLUDE_DIR,
# WolfSSL_LIBRARY. pkg-config is asked first because it knows the flags the library was built with; the plain
# header/library search covers builds from source and cross toolchains without pkg-config.
# Hint: WolfSSL_ROOT, or WolfSSL_INCLUDE_DIR and WolfSSL_LIBRARY.

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_WolfSSL QUIET wolfssl)
endif()

find_path(WolfSSL_INCLUDE_DIR NAMES wolfssl/ssl.h HINTS ${PC_WolfSSL_INCLUDE_DIRS})
find_library(WolfSSL_LIBRARY NAMES wolfssl libwolfssl HINTS ${PC_WolfSSL_LIBRARY_DIRS})
mark_as_advanced(WolfSSL_INCLUDE_DIR WolfSSL_LIBRARY)

if(WolfSSL_INCLUDE_DIR AND EXISTS "${WolfSSL_INCLUDE_DIR}/wolfssl/version.h")
  file(STRINGS "${WolfSSL_INCLUDE_DIR}/wolfssl/version.h" _wolfssl_version_line
       REGEX "^#define[ \t]+LIBWOLFSSL_VERSION_STRING[ \t]+\"[^\"]*\"")
  string(REGEX REPLACE ".*\"([^\"]*)\".*" "\\1" WolfSSL_VERSION "${_wolfssl_version_line}")
  unset(_wolfssl_version_line)
elseif(PC_WolfSSL_VERSION)
  set(WolfSSL_VERSION "${PC_WolfSSL_VERSION}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(WolfSSL
  REQUIRED_VARS WolfSSL_LIBRARY WolfSSL_INCLUDE_DIR
  VERSION_VAR WolfSSL_VERSION)

if(WolfSSL_FOUND AND NOT TARGET WolfSSL::WolfSSL)
  add_library(WolfSSL::WolfSSL UNKNOWN IMPORTED)
  set_target_properties(WolfSSL::WolfSSL PROPERTIES
    IMPORTED_LOCATION "${WolfSSL_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${WolfSSL_INCLUDE_DIR}")
  # Defines such as -DWOLFSSL_USER_SETTINGS must match the ones the library was compiled with.
  if(PC_WolfSSL_FOUND AND PC_WolfSSL_CFLAGS_OTHER)
    set_property(TARGET WolfSSL::WolfSSL PROPERTY INTERFACE_COMPILE_OPTIONS ${PC_WolfSSL_CFLAGS_OTHER})
  endif()
  # A static libwolfssl.a needs its own dependencies on the link line.
  if(WolfSSL_LIBRARY MATCHES "\\.a$")
    set(THREADS_PREFER_PTHREAD_FLAG ON)
    find_package(Threads QUIET)
    set(_wolfssl_static_deps m)
    if(TARGET Threads::Threads)
      list(APPEND _wolfssl_static_deps Threads::Threads)
    endif()
    set_property(TARGET WolfSSL::WolfSSL PROPERTY INTERFACE_LINK_LIBRARIES ${_wolfssl_static_deps})
    unset(_wolfssl_static_deps)
  endif()
endif()
