#!/usr/bin/env bash
# Random 1 MiB ranges of one large file, served by streamvault (release build, local blob
# store) and by nginx (sendfile on) on the same machine, at 16 and 256 connections.
# Prints a table with throughput, p99 latency and the streamvault/nginx ratios.
#
#   bench/range_bench.sh            # defaults: 256 MiB file, 10 s per run
#   SIZE_MIB=512 DURATION=20 bench/range_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/peer.sh
source bench/peer.sh

size_mib="${SIZE_MIB:-256}"
duration="${DURATION:-10}"
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
printf '%s\n' "file: ${size_mib} MiB, random 1 MiB ranges, ${duration} s per run, wrk -t2, $(nproc) cores"
printf '%-6s %-12s %10s %10s %10s %8s\n' conns server MiB/s req/s p99_ms errors
for c in 16 256; do
  sv=$(run "$base/stream/v1/videos/$vid" "$c")
  ng=$(run "http://127.0.0.1:$ng_port/video" "$c")
  python3 - "$c" "$sv" "$ng" <<'PY'
import json, sys
c, sv, ng = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
for name, r in (("streamvault", sv), ("nginx", ng)):
    print(f"{c:<6} {name:<12} {r['mib_per_s']:>10.1f} {r['rps']:>10.1f} {r['p99_ms']:>10.2f} {r['errors'] + r['non2xx']:>8}")
print(f"{c:<6} {'ratio sv/ng':<12} {sv['mib_per_s'] / ng['mib_per_s']:>10.2f} {sv['rps'] / ng['rps']:>10.2f} {sv['p99_ms'] / ng['p99_ms']:>10.2f}")
PY
done
