#!/usr/bin/env bash
# Random 1 MiB ranges of one large file, served by streamvault (release build, local blob
# store) and by nginx (sendfile on) on the same machine, at 16 and 256 connections.
# Prints a table with throughput, p99 latency and the streamvault/nginx ratios.
#
#   bench/range_bench.sh            # defaults: 256 MiB file, 10 s per run
#   SIZE_MIB=512 DURATION=20 RUNS=3 bench/range_bench.sh   # RUNS rounds (default 3), medians printed
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/peer.sh
source bench/peer.sh

size_mib="${SIZE_MIB:-256}"
duration="${DURATION:-10}"
runs="${RUNS:-3}"
sv_port=18080
ng_port=18081
release_with_tools

work="$(mktemp -d)"
cleanup() {
  [ -n "${sv_pid:-}" ] && kill "$sv_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# streamvault on its defaults, but quiet (nginx logs nothing either) and with room for 256 streams
# from the one address wrk connects from.
STREAMVAULT_LOG=warn STREAMVAULT_MAX_STREAMS=1024 STREAMVAULT_MAX_STREAMS_PER_CLIENT=1024 "$bin" serve --roles api,stream \
  --listen "127.0.0.1:$sv_port" --data-dir "$work/data" > "$work/sv.out" 2> "$work/sv.err" &
sv_pid=$!
for _ in $(seq 1 100); do grep -q "http://" "$work/sv.out" 2>/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$sv_port"

python3 - "$work/video.mp4" "$size_mib" <<'PY'
import os, sys
path, mib = sys.argv[1], int(sys.argv[2])
with open(path, "wb") as f:
    f.write(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41")
    for _ in range(mib):
        f.write(os.urandom(1024 * 1024))
PY
token=$(curl -sf -X POST "$base/user" -d '{"user_name":"bench","pwd":"bench-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["session_id"])')
vid=$(curl -sf -X POST "$base/api/v1/user/bench/videos" -H "X-Session-Id: $token" -d '{"name":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -X POST "$base/stream/v1/videos/$vid/upload" -H "X-Session-Id: $token" --data-binary "@$work/video.mp4" > /dev/null
blob="$(find "$work/data/blobs" -type f | head -n1)"
file_size=$(stat -c %s "$blob")
# nginx workers run unprivileged: let them read the blob.
chmod -R a+rX "$work"

start_nginx "$work" "$ng_port" "location = /video { alias $blob; default_type video/mp4; }"
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$ng_port/video" -r 0-0 && break; sleep 0.1; done

# Warm the page cache so both read from memory.
cat "$blob" > /dev/null

run() { # url connections
  FILE_SIZE=$file_size wrk -t2 -c"$2" -d"${duration}s" --timeout 10s -s bench/range.lua "$1" | tail -n1
}
printf '%s\n' "file: ${size_mib} MiB, random 1 MiB ranges, ${duration} s per run, $runs rounds, wrk -t2, $(nproc) cores"
# cpu_seconds PID...: user + system CPU time the processes have used so far.
cpu_seconds() {
  local ticks=0 pid
  for pid in "$@"; do
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$ticks $(getconf CLK_TCK)" | awk '{printf "%.3f", $1 / $2}'
}
ng_pids=("$(cat "$work/nginx.pid")" $(pgrep -P "$(cat "$work/nginx.pid")"))
measure() { # who url connections pid...
  local who=$1 url=$2 c=$3
  shift 3
  local before after r
  before=$(cpu_seconds "$@")
  r=$(run "$url" "$c")
  after=$(cpu_seconds "$@")
  printf '{"conns": %s, "who": "%s", "cpu_s": %s, "r": %s}\n' "$c" "$who" "$(echo "$after $before" | awk '{print $1 - $2}')" "$r"
}
for round in $(seq 1 "$runs"); do
  for c in 16 256; do
    measure streamvault "$base/stream/v1/videos/$vid" "$c" "$sv_pid"
    measure nginx "http://127.0.0.1:$ng_port/video" "$c" "${ng_pids[@]}"
  done
done > "$work/results.jsonl"
python3 - "$work/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda xs: statistics.median(xs)
print(f"medians of {len(rows) // 4} round(s); ratio = median of each round's streamvault/nginx")
print(f"{'conns':<6} {'server':<12} {'MiB/s':>10} {'req/s':>10} {'p99_ms':>10} {'cpu_s/GiB':>10} {'errors':>8}")
cpu = lambda r: r["cpu_s"] / max(r["r"]["mib_per_s"] * r["r"]["requests"] / r["r"]["rps"] / 1024, 1e-9)
for c in sorted({r["conns"] for r in rows}):
    svr = [r for r in rows if r["conns"] == c and r["who"] == "streamvault"]
    ngr = [r for r in rows if r["conns"] == c and r["who"] == "nginx"]
    sv, ng = [r["r"] for r in svr], [r["r"] for r in ngr]
    for name, rs, full in (("streamvault", sv, svr), ("nginx", ng, ngr)):
        print(f"{c:<6} {name:<12} {med(r['mib_per_s'] for r in rs):>10.1f} {med(r['rps'] for r in rs):>10.1f} {med(r['p99_ms'] for r in rs):>10.2f} {med(cpu(r) for r in full):>10.3f} {sum(r['errors'] + r['non2xx'] for r in rs):>8}")
    print(f"{c:<6} {'ratio sv/ng':<12} {med(a['mib_per_s'] / b['mib_per_s'] for a, b in zip(sv, ng)):>10.2f} {med(a['rps'] / b['rps'] for a, b in zip(sv, ng)):>10.2f} {med(a['p99_ms'] / b['p99_ms'] for a, b in zip(sv, ng)):>10.2f} {med(cpu(a) / cpu(b) for a, b in zip(svr, ngr)):>10.2f}")
PY
