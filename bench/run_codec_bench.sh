#!/usr/bin/env bash
# Runs codec_bench twice, natively (time per operation) and under callgrind (instructions per
# operation), and prints one table joining both.
#
#   bench/run_codec_bench.sh [--bench PATH] [--filter TEXT] [--keep DIR] [--no-callgrind] [--tsv]
#
#   --bench PATH     the codec_bench executable (default: $CODEC_BENCH, else build/bench/codec_bench)
#   --filter TEXT    only the cases whose id contains TEXT
#   --keep DIR       keep the callgrind dumps in DIR (one file per case; open with callgrind_annotate
#                    or kcachegrind to see where the instructions go)
#   --no-callgrind   timing only
#   --tsv            tab-separated output instead of a Markdown table
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench="${CODEC_BENCH:-}"
filter=()
keep=""
callgrind=1
tsv=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bench) bench="$2"; shift 2 ;;
    --filter) filter=(--filter "$2"); shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    --no-callgrind) callgrind=0; shift ;;
    --tsv) tsv=1; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_codec_bench.sh: unknown argument '$1'" >&2; exit 1 ;;
  esac
done
if [[ -z "$bench" ]]; then
  for candidate in "$here/../build/bench/codec_bench" "./bench/codec_bench" "./codec_bench"; do
    if [[ -x "$candidate" ]]; then bench="$candidate"; break; fi
  done
fi
if [[ -z "$bench" || ! -x "$bench" ]]; then
  echo "run_codec_bench.sh: codec_bench not found; build it (see bench/README.md) or pass --bench PATH" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "timing: $bench" >&2
"$bench" --tsv "${filter[@]}" >"$work/timed.tsv"

if [[ $callgrind -eq 1 ]]; then
  if ! command -v valgrind >/dev/null 2>&1; then
    echo "run_codec_bench.sh: valgrind not found, instructions per operation left empty" >&2
    callgrind=0
  elif grep -q 'callgrind.h no' "$work/timed.tsv"; then
    echo "run_codec_bench.sh: codec_bench was built without <valgrind/callgrind.h>, no per-case dumps" >&2
    callgrind=0
  fi
fi

: >"$work/ir.tsv"
if [[ $callgrind -eq 1 ]]; then
  echo "callgrind: $bench --callgrind (takes a minute or two)" >&2
  mkdir -p "$work/cg"
  valgrind --tool=callgrind --callgrind-out-file="$work/cg/callgrind.out.%p" \
    "$bench" --callgrind "${filter[@]}" >"$work/ops.tsv" 2>"$work/valgrind.log" || {
      echo "run_codec_bench.sh: the callgrind run failed, see below" >&2
      tail -20 "$work/valgrind.log" >&2
      exit 1
    }
  # Each CALLGRIND_DUMP_STATS_AT(<id>) wrote one file whose trigger names the case; its summary line is
  # the instruction count of exactly that case's measured loop.
  for f in "$work"/cg/callgrind.out.*; do
    awk '
      /^desc: Trigger: Client Request: / { sub(/^desc: Trigger: Client Request: /, ""); id = $0 }
      /^summary: / { ir = $2 }
      /^totals: / { if (ir == "") ir = $2 }
      END { if (id != "" && ir != "") print id "\t" ir }' "$f" >>"$work/ir.tsv"
  done
  if [[ -n "$keep" ]]; then
    mkdir -p "$keep"
    for f in "$work"/cg/callgrind.out.*; do
      id="$(sed -n 's/^desc: Trigger: Client Request: //p' "$f")"
      [[ -n "$id" ]] && cp "$f" "$keep/callgrind.$id"
    done
    echo "callgrind dumps kept in $keep" >&2
  fi
fi

# Join: timed rows, + ops per callgrind run, + Ir per callgrind run.
awk -F'\t' -v tsv="$tsv" -v ops_file="$work/ops.tsv" -v ir_file="$work/ir.tsv" '
  BEGIN {
    while ((getline line < ops_file) > 0) { if (line ~ /^#/) continue; split(line, f, "\t"); ops[f[1]] = f[2] }
    while ((getline line < ir_file) > 0) { split(line, f, "\t"); ir[f[1]] = f[2] }
    if (tsv) print "id\twhat\top\timpl\tclock\tns_per_op\tops_per_s\tir_per_op\tnote"
    else {
      print "| what | operation | impl | ns/op | ops/s | Ir/op | note |"
      print "|---|---|---|--:|--:|--:|---|"
    }
  }
  /^#/ { next }
  {
    id = $1; irop = ""
    if ((id in ir) && (id in ops) && ops[id] > 0) irop = sprintf("%.0f", ir[id] / ops[id])
    ns = ($5 == "cpu") ? sprintf("%.0f CPU", $6) : sprintf("%.1f", $6)
    if (tsv) print $1 "\t" $2 "\t" $3 "\t" $4 "\t" $5 "\t" $6 "\t" $7 "\t" irop "\t" $8
    else printf "| %s | %s | %s | %s | %.0f | %s | %s |\n", $2, $3, $4, ns, $7, irop, $8
  }' "$work/timed.tsv"
