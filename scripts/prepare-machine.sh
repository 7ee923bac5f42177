#!/usr/bin/env bash
# Makes this machine ready to run the stack: a Docker engine that answers and a
# swarm this node belongs to. Idempotent: a second run changes nothing.
#
#   scripts/prepare-machine.sh [--install]
#
# --install   install the engine from Debian's packages when none is present
#             (Debian, as root). Without it a missing engine is an error that
#             says what to install.
set -euo pipefail

INSTALL=0
for arg in "$@"; do
  case "$arg" in
    --install) INSTALL=1 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "prepare-machine: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { echo "[prepare] $*"; }
die() { echo "[prepare] ERROR: $*" >&2; exit 1; }

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}

engine_answers() { docker info >/dev/null 2>&1; }

install_engine() {
  if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
    die "no Docker engine here. Install Docker Engine (https://docs.docker.com/engine/install/) and run this again."
  fi
  say "installing Docker Engine from Debian's packages (docker.io)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
  say "installed: $(dockerd --version)"
}

start_engine() {
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    say "starting docker with systemd"
    systemctl start docker || true
  fi
  if ! engine_answers; then
    say "starting dockerd in the background (log: $DOCKERD_LOG)"
    nohup dockerd >"$DOCKERD_LOG" 2>&1 &
  fi
  for _ in $(seq 1 60); do
    engine_answers && return 0
    sleep 1
  done
  tail -20 "$DOCKERD_LOG" >&2 || true
  die "dockerd did not answer within 60 s (log: $DOCKERD_LOG)"
}

if ! engine_answers; then
  if ! command -v dockerd >/dev/null 2>&1; then
    if [ "$INSTALL" = 1 ]; then
      install_engine
    else
      die "no Docker engine found. Install Docker Engine, or on Debian run: $0 --install"
    fi
  fi
  start_engine
fi
say "engine answers: Docker $(docker version --format '{{.Server.Version}}')"

swarm_state=$(docker info --format '{{.Swarm.LocalNodeState}}')
case "$swarm_state" in
  active)
    say "node is in a swarm already (manager: $(docker info --format '{{.Swarm.ControlAvailable}}'))" ;;
  inactive)
    addr=${SWARM_ADVERTISE_ADDR:-127.0.0.1}
    say "node is in no swarm: making a single-node swarm (advertise $addr)"
    docker swarm init --advertise-addr "$addr" >/dev/null
    say "swarm initialised" ;;
  *)
    die "swarm state is '$swarm_state'; wait until it settles, or run 'docker swarm leave --force' and retry" ;;
esac
if [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" != true ]; then
  die "this node is a swarm worker; run on a manager node"
fi
