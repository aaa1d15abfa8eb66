#!/usr/bin/env bash
# Installs what edgekernels needs on a Debian/Ubuntu machine, and nothing that is already there.
#
#   tools/setup.sh            host build: compilers, CMake, Catch2, Google Benchmark, OpenCL
#                             headers + ICD loader + PoCL, Highway >= 1.2 for the host
#   tools/setup.sh --arm      also: aarch64 cross toolchains (gcc, clang 19), qemu-user,
#                             arm64 multiarch libc, Highway >= 1.2 for aarch64
#   tools/setup.sh --peers    also: the peer libraries the benchmarks compare against
#
# Highway: Debian 12 ships 1.0.3, which cannot dispatch at run time on Arm under clang. Where no
# Highway >= 1.2 is installed, this script fetches Debian's `highway` 1.2.0 *source* package with a
# private apt configuration (the system's apt sources are not changed; the mirror is read from
# them), builds the core library and installs it under /usr/local (host) and
# /usr/local/aarch64-linux-gnu (aarch64), where CMake finds it.
set -euo pipefail

WANT_ARM=0
WANT_PEERS=0
for arg in "$@"; do
  case "$arg" in
    --arm) WANT_ARM=1 ;;
    --peers) WANT_PEERS=1 ;;
    *) echo "setup.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

HWY_VERSION=1.2.0
HWY_DEB_VERSION=1.2.0-2
HWY_SUITE=trixie   # the Debian release that ships highway 1.2.0 as its source package
HOST_PREFIX=/usr/local
ARM_PREFIX=/usr/local/aarch64-linux-gnu
WORK=${EK_SETUP_WORK:-/var/tmp/ek-setup}

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive

log() { echo "[setup] $*"; }

missing_packages() {
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      echo "$p"
    fi
  done
}

APT_UPDATED=0
apt_install() {
  local missing
  missing=$(missing_packages "$@")
  if [ -z "$missing" ]; then return 0; fi
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  log "installing:" $missing
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

HOST_PACKAGES=(build-essential cmake ninja-build pkg-config dpkg-dev ca-certificates
  catch2 libbenchmark-dev opencl-headers opencl-clhpp-headers ocl-icd-opencl-dev
  pocl-opencl-icd clinfo clang-14 libclang-rt-14-dev)
apt_install "${HOST_PACKAGES[@]}"

if [ "$WANT_ARM" = 1 ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    log "adding the arm64 architecture (multiarch libc for qemu-user)"
    $SUDO dpkg --add-architecture arm64
    APT_UPDATED=0
  fi
  apt_install g++-aarch64-linux-gnu qemu-user-static clang-19 lld-19 libc6:arm64 libstdc++6:arm64
fi

if [ "$WANT_PEERS" = 1 ]; then
  apt_install libopenblas-dev libdnnl-dev libxnnpack-dev libeigen3-dev libgemmlowp-dev libclblast-dev
fi

# --- Highway >= 1.2 -------------------------------------------------------------------------

# Prints the version of the Highway CMake package installed under prefix $1 (empty if none).
installed_hwy_version() {
  local f
  for f in "$1"/lib/cmake/hwy/hwy-config-version.cmake "$1"/lib/*/cmake/hwy/hwy-config-version.cmake; do
    if [ -f "$f" ]; then
      sed -n 's/^set(PACKAGE_VERSION "\([0-9.]*\)").*/\1/p' "$f" | head -1
      return 0
    fi
  done
}

version_at_least() {  # $1 >= $2 ?
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}

fetch_highway_source() {
  if [ -d "$WORK/highway-src/hwy" ]; then return 0; fi
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [ -z "$uri" ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' \
      /etc/apt/sources.list 2>/dev/null || true)
  fi
  if [ -z "$uri" ]; then
    echo "setup.sh: cannot read the Debian mirror from the system's apt configuration" >&2
    exit 1
  fi
  log "fetching Debian source package highway=$HWY_DEB_VERSION (suite $HWY_SUITE, mirror from apt config)"
  local aptdir="$WORK/apt"
  mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$WORK/highway-src"
  echo "deb-src $uri $HWY_SUITE main" > "$aptdir/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache")
  apt-get "${opts[@]}" update -qq
  (cd "$WORK/highway-src" && apt-get "${opts[@]}" source --download-only "highway=$HWY_DEB_VERSION" >/dev/null 2>&1)
  (cd "$WORK/highway-src" && dpkg-source -x "highway_${HWY_DEB_VERSION}.dsc" hwy >/dev/null 2>&1)
}

# build_highway <name> <prefix> [extra cmake args...]
build_highway() {
  local name=$1 prefix=$2
  shift 2
  local have
  have=$(installed_hwy_version "$prefix")
  if [ -n "$have" ] && version_at_least "$have" "$HWY_VERSION"; then
    log "Highway $have already installed in $prefix ($name)"
    return 0
  fi
  fetch_highway_source
  log "building Highway $HWY_VERSION for $name into $prefix"
  local build="$WORK/highway-build-$name"
  rm -rf "$build"
  cmake -S "$WORK/highway-src/hwy" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF \
    -DHWY_ENABLE_CONTRIB=OFF -DHWY_ENABLE_TESTS=OFF -DHWY_ENABLE_EXAMPLES=OFF \
    -DHWY_WARNINGS_ARE_ERRORS=OFF -DBUILD_TESTING=OFF "$@" >/dev/null
  cmake --build "$build" >/dev/null
  $SUDO cmake --install "$build" >/dev/null
}

build_highway host "$HOST_PREFIX"
if [ "$WANT_ARM" = 1 ]; then
  build_highway aarch64 "$ARM_PREFIX" -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
    -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ \
    -DCMAKE_CXX_FLAGS=-O2
fi
log "done"
