#!/bin/sh
# Keeps this node's firewall rules for the stack in place, in a nftables
# table of the stack's own (inet: IPv4 and IPv6), hooked before Docker's
# port forwarding (prerouting, priority raw), so that it holds whatever
# Docker, iptables-legacy or iptables-nft do with their own tables:
#
#   LOOPBACK_ONLY_PORTS   TCP ports of this node (the stack's registry and its
#                         mirror) that answer only this node's own processes:
#                         the engine pulls from 127.0.0.1. Anything that
#                         arrives on another interface is dropped: containers
#                         (through docker_gwbridge, docker0 or any bridge),
#                         other nodes' functions, the LAN.
#   NO_CONTAINER_PORTS    TCP ports of the stack published on every node
#                         (Prometheus and AlertManager with
#                         --publish-monitoring) that containers may not reach:
#                         dropped from the container bridges to this node's
#                         addresses and to NODE_ADDRESSES (the other nodes).
#   NODE_ADDRESSES        every node's address (deploy_stack.sh reads them
#                         from the swarm).
#
# Runs as a global service: Swarm starts it on every node, on a node that
# joins later, and again after a node's engine (or the node) restarts, when
# the kernel's tables are empty; it checks every RECHECK_SECONDS that its
# table is still there (a `nft flush ruleset` elsewhere) and puts it back.
# A stopping task removes the table only while it is still the one that
# wrote it (the table's comment names the task): an update starts the new
# task first, which replaces the table in one transaction, so the rules
# never lapse; removing the stack removes them.
set -eu
STACK=${STACK:?the stack name}
RECHECK_SECONDS=${RECHECK_SECONDS:-5}
TABLE=swarmfaas_$(printf '%s' "$STACK" | tr -c 'A-Za-z0-9_' '_')
OWNER="task $(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
BRIDGES='"docker0" "docker_gwbridge" "br-*"'

list() { printf '%s' "$1" | tr ', ' '\n\n' | sed '/^$/d' | paste -sd, -; }
loopback_only=$(list "${LOOPBACK_ONLY_PORTS:-}")
no_container=$(list "${NO_CONTAINER_PORTS:-}")
nodes4=$(list "${NODE_ADDRESSES:-}" | tr ',' '\n' | grep -v ':' | paste -sd, - || true)
nodes6=$(list "${NODE_ADDRESSES:-}" | tr ',' '\n' | grep ':' | paste -sd, - || true)

ruleset() {
  echo "table inet $TABLE {"
  echo "  comment \"$OWNER\""
  echo "  chain prerouting {"
  echo "    type filter hook prerouting priority raw; policy accept;"
  if [ -n "$loopback_only" ]; then
    echo "    iifname != \"lo\" fib daddr type local tcp dport { $loopback_only } counter drop comment \"$STACK: registry, this node only\""
  fi
  if [ -n "$no_container" ]; then
    for bridge in $BRIDGES; do
      echo "    iifname $bridge fib daddr type local tcp dport { $no_container } counter drop comment \"$STACK: published ports, not from containers\""
      [ -z "$nodes4" ] || echo "    iifname $bridge ip daddr { $nodes4 } tcp dport { $no_container } counter drop"
      [ -z "$nodes6" ] || echo "    iifname $bridge ip6 daddr { $nodes6 } tcp dport { $no_container } counter drop"
    done
  fi
  echo "  }"
  echo "}"
}

apply() {
  # One transaction: the old table (if any) goes and the new one comes at once.
  { echo "table inet $TABLE {}"; echo "delete table inet $TABLE"; ruleset; } | nft -f -
}

mine() { nft list table inet "$TABLE" 2>/dev/null | grep -q "comment \"$OWNER\""; }
remove() { if mine; then nft delete table inet "$TABLE" && echo "firewall: table inet $TABLE removed"; else echo "firewall: table inet $TABLE left to the task that replaced it"; fi; }

if [ -z "$loopback_only$no_container" ]; then
  echo "firewall: no port to guard (LOOPBACK_ONLY_PORTS and NO_CONTAINER_PORTS are empty)"
else
  apply
  echo "firewall: table inet $TABLE in place: loopback only: ${loopback_only:-none}; not from containers: ${no_container:-none} (nodes: ${NODE_ADDRESSES:-none})"
fi
trap 'remove; exit 0' TERM INT
while :; do
  sleep "$RECHECK_SECONDS" &
  wait $! || true
  if [ -n "$loopback_only$no_container" ] && ! nft list table inet "$TABLE" >/dev/null 2>&1; then
    apply
    echo "firewall: table inet $TABLE was gone: put back"
  fi
done
