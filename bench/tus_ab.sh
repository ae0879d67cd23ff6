#!/usr/bin/env bash
# A/B of streamvault builds on tus ingest: each round uploads the same file by curl
# (bench/tus_curl_upload.sh: one connection, one PATCH per 64 MiB chunk) to each binary in
# turn, on a fresh data directory, and prints MiB/s with where the machine's CPU went during
# the upload (from /proc/stat: user, system, idle, iowait, softirq, in CPU-seconds). For
# telling two builds apart on this noisy machine; bench/tus_bench.sh compares with the peer.
#
#   bench/tus_ab.sh OLD_BIN NEW_BIN             # 2 GiB, 3 rounds
#   SIZE_MB=1024 ROUNDS=5 bench/tus_ab.sh A B C
#
# Env: SIZE_MB (2048), ROUNDS (3), PORT (18095). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/tus_ab.sh BIN..." >&2; exit 2; }
size_mb="${SIZE_MB:-2048}"
rounds="${ROUNDS:-3}"
port="${PORT:-18095}"
base="http://127.0.0.1:$port"
work="$(mktemp -d "${TMPDIR:-/tmp}/tus-ab.XXXXXX")"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "generating $size_mb MiB of random data..." >&2
head -c $((size_mb * 1048576)) /dev/urandom | split -b 64M -d -a 3 - "$work/chunk."
chunks=("$work"/chunk.*)

one() { # BIN: one upload, one line of figures
  rm -rf "$work/sv"
  STREAMVAULT_LOG=warn STREAMVAULT_DATA_DIR="$work/sv" STREAMVAULT_LISTEN="127.0.0.1:$port" \
    STREAMVAULT_MAX_UPLOAD_BYTES=$((size_mb * 2 * 1048576)) "$1" serve > /dev/null 2> "$work/sv.err" &
  server_pid=$!
  for _ in $(seq 1 100); do curl -sf "$base/readyz" > /dev/null && break; sleep 0.1; done
  local token
  token=$(curl -s -X POST "$base/api/v1/user" -d '{"username":"bench","password":"benchbench1"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["session_id"])')
  sync
  local s0 s1 t0 t1
  s0=$(head -n1 /proc/stat) t0=$(date +%s.%N)
  bench/tus_curl_upload.sh "$base/stream/v1/tus/" $((size_mb * 1048576)) "$token" "${chunks[@]}" > /dev/null
  s1=$(head -n1 /proc/stat) t1=$(date +%s.%N)
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  echo "$s0 $s1" | awk -v t0="$t0" -v t1="$t1" -v m="$size_mb" -v bin="$1" '{
    printf "%-50s %7.1f MiB/s  user %.2f sys %.2f idle %.2f iowait %.2f softirq %.2f\n",
      bin, m / (t1 - t0), ($13 - $2) / 100, ($15 - $4) / 100, ($16 - $5) / 100, ($17 - $6) / 100, ($19 - $8) / 100 }'
}

for round in $(seq 1 "$rounds"); do
  echo "round $round" >&2
  for bin in "$@"; do one "$bin"; done
done
