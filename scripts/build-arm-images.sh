#!/usr/bin/env bash
# Builds every image of the stack for the Raspberry Pi architectures on this
# machine, under qemu emulation: linux/arm64 tagged <version>-arm64 and
# linux/arm/v7 tagged <version>-armv7 (the gateway, the watchdog and every
# sample function), FROM the local arm bases of scripts/make-arm-bases.sh.
# Users with a registry build real multi-arch images with buildx instead
# (README, "Raspberry Pi"); this proves the same Dockerfiles build and run there.
#
#   scripts/build-arm-images.sh [--install]    (--install: qemu-user-static, binfmt_misc,
#                                               and the cross compilers for the spawner)
# The watchdog's spawner (C) is cross-compiled on this machine with Debian's
# gcc-aarch64-linux-gnu and gcc-arm-linux-gnueabihf.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[arm-images] $*" >&2; }
die() { echo "[arm-images] ERROR: $*" >&2; exit 1; }
# shellcheck source=lib.sh
. scripts/lib.sh
[ "${1:-}" = "--install" ] && INSTALL=1
need_pkg aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
need_pkg arm-linux-gnueabihf-gcc gcc-arm-linux-gnueabihf

bases=$(scripts/make-arm-bases.sh "$@")
arm64=$(sed -n 's/^NODE_IMAGE_ARM64=//p' <<<"$bases")
armv7=$(sed -n 's/^NODE_IMAGE_ARMV7=//p' <<<"$bases")
version=$(node -p 'require("./package.json").version')

SPAWNER_ARCHS=arm64,armv7 npm run build --silent >&2
PLATFORM=linux/arm64 FAAS_TAG="$version-arm64" NODE_IMAGE="$arm64" SKIP_BUNDLE=1 scripts/build-images.sh
PLATFORM=linux/arm/v7 FAAS_TAG="$version-armv7" NODE_IMAGE="$armv7" SKIP_BUNDLE=1 scripts/build-images.sh
