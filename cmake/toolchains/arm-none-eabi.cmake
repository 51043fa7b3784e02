# Cross toolchain: GNU Arm Embedded (arm-none-eabi) for a Cortex-M4F, bare metal with newlib-nano.
#
#   cmake -S <project> -B build-mcu --toolchain cmake/toolchains/arm-none-eabi.cmake -DCMAKE_BUILD_TYPE=MinSizeRel
#
# THINGWELL_MCU_SYSCALLS picks newlib's system-call layer: "rdimon" (semihosting: printf and exit reach the
# debugger or QEMU) or "nosys" (stubs; what a product links). THINGWELL_ARM_TOOLCHAIN_PREFIX points at a
# toolchain that is not on PATH, e.g. /opt/gcc-arm/bin/arm-none-eabi-.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

if(NOT DEFINED THINGWELL_ARM_TOOLCHAIN_PREFIX)
  set(THINGWELL_ARM_TOOLCHAIN_PREFIX "$ENV{THINGWELL_ARM_TOOLCHAIN_PREFIX}")
endif()
if(NOT THINGWELL_ARM_TOOLCHAIN_PREFIX)
  set(THINGWELL_ARM_TOOLCHAIN_PREFIX "arm-none-eabi-")
endif()
if(NOT DEFINED THINGWELL_MCU_SYSCALLS)
  set(THINGWELL_MCU_SYSCALLS rdimon)
endif()
# try_compile() projects re-read this file and need to see the same choices.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES THINGWELL_ARM_TOOLCHAIN_PREFIX THINGWELL_MCU_SYSCALLS)

set(CMAKE_C_COMPILER "${THINGWELL_ARM_TOOLCHAIN_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${THINGWELL_ARM_TOOLCHAIN_PREFIX}g++")
set(CMAKE_ASM_COMPILER "${THINGWELL_ARM_TOOLCHAIN_PREFIX}gcc")
set(CMAKE_OBJCOPY "${THINGWELL_ARM_TOOLCHAIN_PREFIX}objcopy" CACHE FILEPATH "")
set(CMAKE_SIZE "${THINGWELL_ARM_TOOLCHAIN_PREFIX}size" CACHE FILEPATH "")

# There is no OS to run a test executable on, so compiler checks build a library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(_cpu_flags "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
# Sections per function and object, so that --gc-sections drops everything a program does not use.
set(_common_flags "${_cpu_flags} -Os -ffunction-sections -fdata-sections --specs=nano.specs")
set(CMAKE_C_FLAGS_INIT "${_common_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_common_flags} -fno-exceptions -fno-rtti")
set(CMAKE_ASM_FLAGS_INIT "${_cpu_flags}")
# The compile flags (CPU, nano.specs) are on the link line already; GCC refuses nano.specs twice.
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=${THINGWELL_MCU_SYSCALLS}.specs -Wl,--gc-sections")

# Only the target's own headers and libraries: never pick up the host's /usr/include or /usr/lib. The
# toolchain's own tree (where newlib's libc.a lives) is the root to search.
if(NOT CMAKE_FIND_ROOT_PATH)
  execute_process(COMMAND "${CMAKE_C_COMPILER}" -print-file-name=libc.a
                  OUTPUT_VARIABLE _libc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(IS_ABSOLUTE "${_libc}" AND EXISTS "${_libc}")
    get_filename_component(_target_root "${_libc}/../.." ABSOLUTE)
    set(CMAKE_FIND_ROOT_PATH "${_target_root}")
  endif()
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
