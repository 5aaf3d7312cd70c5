#!/usr/bin/env bash
# The installed library, used from outside the repository both ways a consumer can:
# install the build tree into a fresh prefix, then build tests/install/consumer with
# find_package(ebpf) and with pkg-config, and run what was built. Creating a map needs
# root (CAP_BPF): without it the map consumers are built but not run (a skip), except
# under CI=true, where a skip is a failure.
#
# usage: run.sh BUILD_DIR SOURCE_DIR   (ctest passes both; CMAKE_COMMAND may name cmake)
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
consumer=$(cd "$2/tests/install/consumer" && pwd)
cmake=${CMAKE_COMMAND:-cmake}

work=$(mktemp -d "${TMPDIR:-/tmp}/ebpf-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

echo "== cmake --install $build_dir --prefix $prefix"
if ! "$cmake" --install "$build_dir" --prefix "$prefix" >"$work/install.log" 2>&1; then
  cat "$work/install.log" >&2
  exit 1
fi

echo "== find_package(ebpf): configure and build $consumer"
# No package registry: the consumer must find the prefix just installed and nothing else.
"$cmake" -S "$consumer" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; exit 1; }
found=$(sed -n 's/^ebpf_DIR:PATH=//p' "$work/build/CMakeCache.txt")
if [ "$found" != "$prefix/lib/cmake/ebpf" ]; then
  echo "find_package(ebpf) found '$found', not the package installed in $prefix" >&2
  exit 1
fi
"$cmake" --build "$work/build" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }

echo "== pkg-config: compile the consumer with g++"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs ebpf)
echo "pkg-config --cflags --libs ebpf: $flags"
# shellcheck disable=SC2086 # the flags are words
g++ -std=c++20 -o "$work/consumer-pc" "$consumer/main.cpp" $flags
# A static libebpf's private dependencies (libseccomp) come with --static.
static_flags=$(pkg-config --static --cflags --libs ebpf)
echo "pkg-config --static --cflags --libs ebpf: $static_flags"
# shellcheck disable=SC2086
g++ -std=c++20 -o "$work/syscall_names-pc" "$consumer/syscall_names.cpp" $static_flags

echo "== run"
# No map, no privileges needed.
"$work/build/syscall_names"
"$work/syscall_names-pc"
if [ "$(id -u)" -ne 0 ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "install test: CI=true but not root: cannot create a map to check the consumers" >&2
    exit 1
  fi
  echo "install test: SKIPPED running the map consumers (creating a map needs root); built them fine"
  exit 0
fi
"$work/build/consumer"
"$work/consumer-pc"
echo "install test: passed"
