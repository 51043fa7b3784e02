#!/usr/bin/env bash
# Full-size evidence for the outbox (requirements F-02): 100,000 QoS 1 messages through a file-log outbox
# while mosquitto is restarted 20 times; the subscriber must see every message in order per topic.
#
#   scripts/soak-outbox.sh                 # 100000 messages, 20 restarts
#   MESSAGES=20000 RESTARTS=5 scripts/soak-outbox.sh
#   THINGWELL_SOAK_MESSAGES=20000 THINGWELL_SOAK_RESTARTS=5 scripts/soak-outbox.sh   # the same
#
# Builds thingwell-integration in an optimised tree of its own (THINGWELL_SOAK_BUILD_DIR, default
# build-soak) and runs only the outbox integration test case with the sizes in the environment. The
# numbers (received, duplicates, out of order, seconds, messages per second) are printed at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${THINGWELL_SOAK_BUILD_DIR:-$root/build-soak}"
# Both spellings: the short one for people, the test's own names for CI jobs that already export them.
messages="${MESSAGES:-${THINGWELL_SOAK_MESSAGES:-100000}}"
restarts="${RESTARTS:-${THINGWELL_SOAK_RESTARTS:-20}}"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTHINGWELL_BUILD_TESTS=ON >/dev/null
nice cmake --build "$build" --target thingwell-integration
binary="$(find "$build" -name thingwell-integration -type f -perm -u+x | head -n 1)"
if [[ -z "$binary" ]]; then
  echo "soak-outbox: thingwell-integration was not built in $build" >&2
  exit 1
fi

THINGWELL_SOAK_MESSAGES="$messages" THINGWELL_SOAK_RESTARTS="$restarts" THINGWELL_SOAK_DRAIN_MS=600000 \
  "$binary" --test-case="outbox against mosquitto*" --success=false 2>&1 | tee "$build/soak-outbox.log"
grep -o 'outbox soak:.*' "$build/soak-outbox.log"
