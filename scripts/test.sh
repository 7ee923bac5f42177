#!/usr/bin/env bash
# The test command (npm test): makes the machine ready (Docker engine, swarm,
# qemu for the arm images), builds the images, then runs the unit and
# end-to-end tests, and the cluster tests (a 3-node swarm of engines in network
# namespaces made by scripts/cluster.sh; needs root, as CI runs it).
#   npm test                 everything
#   npm test -- <vitest args>  e.g. --project unit, or a file filter
set -euo pipefail
cd "$(dirname "$0")/.."

# The build and the tests run on Node.js 24 (installed under /opt when the node on PATH is older).
PATH="$(scripts/ensure-node.sh):$PATH"
export PATH
[ -d node_modules ] || npm ci --no-audit --no-fund
scripts/prepare-machine.sh --install
say() { echo "[test] $*" >&2; }
die() { echo "[test] ERROR: $*" >&2; exit 1; }
# shellcheck source=lib.sh
. scripts/lib.sh
INSTALL=1
# The UI tests drive Debian's chromium (playwright-core downloads no browser).
if [ ! -x /usr/bin/chromium ] && may_install; then
  say "installing chromium from Debian's packages"
  apt_install chromium
fi
# qemu emulation and the arm base images, for test/e2e/multiarch.test.ts (which builds the arm
# images), and the cross compilers for the watchdog's spawner in them.
scripts/make-arm-bases.sh --install >/dev/null
need_pkg aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
need_pkg arm-linux-gnueabihf-gcc gcc-arm-linux-gnueabihf
# The queue's unit tests run a real nats-server (gateway/test/unit/support/nats-server.ts).
need_pkg nats-server nats-server
# The RabbitMQ trigger's unit tests run a real broker from Debian's rabbitmq-server (gateway/test/unit/support/rabbitmq-server.ts).
need_rabbitmq
scripts/build-images.sh
# The OpenFaaS CLI the faas-cli suite drives (test/e2e/faas-cli.test.ts): the
# build beside the project (../shared/reference/faas-cli) unless FAAS_CLI names one.
if [ -z "${FAAS_CLI:-}" ] && [ -x ../shared/reference/faas-cli ]; then
  FAAS_CLI="$(cd .. && pwd)/shared/reference/faas-cli"
  export FAAS_CLI
fi
[ -n "${FAAS_CLI:-}" ] || say "FAAS_CLI is not set and ../shared/reference/faas-cli is missing: the faas-cli suite will fail (set FAAS_CLI to a faas-cli binary)"
[ $# -eq 0 ] || exec npx vitest run "$@"

# Everything: the cluster project (its own three engines in network namespaces)
# runs beside the unit and end-to-end projects (this machine's engine): the two
# share nothing but the CPU, and side by side they take about as long as the
# longer of them instead of their sum. TEST_SERIAL=1 runs them one after another.
if [ "${TEST_SERIAL:-0}" = 1 ]; then exec npx vitest run; fi
logs=$(mktemp -d)
started=$SECONDS
# The cluster's lines carry a prefix, so the two outputs can be told apart.
{ npx vitest run --project cluster; echo $? >"$logs/cluster.rc"; } 2>&1 | tee "$logs/cluster.log" | sed -u 's/^/[cluster] /' &
cluster=$!
set +e
npx vitest run --project unit --project e2e
local_rc=$?
say "unit + e2e done in $((SECONDS - started)) s (exit $local_rc); waiting for the cluster project"
wait "$cluster"
set -e
cluster_rc=$(cat "$logs/cluster.rc" 2>/dev/null || echo 1)
say "cluster project exit $cluster_rc; everything in $((SECONDS - started)) s"
# Its failures again, short, at the end: its own summary scrolled away among the unit and e2e lines.
if [ "$cluster_rc" != 0 ]; then
  say "the cluster project's failures:"
  sed 's/\x1b\[[0-9;]*m//g' "$logs/cluster.log" | grep -E '^ *(FAIL|×|Error|AssertionError|[A-Za-z]*Error:|Test Files|Tests )' | head -40 | sed 's/^/[cluster] /' >&2 || true
fi
rm -rf "$logs"
[ "$local_rc" = 0 ] && [ "$cluster_rc" = 0 ]
