#!/usr/bin/env bash
# The test command (npm test): makes the machine ready (Docker engine, swarm),
# builds the images, then runs the unit and end-to-end tests.
#   npm test                 everything
#   npm test -- <vitest args>  e.g. --project unit, or a file filter
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
scripts/prepare-machine.sh --install
scripts/build-images.sh
exec npx vitest run "$@"
