#!/usr/bin/env bash
# Builds every image of the stack, tagged with the version in package.json:
#   ${FAAS_REPO:-swarmfaas}/gateway, /builder, /watchdog, /firewall, and one per functions/<name>/.
#
#   scripts/build-images.sh [name...]     (no names: all of them)
#
# Base images are build arguments. BASE_IMAGES chooses them:
#   auto (default)  the official images (node:24-alpine) when they are present
#                   or can be pulled, else local stand-ins made from this host
#                   (scripts/make-local-bases.sh --install: no registry needed;
#                   as root on Debian it installs the packages it takes files from)
#   official | local
# NODE_IMAGE overrides the node base outright; FIREWALL_BASE_IMAGE the
# firewall's (alpine:3.20, which gets nftables; locally a stand-in with nft). PLATFORM=linux/arm64 (etc.)
# builds for another architecture: with buildx when there is one (several
# platforms at once, e.g. to push a multi-arch image), else with the classic
# builder and qemu emulation, one platform at a time. Give such builds a tag
# of their own (FAAS_TAG=0.1.0-arm64) and a base for that platform
# (NODE_IMAGE, see scripts/make-arm-bases.sh); they get no :latest tag, nor
# does any build with FAAS_TAG set.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[images] $*" >&2; }
die() { echo "[images] ERROR: $*" >&2; exit 1; }

# shellcheck source=lib.sh
. scripts/lib.sh

REPO=${FAAS_REPO:-swarmfaas}
TAG=${FAAS_TAG:-$(project_version)}
OFFICIAL_NODE=node:24-alpine
OFFICIAL_FIREWALL_BASE=alpine:3.20
MODE=${BASE_IMAGES:-auto}

choose_node_base() {
  if [ -n "${NODE_IMAGE:-}" ]; then echo "$NODE_IMAGE"; return; fi
  case "$MODE" in
    official) echo "$OFFICIAL_NODE" ;;
    local) scripts/make-local-bases.sh --install | sed -n 's/^NODE_IMAGE=//p' ;;
    auto)
      if image_exists "$OFFICIAL_NODE" || timeout 60 docker pull -q "$OFFICIAL_NODE" >/dev/null 2>&1; then
        echo "$OFFICIAL_NODE"
      else
        say "cannot pull $OFFICIAL_NODE: using a local stand-in made from this host"
        scripts/make-local-bases.sh --install | sed -n 's/^NODE_IMAGE=//p'
      fi ;;
    *) die "BASE_IMAGES must be auto, official or local (got '$MODE')" ;;
  esac
}

# The firewall's base: alpine (its Dockerfile adds nftables), else a local
# stand-in that has nft. Empty when there is none for the platform asked for
# (the local stand-in is amd64 only): the firewall is then not built.
choose_firewall_base() {
  if [ -n "${FIREWALL_BASE_IMAGE:-}" ]; then echo "$FIREWALL_BASE_IMAGE"; return; fi
  if [ "$MODE" != local ] && { image_exists "$OFFICIAL_FIREWALL_BASE" || timeout 60 docker pull -q ${PLATFORM:+--platform "$PLATFORM"} "$OFFICIAL_FIREWALL_BASE" >/dev/null 2>&1; }; then
    echo "$OFFICIAL_FIREWALL_BASE"
  elif [ "$MODE" != official ] && [ -z "${PLATFORM:-}" ]; then
    scripts/make-local-bases.sh --install | sed -n 's/^FIREWALL_BASE_IMAGE=//p'
  fi
}

# Every image: name, build context. The watchdog comes before the functions built FROM it.
all_images() {
  echo "watchdog functions/watchdog"
  echo "gateway gateway"
  echo "firewall firewall"
  echo "builder builder"
  for dockerfile in functions/*/Dockerfile; do
    dir=$(dirname "$dockerfile"); name=$(basename "$dir")
    [ "$name" = watchdog ] || echo "$name $dir"
  done
}

wanted() { local n; for n in "${@:2}"; do [ "$n" = "$1" ] && return 0; done; return 1; }

# Without buildx the classic builder is what we have; the client then prints its
# deprecation notice on every build: it is said once here and filtered below.
BUILDX=0
if docker buildx version >/dev/null 2>&1; then BUILDX=1; else export DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0}; fi
[ "$BUILDX" = 1 ] || say "no docker buildx here: building with Docker's classic builder (deprecated by Docker; buildx builds these Dockerfiles too)"

# The watchdog's spawner is C, compiled on the host (npm run build): gcc for this
# machine's architecture, Debian's cross compilers for the arm images.
INSTALL=1 need_pkg cc gcc

if [ ! -d node_modules ]; then say "installing npm dependencies (npm ci)"; npm ci --no-audit --no-fund >&2; fi
# SKIP_BUNDLE=1: the caller has just bundled (scripts/build-arm-images.sh builds twice).
if [ "${SKIP_BUNDLE:-0}" != 1 ]; then
  say "bundling the code (npm run build)"
  npm run build --silent >&2
fi

# Docker's architecture of the images being built (the classic builder does not
# set TARGETARCH/TARGETVARIANT; the watchdog's Dockerfile picks its spawner by them).
case "${PLATFORM:-linux/$(docker version -f '{{.Server.Arch}}' 2>/dev/null || echo amd64)}" in
  linux/amd64) TARGET_ARCH=amd64 TARGET_VARIANT= ;;
  linux/arm64|linux/arm64/v8) TARGET_ARCH=arm64 TARGET_VARIANT= ;;
  linux/arm/v7) TARGET_ARCH=arm TARGET_VARIANT=v7 ;;
  *) TARGET_ARCH= TARGET_VARIANT= ;; # several platforms at once: buildx sets them per platform
esac
if [ -n "$TARGET_ARCH" ] && [ ! -x "functions/watchdog/dist/spawner-linux-$TARGET_ARCH$TARGET_VARIANT" ]; then
  case "$TARGET_ARCH" in arm64) cross=(aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu) ;; arm) cross=(arm-linux-gnueabihf-gcc gcc-arm-linux-gnueabihf) ;; *) cross=(x86_64-linux-gnu-gcc gcc-x86-64-linux-gnu) ;; esac
  INSTALL=1 need_pkg "${cross[@]}"
  (cd functions/watchdog && node build.mjs) >&2
fi

NODE_BASE=$(choose_node_base)
[ -n "$NODE_BASE" ] || die "no node base image"
say "node base image: $NODE_BASE"

# classic_build ARGS...: docker build with the classic builder, its output
# shown only when it fails, less the deprecation notice said once above.
classic_build() {
  local out
  if out=$(docker build -q "$@" 2>&1 >/dev/null); then return 0; fi
  grep -v -e '^DEPRECATED: The legacy builder' -e '^ *BuildKit is currently disabled' -e '^ *environment-variable\.$' \
    -e '^ *Install the buildx component' -e '^ *https://docs.docker.com/go/buildx' <<<"$out" >&2 || true
  return 1
}

build() { # name context
  local image="$REPO/$1:$TAG"
  local args=(--build-arg "NODE_IMAGE=$NODE_BASE" --build-arg "WATCHDOG_IMAGE=$REPO/watchdog:$TAG" -t "$image")
  if [ "$1" = firewall ]; then
    FIREWALL_BASE=${FIREWALL_BASE:-$(choose_firewall_base)}
    if [ -z "$FIREWALL_BASE" ]; then say "no base for the firewall on ${PLATFORM:-this platform} (set FIREWALL_BASE_IMAGE): not built"; return 0; fi
    args=(--build-arg "FIREWALL_BASE_IMAGE=$FIREWALL_BASE" -t "$image")
  fi
  # :latest follows the project's own version only: a build under another tag (FAAS_TAG) must not move it.
  [ -n "${PLATFORM:-}" ] || [ -n "${FAAS_TAG:-}" ] || args+=(-t "$REPO/$1:latest")
  local started=$SECONDS
  if [ -n "${PLATFORM:-}" ] && [ "$BUILDX" = 1 ]; then
    docker buildx build --platform "$PLATFORM" "${args[@]}" "$2" >&2 || die "building $image failed"
  elif [ -n "${PLATFORM:-}" ]; then
    classic_build --platform "$PLATFORM" --build-arg "TARGETARCH=$TARGET_ARCH" --build-arg "TARGETVARIANT=$TARGET_VARIANT" "${args[@]}" "$2" \
      || die "building $image for $PLATFORM failed (run: docker build --platform $PLATFORM $2)"
  elif [ "$BUILDX" = 1 ]; then
    docker build -q "${args[@]}" "$2" >/dev/null || die "building $image failed (run: docker build $2)"
  else
    classic_build --build-arg "TARGETARCH=$TARGET_ARCH" --build-arg "TARGETVARIANT=$TARGET_VARIANT" "${args[@]}" "$2" \
      || die "building $image failed (run: docker build $2)"
  fi
  say "built $image ($((SECONDS - started)) s)"
}

while read -r name context; do
  if [ $# -eq 0 ] || wanted "$name" "$@"; then build "$name" "$context"; fi
done < <(all_images)
