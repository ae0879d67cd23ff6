#!/usr/bin/env bash
# Cost per API request (issue #16, goal 5), counted so that it repeats on a noisy machine:
# instructions (callgrind, the difference of two runs with different request counts, so that
# start-up cancels out) and heap allocations (the bench's counting allocator). Each read with
# the read cache on (the hot path) and off (built every time), next to /healthz (the floor:
# middleware and routing alone). SQLite, the embedded default; release build.
#
#   bench/cost_bench.sh                       # every read
#   READS="comments video" bench/cost_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/streamvault-target}"
command -v valgrind >/dev/null || { echo "error: valgrind is required (apt-get install valgrind)" >&2; exit 1; }
reads="${READS:-healthz comments video channel home search}"
few=50
many=1050
cargo build --release -p cost_bench >/dev/null
bin="$CARGO_TARGET_DIR/release/cost_bench"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" seed "$work/data"

# instructions READ CACHE N: the total instructions of a run of N requests, less quanta's clock
# calibration (moka's clock spins until the TSC looks stable: 10-20 million instructions that
# vary from run to run with timing, which would otherwise swamp the difference per request).
instructions() {
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" run "$work/data" --read "$1" --cache "$2" \
    --requests "$3" >/dev/null 2>"$work/cg.err"
  local total calibration
  total=$(awk '/^totals:/ {print $2}' "$work/cg.out")
  calibration=$(callgrind_annotate --inclusive=yes "$work/cg.out" 2>/dev/null \
    | awk '/quanta::Clock::new \[/ && !/=>/ {gsub(",", "", $1); print $1; exit}')
  echo $((total - ${calibration:-0}))
}

printf '%-9s %-6s %14s %12s %12s\n' read cache instructions allocations bytes
for read in $reads; do
  caches="true false"
  [ "$read" = healthz ] && caches="true"
  for cache in $caches; do
    allocs=$("$bin" run "$work/data" --read "$read" --cache "$cache" --requests 2000)
    a=$(instructions "$read" "$cache" "$few")
    b=$(instructions "$read" "$cache" "$many")
    python3 - "$read" "$cache" "$a" "$b" "$((many - few))" "$allocs" <<'PY'
import json, sys
read, cache, a, b, n, allocs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), json.loads(sys.argv[6])
label = "on" if cache == "true" else "off"
print(f"{read:<9} {label:<6} {(b - a) / n:>14,.0f} {allocs['allocations_per_request']:>12,.1f} {allocs['bytes_per_request']:>12,.0f}")
PY
  done
done
