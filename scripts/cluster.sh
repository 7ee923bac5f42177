#!/usr/bin/env bash
# A real multi-node Docker Swarm on this one machine: one dockerd per node,
# each in its own network, mount and UTS namespace (so each node has its own
# address, its own /var/run/docker.sock as its containers see it, and its own
# hostname), all on one bridge made for the purpose.
#
#   scripts/cluster.sh up [N] [--managers M] [--heartbeat D] [--install]
#       makes (or completes, or repairs) an N-node swarm [3] with M managers [1]
#       and prints, as export lines, how to use it:
#         export DOCKER_HOST=...         the first manager's engine
#         export CLUSTER_ADDRESS=...     that manager's address on the bridge, where
#                                        ports published in host mode there answer
#         export CLUSTER_NODE_HOSTS=...  every node's engine (space separated)
#       so that  eval "$(scripts/cluster.sh up)" && ./deploy_stack.sh  deploys
#       onto the cluster. Idempotent: a second `up` changes nothing, a node
#       whose engine died is started again and rejoins as the same node, a
#       larger N adds nodes. --heartbeat sets the dispatcher heartbeat
#       (`docker swarm update --dispatcher-heartbeat`, Docker's default 5s); a
#       node that stops answering is marked down after about three heartbeats,
#       so tests use a short one. --install installs what is missing (iproute2,
#       iptables, docker.io) from Debian's packages.
#   scripts/cluster.sh down
#       removes everything `up` made: engines and what they run, namespaces,
#       bridge, iptables rule, cgroups, data and run directories. Safe to run
#       twice. Prints `unset ...` for eval.
#   scripts/cluster.sh status
#       lists the nodes (hostname, role, state, address, engine); exits 1 when
#       there is no cluster or a node is not Ready.
#   scripts/cluster.sh kill-node I
#       a power cut of node I: SIGKILL to its engine, its containerd, and every
#       process of its containers. `up` brings it back.
#
# The nodes trust plain-HTTP registries on the cluster's subnet (as a LAN
# registry would be set up), so a registry of your own can run on a node:
#   docker run -d -p 5001:5000 registry:2   (on node-1: DOCKER_HOST from `up`)
#   FAAS_REPO=<node-1's address>:5001/me ./deploy_stack.sh
#
# Environment: CLUSTER_PREFIX [sfaas] names the namespaces (<prefix>-1 ...),
# the bridge (<prefix>-br), cgroups and directories; CLUSTER_SUBNET
# [10.99.0.0/24] is the bridge's /24 (host .1, node i .10+i). Both must not
# clash with anything on this machine. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=${CLUSTER_PREFIX:-sfaas}
SUBNET=${CLUSTER_SUBNET:-10.99.0.0/24}
RUN_DIR=/run/$PREFIX           # per node: the node's /run (socket, pid file, exec-root)
STATE_DIR=/var/lib/$PREFIX     # per node: data-root and the engine's log
BRIDGE=$PREFIX-br
HEARTBEAT=${CLUSTER_HEARTBEAT:-}

say() { echo "[cluster] $*" >&2; }
die() { echo "[cluster] ERROR: $*" >&2; exit 1; }
# shellcheck source=lib.sh
. scripts/lib.sh

[[ $PREFIX =~ ^[a-z][a-z0-9]{0,9}$ ]] || die "CLUSTER_PREFIX must be 1-10 lower-case letters or digits (interface names are short): '$PREFIX'"
[[ $SUBNET =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.0/24$ ]] || die "CLUSTER_SUBNET must be a /24 like 10.99.0.0/24: '$SUBNET'"
NET=${BASH_REMATCH[1]}
HOST_IP=$NET.1

node_ip() { echo "$NET.$((10 + $1))"; }
netns() { echo "$PREFIX-$1"; }
veth() { echo "$PREFIX-v$1"; }
node_run() { echo "$RUN_DIR/node-$1"; }
node_state() { echo "$STATE_DIR/node-$1"; }
node_sock() { echo "$(node_run "$1")/docker.sock"; }
node_host() { echo "unix://$(node_sock "$1")"; }
node_cgroup() { echo "$PREFIX-node-$1"; }
on() { local i=$1; shift; docker -H "$(node_host "$i")" "$@"; }
engine_answers() { [ -S "$(node_sock "$1")" ] && timeout 10 docker -H "$(node_host "$1")" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
engine_pid() { local f; f="$(node_run "$1")/docker.pid"; [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; }

# Nodes that exist (a state directory each), in order.
known_nodes() {
  local d
  for d in "$STATE_DIR"/node-*; do [ -d "$d" ] && echo "${d##*-}"; done | sort -n
}
conf_get() { sed -n "s/^$1=//p" "$STATE_DIR/cluster.conf" 2>/dev/null || true; }

need_root() { [ "$(id -u)" = 0 ] || die "needs root (network namespaces, a bridge, iptables)"; }

# The network ---------------------------------------------------------------------
forward_rule=(FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT)

make_bridge() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    # Refuse a subnet this machine already routes somewhere else.
    local routes; routes=$(ip -4 route show | awk '{print $1}')
    if grep -qx "$SUBNET" <<<"$routes"; then
      die "$SUBNET is already routed on this machine: choose another CLUSTER_SUBNET"
    fi
    ip link add "$BRIDGE" type bridge
    ip addr add "$HOST_IP/24" dev "$BRIDGE"
    say "bridge $BRIDGE ($HOST_IP/24)"
  fi
  ip link set "$BRIDGE" up
  # The host engine's FORWARD policy is DROP and bridged traffic passes
  # iptables (bridge-nf-call-iptables): let the nodes talk to each other.
  iptables -C "${forward_rule[@]}" 2>/dev/null || iptables -I "${forward_rule[@]}"
}

make_netns() { # i
  local i=$1 ns v
  ns=$(netns "$i"); v=$(veth "$i")
  [ -e "/run/netns/$ns" ] || ip netns add "$ns"
  if ! ip link show "$v" >/dev/null 2>&1; then
    ip link add "$v" type veth peer name eth0 netns "$ns"
    ip link set "$v" master "$BRIDGE" up
  fi
  ip -n "$ns" link set lo up
  # (Captured first: with pipefail, `ip ... | grep -q` fails when grep stops reading early.)
  local addrs; addrs=$(ip -n "$ns" -4 -o addr show dev eth0)
  [[ $addrs == *" inet $(node_ip "$i")/"* ]] || ip -n "$ns" addr add "$(node_ip "$i")/24" dev eth0
  ip -n "$ns" link set eth0 up
}

# The engines ---------------------------------------------------------------------
start_engine() { # i
  local i=$1 run state
  run=$(node_run "$i"); state=$(node_state "$i")
  mkdir -p "$run" "$state/docker"
  rm -f "$run/docker.sock" "$run/docker.pid"
  say "starting the engine of node-$i ($(node_ip "$i"), log $state/dockerd.log)"
  # In the node's network namespace (nsenter, not `ip netns exec`: that
  # remounts /sys and dockerd then finds no devices cgroup), a UTS namespace
  # for its hostname and a private mount namespace in which the node's run
  # directory is /run: its containers then bind-mount the node's own
  # /var/run/docker.sock (the gateway needs that). The host's mounts under
  # /run and /var/lib/docker are dropped from the copy first, so this node
  # holds no reference to the host engine's namespaces or layers. (The
  # cgroupfs driver: systemd's bus is not in the node's /run.)
  setsid nsenter --net="/run/netns/$(netns "$i")" -- \
    unshare --mount --uts --propagation private -- /bin/sh -c '
      set -e
      hostname "$1"
      awk "{print \$5}" /proc/self/mountinfo | grep -E "^(/run/.+|/var/run/.+|/var/lib/docker(/.*)?)$" \
        | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
      mount --bind "$2" /run
      shift 3
      exec dockerd "$@"
    ' sh "node-$i" "$run" -- \
      --data-root "$state/docker" --exec-root /run/docker -H unix:///run/docker.sock \
      --pidfile /run/docker.pid --cgroup-parent "/$(node_cgroup "$i")" --insecure-registry "$SUBNET" \
      --exec-opt native.cgroupdriver=cgroupfs \
      >>"$state/dockerd.log" 2>&1 </dev/null 9>&- &
  local _
  for _ in $(seq 1 60); do
    engine_answers "$i" && return 0
    sleep 1
  done
  tail -20 "$state/dockerd.log" >&2 || true
  die "the engine of node-$i did not answer within 60 s (log: $state/dockerd.log)"
}

# pids of everything node i runs: its engine, its containerd and shims (in its
# network namespace) and its containers' processes (in its cgroups).
node_pids() { # i
  local i=$1 cg
  ip netns pids "$(netns "$i")" 2>/dev/null || true
  for cg in "/sys/fs/cgroup/$(node_cgroup "$i")" /sys/fs/cgroup/*/"$(node_cgroup "$i")"; do
    [ -d "$cg" ] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null
  done
  true
}

kill_node() { # i: SIGKILL to everything the node runs
  local i=$1 pids _
  for _ in 1 2 3 4 5; do
    pids=$(node_pids "$i" | sort -u | tr '\n' ' ')
    [ -z "${pids// /}" ] && return 0
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    sleep 0.5
  done
}

stop_engines() { # i...: gracefully (each engine stops its containers), all at once, then whatever is left
  local i pid pids="" _
  for i in "$@"; do
    if pid=$(engine_pid "$i"); then kill -TERM "$pid" 2>/dev/null || true; pids+=" $pid"; fi
  done
  for _ in $(seq 1 40); do
    local alive=0
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for i in "$@"; do kill_node "$i"; done
}

remove_cgroups() { # i
  local cg
  for cg in "/sys/fs/cgroup/$(node_cgroup "$1")" /sys/fs/cgroup/*/"$(node_cgroup "$1")"; do
    [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  true
}

# The swarm -----------------------------------------------------------------------
swarm_state() { on "$1" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }

join_swarm() { # i role
  local i=$1 role=$2 token attempt
  for attempt in 1 2 3; do
    case "$(swarm_state "$i")" in
      active) return 0 ;;
      pending|error|locked) on "$i" swarm leave --force >/dev/null 2>&1 || true ;;
    esac
    token=$(on 1 swarm join-token -q "$role")
    say "node-$i joins as $role (attempt $attempt)"
    if on "$i" swarm join --token "$token" --advertise-addr "$(node_ip "$i")" --listen-addr "$(node_ip "$i"):2377" "$(node_ip 1):2377" >/dev/null 2>&1; then
      return 0
    fi
    sleep 2
  done
  die "node-$i could not join the swarm (see $(node_state "$i")/dockerd.log)"
}

wait_ready() { # n
  local n=$1 ready _
  for _ in $(seq 1 90); do
    ready=$(on 1 node ls --format '{{.Hostname}} {{.Status}}' 2>/dev/null | awk '$2 == "Ready"' | wc -l)
    [ "$ready" -ge "$n" ] && return 0
    sleep 1
  done
  on 1 node ls >&2 || true
  die "not all $n nodes are Ready after 90 s"
}

print_exports() {
  local hosts="" i
  for i in $(known_nodes); do hosts+="${hosts:+ }$(node_host "$i")"; done
  echo "export DOCKER_HOST=$(node_host 1)"
  echo "export CLUSTER_ADDRESS=$(node_ip 1)"
  echo "export CLUSTER_NODE_HOSTS=\"$hosts\""
}

cmd_up() {
  local n=3 m=1 install=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --managers) m=${2:?--managers needs a number}; shift ;;
      --heartbeat) HEARTBEAT=${2:?--heartbeat needs a duration, e.g. 2s}; shift ;;
      --install) install=1 ;;
      [0-9]*) n=$1 ;;
      *) die "up: unknown argument '$1'" ;;
    esac
    shift
  done
  [[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 200 ]] || die "up: N must be 1..200"
  [[ $m =~ ^[0-9]+$ && $m -ge 1 && $m -le $n ]] || die "up: --managers must be 1..N"
  need_root
  INSTALL=$install
  need_pkg ip iproute2
  need_pkg iptables iptables
  need_pkg nsenter util-linux
  need_pkg dockerd docker.io

  mkdir -p "$RUN_DIR" "$STATE_DIR"
  exec 9>"$RUN_DIR/lock"
  flock -w 600 9 || die "another scripts/cluster.sh has held $RUN_DIR/lock for 10 minutes"
  local had_n had_m
  had_n=$(conf_get nodes); had_m=$(conf_get managers)
  if [ -n "$had_n" ]; then
    [ "$n" -ge "$had_n" ] || die "the cluster has $had_n nodes, asked for $n: run 'scripts/cluster.sh down' first to make a smaller one"
    [ "$m" = "$had_m" ] || die "the cluster has $had_m manager(s), asked for $m: run 'scripts/cluster.sh down' first"
  fi
  printf 'nodes=%s\nmanagers=%s\n' "$n" "$m" >"$STATE_DIR/cluster.conf"

  make_bridge
  local i
  for i in $(seq 1 "$n"); do
    make_netns "$i"
    engine_answers "$i" || { kill_node "$i"; start_engine "$i"; }
  done
  case "$(swarm_state 1)" in
    active) ;;
    inactive)
      say "node-1 makes the swarm (advertise $(node_ip 1))"
      on 1 swarm init --advertise-addr "$(node_ip 1)" --listen-addr "$(node_ip 1):2377" >/dev/null ;;
    *) die "node-1's swarm state is '$(swarm_state 1)'; run 'scripts/cluster.sh down' and up again" ;;
  esac
  if [ -n "$HEARTBEAT" ]; then
    on 1 swarm update --dispatcher-heartbeat "$HEARTBEAT" >/dev/null
  fi
  for i in $(seq 2 "$n"); do
    if [ "$i" -le "$m" ]; then join_swarm "$i" manager; else join_swarm "$i" worker; fi
  done
  wait_ready "$n"
  say "$n nodes Ready ($m manager(s)), dispatcher heartbeat $(on 1 info --format '{{.Swarm.Cluster.Spec.Dispatcher.HeartbeatPeriod}}')"
  print_exports
}

cmd_down() {
  need_root
  local i found=0
  # (Waits for an `up` in progress; an engine started by an older version of
  # this script may hold the lock itself, hence the bound.)
  if [ -d "$RUN_DIR" ]; then exec 9>"$RUN_DIR/lock"; flock -w 60 9 || say "going on without the lock"; fi
  # Nodes by their state directory, and any namespace of ours left without one.
  local nodes
  nodes=$( { known_nodes; ip netns list 2>/dev/null | awk '{print $1}' | sed -n "s/^$PREFIX-\([0-9]\+\)$/\1/p"; } | sort -nu | tr '\n' ' ')
  if [ -n "${nodes// /}" ]; then
    say "stopping the engines of node(s) $nodes"
    # shellcheck disable=SC2086
    stop_engines $nodes
  fi
  for i in $nodes; do
    found=1
    ip netns del "$(netns "$i")" 2>/dev/null || true
    ip link del "$(veth "$i")" 2>/dev/null || true
    remove_cgroups "$i"
  done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE"; found=1; fi
  while iptables -C "${forward_rule[@]}" 2>/dev/null; do iptables -D "${forward_rule[@]}"; found=1; done
  if [ -d "$STATE_DIR" ] || [ -d "$RUN_DIR" ]; then
    # A mount left over would make rm fail loudly rather than remove an engine's data under it.
    if grep -qE " ($STATE_DIR|$RUN_DIR)(/| )" /proc/self/mountinfo; then
      die "mounts remain under $STATE_DIR or $RUN_DIR; not removing them"
    fi
    rm -rf "$STATE_DIR" "$RUN_DIR"
    found=1
  fi
  if [ "$found" = 1 ]; then say "cluster removed"; else say "no cluster to remove"; fi
  echo "unset DOCKER_HOST CLUSTER_ADDRESS CLUSTER_NODE_HOSTS"
}

cmd_status() {
  local nodes ok=0 i
  nodes=$(known_nodes | tr '\n' ' ')
  if [ -z "$nodes" ]; then say "no cluster (scripts/cluster.sh up makes one)"; return 1; fi
  printf '%-8s %-14s %-9s %-6s %-8s %-12s %s\n' NODE HOSTNAME ROLE STATE AVAIL ADDRESS ENGINE
  local listing=""
  engine_answers 1 && listing=$(on 1 node ls --format '{{.Hostname}} {{.Status}} {{.Availability}} {{if .ManagerStatus}}manager{{else}}worker{{end}}' 2>/dev/null || true)
  for i in $nodes; do
    local engine="down" row
    engine_answers "$i" && engine="$(node_host "$i") (pid $(engine_pid "$i" || echo '?'))"
    row=$(echo "$listing" | awk -v h="node-$i" '$1 == h')
    # shellcheck disable=SC2086
    set -- ${row:-node-$i ? ? ?}
    [ "${2:-}" = Ready ] || ok=1
    printf '%-8s %-14s %-9s %-6s %-8s %-12s %s\n' "node-$i" "$1" "$4" "$2" "$3" "$(node_ip "$i")" "$engine"
  done
  return $ok
}

cmd_kill_node() {
  local i=${1:?kill-node needs a node number}
  need_root
  [ -d "$(node_state "$i")" ] || die "no node-$i"
  say "power cut on node-$i: SIGKILL to its engine and everything it runs"
  kill_node "$i"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kill-node) shift; cmd_kill_node "$@" ;;
  -h|--help|help) sed -n '2,41p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) echo "usage: scripts/cluster.sh up [N] [--managers M] [--heartbeat D] [--install] | down | status | kill-node I (see --help)" >&2; exit 2 ;;
esac
