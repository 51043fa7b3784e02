#!/usr/bin/env bash
# The README's demo command: on a fresh Debian machine, installs what is needed, builds the examples and the
# local AWS IoT emulator, and plays the Device Shadow on loopback only:
#
#   - a throw-away PKI made with the openssl CLI: a CA, the broker's certificate (127.0.0.1 / localhost), a
#     device certificate for thing lamp-1 and one for the emulator ("the cloud");
#   - mosquitto on a free loopback port with a mutual-TLS listener (client certificate required, its CN is the
#     MQTT user name, an ACL keeps each device on its own thing's shadow topics);
#   - thingwell-emulator serving the Device Shadow over that listener, with a temporary data directory;
#   - the thingwell lamp (examples/shadow_lamp.cpp) reporting its state and following desired changes that the
#     emulator's admin command line makes while it runs; then the final shadow document;
#   - the thingwell job agent (examples/job_agent.cpp, thing pump-1) running a set-config job that the admin
#     command line creates (AWS IoT Jobs), until `jobs list` shows it SUCCEEDED.
#
# Then the plain publish/subscribe examples run against a plaintext listener of the same broker.
# Trace prefixes: "demo:" this script, "lamp:" and "agent:" the devices, "emulator:" the service's log, "cloud:"
# the admin command line. Exit status: 0 when every step worked.
#
# Usage: scripts/demo.sh [build-dir]        (default: build/demo)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/demo}"
thing="lamp-1"
lamp_seconds="${THINGWELL_DEMO_LAMP_SECONDS:-10}"
pump="pump-1"
agent_seconds="${THINGWELL_DEMO_AGENT_SECONDS:-6}"

say() { printf 'demo: %s\n' "$*"; }
fail() {
  printf 'demo: FAILED: %s\n' "$*" >&2
  exit 1
}

"$root/scripts/install-deps.sh"

# --- build ---------------------------------------------------------------------------------------------------
have_lamp=0
if [ -f "$root/examples/shadow_lamp.cpp" ]; then have_lamp=1; fi
targets=(thingwell-emulator example-poll_publish_subscribe example-asio_publish_subscribe example-asio_coroutines
  single-header-hello)
if [ "$have_lamp" = 1 ]; then targets+=(example-shadow_lamp); fi
have_agent=0
if [ -f "$root/examples/job_agent.cpp" ]; then have_agent=1 && targets+=(example-job_agent); fi

generator=()
if [ ! -f "$build/CMakeCache.txt" ]; then generator=(-G Ninja); fi
say "building the examples and the emulator (Release) in $build"
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DTHINGWELL_BUILD_TESTS=OFF -DTHINGWELL_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" --parallel 2 --target "${targets[@]}"
emulator="$build/tools/emulator/thingwell-emulator"
lamp="$build/examples/shadow_lamp"
agent="$build/examples/job_agent"
[ -x "$emulator" ] || fail "the build made no $emulator"

# --- clean-up --------------------------------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/thingwell-demo.XXXXXX")"
pids=()
# Stops what was started, last first (the lamp, the emulator, then the broker they talk to).
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[$i]}"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- PKI -------------------------------------------------------------------------------------------------------
say "making a throw-away PKI in $work/pki (CA, broker 127.0.0.1/localhost, devices $thing and $pump, emulator)"
pki="$work/pki"
mkdir -p "$pki"
openssl_quiet() { openssl "$@" >"$pki/openssl.log" 2>&1 || { cat "$pki/openssl.log" >&2; fail "openssl $1"; }; }
openssl_quiet req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj "/CN=thingwell demo CA" -keyout "$pki/ca.key" -out "$pki/ca.crt" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
# issue NAME CN PURPOSE [SAN]: NAME.key + NAME.crt signed by the CA.
issue() {
  local name="$1" cn="$2" purpose="$3" san="${4:-}"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$purpose"
    if [ -n "$san" ]; then echo "subjectAltName=$san"; fi
  } >"$pki/$name.ext"
  openssl_quiet req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
    -keyout "$pki/$name.key" -out "$pki/$name.csr"
  openssl_quiet x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 1 -sha256 -extfile "$pki/$name.ext" -out "$pki/$name.crt"
}
issue broker localhost serverAuth "DNS:localhost,IP:127.0.0.1"
issue device "$thing" clientAuth
issue pump "$pump" clientAuth
issue emulator thingwell-emulator clientAuth

# --- broker ----------------------------------------------------------------------------------------------------
# Debian's interpreter when there is one (a pyenv shim first on PATH costs half a second per call).
py=python3
if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; fi
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
  local _
  for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}
tls_port="$(free_port)"
plain_port="$(free_port)"
while [ "$plain_port" = "$tls_port" ]; do plain_port="$(free_port)"; done
mosquitto_bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
# The user name is the certificate's CN: the emulator may use every shadow topic and its admin topics; a device
# only its own thing's shadow and jobs (AWS does the same with a policy using ${iot:Connection.Thing.ThingName}).
cat >"$work/acl" <<'ACL'
user thingwell-emulator
topic readwrite $aws/things/#
topic readwrite $thingwell/emulator/#

pattern readwrite $aws/things/%u/shadow/#
pattern readwrite $aws/things/%u/jobs/#
ACL
# `user`: mosquitto started as root drops to the user "mosquitto", which cannot read this private directory.
cat >"$work/mosquitto.conf" <<CONF
user $(id -un)
per_listener_settings true
log_dest stderr
log_type error
log_type warning

listener $tls_port 127.0.0.1
cafile $pki/ca.crt
certfile $pki/broker.crt
keyfile $pki/broker.key
require_certificate true
use_identity_as_username true
acl_file $work/acl

listener $plain_port 127.0.0.1
allow_anonymous true
CONF
"$mosquitto_bin" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)
wait_port "$tls_port" && wait_port "$plain_port" || { cat "$work/mosquitto.log" >&2; fail "mosquitto did not start"; }
say "mosquitto: mutual TLS on 127.0.0.1:$tls_port (certificate CN = user, ACL), plaintext on 127.0.0.1:$plain_port"

# --- emulator --------------------------------------------------------------------------------------------------
broker_args=(--broker-host 127.0.0.1 --broker-port "$tls_port" --tls-ca "$pki/ca.crt" --tls-cert "$pki/emulator.crt"
  --tls-key "$pki/emulator.key")
# Its log goes to a file (for the readiness check) and, without the time stamps, to the trace.
"$emulator" serve "${broker_args[@]}" --data-dir "$work/shadows" \
  2> >(tee "$work/emulator.log" | sed -u 's/^[^ ]* thingwell-emulator: /emulator: /') &
emulator_pid=$!
pids+=("$emulator_pid")
for _ in $(seq 100); do
  grep -q "connected, serving" "$work/emulator.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "connected, serving" "$work/emulator.log" || fail "the emulator did not connect to the broker"

# cloud VERB ARGS...: the emulator's admin command line, traced; its answer (a JSON document) in $answer.
answer=""
cloud() {
  printf 'cloud: shadow %s\n' "$*"
  if ! answer="$("$emulator" shadow "$@" "${broker_args[@]}" --timeout 5 2>"$work/admin.err")"; then
    sed 's/^/cloud: /' "$work/admin.err"
    return 1
  fi
}
# field PATH: a field of $answer as JSON ("" when absent), e.g. field state reported power
field() {
  "$py" -c 'import json,sys
d=json.loads(sys.argv[1])
for k in sys.argv[2:]:
    d=d.get(k) if isinstance(d, dict) else None
print("" if d is None else json.dumps(d, sort_keys=True))' "$answer" "$@"
}
# settle: waits until the device has reported everything desired (no delta), up to 10 s.
settle() {
  local _
  for _ in $(seq 40); do
    if "$emulator" shadow get "$thing" "${broker_args[@]}" --timeout 5 >"$work/get.json" 2>/dev/null; then
      answer="$(cat "$work/get.json")"
      if [ -n "$(field state reported)" ] && [ -z "$(field state delta)" ]; then return 0; fi
    fi
    sleep 0.25
  done
  return 1
}

# --- the lamp --------------------------------------------------------------------------------------------------
status=0
if [ "$have_lamp" = 1 ]; then
  [ -x "$lamp" ] || fail "the build made no $lamp"
  say "starting the lamp (thing $thing, mutual TLS, ${lamp_seconds} s)"
  "$lamp" --host 127.0.0.1 --port "$tls_port" --thing "$thing" --ca "$pki/ca.crt" --cert "$pki/device.crt" \
    --key "$pki/device.key" --seconds "$lamp_seconds" > >(sed -u 's/^\(lamp: \)\{0,1\}/lamp: /') 2>&1 &
  lamp_pid=$!
  pids+=("$lamp_pid")

  say "waiting for the lamp to report its state"
  settle || fail "the lamp did not report its state within 10 s"
  say "the lamp reported $(field state reported) (shadow version $(field version))"

  say "the cloud asks for the light on"
  cloud set-desired "$thing" '{"power":"on"}' || fail "set-desired was refused"
  printf 'cloud: accepted, version %s\n' "$(field version)"
  settle || fail "the lamp did not follow the desired state within 10 s"
  say "in sync: reported $(field state reported) (version $(field version))"

  say "the cloud asks for red at 40% brightness"
  cloud set-desired "$thing" '{"color":"red","brightness":40}' || fail "set-desired was refused"
  printf 'cloud: accepted, version %s\n' "$(field version)"
  settle || fail "the lamp did not follow the desired state within 10 s"
  say "in sync: reported $(field state reported) (version $(field version))"

  say "waiting for the lamp to finish its ${lamp_seconds} s"
  if ! wait "$lamp_pid"; then
    say "the lamp exited with an error"
    status=1
  fi
else
  say "examples/shadow_lamp.cpp is not in this tree yet: the cloud side alone (no device follows the changes)"
  cloud set-desired "$thing" '{"power":"on"}' || fail "set-desired was refused"
  printf 'cloud: accepted, version %s\n' "$(field version)"
  cloud set-desired "$thing" '{"color":"red","brightness":40}' || fail "set-desired was refused"
  printf 'cloud: accepted, version %s\n' "$(field version)"
fi

say "the final shadow document of $thing:"
cloud get "$thing" || fail "shadow get failed"
printf '%s\n' "$answer" | "$py" -m json.tool 2>/dev/null | sed 's/^/cloud: /' || printf 'cloud: %s\n' "$answer"
if [ "$have_lamp" = 1 ]; then
  [ -z "$(field state delta)" ] || { say "the shadow still has a delta: the lamp is not in sync"; status=1; }
fi

# --- the job agent ------------------------------------------------------------------------------------------------
if [ "$have_agent" = 1 ]; then
  [ -x "$agent" ] || fail "the build made no $agent"
  say "starting the job agent (thing $pump, mutual TLS, ${agent_seconds} s, state in $work/pump)"
  "$agent" --host 127.0.0.1 --port "$tls_port" --thing "$pump" --ca "$pki/ca.crt" --cert "$pki/pump.crt" \
    --key "$pki/pump.key" --seconds "$agent_seconds" --state-dir "$work/pump" \
    > >(sed -u 's/^\(agent: \)\{0,1\}/agent: /') 2>&1 &
  agent_pid=$!
  pids+=("$agent_pid")

  printf '%s\n' '{"operation":"set-config","key":"flow","value":"12"}' >"$work/job.json"
  printf 'cloud: jobs create cfg-1 --things %s --document %s\n' "$pump" "$(cat "$work/job.json")"
  "$emulator" jobs create cfg-1 --things "$pump" --document "$work/job.json" "${broker_args[@]}" --timeout 5 \
    2>"$work/admin.err" | sed 's/^/cloud: /' || { sed 's/^/cloud: /' "$work/admin.err"; fail "jobs create was refused"; }
  say "waiting for the agent to run it"
  job_status=""
  for _ in $(seq 40); do
    if answer="$("$emulator" jobs list --thing "$pump" --json "${broker_args[@]}" --timeout 5 2>/dev/null)"; then
      answer="${answer#"${answer%%\{*}"}"
      job_status="$("$py" -c 'import json,sys
for e in json.loads(sys.argv[1]).get("executions", []):
    if e.get("jobId") == "cfg-1": print(e.get("status", ""))' "$answer" 2>/dev/null || true)"
      case "$job_status" in SUCCEEDED | FAILED | REJECTED | CANCELED | TIMED_OUT | REMOVED) break ;; esac
    fi
    sleep 0.25
  done
  printf 'cloud: jobs list --thing %s\n' "$pump"
  "$emulator" jobs list --thing "$pump" "${broker_args[@]}" --timeout 5 2>&1 | sed 's/^/cloud: /' || true
  if [ "$job_status" = SUCCEEDED ]; then
    say "job cfg-1 SUCCEEDED; the device wrote flow=$(cat "$work/pump/config/flow" 2>/dev/null || echo '?')"
  else
    say "job cfg-1 did not succeed (status: ${job_status:-none})"
    status=1
  fi
  if ! wait "$agent_pid"; then
    say "the job agent exited with an error"
    status=1
  fi
fi

say "stopping the emulator"
stop "$emulator_pid"

# --- the plain examples ------------------------------------------------------------------------------------------
for example in poll_publish_subscribe asio_publish_subscribe asio_coroutines single_header/hello; do
  echo
  say "$example (plaintext, 127.0.0.1:$plain_port)"
  "$build/examples/$example" 127.0.0.1 "$plain_port" || status=1
done
echo
if [ "$status" = 0 ]; then say "every device finished its job"; else say "a device failed (see above)"; fi
exit "$status"
