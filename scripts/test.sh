#!/usr/bin/env bash
# Builds thingwell and runs every test, on a fresh Debian 12 or Ubuntu as well as on a developer machine:
#   1. scripts/install-deps.sh --cross       (installs only what is missing)
#   2. configure build/ with GCC, Ninja, Debug, AddressSanitizer + UndefinedBehaviorSanitizer
#   3. build everything (keeps going past errors, so that all tests that can run do)
#   4. one ctest run: unit (with and without exceptions/RTTI), host, integration (real mosquitto), fuzz replay,
#      libFuzzer runs (clang sub-build), consumer projects, Meson, single header freshness, Cortex-M4 build
#      and QEMU run. Its summary line is the last thing printed.
#
# Usage: scripts/test.sh [ctest arguments]     e.g. scripts/test.sh -R unit     scripts/test.sh -L integration
# Environment:
#   THINGWELL_BUILD_DIR     build tree (default: build)
#   THINGWELL_FUZZ_SECONDS  how long each libFuzzer test runs (default: 30)
#   THINGWELL_JOBS          parallel compile and test jobs (default: number of CPUs)
#   THINGWELL_WERROR        ON to fail on compiler warnings in tests and examples (default: OFF)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${THINGWELL_BUILD_DIR:-$root/build}"
jobs="${THINGWELL_JOBS:-$(nproc 2>/dev/null || echo 2)}"
fuzz_seconds="${THINGWELL_FUZZ_SECONDS:-30}"
werror="${THINGWELL_WERROR:-OFF}"

phase() { echo; echo "=== test.sh: $* ==="; }

phase "dependencies"
t0=$SECONDS
"$root/scripts/install-deps.sh" --cross
deps_time=$((SECONDS - t0))

phase "configure $build"
t0=$SECONDS
fresh=()
if [ ! -f "$build/CMakeCache.txt" ]; then
  # Compiler and generator can only be chosen when the tree is created.
  fresh=(-G Ninja -DCMAKE_CXX_COMPILER=g++)
fi
cmake -S "$root" -B "$build" "${fresh[@]}" \
  -DCMAKE_BUILD_TYPE=Debug \
  -DTHINGWELL_SANITIZE=address,undefined \
  -DTHINGWELL_WERROR="$werror" \
  -DTHINGWELL_BUILD_TESTS=ON \
  -DTHINGWELL_BUILD_EXAMPLES=ON \
  -DTHINGWELL_FUZZ_SECONDS="$fuzz_seconds"
configure_time=$((SECONDS - t0))

phase "build ($jobs jobs)"
t0=$SECONDS
keep_going=()
if grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja' "$build/CMakeCache.txt"; then keep_going=(-- -k 0); fi
build_status=0
cmake --build "$build" --parallel "$jobs" "${keep_going[@]}" || build_status=$?
build_time=$((SECONDS - t0))

echo
echo "test.sh: dependencies ${deps_time} s, configure ${configure_time} s, build ${build_time} s$(
  [ "$build_status" -ne 0 ] && echo '; BUILD FAILED, the ctest test "build" repeats the errors')"

# Nothing is printed after ctest: its summary line (and total test time) end the output.
phase "ctest ($jobs jobs)"
test_status=0
ctest --test-dir "$build" --parallel "$jobs" --output-on-failure "$@" || test_status=$?

if [ "$test_status" -ne 0 ]; then exit "$test_status"; fi
exit "$build_status"
