#!/usr/bin/env bash
# Prints the compose file of a stack's namespace networks: N overlay networks
# (ns-1 .. ns-N) that the gateway, the queue worker and the event connector
# (everything that invokes functions) are on from the start.
# Creating a namespace claims a free one; deleting it frees it. They are part
# of the stack because Swarm gives a service's containers their addresses on
# the networks named in its spec only: a network joined later with
# `docker network connect` is not known to Swarm's allocator, which then hands
# the same address to a function's task ("Address already in use").
#
# Usage: scripts/namespace-networks.sh N   (deploy_stack.sh: NAMESPACE_SLOTS)
set -euo pipefail
slots=${1:?usage: namespace-networks.sh N}
[[ $slots =~ ^[0-9]+$ ]] && [ "$slots" -le 64 ] || { echo "NAMESPACE_SLOTS must be a whole number from 0 to 64 (got '$slots')" >&2; exit 2; }

echo 'version: "3.9"'
[ "$slots" -eq 0 ] && exit 0
names=$(seq -f 'ns-%g' 1 "$slots" | paste -sd, - | sed 's/,/, /g')
cat <<YAML
services:
  gateway:
    networks: [$names]
  queue-worker:
    networks: [$names]
    environment:
      # The callback guard looks the stack's services up on each of its networks.
      ASYNC_CALLBACK_DENY_NETWORKS: \${STACK_NAME:-func}_functions,\${STACK_NAME:-func}_monitoring,\${STACK_NAME:-func}_nats,$(seq -f '${STACK_NAME:-func}_ns-%g' 1 "$slots" | paste -sd, -)
  connector:
    networks: [$names]
networks:
YAML
for i in $(seq 1 "$slots"); do
  cat <<YAML
  ns-$i:
    driver: overlay
    labels:
      com.swarmfaas.kind: namespace-slot
      com.swarmfaas.slot: "$i"
YAML
done
