#!/usr/bin/env bash
# A single-node Garage (S3-compatible object store) on loopback, for tests and the local
# cluster. Idempotent: `up` reuses a running node and existing key and bucket.
#
#   deploy/local/garage.sh up     # start (if needed) and configure; prints the env file path
#   deploy/local/garage.sh down   # stop the node
#
# State lives in $STREAMVAULT_GARAGE_DIR (default ~/.cache/streamvault-garage). The S3
# endpoint, bucket and credentials are written to $STREAMVAULT_GARAGE_DIR/env as
# STREAMVAULT_TEST_S3_* variables.
set -euo pipefail

dir="${STREAMVAULT_GARAGE_DIR:-$HOME/.cache/streamvault-garage}"
s3_port="${STREAMVAULT_GARAGE_S3_PORT:-3900}"
rpc_port=$((s3_port + 1))
admin_port=$((s3_port + 3))
bucket="${STREAMVAULT_GARAGE_BUCKET:-streamvault}"
key_name="streamvault"
garage_bin="$(command -v garage || echo "$HOME/.cargo/bin/garage")"
cfg="$dir/garage.toml"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
g() { "$garage_bin" -c "$cfg" "$@"; }

up() {
  [ -x "$garage_bin" ] || { echo "error: garage is not installed (cargo install garage --locked)" >&2; exit 1; }
  mkdir -p "$dir/meta" "$dir/data"
  if [ ! -f "$cfg" ]; then
    cat > "$cfg" <<TOML
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3_port"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$admin_port"
TOML
  fi
  if ! port_open "$s3_port"; then
    nohup "$garage_bin" -c "$cfg" server > "$dir/garage.log" 2>&1 &
    echo $! > "$dir/garage.pid"
    for _ in $(seq 1 100); do port_open "$s3_port" && port_open "$rpc_port" && break; sleep 0.1; done
    port_open "$s3_port" || { echo "error: garage did not start; see $dir/garage.log" >&2; exit 1; }
  fi
  # Layout: assign this node once.
  for _ in $(seq 1 50); do g status >/dev/null 2>&1 && break; sleep 0.2; done
  if g layout show 2>/dev/null | grep -q "No nodes currently have a role"; then
    node_id="$(g node id -q | cut -d@ -f1)"
    g layout assign -z dc1 -c 1G "$node_id" >/dev/null
    g layout apply --version 1 >/dev/null
  fi
  if ! g key info "$key_name" >/dev/null 2>&1; then
    g key create "$key_name" >/dev/null
  fi
  local info key_id secret
  info="$(g key info --show-secret "$key_name")"
  key_id="$(echo "$info" | awk -F': *' '/Key ID/ {print $2; exit}')"
  secret="$(echo "$info" | awk -F': *' '/Secret key/ {print $2; exit}')"
  if ! g bucket info "$bucket" >/dev/null 2>&1; then
    g bucket create "$bucket" >/dev/null
  fi
  g bucket allow --read --write --owner "$bucket" --key "$key_name" >/dev/null
  cat > "$dir/env" <<ENV
STREAMVAULT_TEST_S3_ENDPOINT=http://127.0.0.1:$s3_port
STREAMVAULT_TEST_S3_REGION=garage
STREAMVAULT_TEST_S3_BUCKET=$bucket
STREAMVAULT_TEST_S3_ACCESS_KEY_ID=$key_id
STREAMVAULT_TEST_S3_SECRET_ACCESS_KEY=$secret
ENV
  echo "$dir/env"
}

down() {
  if [ -f "$dir/garage.pid" ]; then
    kill "$(cat "$dir/garage.pid")" 2>/dev/null || true
    rm -f "$dir/garage.pid"
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
