#!/usr/bin/env bash
# A tus 1.0 upload by one curl process over one connection (creation, then one PATCH per chunk
# file, in order), for bench/tus_bench.sh with CLIENT=curl: a client that costs far less CPU
# than tus-js-client under node, so that the servers, not the client, set the pace on two cores.
# Prints {"url": "...", "file_id": "..."|null} like crates/streamvault/tests/js/tus_upload.mjs.
#
#   bench/tus_curl_upload.sh ENDPOINT TOTAL_BYTES TOKEN|"" CHUNK_FILE...
set -euo pipefail
endpoint=$1 total=$2 token=$3
shift 3
auth=()
[ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
tus=(-H "Tus-Resumable: 1.0.0")
headers=$(curl -sS -D - -o /dev/null -X POST "${auth[@]}" "${tus[@]}" -H "Upload-Length: $total" "$endpoint" | tr -d '\r')
loc=$(awk -F': ' 'tolower($1) == "location" { print $2 }' <<<"$headers")
[ -n "$loc" ] || { printf '{"error": "no Location in the creation answer"}\n'; exit 1; }
case "$loc" in http*) ;; *) loc="$(sed -E 's|^(https?://[^/]+).*|\1|' <<<"$endpoint")$loc" ;; esac
last_head=$(mktemp)
trap 'rm -f "$last_head"' EXIT
args=() offset=0 n=0
for chunk in "$@"; do
  [ $n -gt 0 ] && args+=(--next)
  # Expect: off, as tus-js-client sends no Expect: 100-continue either.
  args+=(-sS -o /dev/null -D "$last_head" -w '%{http_code}\n' -X PATCH "${auth[@]}" "${tus[@]}" -H "Expect:"
    -H "Content-Type: application/offset+octet-stream" -H "Upload-Offset: $offset" -T "$chunk" "$loc")
  offset=$((offset + $(stat -c %s "$chunk")))
  n=$((n + 1))
done
codes=$(curl "${args[@]}")
if grep -qv '^204$' <<<"$codes"; then
  printf '{"error": "a PATCH was refused: %s"}\n' "$(tr '\n' ' ' <<<"$codes")"
  exit 1
fi
file_id=$(tr -d '\r' <"$last_head" | awk -F': ' 'tolower($1) == "streamvault-file-id" { print $2 }')
printf '{"url": "%s", "file_id": %s}\n' "$loc" "$([ -n "$file_id" ] && printf '"%s"' "$file_id" || echo null)"
