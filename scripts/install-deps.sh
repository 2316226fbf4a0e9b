#!/usr/bin/env bash
# Installs kizuna's build and test dependencies (Debian 12 packages only).
# Safe to re-run: does nothing when everything is already installed.
# Usage: scripts/install-deps.sh [--fuzz] [--browser]   (--fuzz: also clang and the
# libFuzzer/sanitizer runtimes that scripts/fuzz.sh needs; --browser: Chromium
# and playwright-core for the web console's browser tests)
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev openssl libsqlite3-dev sqlite3 libsodium-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpsl-dev libidn2-dev publicsuffix grepcidr libre2-dev
  libpcap-dev libroaring-dev tcpdump tshark
  libmaxminddb-dev libmaxmind-db-writer-perl
  curl ca-certificates
  libcurl4-openssl-dev libgpgme-dev gnupg python3-aiosmtpd
  libzstd-dev
  tzdata
  libjs-chart.js
  bind9-utils  # named-checkzone reads the RPZ export in its test
)
# npm fetches the default IP enrichment data (scripts/start-node.sh); Debian's
# only where no npm is there already (a Node.js install of its own brings one).
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
BROWSER=0
for arg in "$@"; do
  case "$arg" in
    --fuzz) PACKAGES+=(clang-14 libclang-rt-14-dev llvm-14) ;;
    # The web console's browser tests: Debian's Chromium, Node.js, and
    # playwright-core from the npm registry (tests/console/package-lock.json).
    --browser)
      BROWSER=1
      PACKAGES+=(chromium)
      command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
      ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
CONSOLE_TESTS="$(dirname "$0")/../tests/console"
if [ "$BROWSER" = 1 ] && [ ! -f "$CONSOLE_TESTS/node_modules/playwright-core/package.json" ]; then
  echo "install-deps: playwright-core for the console's browser tests (npm ci)"
  (cd "$CONSOLE_TESTS" && npm ci --no-audit --no-fund --loglevel=error)
fi
