#!/usr/bin/env bash
# Start-up (issue #16): from exec to the first 200 of /readyz, on an existing data directory
# (SQLite, local blobs, every role), RUNS times; prints each and the median. Goal: 100 ms.
#
#   bench/startup_bench.sh            # 7 runs
#   RUNS=15 ROLES=api,stream bench/startup_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/streamvault-target}"
cargo build --release -p streamvault >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$CARGO_TARGET_DIR/release/streamvault" "$work/data" "${RUNS:-7}" "${ROLES:-all}" <<'PY'
import statistics, subprocess, sys, time, urllib.request
binary, data, runs, roles = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def once():
    t0 = time.monotonic()
    p = subprocess.Popen([binary, "serve", "--roles", roles, "--listen", "127.0.0.1:18390", "--data-dir", data],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env={"STREAMVAULT_LOG": "warn", "PATH": "/usr/local/bin:/usr/bin:/bin"})
    try:
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:18390/readyz", timeout=1) as r:
                    if r.status == 200:
                        return (time.monotonic() - t0) * 1000
            except Exception:
                pass
            if p.poll() is not None:
                sys.exit(f"the server exited with {p.returncode}")
            time.sleep(0.001)
    finally:
        p.terminate()
        p.wait()
once()  # creates the data directory: the runs below start on an existing one
times = [once() for _ in range(runs)]
print("exec to /readyz 200 (ms):", " ".join(f"{t:.0f}" for t in times))
print(f"median {statistics.median(times):.0f} ms (goal 100 ms), roles {roles}")
PY
