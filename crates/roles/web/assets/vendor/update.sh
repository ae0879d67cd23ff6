#!/usr/bin/env bash
# Refreshes the vendored browser libraries from the pinned versions in package.json and
# package-lock.json: `npm ci` in a temporary copy, then the UMD builds and their licences are
# copied next to this script. Nothing is fetched at run time; the copies are committed.
#
#   crates/roles/web/assets/vendor/update.sh
#
# To move to a new version: edit package.json, run `npm install --package-lock-only` here,
# then this script, and commit all of it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cp "$here/package.json" "$here/package-lock.json" "$tmp/"
(cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

nm="$tmp/node_modules"
copy() { # copy SRC DEST, failing clearly when the package layout changed
  if [[ ! -f "$1" ]]; then
    echo "update.sh: $1 is missing (did the package's layout change?)" >&2
    exit 1
  fi
  cp "$1" "$here/$2"
}

# hls.js: the UMD build defines the global `Hls`.
copy "$nm/hls.js/dist/hls.min.js" hls.min.js
copy "$nm/hls.js/LICENSE" hls.js.LICENSE
# tus-js-client: the browser UMD build defines the global `tus`.
copy "$nm/tus-js-client/dist/tus.min.js" tus.min.js
copy "$nm/tus-js-client/LICENSE" tus-js-client.LICENSE

# Drop a trailing source-map reference: the map is not shipped.
sed -i -e '/^\/\/# sourceMappingURL=/d' "$here/hls.min.js" "$here/tus.min.js"

hls_v="$(node -p "require('$nm/hls.js/package.json').version")"
tus_v="$(node -p "require('$nm/tus-js-client/package.json').version")"
echo "vendored hls.js $hls_v and tus-js-client $tus_v into $here"
