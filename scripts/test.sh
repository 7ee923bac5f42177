#!/usr/bin/env bash
# The test command (npm test): makes the machine ready (Docker engine, swarm,
# qemu for the arm images), builds the images, then runs the unit and
# end-to-end tests.
#   npm test                 everything
#   npm test -- <vitest args>  e.g. --project unit, or a file filter
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
scripts/prepare-machine.sh --install
# The UI tests drive Debian's chromium (playwright-core downloads no browser).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then
  echo "[test] installing chromium from Debian's packages" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
fi
# qemu emulation and the arm base images, for test/e2e/multiarch.test.ts (which builds the arm images).
scripts/make-arm-bases.sh --install >/dev/null
scripts/build-images.sh
exec npx vitest run "$@"
