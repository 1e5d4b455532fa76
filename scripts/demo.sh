#!/usr/bin/env bash
# Installs what is needed, builds sluice (release) and runs the bundled credit
# example: decisions for 4,454 real credit applications.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
mkdir -p out
build/release/src/cli/sluice check examples/credit/credit.yaml
build/release/src/cli/sluice run examples/credit/credit.yaml \
  --input examples/credit/credit_data.csv --output out/credit_decisions.csv \
  --summary out/credit_summary.json
echo
echo "Decisions: out/credit_decisions.csv (first lines below); summary: out/credit_summary.json"
head -n 4 out/credit_decisions.csv
