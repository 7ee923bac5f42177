#!/usr/bin/env bash
# Deploys the FaaS stack on Docker Swarm: gateway, queue worker, NATS, Prometheus, AlertManager and
# the sample functions, as the stack "func". Re-running updates it in place.
#
# Usage: ./deploy_stack.sh [options]
#   --no-auth          deploy without basic auth on /system/* and /ui
#   --install-docker   install Docker Engine from Debian's packages when none is
#                      present (Debian, as root)
#   --build            rebuild every image even when present
#   --no-build         never build: fail when an image is missing
#   --remove           take the stack down (its services, networks, configs and
#                      the functions deployed on its network); keeps the secrets
#   --purge-secrets    with --remove: delete the stack's credentials too
#   --purge-data       with --remove: delete the stack's volumes too (the queue
#                      of asynchronous calls in NATS, webhookstash's files)
#   --timeout SECONDS  how long to wait for the stack to be healthy [300]
#   -h, --help         this text
#
# Environment:
#   STACK_NAME [func]  GATEWAY_PORT [8080]  PROMETHEUS_PORT [9090]
#   ALERTMANAGER_PORT [9093]  FAAS_REPO [swarmfaas]  FAAS_TAG [package version]
#   PROMETHEUS_IMAGE, ALERTMANAGER_IMAGE, NATS_IMAGE, NODE_IMAGE, BASE_IMAGES (auto|official|local)
#   QUEUE_WORKER_REPLICAS [1]
#   UPSTREAM_MODE [dnsrr]  (vip on clusters whose routing mesh works)
set -euo pipefail
cd "$(dirname "$0")"

AUTH=1 INSTALL=0 BUILD=auto REMOVE=0 PURGE=0 PURGE_DATA=0 TIMEOUT=300
while [ $# -gt 0 ]; do
  case "$1" in
    --no-auth) AUTH=0 ;;
    --install-docker) INSTALL=1 ;;
    --build) BUILD=always ;;
    --no-build) BUILD=never ;;
    --remove) REMOVE=1 ;;
    --purge-secrets) PURGE=1 ;;
    --purge-data) PURGE_DATA=1 ;;
    --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "deploy_stack: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

export STACK_NAME=${STACK_NAME:-func}
export GATEWAY_PORT=${GATEWAY_PORT:-8080}
export PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
export ALERTMANAGER_PORT=${ALERTMANAGER_PORT:-9093}
export FAAS_REPO=${FAAS_REPO:-swarmfaas}
export FAAS_TAG=${FAAS_TAG:-$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)}
AUTH_USER=admin
SECRET_USER="${STACK_NAME}_basic-auth-user"
SECRET_PASSWORD="${STACK_NAME}_basic-auth-password"

say() { echo "==> $*"; }
die() { echo "ERROR: $*" >&2; exit 1; }

# The engine and the swarm ------------------------------------------------------
if ! command -v docker >/dev/null 2>&1 && [ "$INSTALL" = 0 ]; then
  die "Docker is not installed. Install Docker Engine (https://docs.docker.com/engine/install/), or on Debian run: $0 --install-docker"
fi
prepare_args=(); [ "$INSTALL" = 1 ] && prepare_args+=(--install)
scripts/prepare-machine.sh "${prepare_args[@]}" | sed 's/^\[prepare\] /    /'

stack_services() { docker service ls --filter "label=com.docker.stack.namespace=$STACK_NAME" -q; }
stack_networks() { docker network ls --filter "label=com.docker.stack.namespace=$STACK_NAME" -q; }
stack_configs() { docker config ls --filter "label=com.docker.stack.namespace=$STACK_NAME" -q; }

# Removal ------------------------------------------------------------------------
if [ "$REMOVE" = 1 ]; then
  say "removing stack $STACK_NAME"
  # Functions deployed through the API are not part of the stack but hold its network.
  for id in $(docker service ls --filter label=function=true -q); do
    [ -n "$(docker service inspect "$id" --format '{{index .Spec.Labels "com.docker.stack.namespace"}}')" ] && continue
    if docker service inspect "$id" --format '{{range .Spec.TaskTemplate.Networks}}{{.Target}} {{end}}' \
      | tr ' ' '\n' | grep -qx "$(docker network inspect "${STACK_NAME}_functions" --format '{{.Id}}' 2>/dev/null || echo none)"; then
      say "removing function $(docker service inspect "$id" --format '{{.Spec.Name}}') (deployed on ${STACK_NAME}_functions)"
      docker service rm "$id" >/dev/null
    fi
  done
  docker stack rm "$STACK_NAME" >/dev/null 2>&1 || true
  for _ in $(seq 1 120); do
    [ -z "$(stack_services)$(stack_networks)" ] && break
    sleep 1
  done
  [ -z "$(stack_services)$(stack_networks)" ] || die "stack $STACK_NAME still has services or networks after 120 s: see 'docker stack ps $STACK_NAME'"
  for id in $(stack_configs); do docker config rm "$id" >/dev/null 2>&1 || true; done
  if [ "$PURGE_DATA" = 1 ]; then
    # The stack's containers may still be exiting: their volumes go once they have.
    for volume in $(docker volume ls -q --filter "label=com.docker.stack.namespace=$STACK_NAME"); do
      for _ in $(seq 1 30); do docker volume rm "$volume" >/dev/null 2>&1 && break; sleep 1; done
      docker volume inspect "$volume" >/dev/null 2>&1 && say "could not remove volume $volume (still in use?)" || say "volume $volume removed"
    done
  fi
  if [ "$PURGE" = 1 ]; then
    docker secret rm "$SECRET_USER" "$SECRET_PASSWORD" >/dev/null 2>&1 || true
    say "credentials deleted"
  elif docker secret inspect "$SECRET_PASSWORD" >/dev/null 2>&1; then
    say "kept the credentials (secret $SECRET_PASSWORD); --purge-secrets deletes them"
  fi
  say "stack $STACK_NAME removed"
  exit 0
fi

# Images -------------------------------------------------------------------------
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
say "node architecture: $(docker info --format '{{.Architecture}}')"

images=(gateway)
for dockerfile in functions/*/Dockerfile; do
  name=$(basename "$(dirname "$dockerfile")")
  [ "$name" = watchdog ] || images+=("$name")
done
missing=()
for name in "${images[@]}"; do
  have_image "$FAAS_REPO/$name:$FAAS_TAG" || missing+=("$name")
done
if [ "$BUILD" = always ] || [ ${#missing[@]} -gt 0 ]; then
  if [ "$BUILD" = never ]; then
    die "missing images: ${missing[*]} (tag $FAAS_TAG); build them with scripts/build-images.sh or drop --no-build"
  fi
  # Try the registry first for images of a published repository.
  if [ "$BUILD" != always ] && [ "$FAAS_REPO" != swarmfaas ]; then
    for name in "${missing[@]}"; do docker pull -q "$FAAS_REPO/$name:$FAAS_TAG" >/dev/null 2>&1 || true; done
  fi
  say "building images (scripts/build-images.sh)"
  scripts/build-images.sh 2>&1 | sed 's/^\[images\] /    /'
fi

monitoring_image() { # official local-name-key
  local official=$1 key=$2
  if have_image "$official" || timeout 60 docker pull -q "$official" >/dev/null 2>&1; then
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
export CONFIG_VERSION=$(cat prometheus/*.yml alertmanager-config/*.yml nats/*.conf | sha256sum | cut -c1-12)

compose_files=(-c docker-compose.yml)
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
  curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$GATEWAY_PORT/healthz" 2>/dev/null && gateway_ok=1
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

cat <<EOF

The stack $STACK_NAME is up.
  Gateway and UI  http://127.0.0.1:$GATEWAY_PORT/ui/
  Prometheus      http://127.0.0.1:$PROMETHEUS_PORT/
  AlertManager    http://127.0.0.1:$ALERTMANAGER_PORT/
  Try it          curl -d 'Hello, Function as a Service' http://127.0.0.1:$GATEWAY_PORT/function/${STACK_NAME}_echoit
EOF
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
