# Shell functions shared by the scripts that prepare the machine and make
# images. Source it from a script that defines say and die; functions that
# may install packages do so only when INSTALL=1, as root, on Debian.

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The project's version (root package.json): the images' tag unless FAAS_TAG says otherwise.
project_version() { node -p 'require("./package.json").version'; }

# apt_install PACKAGE...: installs Debian packages quietly, refreshing the
# package lists only when the first try fails (a fresh machine has none).
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}

# apt_install_quiet PACKAGE...: as apt_install, but no package may start its
# service on this machine (rabbitmq-server would start a broker): it is
# installed for its files.
apt_install_quiet() {
  local policy=/usr/sbin/policy-rc.d made=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 0755 "$policy"; made=1; fi
  apt_install "$@" || { [ "$made" = 0 ] || rm -f "$policy"; return 1; }
  [ "$made" = 0 ] || rm -f "$policy"
}

# need_rabbitmq: Debian's rabbitmq-server (its files: the RabbitMQ trigger's tests
# run a broker from them, the stand-in broker image is made of them), installed
# without starting it when missing and allowed.
need_rabbitmq() {
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && return 0
  if may_install; then
    say "installing rabbitmq-server from Debian's packages (for its files; its service is not started)"
    apt_install_quiet rabbitmq-server
  fi
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || die "rabbitmq-server is missing: install the Debian package rabbitmq-server (or run with --install as root)"
}

may_install() { [ "${INSTALL:-0}" = 1 ] && [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ]; }

# need_pkg COMMAND PACKAGE: the command, installed from PACKAGE when missing and allowed.
need_pkg() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if may_install; then
    say "installing $2 from Debian's packages"
    apt_install "$2"
  fi
  command -v "$1" >/dev/null 2>&1 || die "'$1' is missing: install the Debian package $2 (or run with --install)"
}

# base_rootfs ROOT [BUSYBOX]: the root filesystem every local base image
# starts from: busybox (the host's, or the given binary of another
# architecture) with its applets, the users root, node (1000) and nobody,
# /tmp, name resolution and the CA certificates. Needs the host's busybox
# (need_pkg busybox busybox-static): applet names are the same on every
# architecture.
base_rootfs() {
  local root=$1 busybox=${2:-$(command -v busybox)}
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home,var/tmp}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  install -m 0755 "$busybox" "$root/bin/busybox"
  local applet
  for applet in $(busybox --list-full); do
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

# The Node.js version of the local stand-in bases (the npm registry's
# node-linux-<arch> packages carry the official binaries; 32-bit Arm has none
# past 20.11.0: see scripts/make-arm-bases.sh).
NODE_BASE_VERSION=${NODE_BASE_VERSION:-24.22.3}

# fetch_node NPM_ARCH VERSION DEST [STRIP]: the official node binary for
# NPM_ARCH (x64, arm64, armv7l) from the npm registry, installed as DEST and
# stripped of its symbols with STRIP (default: strip, when it is there; they
# only serve debuggers: -18 MB).
fetch_node() {
  local npm_arch=$1 version=$2 dest=$3 strip_tool=${4:-strip}
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-$npm_arch@$version" >/dev/null 2>&1) \
    || { rm -rf "$tmp"; die "cannot fetch node-linux-$npm_arch@$version from the npm registry"; }
  tar -xzf "$tmp/node-linux-$npm_arch-$version.tgz" -C "$tmp" package/bin/node
  install -D -m 0755 "$tmp/package/bin/node" "$dest"
  rm -rf "$tmp"
  if command -v "$strip_tool" >/dev/null 2>&1; then "$strip_tool" "$dest"; fi
}

# The npm of the local node-npm stand-ins (the node template's NODE_IMAGE, for
# npm ci): the npm registry's npm package, the same npm nodejs.org bundles.
NPM_BASE_VERSION=${NPM_BASE_VERSION:-11.21.3}

# fetch_npm VERSION DIR: npm VERSION from the npm registry, unpacked as DIR/npm.
fetch_npm() {
  local version=$1 dir=$2
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "npm@$version" >/dev/null 2>&1) || die "cannot fetch npm@$version from the npm registry"
  tar -xzf "$dir/npm-$version.tgz" -C "$dir" && rm -f "$dir/npm-$version.tgz" && mv "$dir/package" "$dir/npm"
}

# The python stand-ins (swarmfaas-local/python:3.11 and its arm ones; the
# python3 template copies their /usr/local): the interpreter, its loader and
# libraries live here, and /usr/local/bin/python3 runs it through that loader.
PYTHON_STANDIN=/usr/local/lib/python3.11-standin

# python_standin_layout ROOT STDLIB PYTHON LOADER ORIGIN: lays out in ROOT
# the standard library from STDLIB (a python3.11 folder, without its tests,
# IDLE, tk and build files), the interpreter PYTHON, and the wrapper that runs
# it through $PYTHON_STANDIN/LOADER; ORIGIN says where it came from. The
# caller puts the loader and the libraries into ROOT$PYTHON_STANDIN.
python_standin_layout() {
  local root=$1 stdlib=$2 python=$3 loader=$4 origin=$5
  mkdir -p "$root$PYTHON_STANDIN" "$root/usr/local/bin" "$root/usr/local/lib/python3.11"
  tar -C "$stdlib" --exclude=./test --exclude=./idlelib --exclude=./tkinter --exclude=./turtledemo \
    --exclude=./ensurepip --exclude=./lib2to3 --exclude='./config-3.11-*' --exclude=./site-packages --exclude=./dist-packages -c . \
    | tar -C "$root/usr/local/lib/python3.11" -x
  install -m 0755 "$python" "$root$PYTHON_STANDIN/python3.11"
  cat >"$root/usr/local/bin/python3" <<WRAPPER
#!/bin/sh
# Python 3.11 from $origin, self-contained: its own dynamic loader and libraries.
PYTHONHOME=\${PYTHONHOME:-/usr/local} exec $PYTHON_STANDIN/$loader --library-path $PYTHON_STANDIN $PYTHON_STANDIN/python3.11 "\$@"
WRAPPER
  chmod 0755 "$root/usr/local/bin/python3"
  ln -s python3 "$root/usr/local/bin/python"
}
