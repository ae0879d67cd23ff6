#!/usr/bin/env bash
# One large file uploaded with stock tus-js-client (crates/streamvault/tests/js/tus_upload.mjs)
# to streamvault's tus endpoint and to @tus/server with @tus/file-store (bench/tus_peer_server.mjs),
# one server at a time, loopback only. For each: wall time -> throughput, the server's peak RSS
# (VmHWM just before it is stopped), and a sha256 check of the stored bytes. Prints a markdown
# table with the ratios against @tus/server.
#
#   bench/tus_bench.sh                        # 1 GiB of random data, 64 MiB PATCH chunks
#   SIZE_MB=64 bench/tus_bench.sh             # quick run
#   ONLY=tus-server bench/tus_bench.sh        # just the peer (ONLY=streamvault: just ours)
#   CLIENT=curl bench/tus_bench.sh            # curl instead of tus-js-client (see below)
#
# It also measures the client's own ceiling: the same upload to a server that keeps nothing
# (bench/tus_null_server.mjs). Under node, tus-js-client alone needs about a core per 400 MiB/s
# here, so with it the client, not the server, sets the pace; CLIENT=curl (one curl process,
# one connection, one PATCH per chunk: bench/tus_curl_upload.sh) lets the servers show theirs.
#
# Env: SIZE_MB (1024), CHUNK_MB (64; 0 = the whole file in one PATCH), SV_PORT (18092),
# PEER_PORT (18093), NULL_PORT (18094), CLIENT (node|curl), UPLOAD_TIMEOUT seconds per upload (900), ONLY (all|streamvault|tus-server),
# BUILD=1 to run `cargo build --release -p streamvault` first (default: use the binary as is;
# BENCH_BIN=/path/to/streamvault runs that binary instead, to compare two builds),
# CARGO_TARGET_DIR (default ~/.cache/streamvault-target). Needs node >= 20.19 and curl; runs
# `npm ci` in crates/streamvault/tests/js if its node_modules is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

size_mb="${SIZE_MB:-1024}"
chunk_mb="${CHUNK_MB:-64}"
sv_port="${SV_PORT:-18092}"
peer_port="${PEER_PORT:-18093}"
upload_timeout="${UPLOAD_TIMEOUT:-900}"
only="${ONLY:-all}"
client="${CLIENT:-node}"
null_port="${NULL_PORT:-18094}"
js=crates/streamvault/tests/js
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/streamvault-target}"
bin="${BENCH_BIN:-$CARGO_TARGET_DIR/release/streamvault}"

case "$client" in node | curl) ;; *) echo "error: CLIENT is node or curl" >&2; exit 2 ;; esac
case "$only" in all | streamvault | tus-server) ;; *) echo "error: ONLY is all, streamvault or tus-server" >&2; exit 2 ;; esac
for tool in node curl sha256sum timeout; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 1; }
done
if [ ! -d "$js/node_modules/tus-js-client" ] || [ ! -d "$js/node_modules/@tus/server" ]; then
  (cd "$js" && timeout 300 npm ci --no-audit --no-fund >/dev/null)
fi
if [ "$only" != tus-server ]; then
  if [ "${BUILD:-0}" = 1 ]; then cargo build --release -p streamvault >/dev/null; fi
  [ -x "$bin" ] || { echo "error: $bin not found: cargo build --release -p streamvault (or BUILD=1), or ONLY=tus-server" >&2; exit 1; }
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/tus-bench.XXXXXX")"
server_pid=""
client_pid=""
stop_server() { # SIGTERM, then SIGKILL after 10 s
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  [ -n "$client_pid" ] && kill -TERM "$client_pid" 2>/dev/null
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

peak_rss_mib() { # VmHWM of a live process, in MiB
  awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}
json_field() { # json_field NAME < json
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s)[process.argv[1]];process.stdout.write(v==null?"":String(v))})' "$1"
}
wait_http() { # wait_http URL SECONDS [METHOD]: until it answers 2xx, while the server lives
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "$server_pid" 2>/dev/null || { echo "error: server exited while starting" >&2; return 1; }
    curl -sf -o /dev/null --max-time 2 -X "${3:-GET}" "$1" && return 0
    sleep 0.2
  done
  echo "error: $1 not ready after $2 s" >&2
  return 1
}

src="$work/src.bin"
echo "generating ${size_mb} MiB of random data..." >&2
head -c "$((size_mb * 1024 * 1024))" /dev/urandom > "$src"
src_sha=$(sha256sum "$src" | cut -d' ' -f1)
bytes=$(stat -c %s "$src")
if [ "$chunk_mb" = 0 ]; then chunk_arg=(--chunk-size inf); else chunk_arg=(--chunk-size "$((chunk_mb * 1024 * 1024))"); fi

chunks=("$src")
if [ "$client" = curl ] && [ "$chunk_mb" != 0 ]; then
  split -b "$((chunk_mb * 1024 * 1024))" -d -a 4 "$src" "$work/chunk."
  chunks=("$work"/chunk.*)
fi

upload() { # upload ENDPOINT [TOKEN] -> sets up_json, up_secs
  local token_arg=() t0 t1
  [ -n "${2:-}" ] && token_arg=(--token "$2")
  t0=$(date +%s%N)
  # In the background and waited for, so that a signal to this script is handled at once.
  if [ "$client" = curl ]; then
    timeout -k 5 "$upload_timeout" bench/tus_curl_upload.sh "$1" "$bytes" "${2:-}" "${chunks[@]}" > "$work/upload.json" &
  else
    timeout -k 5 "$upload_timeout" node "$js/tus_upload.mjs" --endpoint "$1" --file "$src" \
      "${chunk_arg[@]}" "${token_arg[@]}" --timeout-ms "$((upload_timeout * 1000))" > "$work/upload.json" &
  fi
  client_pid=$!
  local rc=0
  wait "$client_pid" || rc=$?
  client_pid=""
  t1=$(date +%s%N)
  up_json=$(cat "$work/upload.json")
  if [ "$rc" != 0 ]; then
    echo "error: upload to $1 failed (exit $rc): $up_json" >&2
    return 1
  fi
  up_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
}

declare -A mibps rss verified
failed=0

if [ "$only" = all ]; then
  sync # what an earlier step wrote is on disk before this server starts
  echo "client ceiling: a server that keeps nothing, on 127.0.0.1:$null_port" >&2
  node bench/tus_null_server.mjs --port "$null_port" > "$work/null.out" 2> "$work/null.err" &
  server_pid=$!
  wait_http "http://127.0.0.1:$null_port/files/" 20 OPTIONS || { cat "$work/null.err" >&2; exit 1; }
  upload "http://127.0.0.1:$null_port/files/"
  stop_server
  mibps[null]=$(awk -v b="$bytes" -v s="$up_secs" 'BEGIN { printf "%.1f", b / 1048576 / s }')
  echo "client ceiling: ${up_secs} s" >&2
fi

if [ "$only" != streamvault ]; then
  sync # what an earlier step wrote is on disk before this server starts
  echo "@tus/server: starting on 127.0.0.1:$peer_port" >&2
  node bench/tus_peer_server.mjs --port "$peer_port" --dir "$work/peer/files" > "$work/peer.out" 2> "$work/peer.err" &
  server_pid=$!
  wait_http "http://127.0.0.1:$peer_port/files/" 20 OPTIONS || { cat "$work/peer.err" >&2; exit 1; }
  upload "http://127.0.0.1:$peer_port/files/"
  rss[tus]=$(peak_rss_mib "$server_pid")
  stop_server
  mibps[tus]=$(awk -v b="$bytes" -v s="$up_secs" 'BEGIN { printf "%.1f", b / 1048576 / s }')
  id=$(json_field url <<<"$up_json"); id="${id##*/}"
  got=$(sha256sum "$work/peer/files/$id" | cut -d' ' -f1)
  if [ "$got" = "$src_sha" ]; then verified[tus]=ok; else verified[tus]=MISMATCH; failed=1; fi
  echo "@tus/server: ${up_secs} s, sha256 ${verified[tus]}" >&2
  rm -rf "$work/peer"
fi

if [ "$only" != tus-server ]; then
  base="http://127.0.0.1:$sv_port"
  sync # what an earlier step wrote is on disk before this server starts
  echo "streamvault: starting $bin on 127.0.0.1:$sv_port" >&2
  STREAMVAULT_LOG="${STREAMVAULT_LOG:-warn}" STREAMVAULT_DATA_DIR="$work/sv" STREAMVAULT_LISTEN="127.0.0.1:$sv_port" \
    STREAMVAULT_MAX_UPLOAD_BYTES=$(((size_mb > 1024 ? size_mb : 1024) * 2 * 1048576)) "$bin" serve > "$work/sv.out" 2> "$work/sv.err" &
  server_pid=$!
  wait_http "$base/readyz" 60 || { tail -n 20 "$work/sv.err" >&2; exit 1; }
  signup=$(curl -s --max-time 30 -X POST "$base/api/v1/user" -d '{"username":"bench","password":"benchbench1"}')
  token=$(json_field session_id <<<"$signup" 2>/dev/null || true)
  [ -n "$token" ] || { echo "error: signup failed: $signup" >&2; exit 1; }
  upload "$base/stream/v1/tus/" "$token"
  rss[sv]=$(peak_rss_mib "$server_pid")
  mibps[sv]=$(awk -v b="$bytes" -v s="$up_secs" 'BEGIN { printf "%.1f", b / 1048576 / s }')
  file_id=$(json_field file_id <<<"$up_json")
  if [ -z "$file_id" ]; then
    verified[sv]=skipped
    echo "streamvault: verify SKIPPED: the final tus response carried no Streamvault-File-Id header" >&2
  else
    # The download counts toward the peak RSS only if it raises it: VmHWM was read above.
    got=$(curl -sf --max-time "$upload_timeout" -H "Authorization: Bearer $token" "$base/stream/v1/files/$file_id" | sha256sum | cut -d' ' -f1)
    if [ "$got" = "$src_sha" ]; then verified[sv]=ok; else verified[sv]=MISMATCH; failed=1; fi
  fi
  stop_server
  echo "streamvault: ${up_secs} s, sha256 ${verified[sv]}" >&2
fi

ratio() { # ratio A B
  if [ -n "$1" ] && [ -n "$2" ]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; fi
}
chunk_desc=$([ "$chunk_mb" = 0 ] && echo "one PATCH" || echo "${chunk_mb} MiB PATCH chunks")
echo
client_desc=$([ "$client" = curl ] && curl --version | head -n1 | cut -d' ' -f1-2 || echo "tus-js-client $(node -p "require('./$js/node_modules/tus-js-client/package.json').version")")
echo "file: ${size_mb} MiB of random data, ${chunk_desc}, ${client_desc}, @tus/server $(node -p "require('./$js/node_modules/@tus/server/package.json').version"), $(nproc) cores, loopback"
echo
echo "| server | MiB/s | peak RSS MiB | sha256 | MiB/s ratio vs @tus/server | RSS ratio vs @tus/server |"
echo "|---|---|---|---|---|---|"
if [ -n "${mibps[sv]:-}" ]; then
  echo "| streamvault | ${mibps[sv]} | ${rss[sv]} | ${verified[sv]} | $(ratio "${mibps[sv]}" "${mibps[tus]:-}") | $(ratio "${rss[sv]}" "${rss[tus]:-}") |"
fi
if [ -n "${mibps[tus]:-}" ]; then
  echo "| @tus/server + @tus/file-store | ${mibps[tus]} | ${rss[tus]} | ${verified[tus]} | 1.00 | 1.00 |"
fi
if [ -n "${mibps[null]:-}" ]; then
  echo
  echo "client ceiling (${client_desc} to a server that keeps nothing): ${mibps[null]} MiB/s = $(ratio "${mibps[null]}" "${mibps[tus]:-}") x @tus/server"
fi
# The ceiling for a server that keeps its promise that an acknowledged byte is on disk
# (streamvault syncs each PATCH; @tus/server does not): the disk itself, written and synced
# on the same file system, through the page cache and around it (O_DIRECT, as streamvault
# writes where the file system takes it).
disk_ceiling() { # dd flags...
  local secs
  sync
  secs=$( { /usr/bin/time -f %e dd if=/dev/zero of="$work/disk-ceiling" bs=1M count="$size_mb" conv=fdatasync status=none "$@"; } 2>&1 | tail -n1)
  rm -f "$work/disk-ceiling"
  awk -v m="$size_mb" -v s="$secs" 'BEGIN { printf "%.1f", m / s }'
}
disk=$(disk_ceiling)
direct=$(disk_ceiling oflag=direct 2>/dev/null || echo "-")
echo
echo "disk ceiling (dd ${size_mb} MiB, fdatasync, same file system): ${disk} MiB/s = $(ratio "$disk" "${mibps[tus]:-}") x @tus/server; with O_DIRECT: ${direct} MiB/s"
exit "$failed"
