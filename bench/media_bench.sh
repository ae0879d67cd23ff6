#!/usr/bin/env bash
# The media pipeline's wall time against the same ffmpeg commands run by hand. A test video
# (lavfi testsrc2 + a tone, H.264/AAC) is uploaded to a release streamvault (SQLite, local
# disk, one worker); the pipeline's time runs from the upload's response to `status: ready`
# (probe, poster + storyboard, HLS ladder, each stored). The server logs every ffprobe/ffmpeg
# command line it runs; they are then re-run verbatim, one after another, and timed. The
# difference is the pipeline's own cost: job hand-offs through the queue, progress writes,
# storing the outputs in the blob store. Prints a markdown table.
#
#   bench/media_bench.sh                 # 60 s of 1280x720 at 30 fps
#   SECS=20 SIZE=854x480 bench/media_bench.sh
#
# Env: SECS (60), SIZE (1280x720), PORT (18094), BUILD=1 to build the release binary first,
# CARGO_TARGET_DIR (default ~/.cache/streamvault-target). Needs ffmpeg, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${SECS:-60}"
size="${SIZE:-1280x720}"
port="${PORT:-18094}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/streamvault-target}"
bin="$CARGO_TARGET_DIR/release/streamvault"
for tool in ffmpeg ffprobe curl python3; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 1; }
done
if [ "${BUILD:-0}" = 1 ]; then cargo build --release -p streamvault >/dev/null; fi
[ -x "$bin" ] || { echo "error: $bin not found: cargo build --release -p streamvault (or BUILD=1)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/media-bench.XXXXXX")"
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }

echo "making a ${secs} s ${size} test video..." >&2
ffmpeg -v error -y -f lavfi -i "testsrc2=size=${size}:rate=30:duration=${secs}" \
  -f lavfi -i "sine=frequency=440:duration=${secs}" -c:v libx264 -preset medium -pix_fmt yuv420p \
  -c:a aac -shortest "$work/src.mp4"

mkdir -p "$work/srv"
(cd "$work/srv" && STREAMVAULT_LISTEN="127.0.0.1:$port" STREAMVAULT_LOG=info STREAMVAULT_LOG_FORMAT=json \
  exec "$bin" serve >"$work/stdout" 2>"$work/log") &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
token=$(curl -fs "$base/api/v1/user" -H 'content-type: application/json' \
  -d '{"user_name":"bench","pwd":"correct horse battery"}' | json "['session_id']")
vid=$(curl -fs "$base/api/v1/user/bench/videos" -H "x-session-id: $token" -H 'content-type: application/json' \
  -d '{"name":"bench"}' | json "['id']")
curl -fs -o /dev/null "$base/stream/v1/videos/$vid/upload" -H "x-session-id: $token" --data-binary "@$work/src.mp4"
t0=$(now)
status=""
# Polled cheaply (curl and grep, 5 times a second): the encoder runs niced, so a busy poller
# would take its CPU and be measured as pipeline overhead.
while :; do
  status=$(curl -fs "$base/api/v1/user/bench/videos/$vid" -H "x-session-id: $token" | grep -o '"status":"[a-z]*"' | cut -d'"' -f4)
  [ "$status" = ready ] || [ "$status" = failed ] && break
  sleep 0.2
done
t1=$(now)
[ "$status" = ready ] || { echo "error: the video ended $status" >&2; exit 1; }
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""

# The commands, in the order the worker ran them, re-run by hand in the same directories.
python3 - "$work/log" >"$work/commands" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    cmd = rec.get("command") or rec.get("fields", {}).get("command")
    if cmd:
        print(cmd)
PY
n=$(wc -l <"$work/commands")
[ "$n" -ge 3 ] || { echo "error: expected the probe, stills and transcode commands in the log, found $n" >&2; exit 1; }
t2=$(now)
while IFS= read -r cmd; do
  # The worker's scratch directories are gone with their jobs: make them again.
  for d in $(grep -oE "(\./)?data/media-work/[0-9a-f]+-[a-z]+" <<<"$cmd" | sort -u); do mkdir -p "$work/srv/$d"; done
  # stdin closed, as the worker runs them (ffmpeg would read this loop's input as commands).
  (cd "$work/srv" && bash -c "$cmd" >/dev/null </dev/null) || { echo "error: by hand: $cmd" >&2; exit 1; }
done <"$work/commands"
t3=$(now)

python3 - "$t0" "$t1" "$t2" "$t3" "$secs" "$size" "$n" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:5])
secs, size, n = sys.argv[5], sys.argv[6], sys.argv[7]
pipe, hand = t1 - t0, t3 - t2
print(f"| {secs} s {size} source | wall time | ratio |")
print("|---|---:|---:|")
print(f"| the same {n} ffmpeg/ffprobe commands by hand | {hand:.2f} s | 1.00 |")
print(f"| streamvault pipeline (upload done → ready) | {pipe:.2f} s | {pipe / hand:.3f} |")
print(f"\noverhead: {pipe - hand:+.2f} s ({(pipe / hand - 1) * 100:+.1f} %)")
PY
