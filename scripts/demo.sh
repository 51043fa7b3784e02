#!/usr/bin/env bash
# The README's demo command: on a fresh Debian machine, installs what is needed, builds the examples,
# starts a local mosquitto on a free loopback port and runs thingwell devices against it.
#
# Usage: scripts/demo.sh [build-dir]        (default: build/demo)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/demo}"

"$root/scripts/install-deps.sh"

generator=()
if [ ! -f "$build/CMakeCache.txt" ]; then generator=(-G Ninja); fi
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DTHINGWELL_BUILD_TESTS=OFF -DTHINGWELL_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" --parallel 2 --target example-poll_publish_subscribe example-asio_publish_subscribe \
  example-asio_coroutines single-header-hello

work="$(mktemp -d)"
broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A free loopback port: bind to port 0 and read back what the kernel chose.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mosquitto_bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
cat >"$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
CONF
"$mosquitto_bin" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
broker_pid=$!
for _ in $(seq 50); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then break; fi
  sleep 0.1
done

status=0
for example in poll_publish_subscribe asio_publish_subscribe asio_coroutines single_header/hello; do
  echo
  echo "── $example (mosquitto on 127.0.0.1:$port) ──"
  "$build/examples/$example" 127.0.0.1 "$port" || status=1
done
echo
if [ "$status" = 0 ]; then echo "demo: every device finished its job"; else echo "demo: a device failed (see above)"; fi
exit "$status"
