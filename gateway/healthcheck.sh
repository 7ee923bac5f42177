#!/bin/sh
# The gateway's health, as a client sees it: its own /healthz, and, when the
# stack publishes its port (PUBLISHED_PORT), the same through that port on
# this node (via the container's default gateway, the node itself), so that
# a published port that stopped answering (Docker's port proxy out of
# descriptors) makes the task unhealthy and Swarm replaces it.
# (timeout, not wget -T: Debian's busybox 1.35 crashes on -T.)
timeout 4 wget -q -O /dev/null http://127.0.0.1:8080/healthz || exit 1
[ -n "${PUBLISHED_PORT:-}" ] || exit 0
node_address=$(ip route 2>/dev/null | awk '/^default/ { print $3; exit }')
[ -n "$node_address" ] || exit 0
timeout 4 wget -q -O /dev/null "http://$node_address:$PUBLISHED_PORT/healthz"
