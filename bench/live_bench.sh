#!/usr/bin/env bash
# Live events under load (issue #14): VIEWERS WebSocket viewers on one video, RATE bullet
# comments per second for DURATION seconds; delivery latency (p50/p99), the server's peak RSS
# and CPU. First one replica on its embedded defaults (SQLite, in-process bus), then two
# replicas sharing PostgreSQL and Redis (viewers and posts spread over both).
#
#   bench/live_bench.sh                       # 5000 viewers, 50 posts/s, 30 s
#   VIEWERS=1000 RATE=20 DURATION=10 bench/live_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

viewers="${VIEWERS:-5000}"
rate="${RATE:-50}"
duration="${DURATION:-30}"
redis="${REDIS_URL:-redis://127.0.0.1:6379}"
pg="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/streamvault-target}"
cargo build --release -p streamvault -p live_bench >/dev/null
bin="$CARGO_TARGET_DIR/release/streamvault"
tool="$CARGO_TARGET_DIR/release/live_bench"
ulimit -n "$(ulimit -Hn)"

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ffmpeg -v error -f lavfi -i testsrc=size=64x64:rate=25 -frames:v 1 -c:v libx264 -pix_fmt yuv420p \
  -movflags +faststart "$work/video.mp4"

# serve DIR PORT [ENV=VALUE...]: a replica (api and stream roles: nothing probes the video),
# with room for every viewer from this one address.
serve() {
  local dir=$1 port=$2
  shift 2
  env STREAMVAULT_LOG=warn STREAMVAULT_LIVE_MAX_PER_CLIENT=100000 STREAMVAULT_LIVE_MAX_PER_ADDRESS=100000 STREAMVAULT_LIVE_MAX_CONNECTIONS=100000 "$@" \
    "$bin" serve --roles api,stream --listen "127.0.0.1:$port" --data-dir "$dir" > "$dir.out" 2> "$dir.err" &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q "http://" "$dir.out" 2>/dev/null && return; sleep 0.1; done
  echo "error: the replica on :$port did not start: $(cat "$dir.err")" >&2
  exit 1
}

echo "== one replica, embedded defaults (SQLite, in-process bus)"
serve "$work/one" 18090
"$tool" --base http://127.0.0.1:18090 --pid "${pids[0]}" --viewers "$viewers" --rate "$rate" --secs "$duration" \
  --video "$work/video.mp4"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()

echo "== two replicas on PostgreSQL and Redis"
db="live_bench_$$"
psql "$pg/postgres" -qc "CREATE DATABASE $db" >/dev/null
dropdb() { psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; }
trap 'cleanup; dropdb' EXIT
shared=(STREAMVAULT_DATABASE_URL="$pg/$db" STREAMVAULT_BUS_URL="$redis" STREAMVAULT_SESSION_URL="$redis")
serve "$work/a" 18091 "${shared[@]}"
serve "$work/b" 18092 "${shared[@]}"
"$tool" --base http://127.0.0.1:18091 --base http://127.0.0.1:18092 --pid "${pids[0]}" --pid "${pids[1]}" \
  --viewers "$viewers" --rate "$rate" --secs "$duration" --video "$work/video.mp4"
