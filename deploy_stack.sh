#!/usr/bin/env bash
# Deploys the FaaS stack on Docker Swarm: gateway, queue worker, NATS, Prometheus, AlertManager, the
# builder and the sample functions, as the stack "func". Re-running updates it in place.
#
# Usage: ./deploy_stack.sh [options]
#   --no-auth          deploy without basic auth on /system/* and /ui
#   --publish-monitoring  also publish Prometheus and AlertManager on
#                      PROMETHEUS_PORT and ALERTMANAGER_PORT (without auth:
#                      anyone who reaches them can post alerts); otherwise
#                      they are reached through the gateway, behind its auth
#   --install-docker   install Docker Engine from Debian's packages when none is
#                      present (Debian, as root)
#   --build            rebuild every image even when present
#   --no-build         never build: fail when an image is missing
#   --remove           take the stack down (its services, networks, configs and
#                      the functions deployed on its network); keeps the secrets
#   --purge-secrets    with --remove: delete the stack's credentials too
#   --purge-data       with --remove: delete the stack's volumes too (the queue
#                      of asynchronous calls in NATS, webhookstash's files) and
#                      the images its builder made
#   --timeout SECONDS  how long to wait for the stack to be healthy [300]
#   --with-rabbitmq    bring the stack's own RabbitMQ (RabbitMQ triggers: annotations
#                      rabbitmq-topic, rabbitmq-output); RABBITMQ_URL=amqp[s]://user:pass@host/vhost
#                      instead connects the stack to yours (the credentials become Docker secrets)
#   --publish-rabbitmq with --with-rabbitmq: publish the broker's AMQP port on
#                      RABBITMQ_PORT [5672] (host mode) for producers outside the swarm
#   --registry         bring the stack's own registry even on a one-node swarm
#   --no-registry      never bring one (on several nodes, every node must then
#                      have the images already)
#   --no-firewall      do not guard the published ports other than the
#                      gateway's (docker-compose.firewall.yml): functions can
#                      then reach the registry and the monitoring ports
#   --no-builder       leave out the builder (POST /system/build then answers 503)
#   -h, --help         this text
#
# On a swarm of several nodes with no registry of yours (FAAS_REPO unset), the
# stack brings one (docker-compose.registry.yml: Docker's registry on this node,
# a pull-through mirror on every other, all at 127.0.0.1:$REGISTRY_PORT); the
# images built here are pushed to it and deployed by digest. With
# FAAS_REPO=<host:port>/<user> the images built here go to your registry.
# The stack's registry answers only each node's own processes, and ports
# published with --publish-monitoring answer no container: a firewall task on
# every node keeps nftables rules for it (docker-compose.firewall.yml).
#
# Environment:
#   STACK_NAME [func]  GATEWAY_PORT [8080]  PROMETHEUS_PORT [9090]
#   ALERTMANAGER_PORT [9093]  FAAS_REPO [swarmfaas]  FAAS_TAG [package version]
#   PROMETHEUS_IMAGE, ALERTMANAGER_IMAGE, NATS_IMAGE, RABBITMQ_IMAGE, NODE_IMAGE, BASE_IMAGES (auto|official|local)
#   RABBITMQ_URL, RABBITMQ_MANAGEMENT_URL  your broker (and its management API, for
#     queue depths counting unacknowledged messages), instead of --with-rabbitmq
#   QUEUE_WORKER_REPLICAS [1]
#   NAMESPACE_SLOTS [8]  how many namespaces besides the default one the
#     stack can hold (each has a network of the stack; re-deploy with more
#     when they are all in use)
#   UPSTREAM_MODE [tasks]  (vip on clusters whose routing mesh works)
#   CLUSTER_ADDRESS [127.0.0.1]  where ports published in host mode on this
#     node answer from here (scripts/cluster.sh prints it)
#   REGISTRY_PORT [5000]  REGISTRY_IMAGE [registry:2, else a local stand-in]
#   CLUSTER_NODE_HOSTS  every node's DOCKER_HOST: a local stand-in of the
#     registry's image is copied to them (scripts/cluster.sh prints it)
#   BUILD_CONCURRENCY [2]  BUILD_TIMEOUT [10m]  BUILD_MAX_CONTEXT [100mb]  BUILD_BACKEND [auto]
#   BUILD_IMAGE_PREFIX  the builder's settings (builder/README.md); the build bases of the
#     templates (WATCHDOG_IMAGE, NODE_IMAGE, PYTHON_IMAGE, BASH_IMAGE, given to every build)
#     are the official images when present or pullable, else local stand-ins
set -euo pipefail
cd "$(dirname "$0")"

AUTH=1 INSTALL=0 BUILD=auto REMOVE=0 PURGE=0 TIMEOUT=300 PUBLISH_MONITORING=0 REGISTRY_MODE=auto PURGE_DATA=0 FIREWALL=1 BUILDER=1 WITH_RABBITMQ=0 PUBLISH_RABBITMQ=0
BUILT=""   # the images this run built
while [ $# -gt 0 ]; do
  case "$1" in
    --no-auth) AUTH=0 ;;
    --publish-monitoring) PUBLISH_MONITORING=1 ;;
    --install-docker) INSTALL=1 ;;
    --build) BUILD=always ;;
    --no-build) BUILD=never ;;
    --remove) REMOVE=1 ;;
    --purge-secrets) PURGE=1 ;;
    --purge-data) PURGE_DATA=1 ;;
    --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift ;;
    --registry) REGISTRY_MODE=stack ;;
    --no-registry) REGISTRY_MODE=none ;;
    --no-firewall) FIREWALL=0 ;;
    --no-builder) BUILDER=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    --with-rabbitmq) WITH_RABBITMQ=1 ;;
    --publish-rabbitmq) PUBLISH_RABBITMQ=1 ;;
    *) echo "deploy_stack: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

export STACK_NAME=${STACK_NAME:-func}
export GATEWAY_PORT=${GATEWAY_PORT:-8080}
export PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
export ALERTMANAGER_PORT=${ALERTMANAGER_PORT:-9093}
USER_REPO=${FAAS_REPO:-}
export FAAS_REPO=${FAAS_REPO:-swarmfaas}
CLUSTER_ADDRESS=${CLUSTER_ADDRESS:-127.0.0.1}
export REGISTRY_PORT=${REGISTRY_PORT:-5000}
NAMESPACE_SLOTS=${NAMESPACE_SLOTS:-8}
[[ $NAMESPACE_SLOTS =~ ^[0-9]+$ ]] && [ "$NAMESPACE_SLOTS" -le 64 ] || { echo "ERROR: NAMESPACE_SLOTS must be a whole number from 0 to 64 (got '$NAMESPACE_SLOTS')" >&2; exit 2; }
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
export FAAS_TAG=${FAAS_TAG:-$(project_version)}
AUTH_USER=admin
SECRET_USER="${STACK_NAME}_basic-auth-user"
SECRET_PASSWORD="${STACK_NAME}_basic-auth-password"
SECRET_METRICS="${STACK_NAME}_metrics-token"
SECRET_PAYLOAD="${STACK_NAME}_payload-secret"

say() { echo "==> $*"; }
die() { echo "ERROR: $*" >&2; exit 1; }

# The engine and the swarm ------------------------------------------------------
if [ "$INSTALL" = 0 ] && ! command -v dockerd >/dev/null 2>&1 && ! docker info >/dev/null 2>&1; then
  # (A docker command alone is only a client: the engine is dockerd.)
  die "no Docker engine here. Install Docker Engine (https://docs.docker.com/engine/install/), or on Debian run: $0 --install-docker"
fi
prepare_args=(); [ "$INSTALL" = 1 ] && prepare_args+=(--install)
scripts/prepare-machine.sh "${prepare_args[@]}" | sed 's/^\[prepare\] /    /'

stack_services() { docker service ls --filter "label=com.docker.stack.namespace=$STACK_NAME" -q; }
stack_networks() { docker network ls --filter "label=com.docker.stack.namespace=$STACK_NAME" -q; }
stack_configs() { docker config ls --filter "label=com.docker.stack.namespace=$STACK_NAME" -q; }

# Removal ------------------------------------------------------------------------
if [ "$REMOVE" = 1 ]; then
  say "removing stack $STACK_NAME"
  # Functions deployed through the API are not part of the stack but hold its
  # networks: the functions network and the namespace networks (ns-1..).
  scope=$(docker network inspect "${STACK_NAME}_functions" --format '{{.Id}}' 2>/dev/null || echo none)
  scope_networks=" $(docker network ls -q --no-trunc --filter "label=com.docker.stack.namespace=$STACK_NAME" | tr '\n' ' ')"
  for id in $(docker service ls --filter label=function=true -q); do
    [ -n "$(docker service inspect "$id" --format '{{index .Spec.Labels "com.docker.stack.namespace"}}')" ] && continue
    for target in $(docker service inspect "$id" --format '{{range .Spec.TaskTemplate.Networks}}{{.Target}} {{end}}'); do
      case "$scope_networks" in *" $target "*)
        say "removing function $(docker service inspect "$id" --format '{{.Spec.Name}}') (deployed on the stack's networks)"
        docker service rm "$id" >/dev/null
        break ;;
      esac
    done
  done
  docker stack rm "$STACK_NAME" >/dev/null 2>&1 || true
  for _ in $(seq 1 120); do
    [ -z "$(stack_services)$(stack_networks)" ] && break
    sleep 1
  done
  [ -z "$(stack_services)$(stack_networks)" ] || die "stack $STACK_NAME still has services or networks after 120 s: see 'docker stack ps $STACK_NAME'"
  for id in $(stack_configs); do docker config rm "$id" >/dev/null 2>&1 || true; done
  # What the gateway made for its namespaces: their labels (configs).
  for id in $(docker config ls -q --filter "label=com.swarmfaas.scope=$scope"); do docker config rm "$id" >/dev/null 2>&1 || true; done
  if [ "$PURGE_DATA" = 1 ]; then
    # The images its builder made (those a container still uses stay).
    built=$(docker image ls -q --filter "label=com.swarmfaas.builder.stack=$STACK_NAME" | sort -u)
    if [ -n "$built" ]; then
      docker image rm $built >/dev/null 2>&1 || true
      say "removed the images the builder made ($(echo "$built" | wc -l))"
    fi
    # The stack's containers may still be exiting: their volumes go once they have.
    for volume in $(docker volume ls -q --filter "label=com.docker.stack.namespace=$STACK_NAME"); do
      for _ in $(seq 1 30); do docker volume rm "$volume" >/dev/null 2>&1 && break; sleep 1; done
      docker volume inspect "$volume" >/dev/null 2>&1 && say "could not remove volume $volume (still in use?)" || say "volume $volume removed"
    done
  fi
  if [ "$PURGE" = 1 ]; then
    docker secret rm "$SECRET_USER" "$SECRET_PASSWORD" "$SECRET_METRICS" "$SECRET_PAYLOAD" >/dev/null 2>&1 || true
    say "credentials and payload secret deleted"
    # The RabbitMQ credentials (and the broker's definitions, which hold its password's hash).
    for id in $(docker secret ls -q --filter "name=${STACK_NAME}_rabbitmq-"); do docker secret rm "$id" >/dev/null 2>&1 || true; done
    # And the secrets made for the functions through /system/secrets.
    for id in $(docker secret ls -q --filter "label=com.swarmfaas.scope=$scope"); do docker secret rm "$id" >/dev/null 2>&1 || true; done
  elif docker secret inspect "$SECRET_PASSWORD" >/dev/null 2>&1; then
    say "kept the credentials (secret $SECRET_PASSWORD); --purge-secrets deletes them"
  fi
  say "stack $STACK_NAME removed"
  exit 0
fi

# Images -------------------------------------------------------------------------
say "node architecture: $(docker info --format '{{.Architecture}}')"

images=(gateway firewall builder)
for dockerfile in functions/*/Dockerfile; do
  name=$(basename "$(dirname "$dockerfile")")
  [ "$name" = watchdog ] || images+=("$name")
done
missing=()
for name in "${images[@]}"; do
  image_exists "$FAAS_REPO/$name:$FAAS_TAG" || missing+=("$name")
done
if [ "$BUILD" = always ] || [ ${#missing[@]} -gt 0 ]; then
  if [ "$BUILD" = never ]; then
    die "missing images: ${missing[*]} (tag $FAAS_TAG); build them with scripts/build-images.sh or drop --no-build"
  fi
  # Try the registry first for images of a published repository, and build only
  # what it lacks: a build would replace a pulled (maybe multi-arch) image.
  if [ "$BUILD" != always ] && [ "$FAAS_REPO" != swarmfaas ]; then
    for name in "${missing[@]}"; do docker pull -q "$FAAS_REPO/$name:$FAAS_TAG" >/dev/null 2>&1 || true; done
    still=()
    for name in "${missing[@]}"; do image_exists "$FAAS_REPO/$name:$FAAS_TAG" || still+=("$name"); done
    missing=("${still[@]}")
  fi
  if [ "$BUILD" = always ]; then
    say "building images (scripts/build-images.sh)"
    scripts/build-images.sh 2>&1 | sed 's/^\[images\] /    /'
    BUILT="watchdog ${images[*]}"
  elif [ ${#missing[@]} -gt 0 ]; then
    # The functions build FROM the watchdog image.
    image_exists "$FAAS_REPO/watchdog:$FAAS_TAG" || missing=(watchdog "${missing[@]}")
    say "building images (scripts/build-images.sh ${missing[*]})"
    scripts/build-images.sh "${missing[@]}" 2>&1 | sed 's/^\[images\] /    /'
    BUILT="${missing[*]}"
  fi
fi

monitoring_image() { # official local-name-key
  local official=$1 key=$2
  if image_exists "$official" || timeout 60 docker pull -q "$official" >/dev/null 2>&1; then
    echo "$official"
  else
    scripts/make-local-bases.sh --install 2>/dev/null | sed -n "s/^$key=//p"
  fi
}
export PROMETHEUS_IMAGE=${PROMETHEUS_IMAGE:-$(monitoring_image prom/prometheus:v2.42.0 PROMETHEUS_IMAGE)}
export ALERTMANAGER_IMAGE=${ALERTMANAGER_IMAGE:-$(monitoring_image prom/alertmanager:v0.25.0 ALERTMANAGER_IMAGE)}
say "prometheus: $PROMETHEUS_IMAGE, alertmanager: $ALERTMANAGER_IMAGE"
# NATS JetStream, the queue of asynchronous invocations (official image, else a local stand-in).
export NATS_IMAGE=${NATS_IMAGE:-$(monitoring_image nats:2.10-alpine NATS_IMAGE)}
say "nats: $NATS_IMAGE"

# Configuration and credentials ----------------------------------------------------
# Docker configs are immutable: name them after their content so edits roll out.
export CONFIG_VERSION=$(cat prometheus/*.yml alertmanager-config/*.yml nats/*.conf rabbitmq/* | sha256sum | cut -c1-12)

compose_files=(-c docker-compose.yml)
# The namespace networks (scripts/namespace-networks.sh says why they come with the stack).
namespaces_compose=$(mktemp "${TMPDIR:-/tmp}/swarmfaas-namespaces.XXXXXX.yml")
trap 'rm -f "$namespaces_compose"' EXIT
scripts/namespace-networks.sh "$NAMESPACE_SLOTS" >"$namespaces_compose"
compose_files+=(-c "$namespaces_compose")
[ "$PUBLISH_MONITORING" = 1 ] && compose_files+=(-c docker-compose.monitoring-ports.yml)
# The token Prometheus shows the queue workers and connectors for their /metrics
# (they are on the functions' networks): made once, kept across deploys.
if ! docker secret inspect "$SECRET_METRICS" >/dev/null 2>&1; then
  head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40 | docker secret create "$SECRET_METRICS" - >/dev/null
  say "generated the metrics token (Docker secret $SECRET_METRICS)"
fi
password_created=""
if [ "$AUTH" = 1 ]; then
  export BASIC_AUTH=true
  compose_files+=(-c docker-compose.auth.yml)
  if ! docker secret inspect "$SECRET_PASSWORD" >/dev/null 2>&1; then
    password_created=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
    docker secret rm "$SECRET_USER" >/dev/null 2>&1 || true
    printf '%s' "$AUTH_USER" | docker secret create "$SECRET_USER" - >/dev/null
    printf '%s' "$password_created" | docker secret create "$SECRET_PASSWORD" - >/dev/null
    say "generated credentials for user '$AUTH_USER' (Docker secret $SECRET_PASSWORD)"
  else
    say "using the existing credentials (Docker secret $SECRET_PASSWORD)"
  fi
else
  export BASIC_AUTH=false
  say "deploying WITHOUT authentication (--no-auth)"
fi
# The builder's payload secret: clients sign their build requests with it (faas-cli --payload-secret).
payload_created=""
if [ "$BUILDER" = 1 ]; then
  if ! docker secret inspect "$SECRET_PAYLOAD" >/dev/null 2>&1; then
    payload_created=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
    printf '%s' "$payload_created" | docker secret create "$SECRET_PAYLOAD" - >/dev/null
    say "generated the builder's payload secret (Docker secret $SECRET_PAYLOAD)"
  else
    say "using the existing payload secret (Docker secret $SECRET_PAYLOAD)"
  fi
fi

# RabbitMQ (RabbitMQ triggers) ---------------------------------------------------------
# The stack's own broker (--with-rabbitmq) or yours (RABBITMQ_URL). Either way the
# gateways and the connectors get the URL without credentials and the credentials
# as Docker secrets; the stack's broker gets its user, the password's hash, its
# dead-letter exchange and policy as a definitions file (a secret too).
RABBITMQ_MODE=none
if [ -n "${RABBITMQ_URL:-}" ]; then
  [ "$WITH_RABBITMQ" = 1 ] && die "--with-rabbitmq brings the stack's own broker; RABBITMQ_URL names yours: choose one"
  RABBITMQ_MODE=own
elif [ "$WITH_RABBITMQ" = 1 ]; then
  RABBITMQ_MODE=stack
fi
[ "$PUBLISH_RABBITMQ" = 1 ] && [ "$RABBITMQ_MODE" != stack ] && die "--publish-rabbitmq publishes the stack's own broker: add --with-rabbitmq"
secret_of() { # name value: makes the secret unless it exists
  docker secret inspect "$1" >/dev/null 2>&1 || printf '%s' "$2" | docker secret create "$1" - >/dev/null
}
rabbitmq_password_hash() { # password: RabbitMQ's rabbit_password_hashing_sha256, base64(salt + sha256(salt + password))
  local f; f=$(mktemp)
  head -c 4 /dev/urandom >"$f"
  { cat "$f"; printf '%s' "$1"; } | openssl dgst -sha256 -binary >>"$f"
  base64 -w0 "$f"; rm -f "$f"
}
case "$RABBITMQ_MODE" in
  stack)
    command -v openssl >/dev/null || die "openssl is needed to make the broker's password hash (Debian: apt-get install openssl)"
    export RABBITMQ_IMAGE=${RABBITMQ_IMAGE:-$(monitoring_image rabbitmq:3.13-management-alpine RABBITMQ_IMAGE)}
    [ -n "$RABBITMQ_IMAGE" ] || die "no RabbitMQ image: neither rabbitmq:3.13-management-alpine nor a local stand-in (scripts/make-local-bases.sh --install)"
    say "rabbitmq: $RABBITMQ_IMAGE (the stack's own broker)"
    export RABBITMQ_USERNAME_SECRET="${STACK_NAME}_rabbitmq-username" RABBITMQ_PASSWORD_SECRET="${STACK_NAME}_rabbitmq-password"
    definitions_secret="${STACK_NAME}_rabbitmq-definitions"
    if ! docker secret inspect "$RABBITMQ_PASSWORD_SECRET" "$RABBITMQ_USERNAME_SECRET" "$definitions_secret" >/dev/null 2>&1; then
      docker secret rm "$RABBITMQ_PASSWORD_SECRET" "$RABBITMQ_USERNAME_SECRET" "$definitions_secret" >/dev/null 2>&1 || true
      rabbit_password=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
      secret_of "$RABBITMQ_USERNAME_SECRET" faas
      secret_of "$RABBITMQ_PASSWORD_SECRET" "$rabbit_password"
      # Every queue dead-letters into faas.dead-letter unless it names its own exchange (a policy of lowest priority).
      secret_of "$definitions_secret" "$(cat <<JSON
{"users": [{"name": "faas", "password_hash": "$(rabbitmq_password_hash "$rabbit_password")", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}],
 "vhosts": [{"name": "/"}],
 "permissions": [{"user": "faas", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}],
 "exchanges": [{"name": "faas.dead-letter", "vhost": "/", "type": "fanout", "durable": true, "auto_delete": false, "internal": false, "arguments": {}}],
 "queues": [{"name": "faas.dead-letter", "vhost": "/", "durable": true, "auto_delete": false, "arguments": {}}],
 "bindings": [{"source": "faas.dead-letter", "vhost": "/", "destination": "faas.dead-letter", "destination_type": "queue", "routing_key": "", "arguments": {}}],
 "policies": [{"vhost": "/", "name": "faas-dead-letter", "pattern": "^(?!faas\\\\.)", "apply-to": "queues", "priority": -100, "definition": {"dead-letter-exchange": "faas.dead-letter"}}]}
JSON
)"
      unset rabbit_password
      say "generated the broker's credentials (user faas; Docker secrets $RABBITMQ_USERNAME_SECRET, $RABBITMQ_PASSWORD_SECRET)"
    fi
    export RABBITMQ_URL=amqp://rabbitmq:5672/ RABBITMQ_MANAGEMENT_URL=http://rabbitmq:15672
    compose_files+=(-c docker-compose.rabbitmq.yml -c docker-compose.rabbitmq-broker.yml)
    export RABBITMQ_PORT=${RABBITMQ_PORT:-5672}
    [ "$PUBLISH_RABBITMQ" = 1 ] && compose_files+=(-c docker-compose.rabbitmq-port.yml) ;;
  own)
    # amqp[s]://[user[:password]@]host[:port][/vhost]: the credentials become secrets named after their content.
    [[ $RABBITMQ_URL =~ ^(amqps?)://(([^:@/]*)(:([^@/]*))?@)?([^/]+)(/.*)?$ ]] || die "RABBITMQ_URL must be amqp://user:password@host:port/vhost or amqps://... (got '${RABBITMQ_URL%%@*}...')"
    rabbit_user=${BASH_REMATCH[3]:-guest} rabbit_pass=${BASH_REMATCH[5]:-guest}
    export RABBITMQ_URL="${BASH_REMATCH[1]}://${BASH_REMATCH[6]}${BASH_REMATCH[7]}"
    export RABBITMQ_MANAGEMENT_URL=${RABBITMQ_MANAGEMENT_URL:-none}
    # (Percent-escapes in the URL's user and password are taken as they are written.)
    export RABBITMQ_USERNAME_SECRET="${STACK_NAME}_rabbitmq-username-$(printf '%s' "$rabbit_user" | sha256sum | cut -c1-10)"
    export RABBITMQ_PASSWORD_SECRET="${STACK_NAME}_rabbitmq-password-$(printf '%s' "$rabbit_pass" | sha256sum | cut -c1-10)"
    secret_of "$RABBITMQ_USERNAME_SECRET" "$rabbit_user"
    secret_of "$RABBITMQ_PASSWORD_SECRET" "$rabbit_pass"
    unset rabbit_user rabbit_pass
    say "rabbitmq: your broker at $RABBITMQ_URL (credentials as Docker secrets; queue depths from $([ "$RABBITMQ_MANAGEMENT_URL" = none ] && echo 'passive declares: ready messages only; RABBITMQ_MANAGEMENT_URL adds the unacknowledged ones' || echo "$RABBITMQ_MANAGEMENT_URL"))"
    compose_files+=(-c docker-compose.rabbitmq.yml) ;;
esac

# Deploy -------------------------------------------------------------------------
# A stack removed a moment ago may still be tearing down its networks.
for _ in $(seq 1 60); do
  gone=1
  for net in functions monitoring; do
    id=$(docker network ls -q --filter "name=^${STACK_NAME}_${net}$")
    if [ -n "$id" ] && [ -z "$(docker network inspect "$id" --format '{{index .Labels "com.docker.stack.namespace"}}' 2>/dev/null)" ]; then gone=0; fi
  done
  [ "$gone" = 1 ] && break
  sleep 1
done

# Images on every node ---------------------------------------------------------------
# On one node the images built here are the ones its tasks run. On several, every
# node must pull them: they go to a registry (yours with FAAS_REPO, else the
# stack's own) and the stack is deployed by digest, so all nodes run the same bytes.
SELF_NODE=$(docker info --format '{{.Swarm.NodeID}}')
node_count=$(docker node ls -q | wc -l)
if [ "$REGISTRY_MODE" = auto ]; then
  REGISTRY_MODE=none
  [ "$node_count" -gt 1 ] && REGISTRY_MODE=stack
fi
[ "$REGISTRY_MODE" = stack ] && [ -n "$USER_REPO" ] && REGISTRY_MODE=own

# An image other nodes cannot pull by its name: built or imported here, so it has
# no registry digest under its own repository (a copy pushed elsewhere does not count).
repository_of() { case "${1##*:}" in */*) echo "$1" ;; *) echo "${1%:*}" ;; esac; }
only_here() {
  local digests digest repository
  digests=$(docker image inspect "$1" --format '{{range .RepoDigests}}{{println .}}{{end}}' 2>/dev/null) || return 1
  repository=$(repository_of "$1")
  for digest in $digests; do [[ $digest == "$repository@"* ]] && return 1; done
  return 0
}
push_image() { # image target
  local out
  [ "$1" = "$2" ] || docker tag "$1" "$2"
  out=$(docker push "$2" 2>&1) || die "pushing $2 failed: $(echo "$out" | tail -3)"
}
# The project's images (with the watchdog, which functions deployed through the API build on).
project_images=("${images[@]}")
image_exists "$FAAS_REPO/watchdog:$FAAS_TAG" && project_images+=(watchdog)

# The firewall: on every node, the registry answers only the node's own
# processes, and ports published for monitoring answer no container
# (firewall/firewall.sh). Only when the stack publishes such a port.
export FIREWALL_LOOPBACK_ONLY_PORTS="" FIREWALL_NO_CONTAINER_PORTS="" FIREWALL_NODE_ADDRESSES="" FIREWALL_PLACEMENT="node.id != none"
[ "$REGISTRY_MODE" = stack ] && FIREWALL_LOOPBACK_ONLY_PORTS=$REGISTRY_PORT
[ "$PUBLISH_MONITORING" = 1 ] && FIREWALL_NO_CONTAINER_PORTS="$PROMETHEUS_PORT,$ALERTMANAGER_PORT"
if [ "$FIREWALL" = 1 ] && [ -n "$FIREWALL_LOOPBACK_ONLY_PORTS$FIREWALL_NO_CONTAINER_PORTS" ]; then
  # Every node's address, so that no node's functions reach another node's ports
  # (a node that joins later is covered by its own rules, and by the others' once
  # the stack is deployed again).
  for node in $(docker node ls -q); do
    addr=$(docker node inspect "$node" --format '{{.Status.Addr}}')
    [ "$addr" = 0.0.0.0 ] && addr=$(docker node inspect "$node" --format '{{with .ManagerStatus}}{{.Addr}}{{end}}' | sed 's/:[0-9]*$//')
    FIREWALL_NODE_ADDRESSES+="${FIREWALL_NODE_ADDRESSES:+,}$addr"
  done
  say "firewall on every node: registry port ${FIREWALL_LOOPBACK_ONLY_PORTS:-none} for the node itself only, ports ${FIREWALL_NO_CONTAINER_PORTS:-none} from no container"
elif [ -n "$FIREWALL_LOOPBACK_ONLY_PORTS$FIREWALL_NO_CONTAINER_PORTS" ]; then
  say "WARNING: --no-firewall: every function can reach ports ${FIREWALL_LOOPBACK_ONLY_PORTS}${FIREWALL_NO_CONTAINER_PORTS:+ $FIREWALL_NO_CONTAINER_PORTS} on every node (push to the registry, post alerts)"
  FIREWALL=0
else
  FIREWALL=0
fi

case "$REGISTRY_MODE" in
  stack)
    REGISTRY_IMAGE=${REGISTRY_IMAGE:-$(monitoring_image registry:2 REGISTRY_IMAGE)}
    [ -n "$REGISTRY_IMAGE" ] || die "no registry image: neither registry:2 nor a local stand-in (scripts/make-local-bases.sh --install)"
    export REGISTRY_IMAGE REGISTRY_NODE_ID=$SELF_NODE
    registry=127.0.0.1:$REGISTRY_PORT
    say "$node_count nodes: bringing the stack's registry ($REGISTRY_IMAGE) at $registry on this node, a mirror of it on every other node"
    if only_here "$REGISTRY_IMAGE"; then
      # A registry cannot serve its own image: each node needs it already.
      if [ -n "${CLUSTER_NODE_HOSTS:-}" ]; then
        want=$(docker image inspect "$REGISTRY_IMAGE" --format '{{.Id}}')
        for host in $CLUSTER_NODE_HOSTS; do
          [ "$(docker -H "$host" image inspect "$REGISTRY_IMAGE" --format '{{.Id}}' 2>/dev/null)" = "$want" ] && continue
          say "copying $REGISTRY_IMAGE to $host (docker save | docker -H $host load): it is a local stand-in no node can pull"
          docker save "$REGISTRY_IMAGE" | docker -H "$host" load >/dev/null
        done
      elif [ "$node_count" -gt 1 ]; then
        say "WARNING: $REGISTRY_IMAGE exists only where it was made; copy it to every node (docker save $REGISTRY_IMAGE | ssh NODE docker load), or list the nodes' engines in CLUSTER_NODE_HOSTS"
      fi
    fi
    if [ "$FIREWALL" = 1 ]; then
      # The firewall first, on this node (its image is here; the other nodes pull
      # it from the registry with the rest): no container can reach the registry
      # from its first moment.
      FIREWALL_PLACEMENT="node.id == $SELF_NODE" docker stack deploy --resolve-image never -c docker-compose.firewall.yml "$STACK_NAME" 2>&1 | sed 's/^/    /'
      for _ in $(seq 1 60); do
        [ -n "$(docker ps -q --filter "label=com.docker.swarm.service.name=${STACK_NAME}_firewall" --filter status=running)" ] && break
        sleep 1
      done
      [ -n "$(docker ps -q --filter "label=com.docker.swarm.service.name=${STACK_NAME}_firewall" --filter status=running)" ] \
        || die "the stack's firewall did not start on this node within 60 s (docker service ps ${STACK_NAME}_firewall)"
    fi
    docker stack deploy --resolve-image always -c docker-compose.registry.yml "$STACK_NAME" 2>&1 | sed 's/^/    /'
    # Asked from inside its container: the registry answers only this node's loopback.
    registry_answers() {
      local id
      id=$(docker ps -q --filter "label=com.docker.swarm.service.name=${STACK_NAME}_registry" --filter status=running | head -1)
      [ -n "$id" ] && docker exec "$id" wget -q -O /dev/null "http://127.0.0.1:5000/v2/" 2>/dev/null
    }
    for _ in $(seq 1 120); do registry_answers && break; sleep 1; done
    registry_answers || die "the stack's registry does not answer after 120 s (docker service ps ${STACK_NAME}_registry)"
    pushed_from=$SECONDS
    for name in "${project_images[@]}"; do push_image "$FAAS_REPO/$name:$FAAS_TAG" "$registry/$FAAS_REPO/$name:$FAAS_TAG"; done
    # Stand-ins made here (Prometheus, AlertManager, NATS: no registry digest) travel the same way; official images come from their registry.
    for var in PROMETHEUS_IMAGE ALERTMANAGER_IMAGE NATS_IMAGE RABBITMQ_IMAGE; do
      if [ -n "${!var:-}" ] && only_here "${!var}"; then
        push_image "${!var}" "$registry/${!var}"
        export "$var=$registry/${!var}"
      fi
    done
    export FAAS_REPO=$registry/$FAAS_REPO
    say "pushed ${#project_images[@]} images to the stack's registry in $((SECONDS - pushed_from)) s (functions of your own: docker push $registry/<name>:<tag> on this node)" ;;
  own)
    say "$node_count nodes: images come from your registry $FAAS_REPO"
    for name in "${project_images[@]}"; do
      # Push what this run built, and images that exist only here; never one
      # pulled from your registry: it may be one platform of a multi-arch tag,
      # which a push would replace. (A registry emptied since: --build.)
      [[ " $BUILT " == *" $name "* ]] || only_here "$FAAS_REPO/$name:$FAAS_TAG" || continue
      say "pushing $FAAS_REPO/$name:$FAAS_TAG (built here)"
      push_image "$FAAS_REPO/$name:$FAAS_TAG" "$FAAS_REPO/$name:$FAAS_TAG"
    done
    for var in PROMETHEUS_IMAGE ALERTMANAGER_IMAGE NATS_IMAGE RABBITMQ_IMAGE; do
      if [ -n "${!var:-}" ] && only_here "${!var}"; then
        # (Pushed on every deploy: cheap when the registry has it, right when it lost it.)
        target=$FAAS_REPO/${!var#*/}
        say "pushing the local stand-in ${!var} as $target"
        push_image "${!var}" "$target"
        export "$var=$target"
      fi
    done ;;
  none)
    if [ "$node_count" -gt 1 ]; then
      say "WARNING: $node_count nodes and no registry (--no-registry): tasks on nodes without the images fail with 'No such image'"
    fi ;;
esac

[ "$REGISTRY_MODE" = stack ] && compose_files+=(-c docker-compose.registry.yml)
[ "$FIREWALL" = 1 ] && compose_files+=(-c docker-compose.firewall.yml)

# The builder -------------------------------------------------------------------------
# It runs on this node (where the images above are, and the stack's registry), builds
# FROM the stack's own watchdog, and may never write the stack's own images or the
# templates' build bases (which later builds would start FROM).
if [ "$BUILDER" = 1 ]; then
  compose_files+=(-c docker-compose.builder.yml)
  export BUILDER_NODE_ID=$SELF_NODE
  build_base() { # official local-name-key: the official image when here or pullable, else the stand-in
    if image_exists "$1" || timeout 60 docker pull -q "$1" >/dev/null 2>&1; then echo "$1"; else scripts/make-local-bases.sh --install 2>/dev/null | sed -n "s/^$2=//p"; fi
  }
  node_build=$(build_base node:24-alpine NODE_NPM_IMAGE)
  python_build=$(build_base python:3.12-alpine PYTHON_IMAGE)
  bash_build=$(build_base bash:5.2 BASH_IMAGE)
  export BUILD_ARGS="WATCHDOG_IMAGE=$FAAS_REPO/watchdog:$FAAS_TAG,NODE_IMAGE=$node_build,PYTHON_IMAGE=$python_build,BASH_IMAGE=$bash_build"
  reserved="swarmfaas-local/,$node_build,$python_build,$bash_build"
  for name in watchdog "${images[@]}"; do reserved="$reserved,$FAAS_REPO/$name"; [ "$FAAS_REPO" = "${USER_REPO:-swarmfaas}" ] || reserved="$reserved,${USER_REPO:-swarmfaas}/$name"; done
  export BUILD_RESERVED=$reserved
  case "$REGISTRY_MODE" in
    stack) export BUILD_PUSH_PREFIXES="127.0.0.1:$REGISTRY_PORT/" ;;
    own) export BUILD_PUSH_PREFIXES="$FAAS_REPO/" ;;
    *) export BUILD_PUSH_PREFIXES="" ;;
  esac
  # Functions written in the UI are named where the builder may write and push them.
  export SOURCE_IMAGE_PREFIX=${BUILD_IMAGE_PREFIX:-$BUILD_PUSH_PREFIXES}
  export BUILD_REQUIRE_PUSH=false
  [ "$node_count" -gt 1 ] && [ -n "$BUILD_PUSH_PREFIXES" ] && BUILD_REQUIRE_PUSH=true
  say "builder: builds FROM $FAAS_REPO/watchdog:$FAAS_TAG (node: $node_build, python: $python_build, bash: $bash_build)${BUILD_PUSH_PREFIXES:+, pushes images under $BUILD_PUSH_PREFIXES}"
fi
resolve=always
[ -z "$(docker image inspect "$FAAS_REPO/gateway:$FAAS_TAG" --format '{{join .RepoDigests ""}}')" ] && resolve=never
say "deploying stack $STACK_NAME (gateway on port $GATEWAY_PORT)"
docker stack deploy --resolve-image "$resolve" "${compose_files[@]}" "$STACK_NAME" 2>&1 | sed 's/^/    /'

# Locally built images keep their tag when rebuilt, so Swarm sees no change in
# the spec: restart the services whose containers run an older build of their tag.
if [ "$resolve" = never ]; then
  for service in $(docker service ls --filter "label=com.docker.stack.namespace=$STACK_NAME" --format '{{.Name}}'); do
    image=$(docker service inspect "$service" --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}')
    want=$(docker image inspect "$image" --format '{{.Id}}' 2>/dev/null) || continue
    for container in $(docker ps -q --filter "label=com.docker.swarm.service.name=$service"); do
      if [ "$(docker inspect "$container" --format '{{.Image}}')" != "$want" ]; then
        say "restarting $service on the rebuilt image $image"
        docker service update --detach --force "$service" >/dev/null
        break
      fi
    done
  done
fi

# Where a port a service publishes in host mode answers from here: on this
# node at CLUSTER_ADDRESS, on another node at that node's address.
published_address() { # service
  local node addr
  node=$(docker service ps "${STACK_NAME}_$1" -q --filter desired-state=running 2>/dev/null | head -1)
  [ -n "$node" ] && node=$(docker inspect --type task "$node" --format '{{.NodeID}}' 2>/dev/null)
  if [ -z "$node" ] || [ "$node" = "$SELF_NODE" ]; then echo "$CLUSTER_ADDRESS"; return; fi
  addr=$(docker node inspect "$node" --format '{{.Status.Addr}}')
  # A manager may report 0.0.0.0 here; its manager address is the one it advertises.
  [ "$addr" = 0.0.0.0 ] && addr=$(docker node inspect "$node" --format '{{with .ManagerStatus}}{{.Addr}}{{end}}' | sed 's/:[0-9]*$//')
  echo "$addr"
}

# Wait until every service has all its tasks running and healthy ---------------------
say "waiting for the services to be healthy (up to $TIMEOUT s)"
deadline=$((SECONDS + TIMEOUT))
last=""
while :; do
  status=$(docker service ls --filter "label=com.docker.stack.namespace=$STACK_NAME" --format '{{.Name}} {{.Replicas}}' | sort)
  pending=$(echo "$status" | awk '{ split($2, r, "/"); if (r[1] != r[2]) print $1 " " $2 }')
  # A rolling update (re-deploy, rebuilt image) counts as pending until it completes.
  for service in $(echo "$status" | awk '{print $1}'); do
    case "$(docker service inspect "$service" --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' 2>/dev/null)" in
      updating|rollback_started) pending="$pending
$service updating" ;;
    esac
  done
  pending=$(echo "$pending" | sed '/^$/d')
  gateway_ok=0
  curl -fs -o /dev/null --max-time 2 "http://$(published_address gateway):$GATEWAY_PORT/healthz" 2>/dev/null && gateway_ok=1
  if [ -z "$pending" ] && [ "$gateway_ok" = 1 ]; then break; fi
  if [ "$pending" != "$last" ]; then
    echo "    not ready yet: $(echo "$pending" | tr '\n' ' ')$([ "$gateway_ok" = 1 ] || echo '(gateway not answering)')"
    last=$pending
  fi
  if [ $SECONDS -ge $deadline ]; then
    docker stack ps "$STACK_NAME" --no-trunc --format '{{.Name}} {{.CurrentState}} {{.Error}}' | grep -v ' Running' | head -20 >&2 || true
    die "the stack was not healthy within $TIMEOUT s (see above; 'docker service logs ${STACK_NAME}_gateway')"
  fi
  sleep 2
done
echo "$status" | sed 's/^/    /'
if [ "$node_count" -gt 1 ]; then
  echo "    tasks per node: $(docker stack ps "$STACK_NAME" --filter desired-state=running --format '{{.Node}}' | sort | uniq -c | awk '{printf "%s%s %s", sep, $2, $1; sep=", "}')"
fi
gateway_address=$(published_address gateway)

cat <<EOF

The stack $STACK_NAME is up.
  Gateway and UI  http://$gateway_address:$GATEWAY_PORT/ui/
  Prometheus      http://$gateway_address:$GATEWAY_PORT/system/prometheus/   (through the gateway, same login)
  AlertManager    http://$gateway_address:$GATEWAY_PORT/system/alertmanager/
  Try it          curl -d 'Hello, Function as a Service' http://$gateway_address:$GATEWAY_PORT/function/${STACK_NAME}_echoit
EOF
if [ "$PUBLISH_MONITORING" = 1 ]; then
  echo "  Published too (no auth): Prometheus http://$(published_address prometheus):$PROMETHEUS_PORT/, AlertManager http://$(published_address alertmanager):$ALERTMANAGER_PORT/"
fi
if [ "$REGISTRY_MODE" = stack ]; then
  echo "  Registry        127.0.0.1:$REGISTRY_PORT on every node, for the node's own processes only (curl http://127.0.0.1:$REGISTRY_PORT/v2/_catalog on a node)"
fi
if [ "$RABBITMQ_MODE" = stack ]; then
  if [ "$PUBLISH_RABBITMQ" = 1 ]; then
    echo "  RabbitMQ        amqp://faas:PASSWORD@$(published_address rabbitmq):$RABBITMQ_PORT/ for your producers"
  else
    echo "  RabbitMQ        on the stack's rabbitmq network only (--publish-rabbitmq for producers outside the swarm)"
  fi
  echo "                  its password: docker exec \$(docker ps -q -f name=${STACK_NAME}_gateway | head -1) cat /run/secrets/rabbitmq-password"
fi
if [ "$AUTH" = 1 ]; then
  if [ -n "$password_created" ]; then
    cat <<EOF

Log in to the UI and /system/* as '$AUTH_USER' with this password (shown only now):
  $password_created
EOF
  else
    echo
    echo "Log in as '$AUTH_USER' with the password generated on the first deploy."
  fi
  cat <<EOF
Read the password again on a manager node with:
  docker exec \$(docker ps -q -f name=${STACK_NAME}_gateway | head -1) cat /run/secrets/basic-auth-password
EOF
fi
if [ "$BUILDER" = 1 ]; then
  echo
  if [ -n "$payload_created" ]; then
    cat <<EOF
Sign build requests with this payload secret (shown only now), e.g. saved as payload.txt:
  $payload_created
  faas-cli up --remote-builder http://$gateway_address:$GATEWAY_PORT/system/build --payload-secret payload.txt
EOF
  else
    echo "Builds: faas-cli up --remote-builder http://$gateway_address:$GATEWAY_PORT/system/build --payload-secret payload.txt"
  fi
  cat <<EOF
Read the payload secret again on this node with:
  docker exec \$(docker ps -q -f name=${STACK_NAME}_builder | head -1) cat /run/secrets/payload-secret
EOF
fi
