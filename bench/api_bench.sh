#!/usr/bin/env bash
# API reads (issue #16): the comments list, a video, a channel's video list, the home feed and
# search, anonymous and signed in, each against nginx serving the identical body as a static
# file, alternated in one run at 16 connections. Prints req/s, p99 and the ratio to nginx.
#
#   bench/api_bench.sh                                  # SQLite (the embedded default)
#   DB_URL=mysql://root@127.0.0.1:3306 bench/api_bench.sh
#   DB_URL=postgres://postgres@127.0.0.1:5432 bench/api_bench.sh
#   DURATION=10 CONNS=16 RUNS=3 bench/api_bench.sh      # RUNS rounds (default 3), medians printed
#   BENCH_LOG=info bench/api_bench.sh                   # with the access log (default: warn, none,
#                                                       # as nginx runs with access_log off)
#
# On a server database the replicas' deployment is measured: the read cache's stamps and the
# event bus in Redis (`BUS_URL`, default redis://127.0.0.1:6379; `BUS_URL=` for none, which
# keeps no reads: replicas without a bus cannot share stamps).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/peer.sh
source bench/peer.sh

duration="${DURATION:-5}"
runs="${RUNS:-3}"
conns="${CONNS:-16}"
sv_port=18180
ng_port=18181
release_with_tools

work="$(mktemp -d)"
db_name="api_bench_$$"
cleanup() {
  [ -n "${sv_pid:-}" ] && kill "$sv_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  case "${DB_URL:-}" in
    mysql://*) mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $db_name" 2>/dev/null || true ;;
    postgres://*) psql "${DB_URL}/postgres" -qc "DROP DATABASE IF EXISTS $db_name" >/dev/null 2>&1 || true ;;
  esac
  rm -rf "$work"
}
trap cleanup EXIT

db_env=()
case "${DB_URL:-}" in
  "") backend=sqlite ;;
  mysql://*) backend=mariadb; mysql -h 127.0.0.1 -u root -e "CREATE DATABASE $db_name"; db_env=(STREAMVAULT_DATABASE_URL="$DB_URL/$db_name") ;;
  postgres://*) backend=postgres; psql "$DB_URL/postgres" -qc "CREATE DATABASE $db_name"; db_env=(STREAMVAULT_DATABASE_URL="$DB_URL/$db_name") ;;
  *) echo "error: DB_URL is mysql://… or postgres://…" >&2; exit 1 ;;
esac
if [ "$backend" != sqlite ]; then
  bus_url="${BUS_URL-redis://127.0.0.1:6379}"
  db_env+=(STREAMVAULT_BUS_URL="$bus_url")
  backend="$backend, bus ${bus_url:-none}"
fi

env STREAMVAULT_LOG="${BENCH_LOG:-warn}" "${db_env[@]}" "$bin" serve --roles api,stream --listen "127.0.0.1:$sv_port" \
  --data-dir "$work/data" > "$work/sv.out" 2> "$work/sv.err" &
sv_pid=$!
for _ in $(seq 1 100); do grep -q "http://" "$work/sv.out" 2>/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$sv_port"

# A channel of 20 videos, each with a playable original, and 20 comments on the first.
python3 - "$base" > "$work/ids" <<'PY'
import json, os, sys, urllib.request
base = sys.argv[1]
def call(method, path, body=None, token=None, raw=None, ctype="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", ctype)
    if token: req.add_header("X-Session-Id", token)
    with urllib.request.urlopen(req) as r:
        text = r.read()
        return json.loads(text) if text else None
token = call("POST", "/user", {"user_name": "bench", "pwd": "bench-password"})["session_id"]
mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41" + os.urandom(4096)
vids = []
for i in range(20):
    v = call("POST", "/api/v1/user/bench/videos", {"name": f"bench video {i}", "description": "a video for the API benchmark " * 4}, token)
    call("POST", f"/stream/v1/videos/{v['id']}/upload", raw=mp4 + bytes([i]), token=token, ctype="application/octet-stream")
    vids.append(v["id"])
for i in range(20):
    others = call("POST", "/user", {"user_name": f"commenter{i}", "pwd": "bench-password"})["session_id"]
    call("POST", f"/api/v1/videos/{vids[0]}/comments", {"content": f"comment number {i}: " + "words " * 40}, others)
print(token, vids[0])
PY
read -r token vid < "$work/ids"

paths=(
  "comments=/api/v1/videos/$vid/comments"
  "video=/api/v1/user/bench/videos/$vid"
  "channel=/api/v1/user/bench/videos"
  "home=/api/v1/videos"
  "search=/api/v1/videos?q=bench"
)
mkdir -p "$work/static"
for p in "${paths[@]}"; do
  name="${p%%=*}"
  curl -sf "$base${p#*=}" -o "$work/static/$name.json"
done
chmod -R a+rX "$work"
start_nginx "$work" "$ng_port" "root $work/static; default_type application/json;"
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$ng_port/home.json" && break; sleep 0.1; done

run() { # url [token]
  SV_TOKEN="${2:-}" wrk -t2 -c"$conns" -d"${duration}s" --timeout 10s -s bench/get.lua "$1" | tail -n1
}
echo "backend: $backend; $conns connections, ${duration} s per run, $runs rounds, wrk -t2, $(nproc) cores; bodies: $(du -b "$work"/static/*.json | awk '{printf "%s %s B; ", $2, $1}' | sed "s|$work/static/||g")"
# Rounds: in each, every read against nginx, anonymous and signed in, one after the other.
for round in $(seq 1 "$runs"); do
  for p in "${paths[@]}"; do
    name="${p%%=*}"
    printf '{"round": %s, "read": "%s", "who": "nginx", "r": %s}\n' "$round" "$name" "$(run "http://127.0.0.1:$ng_port/$name.json")"
    printf '{"round": %s, "read": "%s", "who": "anonymous", "r": %s}\n' "$round" "$name" "$(run "$base${p#*=}")"
    printf '{"round": %s, "read": "%s", "who": "signed-in", "r": %s}\n' "$round" "$name" "$(run "$base${p#*=}" "$token")"
  done
done > "$work/results.jsonl"
python3 - "$work/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
reads = list(dict.fromkeys(r["read"] for r in rows))
get = lambda read, who: [r["r"] for r in rows if r["read"] == read and r["who"] == who]
rounds = max(r["round"] for r in rows)
print(f"medians of {rounds} round(s); ratio = median of each round's streamvault/nginx")
print(f"{'read':<9} {'caller':<10} {'req/s':>10} {'p99_ms':>8} {'ratio':>8} {'errors':>7}")
for read in reads:
    ng = get(read, "nginx")
    for who in ("nginx", "anonymous", "signed-in"):
        rs = get(read, who)
        ratio = "" if who == "nginx" else f"{statistics.median(r['rps'] / n['rps'] for r, n in zip(rs, ng)):.3f}"
        errors = sum(r["errors"] + r["non2xx"] for r in rs)
        print(f"{read:<9} {who:<10} {statistics.median(r['rps'] for r in rs):>10.1f} {statistics.median(r['p99_ms'] for r in rs):>8.2f} {ratio:>8} {errors:>7}")
PY
