#!/usr/bin/env bash
# Makes local stand-ins for the official base images, for machines that reach
# no image registry. Each is a root filesystem assembled from this host's files
# and loaded with `docker import`:
#   swarmfaas-local/node:20            host node + its libraries + busybox
#   swarmfaas-local/prometheus:VER     Debian's prometheus binary + busybox
#   swarmfaas-local/alertmanager:VER   Debian's alertmanager + its templates + busybox
# Needs (Debian): nodejs, busybox-static, prometheus, prometheus-alertmanager;
# with --install it installs the missing ones. Idempotent: an image that exists
# is kept (FORCE=1 remakes it). Prints the image names as NAME=image lines.
set -euo pipefail
cd "$(dirname "$0")/.."

INSTALL=0
[ "${1:-}" = "--install" ] && INSTALL=1
say() { echo "[bases] $*" >&2; }
die() { echo "[bases] ERROR: $*" >&2; exit 1; }

need_pkg() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$INSTALL" = 1 ] && [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then
    say "installing $2 from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
  fi
  command -v "$1" >/dev/null 2>&1 || die "'$1' is missing: install the Debian package $2 (or run with --install)"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# copy_with_libs ROOT BINARY DEST: the binary and every library ldd lists.
copy_with_libs() {
  local root=$1 bin=$2 dest=$3
  install -D -m 0755 "$(readlink -f "$bin")" "$root$dest"
  ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do
    [ -e "$lib" ] || continue
    install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
}

# base_rootfs ROOT: busybox with its applets, users, /tmp, CA certificates.
base_rootfs() {
  local root=$1
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home,var/tmp}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  install -m 0755 "$(command -v busybox)" "$root/bin/busybox"
  busybox --list-full | while read -r applet; do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
  done
  cat >"$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000:node:/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
  cat >"$root/etc/group" <<'G'
root:x:0:
node:x:1000:
nogroup:x:65534:
G
  mkdir -p "$root/home/node" && chown 1000:1000 "$root/home/node"
  echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  fi
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

NODE_LOCAL=swarmfaas-local/node:20
if [ "${FORCE:-0}" = 1 ] || ! image_exists "$NODE_LOCAL"; then
  need_pkg node nodejs
  root=$work/node; base_rootfs "$root"
  copy_with_libs "$root" "$(command -v node)" /usr/local/bin/node
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
