#!/usr/bin/env bash
# Installs what edgekernels needs on a Debian/Ubuntu machine, and nothing that is already there.
#
#   tools/setup.sh            host build: compilers, CMake, Catch2, Google Benchmark, OpenCL
#                             headers + ICD loader + PoCL, Highway >= 1.2 for the host, python3
#                             and matplotlib (tools/ek-report's tables and plots)
#   tools/setup.sh --arm      also: aarch64 cross toolchains (gcc, clang 19), qemu-user,
#                             arm64 multiarch libc, Highway >= 1.2 and a static Google Benchmark
#                             for aarch64 (the phone preset), llvm-19 (the cycle model:
#                             tools/cycle_model.py)
#   tools/setup.sh --peers    also: the peer libraries the benchmarks compare against
#
# Highway: Debian 12 ships 1.0.3, which cannot dispatch at run time on Arm under clang. Where no
# Highway >= 1.2 is installed, this script fetches Debian's `highway` 1.2.0 *source* package with a
# private apt configuration (the system's apt sources are not changed; the mirror is read from
# them), builds the core library and installs it under /usr/local (host) and
# /usr/local/aarch64-linux-gnu (aarch64), where CMake finds it. Google Benchmark for aarch64 comes
# the same way from the system release's own `benchmark` source package (Debian ships no static
# libbenchmark).
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
HWY_DEB_VERSION=1.2.0-2   # Debian 13's; tried first, then any highway >= 1.2 of the suite
# Releases whose archives carry a highway >= 1.2 source package, on the mirror the system already
# uses, tried in order (then the system's own release). EK_HWY_SUITE overrides the list.
OS_ID=$(. /etc/os-release 2>/dev/null && echo "${ID:-debian}")
OS_CODENAME=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
case "$OS_ID" in
  ubuntu) HWY_SUITES=${EK_HWY_SUITE:-"resolute questing plucky oracular $OS_CODENAME"} ;;
  *) HWY_SUITES=${EK_HWY_SUITE:-"trixie forky $OS_CODENAME"} ;;
esac
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
  catch2 libgemmlowp-dev libbenchmark-dev opencl-headers opencl-clhpp-headers ocl-icd-opencl-dev
  pocl-opencl-icd clinfo clang-14 libclang-rt-14-dev python3 python3-matplotlib)
apt_install "${HOST_PACKAGES[@]}"

if [ "$WANT_ARM" = 1 ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    log "adding the arm64 architecture (multiarch libc for qemu-user)"
    $SUDO dpkg --add-architecture arm64
    APT_UPDATED=0
  fi
  # llvm-19 (llvm-mca-19, llvm-objdump-19) and python3: the cycle model (tools/cycle_model.py).
  apt_install g++-aarch64-linux-gnu qemu-user-static clang-19 lld-19 llvm-19 python3 libc6:arm64 libstdc++6:arm64
fi

if [ "$WANT_PEERS" = 1 ]; then
  apt_install libopenblas-dev libdnnl-dev libxnnpack-dev libpthreadpool-dev libeigen3-dev libgemmlowp-dev libclblast-dev
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

# The mirror the system's apt configuration already uses (deb822 sources first).
apt_mirror() {
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
  echo "$uri"
}

# fetch_source <source package> <min version> <preferred version> <suites...>: unpacks the
# package's Debian source into $WORK/<package>-src/src with a private apt configuration (the
# system's apt sources are not changed), from the first suite that has it at >= <min version>.
fetch_source() {
  local package=$1 min_version=$2 preferred=$3
  shift 3
  local dir="$WORK/$package-src"
  if [ -d "$dir/src" ]; then return 0; fi
  local uri aptdir="$WORK/apt" suite dsc version
  uri=$(apt_mirror)
  mkdir -p "$dir"
  for suite in "$@"; do
    log "fetching the $package source package from suite $suite (mirror from the apt config)"
    rm -rf "$aptdir" "$dir/${package}"_*
    mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
    echo "deb-src $uri $suite main" > "$aptdir/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache")
    apt-get "${opts[@]}" update -qq >/dev/null 2>&1 || continue
    (cd "$dir" && { apt-get "${opts[@]}" source --download-only "$package=$preferred" ||
      apt-get "${opts[@]}" source --download-only "$package"; } >/dev/null 2>&1) || continue
    dsc=$(ls "$dir/${package}"_*.dsc 2>/dev/null | sort -V | tail -1)
    [ -n "$dsc" ] || continue
    version=$(basename "$dsc" .dsc | sed "s/^${package}_//; s/-[^-]*\$//")
    if version_at_least "$version" "$min_version"; then
      (cd "$dir" && dpkg-source -x "$(basename "$dsc")" src >/dev/null 2>&1)
      return 0
    fi
    log "suite $suite has $package $version (< $min_version)"
  done
  echo "setup.sh: no $package >= $min_version source package in suites: $* (set EK_HWY_SUITE for highway)" >&2
  exit 1
}

# The distribution's own package, where it is recent enough (Debian 13, Ubuntu 24.10 and later).
distro_hwy_is_recent() {
  local candidate
  candidate=$(apt-cache policy libhwy-dev 2>/dev/null | awk '/Candidate:/ {print $2}')
  [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && version_at_least "${candidate%%-*}" "$HWY_VERSION"
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
  # shellcheck disable=SC2086
  fetch_source highway "$HWY_VERSION" "$HWY_DEB_VERSION" $HWY_SUITES
  log "building Highway $HWY_VERSION for $name into $prefix"
  local build="$WORK/highway-build-$name"
  rm -rf "$build"
  cmake -S "$WORK/highway-src/src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF \
    -DHWY_ENABLE_CONTRIB=OFF -DHWY_ENABLE_TESTS=OFF -DHWY_ENABLE_EXAMPLES=OFF \
    -DHWY_WARNINGS_ARE_ERRORS=OFF -DBUILD_TESTING=OFF "$@" >/dev/null
  cmake --build "$build" >/dev/null
  $SUDO cmake --install "$build" >/dev/null
}

if [ -z "$(installed_hwy_version "$HOST_PREFIX")" ] && distro_hwy_is_recent; then
  apt_install libhwy-dev   # found by CMake in /usr; the aarch64 build below still builds from source
else
  build_highway host "$HOST_PREFIX"
fi
if [ "$WANT_ARM" = 1 ]; then
  build_highway aarch64 "$ARM_PREFIX" -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
    -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ \
    -DCMAKE_CXX_FLAGS=-O2
  # Google Benchmark as a static aarch64 library, for the phone preset's static ek_bench
  # (Debian ships libbenchmark only as a shared library): built from the system release's own
  # `benchmark` source package.
  if [ ! -f "$ARM_PREFIX/lib/libbenchmark.a" ]; then
    fetch_source benchmark 1.6 "" "$OS_CODENAME"
    log "building Google Benchmark (static) for aarch64 into $ARM_PREFIX"
    # Its version comes from git, which a source package lacks: Debian's rules pass it, so do we.
    bm_version=$(ls "$WORK"/benchmark-src/benchmark_*.dsc | sort -V | tail -1 | sed 's/.*benchmark_//; s/-[^-]*\.dsc$//')
    rm -rf "$WORK/benchmark-build-aarch64"
    cmake -S "$WORK/benchmark-src/src" -B "$WORK/benchmark-build-aarch64" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_INSTALL_PREFIX="$ARM_PREFIX" -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF \
      -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
      -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ \
      -DBENCHMARK_ENABLE_TESTING=OFF -DBENCHMARK_ENABLE_GTEST_TESTS=OFF -DBENCHMARK_ENABLE_WERROR=OFF \
      -DBENCHMARK_ENABLE_LTO=OFF -DBENCHMARK_ENABLE_INSTALL=ON -DGIT_VERSION="$bm_version" >/dev/null
    cmake --build "$WORK/benchmark-build-aarch64" >/dev/null
    $SUDO cmake --install "$WORK/benchmark-build-aarch64" >/dev/null
  fi
fi
log "done"
