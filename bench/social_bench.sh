#!/usr/bin/env bash
# The subscription feed and the fan-out job (issue 15): a reader following 1,000 of 10,000
# channels (100,000 videos) reads a feed page from its inbox and, as the peer, through the
# read-time join a feed without an inbox runs, alternated in one run; then a channel with 1,000
# followers publishes and the fan-out job is timed. Release build; SQLite, or every backend.
#
#   bench/social_bench.sh                 # SQLite
#   BACKENDS="sqlite mysql postgres" bench/social_bench.sh
#   ROUNDS=50 FAN_OUTS=5 bench/social_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/streamvault-target}"
cargo build --release --locked -p social_bench >/dev/null
for backend in ${BACKENDS:-sqlite}; do
  echo "== $backend"
  "$CARGO_TARGET_DIR/release/social_bench" --backend "$backend" --rounds "${ROUNDS:-50}" --fan-outs "${FAN_OUTS:-5}"
  echo
done
