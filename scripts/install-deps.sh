#!/usr/bin/env bash
# Installs the Debian packages thingwell's build, tests, demo and benchmarks need.
# Usage: scripts/install-deps.sh [--cross] [--bench]
#   --cross  also the Cortex-M toolchain and QEMU (size reports, MCU example)
#   --bench  also the peer clients the benchmarks compare against
# Runs as root (or through sudo). Never pulls recommended packages: libasio-dev would drag in Boost.
set -euo pipefail

want_cross=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --cross) want_cross=1 ;;
    --bench) want_bench=1 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build meson pkg-config git ca-certificates
  clang libclang-rt-14-dev
  libasio-dev libwolfssl-dev libsimdjson-dev libfmt-dev doctest-dev
  mosquitto mosquitto-clients openssl
  python3 python3-paho-mqtt
)
# Node.js and npm run the interop tests (tests/interop: AWS's JavaScript device SDK, installed by npm into the
# build tree); keep a Node or npm that is already installed from elsewhere. Debian's npm depends on its nodejs.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi
if [ "$want_cross" = 1 ]; then
  packages+=(gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib libnewlib-arm-none-eabi qemu-system-arm binutils-arm-none-eabi)
fi
if [ "$want_bench" = 1 ]; then
  packages+=(libmosquitto-dev libpaho-mqttpp-dev libpaho-mqtt-dev valgrind)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: everything is already installed"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
