#!/usr/bin/env bash
# Installs the Debian 12 packages that sluice's build, tests, examples and
# benchmarks need, and the backtest report's JavaScript libraries
# (report/package-lock.json). Idempotent: does nothing when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config
  libyaml-cpp-dev libsimdjson-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev
  python3 python3-numpy python3-pandas time
  python3-xgboost python3-sklearn libxgboost-dev
  libcpp-httplib-dev prometheus-cpp-dev wrk
  chromium
)
# node and npm fetch the report's charting libraries and run its browser test.
# Any node >= 18 with its npm will do; Debian's only when there is none.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -ne 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when report/node_modules is missing or older than the lock file (npm
# writes node_modules/.package-lock.json on every install).
if [ ! -d report/node_modules ] || [ report/package-lock.json -nt report/node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci --prefix report" >&2
  npm ci --prefix report --no-audit --no-fund --loglevel=error >/dev/null
fi
