#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running kizuna node:
# installs the dependencies, builds, creates ./node (if absent) and serves it.
# Usage: scripts/start-node.sh [NODE_DIR] [--listen HOST:PORT] [--name TEAM]
#        scripts/start-node.sh --demo   (three federated nodes instead: kizuna demo)
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_DIR=node
LISTEN=127.0.0.1:8443
NAME=kizuna
DEMO=0
while [ $# -gt 0 ]; do
  case "$1" in
    --listen) LISTEN="$2"; shift 2 ;;
    --name) NAME="$2"; shift 2 ;;
    --demo) DEMO=1; shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) NODE_DIR="$1"; shift ;;
  esac
done

scripts/install-deps.sh
scripts/build.sh
KIZUNA=build/src/cli/kizuna
if [ "$DEMO" = 1 ]; then
  exec "$KIZUNA" demo
fi
if [ ! -f "$NODE_DIR/kizuna.toml" ]; then
  "$KIZUNA" init "$NODE_DIR" --name "$NAME" --listen "$LISTEN"
fi

# Default IP enrichment data: ip-location-db's asn and asn-country packages
# from the npm registry, installed once into .cache/geo/ (gitignored) and
# loaded into a node that has no geo data yet. Without them the node runs
# all the same (every lookup unknown): a warning, not a failure.
GEO_CACHE=.cache/geo
GEO_DATA="$GEO_CACHE/node_modules/@ip-location-db"
GEO_FILES=("$GEO_DATA/asn/asn-ipv4.csv" "$GEO_DATA/asn/asn-ipv6.csv"
           "$GEO_DATA/asn-country/asn-country-ipv4.csv" "$GEO_DATA/asn-country/asn-country-ipv6.csv")
geo_data_present() {
  for f in "${GEO_FILES[@]}"; do [ -f "$f" ] || return 1; done
}
if ! geo_data_present; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "start-node: warning: npm not found, no default geo data (kizuna geo load $NODE_DIR FILE… loads some)" >&2
  elif ! (mkdir -p "$GEO_CACHE" && npm install --prefix "$GEO_CACHE" --no-save --no-package-lock \
            --no-audit --no-fund @ip-location-db/asn @ip-location-db/asn-country >&2); then
    echo "start-node: warning: could not install @ip-location-db/asn and asn-country from npm; no default geo data" >&2
  fi
fi
if geo_data_present && [ ! -f "$NODE_DIR/geo/asn.kgeo" ] && [ ! -f "$NODE_DIR/geo/country.kgeo" ]; then
  "$KIZUNA" geo load "$NODE_DIR" "${GEO_FILES[@]}" ||
    echo "start-node: warning: kizuna geo load failed; the node runs without geo data" >&2
fi
echo "admin API key: $(cd "$NODE_DIR" && pwd)/admin.key"
echo "try: curl -H \"Authorization: Bearer \$(cat $NODE_DIR/admin.key)\" http://$LISTEN/taxii2/"
exec "$KIZUNA" serve "$NODE_DIR"
