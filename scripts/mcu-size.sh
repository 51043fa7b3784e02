#!/usr/bin/env bash
# Cross-builds every examples/mcu/*.cpp for a Cortex-M4 (-Os, newlib-nano, no exceptions/RTTI), prints its
# size and, when qemu-system-arm is installed, runs it on the emulated MPS2 AN386 board: a program passes when
# main returns 0. Two harness self-tests run first and must exit with 0 and 3, which proves that an example's
# exit status really reaches this script.
#
# Usage: scripts/mcu-size.sh [build-dir]          (default: build/mcu)
# Environment: THINGWELL_MCU_RUN=0 skips QEMU; THINGWELL_MCU_TIMEOUT seconds per run (default 60).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/mcu}"
run="${THINGWELL_MCU_RUN:-1}"
timeout_s="${THINGWELL_MCU_TIMEOUT:-60}"

for tool in arm-none-eabi-g++ arm-none-eabi-size arm-none-eabi-nm cmake; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "mcu-size: $tool not found (Debian/Ubuntu: scripts/install-deps.sh --cross)" >&2
    exit 1
  fi
done

generator=()
if [ ! -f "$build/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
cmake -S "$root/examples/mcu" -B "$build" "${generator[@]}" \
  --toolchain "$root/cmake/toolchains/arm-none-eabi.cmake" -DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null
cmake --build "$build" --parallel 2

selftests=("$build/selftest-exit-0.elf" "$build/selftest-exit-3.elf")
mapfile -t examples < <(find "$root/examples/mcu" -maxdepth 1 -name '*.cpp' -printf '%f\n' | sed 's/\.cpp$//' | sort)

echo
echo "== size (text = code + read-only data in flash, data = initialised RAM, bss = zeroed RAM) =="
images=("${selftests[@]}")
for name in "${examples[@]}"; do images+=("$build/$name.elf"); done
arm-none-eabi-size "${images[@]}"

# Whole images include newlib, libstdc++, start-up and semihosting. What thingwell and the example itself
# cost is what the linker kept from the example's own object file (the library is header-only, so its code
# is compiled there); the map file says which input sections those are.
echo
echo "== code kept from each example's own translation unit (thingwell + the example), from the link map =="
printf '%-28s %10s %10s\n' example "flash (B)" "RAM (B)"
for name in "${examples[@]}"; do
  awk -v object="/$name.cpp.obj" '
    function hex(text,   i, value) {
      value = 0; text = tolower(text); sub(/^0x/, "", text)
      for (i = 1; i <= length(text); i++) value = value * 16 + index("0123456789abcdef", substr(text, i, 1)) - 1
      return value
    }
    function count(section, size, file) {
      if (index(file, object) == 0) return
      if (section ~ /^\.(text|rodata)/) flash += hex(size)
      else if (section ~ /^\.data/) { flash += hex(size); ram += hex(size) }
      else if (section ~ /^\.bss/) ram += hex(size)
    }
    /^Linker script and memory map/ { in_map = 1; next }
    !in_map { next }
    # An input section is " .name addr size file", or " .name" with "addr size file" on the next line.
    /^ \.[^ ]+$/ { pending = $1; next }
    pending != "" && $1 ~ /^0x/ && NF >= 3 { count(pending, $2, $3); pending = ""; next }
    /^ \.[^ ]+ +0x/ && NF >= 4 { count($1, $3, $4) }
    { pending = "" }
    END { printf "%-28s %10d %10d\n", name, flash, ram }
  ' name="$name" "$build/$name.elf.map"
done
if [ "${#examples[@]}" -eq 0 ]; then
  echo "(no examples/mcu/*.cpp yet)"
fi

if [ "$run" = 0 ]; then
  echo "mcu-size: THINGWELL_MCU_RUN=0, not running the images"
  exit 0
fi
if ! command -v qemu-system-arm >/dev/null 2>&1; then
  echo "mcu-size: qemu-system-arm not found, not running the images"
  exit 0
fi

# Prints the program's semihosting output and returns its exit status (124 on timeout).
run_image() {
  local status=0
  timeout "$timeout_s" qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic -monitor none \
    -serial null -semihosting-config enable=on,target=native -kernel "$1" </dev/null || status=$?
  return "$status"
}

echo
echo "== qemu-system-arm -machine mps2-an386 =="
failed=0
check() {
  local image="$1" expected="$2" status=0
  run_image "$image" || status=$?
  if [ "$status" -eq "$expected" ]; then
    echo "ok    $(basename "$image") exited with $status"
  else
    echo "FAIL  $(basename "$image") exited with $status, expected $expected$([ "$status" -eq 124 ] && echo ' (timeout)')"
    failed=1
  fi
}
check "$build/selftest-exit-0.elf" 0
check "$build/selftest-exit-3.elf" 3
for name in "${examples[@]}"; do check "$build/$name.elf" 0; done
exit "$failed"
