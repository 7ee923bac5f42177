#!/usr/bin/env bash
# Prints the directory of a Node.js 24+ (with npm) for the build and the tests,
# to put first on PATH:
#
#   PATH="$(scripts/ensure-node.sh):$PATH"
#
# When the node on PATH is 24 or newer, that is its directory. Otherwise it
# installs NODE_VERSION from the npm registry's node-linux-<arch> package (the
# official binary nodejs.org ships) with npm NPM_VERSION beside it, under
# /opt/node-<version> (as root; else ~/.cache/swarm-faas/), once: an existing
# install is reused. Needs a working npm (any version) to fetch the packages.
set -euo pipefail

NODE_VERSION=${NODE_VERSION:-24.22.3}
NPM_VERSION=${NPM_VERSION:-11.21.2}
say() { echo "[node] $*" >&2; }
die() { echo "[node] ERROR: $*" >&2; exit 1; }

if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 24 ] && command -v npm >/dev/null 2>&1; then
    dirname "$(command -v node)"
    exit 0
  fi
fi

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) die "no Node.js 24 build for $(uname -m) on the npm registry (Node 24 has no 32-bit Arm build): install Node.js 24 yourself" ;;
esac

if [ "$(id -u)" = 0 ]; then base=/opt; else base=${XDG_CACHE_HOME:-$HOME/.cache}/swarm-faas; fi
dir=${NODE_INSTALL_DIR:-$base/node-$NODE_VERSION}
if [ -x "$dir/bin/node" ] && [ -x "$dir/bin/npm" ] && "$dir/bin/node" --version >/dev/null 2>&1; then
  echo "$dir/bin"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is needed to fetch node-linux-$arch@$NODE_VERSION from the npm registry"
say "installing Node.js $NODE_VERSION and npm $NPM_VERSION from the npm registry into $dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "node-linux-$arch@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null) \
  || die "cannot fetch node-linux-$arch@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
staged=$work/staged
mkdir -p "$staged/bin" "$staged/lib/node_modules" "$work/node" "$work/npm"
tar -xzf "$work/node-linux-$arch-$NODE_VERSION.tgz" -C "$work/node" package/bin/node package/LICENSE
install -m 0755 "$work/node/package/bin/node" "$staged/bin/node"
install -m 0644 "$work/node/package/LICENSE" "$staged/LICENSE"
tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/npm"
mv "$work/npm/package" "$staged/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$staged/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$staged/bin/npx"
"$staged/bin/node" --version >/dev/null || die "the Node.js binary does not run here"
mkdir -p "$(dirname "$dir")"
rm -rf "$dir.old"
[ -e "$dir" ] && mv "$dir" "$dir.old"
mv "$staged" "$dir"
rm -rf "$dir.old"
PATH="$dir/bin:$PATH" npm --version >/dev/null || die "npm does not run with the new node"
say "Node.js $("$dir/bin/node" --version), npm $(PATH="$dir/bin:$PATH" npm --version)"
echo "$dir/bin"
