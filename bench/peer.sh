# Sourced by the benchmarks that run against nginx.
#
# release_with_tools: checks for wrk, nginx, curl and python3, builds the release binary and
# sets `bin` to it; or, with BENCH_BIN set, uses that binary as it is (to compare two
# builds in one sitting: copy the other build aside, then alternate; not STREAMVAULT_*, which
# the server reads as its settings and refuses when unknown).
release_with_tools() {
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/streamvault-target}"
  for tool in wrk nginx curl python3; do
    command -v "$tool" >/dev/null || { echo "error: $tool is required (apt-get install wrk nginx-light curl)" >&2; exit 1; }
  done
  if [ -n "${BENCH_BIN:-}" ]; then
    bin="$BENCH_BIN"
    [ -x "$bin" ] || { echo "error: BENCH_BIN=$bin is not an executable" >&2; exit 1; }
    return
  fi
  bin="$CARGO_TARGET_DIR/release/streamvault"
  cargo build --release -p streamvault >/dev/null
}

# start_nginx WORK PORT SERVER-BODY runs nginx as the peer, with
# `sendfile on`, no access log, its files under WORK, listening on 127.0.0.1:PORT, serving
# what SERVER-BODY (the inside of a `server {}` block) says; WORK/nginx.pid holds its pid.
start_nginx() {
  local work=$1 port=$2 body=$3
  mkdir -p "$work/nginx"
  cat > "$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$port;
    $body
  }
}
NGINX
  nginx -c "$work/nginx.conf"
}
