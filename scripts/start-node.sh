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
echo "admin API key: $(cd "$NODE_DIR" && pwd)/admin.key"
echo "try: curl -H \"Authorization: Bearer \$(cat $NODE_DIR/admin.key)\" http://$LISTEN/taxii2/"
exec "$KIZUNA" serve "$NODE_DIR"
