#!/usr/bin/env bash
# Runs client_bench for every client and workload against ONE local mosquitto and prints a table of
# medians with each peer's ratio to thingwell's poll driver.
#
#   bench/client/run_client_bench.sh [--bench PATH] [--reps N] [--clients "a b c"] [--quick]
#                                    [--callgrind] [--out DIR] [--mqtt 5|4] [--mosquitto PATH]
#
#   --bench PATH     the client_bench binary (default: build/bench/client/client_bench)
#   --reps N         runs of each measurement; the table shows the median (default 3)
#   --clients LIST   default: "thingwell-poll thingwell-asio mosquitto paho"
#   --quick          a tenth of the message counts (a smoke test, not a measurement)
#   --callgrind      also count instructions per message (valgrind) for QoS 0 and QoS 1 window 64
#   --out DIR        keep raw results (results.tsv), the broker config and callgrind profiles here
#   --table FILE     only print the table of an earlier results.tsv (several files: repeat the option)
#
# The broker: mosquitto on a free 127.0.0.1 port with `allow_anonymous true`, `max_queued_messages 0`
# and `max_inflight_messages 0` (no broker-side limits), `set_tcp_nodelay true`, no persistence and no
# logging. Runs are interleaved (repetition, workload, client) so that a change in machine load over time
# affects every client alike.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench="${here}/../../build/bench/client/client_bench"
reps=3
clients="thingwell-poll thingwell-asio mosquitto paho"
scale=1
callgrind=0
out=""
mqtt=5
mosquitto_bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
tables=()

while [[ $# -gt 0 ]]; do
  case "$1" in
    --bench) bench="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --quick) scale=10; shift ;;
    --callgrind) callgrind=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --mqtt) mqtt="$2"; shift 2 ;;
    --mosquitto) mosquitto_bin="$2"; shift 2 ;;
    --table) tables+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

print_table() {  # results-file clients load-before load-after reps
  python3 - "$@" <<'EOF'
import collections, statistics, sys
path, clients, load_before, load_after, reps = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4], sys.argv[5]
data = collections.defaultdict(lambda: collections.defaultdict(list))  # (workload, client) -> key -> values
for line in open(path):
    name, client, fields = line.rstrip('\n').split('\t', 2)
    for kv in fields.split():
        k, _, v = kv.partition('=')
        try:
            data[(name, client)][k].append(float(v))
        except ValueError:
            pass

def med(name, client, key):
    v = data.get((name, client), {}).get(key)
    return statistics.median(v) if v else None

rows = [  # label, workload, key, format, lower is better
    ('QoS 0 publish, msgs/s', 'qos0', 'msgs_per_s', '{:,.0f}', False),
    ('QoS 0 publish, CPU µs/msg', 'qos0', 'cpu_us_per_msg', '{:.2f}', True),
    ('QoS 1 window 1, msgs/s', 'qos1-w1', 'msgs_per_s', '{:,.0f}', False),
    ('QoS 1 window 1, CPU µs/msg', 'qos1-w1', 'cpu_us_per_msg', '{:.2f}', True),
    ('QoS 1 window 16, msgs/s', 'qos1-w16', 'msgs_per_s', '{:,.0f}', False),
    ('QoS 1 window 16, CPU µs/msg', 'qos1-w16', 'cpu_us_per_msg', '{:.2f}', True),
    ('QoS 1 window 64, msgs/s', 'qos1-w64', 'msgs_per_s', '{:,.0f}', False),
    ('QoS 1 window 64, CPU µs/msg', 'qos1-w64', 'cpu_us_per_msg', '{:.2f}', True),
    ('publish→PUBACK p50 µs', 'qos1-w1', 'p50_us', '{:.0f}', True),
    ('publish→PUBACK p99 µs', 'qos1-w1', 'p99_us', '{:.0f}', True),
    ('round trip QoS 0 p50 µs', 'roundtrip-q0', 'p50_us', '{:.0f}', True),
    ('round trip QoS 0 p99 µs', 'roundtrip-q0', 'p99_us', '{:.0f}', True),
    ('round trip QoS 0, CPU µs/msg', 'roundtrip-q0', 'cpu_us_per_msg', '{:.2f}', True),
    ('round trip QoS 1 p50 µs', 'roundtrip-q1', 'p50_us', '{:.0f}', True),
    ('round trip QoS 1 p99 µs', 'roundtrip-q1', 'p99_us', '{:.0f}', True),
    ('allocations per QoS 0 publish', 'qos0', 'allocs_per_msg', '{:.2f}', True),
    ('allocations per QoS 1 publish (w1)', 'qos1-w1', 'allocs_per_msg', '{:.2f}', True),
    ('allocations per QoS 1 publish (w64)', 'qos1-w64', 'allocs_per_msg', '{:.2f}', True),
    ('allocations per round trip (QoS 0)', 'roundtrip-q0', 'allocs_per_msg', '{:.2f}', True),
    ('idle connected client, RSS kB', 'idle', 'rss_kb', '{:,.0f}', True),
    ('idle client, RSS over the same process unconnected, kB', 'idle', 'rss_delta', '{:,.0f}', True),
    ('idle connected client, anonymous RSS kB', 'idle', 'rss_anon_kb', '{:,.0f}', True),
    ('idle connected client, file-backed RSS kB', 'idle', 'rss_file_kb', '{:,.0f}', True),
    ('idle connected client, threads', 'idle', 'threads', '{:.0f}', True),
    ('QoS 0, instructions/msg (callgrind)', 'qos0', 'ir_per_msg', '{:,.0f}', True),
    ('QoS 1 window 64, instructions/msg (callgrind)', 'qos1-w64', 'ir_per_msg', '{:,.0f}', True),
]
for c in clients:
    v = data.get(('idle', c), {}).get('rss_kb')
    b = med('idle-base', c, 'rss_kb')
    if v and b is not None:
        data[('idle', c)]['rss_delta'] = [x - b for x in v]

ref = 'thingwell-poll' if 'thingwell-poll' in clients else clients[0]
head = ['measure (median of %s)' % reps] + clients
print()
print('| ' + ' | '.join(head) + ' |')
print('|' + '---|' * len(head))
for label, w, key, fmt, _ in rows:
    vals = [med(w, c, key) for c in clients]
    if all(v is None for v in vals):
        continue
    r = med(w, ref, key)
    cells = []
    for c, v in zip(clients, vals):
        if v is None:
            cells.append('—')
            continue
        s = fmt.format(v)
        if c != ref and r not in (None, 0) and v != 0:
            s += ' (%.2f×)' % (v / r)
        cells.append(s)
    print('| ' + label + ' | ' + ' | '.join(cells) + ' |')
print()
print('Idle memory: each client in a process that links only that client (client_bench_only_*), connected')
print('and idle for 2 s; the unconnected baseline of the same binaries: ' +
      ', '.join('%s %s kB' % (c, '%.0f' % med('idle-base', c, 'rss_kb') if med('idle-base', c, 'rss_kb') is not None else '?')
                for c in clients) + '.')
nd = {c: med('qos1-w1', c, 'nodelay') for c in clients}
print('TCP_NODELAY on the client socket: ' + ', '.join('%s %s' % (c, 'yes' if v == 1 else ('no' if v == 0 else '?')) for c, v in nd.items()))
print('Ratios in parentheses: the client\'s value divided by %s\'s.' % ref)
print('Load average (1, 5, 15 min) before: %s; after: %s' % (' '.join(load_before.split()[:3]), ' '.join(load_after.split()[:3])))
EOF
}

if [[ ${#tables[@]} -gt 0 ]]; then
  cat "${tables[@]}" > "${TMPDIR:-/tmp}/client-bench-table.$$"
  print_table "${TMPDIR:-/tmp}/client-bench-table.$$" "$clients" "?" "?" "$reps"
  rm -f "${TMPDIR:-/tmp}/client-bench-table.$$"
  exit 0
fi

[[ -x "$bench" ]] || { echo "client_bench not found at $bench (build it, or pass --bench PATH)" >&2; exit 1; }
[[ -x "$mosquitto_bin" ]] || { echo "mosquitto not found (Debian: apt-get install mosquitto)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed for the table" >&2; exit 1; }

if [[ -z "$out" ]]; then
  out="$(mktemp -d "${TMPDIR:-/tmp}/client-bench.XXXXXX")"
fi
mkdir -p "$out"
results="$out/results.tsv"
: > "$results"

# A free loopback port (the kernel picks it; the small race with other programs is harmless here).
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
cat > "$out/mosquitto.conf" <<EOF
listener ${port} 127.0.0.1
allow_anonymous true
max_queued_messages 0
max_inflight_messages 0
set_tcp_nodelay true
persistence false
log_dest none
EOF
"$mosquitto_bin" -c "$out/mosquitto.conf" &
broker=$!
trap 'kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  if python3 -c "import socket; socket.create_connection(('127.0.0.1',${port}),0.2).close()" 2>/dev/null; then break; fi
  sleep 0.1
done

load_before="$(cat /proc/loadavg)"
echo "client_bench: $(nproc) cores, load average before: ${load_before}; broker pid ${broker} on 127.0.0.1:${port}" >&2

# workload name | client_bench arguments
workloads=(
  "qos0|--mode qos0 --window 64 --count $((200000 / scale))"
  "qos1-w1|--mode latency --window 1 --count $((20000 / scale))"
  "qos1-w16|--mode qos1 --window 16 --count $((60000 / scale))"
  "qos1-w64|--mode qos1 --window 64 --count $((100000 / scale))"
  "roundtrip-q0|--mode roundtrip --qos 0 --window 1 --count $((20000 / scale))"
  "roundtrip-q1|--mode roundtrip --qos 1 --window 1 --count $((20000 / scale))"
)

# The binary with this client alone (client_bench_only_<client>), for memory measurements; else client_bench.
only_binary() {
  local b
  b="$(dirname "$bench")/client_bench_only_${1//-/_}"
  if [[ -x "$b" ]]; then echo "$b"; else echo "$bench"; fi
}

run_one() {  # workload-name client binary args...
  local name="$1" client="$2" binary="$3"; shift 3
  local line
  if line="$("$binary" --client "$client" --port "$port" --mqtt "$mqtt" "$@" 2>"$out/stderr.txt" | grep '^RESULT ')"; then
    printf '%s\t%s\t%s\n' "$name" "$client" "${line#RESULT }" >> "$results"
  else
    echo "client_bench: $client $name failed: $(tail -n 3 "$out/stderr.txt")" >&2
  fi
}

for rep in $(seq "$reps"); do
  echo "client_bench: repetition $rep of $reps" >&2
  for w in "${workloads[@]}"; do
    name="${w%%|*}"
    read -r -a args <<< "${w#*|}"
    for c in $clients; do run_one "$name" "$c" "$bench" "${args[@]}"; done
  done
  # Idle memory: a process with only this client linked, connected and idle for 2 s, and the same
  # binary connecting nothing (what the process costs before the client does anything).
  for c in $clients; do
    run_one idle "$c" "$(only_binary "$c")" --mode idle --idle-seconds 2
    line="$("$(only_binary "$c")" --client none --mode idle --idle-seconds 1 2>/dev/null | grep '^RESULT ' || true)"
    [[ -n "$line" ]] && printf '%s\t%s\t%s\n' idle-base "$c" "${line#RESULT }" >> "$results"
  done
done

if [[ "$callgrind" == 1 ]]; then
  command -v valgrind >/dev/null || { echo "valgrind not found: skipping instruction counts" >&2; callgrind=0; }
fi
if [[ "$callgrind" == 1 ]]; then
  cg_workloads=(
    "qos0|--mode qos0 --window 64 --count $((20000 / scale)) --warmup $((5000 / scale))"
    "qos1-w64|--mode qos1 --window 64 --count $((10000 / scale)) --warmup $((2000 / scale))"
  )
  for w in "${cg_workloads[@]}"; do
    name="${w%%|*}"
    read -r -a args <<< "${w#*|}"
    for c in $clients; do
      prefix="$out/callgrind.${c}.${name}"
      rm -f "${prefix}".*
      if valgrind --tool=callgrind --callgrind-out-file="${prefix}.%p" \
           "$bench" --client "$c" --port "$port" --mqtt "$mqtt" "${args[@]}" >/dev/null 2>"$out/stderr.txt"; then
        # The part dumped by CALLGRIND_DUMP_STATS_AT("measure") covers exactly the measured messages.
        dump="$(grep -l '^desc: Trigger: Client Request: measure' "${prefix}".* | head -n 1 || true)"
        count="$(printf '%s\n' "${args[@]}" | awk 'prev=="--count"{print} {prev=$0}')"
        if [[ -n "$dump" ]]; then
          total="$(awk '/^(summary|totals):/{print $2; exit}' "$dump")"
          printf '%s\t%s\tir_per_msg=%s\n' "$name" "$c" "$(python3 -c "print(f'{${total}/${count}:.0f}')")" >> "$results"
        fi
      else
        echo "client_bench: callgrind run of $c $name failed: $(tail -n 3 "$out/stderr.txt")" >&2
      fi
    done
  done
fi

load_after="$(cat /proc/loadavg)"
echo "client_bench: load average after: ${load_after}" >&2

print_table "$results" "$clients" "$load_before" "$load_after" "$reps"
echo "raw results: $results" >&2
