#!/usr/bin/env bash
# The installed library, used from outside the repository both ways a consumer can:
# install the build tree into a fresh prefix, then
#  - build docs/getting-started.md's project (tests/install/consumer) with find_package(ebpf)
#    and ebpf_bpf_object(), and again with its pkg-config commands (pkg-config-build.sh);
#  - build tests/install/more (a map made at run time, libseccomp's part, a skeleton, a
#    vmlinux.h object) with find_package, and its plain C++ files with pkg-config;
# and run what was built: each program counts its own events exactly. Loading programs needs
# root: without it everything is built but not run (a skip), except under CI=true, where a
# skip is a failure.
#
# usage: run.sh BUILD_DIR SOURCE_DIR   (ctest passes both; CMAKE_COMMAND may name cmake)
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
consumer=$source_dir/tests/install/consumer
more=$source_dir/tests/install/more
cmake=${CMAKE_COMMAND:-cmake}

work=$(mktemp -d "${TMPDIR:-/tmp}/ebpf-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

step() { echo "== $*"; }
# Runs a command quietly, showing its output only when it fails.
quiet() {
  local log=$work/step.log
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "failed: $*" >&2
    exit 1
  fi
}

# INSTALL_COMPONENT=library: only the library (static.sh builds no ebpf-tool).
component=${INSTALL_COMPONENT:-}
step "cmake --install $build_dir --prefix $prefix ${component:+--component $component}"
quiet "$cmake" --install "$build_dir" --prefix "$prefix" ${component:+--component "$component"}
libdir=$prefix/lib
export PKG_CONFIG_PATH=$libdir/pkgconfig
version=$(pkg-config --modversion ebpf)

if [ -e "$libdir/libebpf.so" ]; then
  step "shared libebpf: SONAME and dependencies"
  soname=$(readelf -d "$libdir/libebpf.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  want=libebpf.so.$(cut -d. -f1,2 <<<"$version")
  if [ "$soname" != "$want" ]; then
    echo "libebpf.so has SONAME '$soname', expected '$want'" >&2
    exit 1
  fi
  [ -e "$libdir/$soname" ] || { echo "$libdir/$soname (the SONAME's file) is not installed" >&2; exit 1; }
  echo "SONAME $soname"
  # The installed tool finds the installed library by itself (RPATH $ORIGIN/../lib).
  if [ -z "$component" ]; then quiet env -u LD_LIBRARY_PATH "$prefix/sbin/ebpf-tool" --help; fi
  # serve loads its HTTP module from LIBDIR/ebpf-tool, found from the installed binary's
  # own path: it serves (root: it loads the stats collector) and stops on SIGINT.
  if [ -z "$component" ] && [ "$(id -u)" -eq 0 ]; then
    step "installed serve finds its HTTP module"
    log=$work/serve.log
    env -u LD_LIBRARY_PATH "$prefix/sbin/ebpf-tool" serve --collect stats --listen 127.0.0.1:0 2>"$log" &
    serve_pid=$!
    for _ in $(seq 200); do
      grep -q "listening on http://" "$log" && break
      kill -0 $serve_pid 2>/dev/null || break
      sleep 0.05
    done
    kill -INT $serve_pid 2>/dev/null || true
    serve_rc=0
    wait $serve_pid || serve_rc=$?
    if ! grep -q "listening on http://" "$log" || [ $serve_rc -ne 0 ]; then
      cat "$log" >&2
      echo "installed ebpf-tool serve did not serve (exit $serve_rc)" >&2
      exit 1
    fi
    head -1 "$log"
  fi
else
  step "static libebpf.a: its private dependencies are on pkg-config's plain link line"
  for lib in -lseccomp -lelf; do
    grep -q -- "$lib" <<<"$(pkg-config --libs ebpf)" || { echo "pkg-config --libs ebpf lacks $lib" >&2; exit 1; }
  done
fi

# EBPF_TOOL_STATIC_DEPS (the default): the installed tool loads no shared library but libc's,
# which is what makes it start in half the time (CMakeLists.txt).
if [ -z "$component" ] && grep -q '^EBPF_TOOL_STATIC_DEPS:BOOL=ON' "$build_dir/CMakeCache.txt"; then
  step "installed ebpf-tool: no shared library but libc and libm"
  for lib in $(readelf -d "$prefix/sbin/ebpf-tool" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    case $lib in
      libc.so.*|libm.so.*|ld-linux*.so.*) ;;
      *) echo "the installed ebpf-tool needs $lib (EBPF_TOOL_STATIC_DEPS=ON)" >&2; exit 1 ;;
    esac
  done
  quiet env -u LD_LIBRARY_PATH "$prefix/sbin/ebpf-tool" --version
fi

step "find_package(ebpf): the getting-started project"
# No package registry: the consumer must find the prefix just installed and nothing else.
configure() {
  quiet "$cmake" -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  local found
  found=$(sed -n 's/^ebpf_DIR:PATH=//p' "$2/CMakeCache.txt")
  if [ "$found" != "$prefix/lib/cmake/ebpf" ]; then
    echo "find_package(ebpf) found '$found', not the package installed in $prefix" >&2
    exit 1
  fi
  quiet "$cmake" --build "$2"
}
# Its own commands (cmake-build.sh), in a copy of the project, as the page shows them.
mkdir "$work/gs"
cp "$consumer"/CMakeLists.txt "$consumer"/count_getppid.* "$work/gs/"
(cd "$work/gs" && CMAKE_PREFIX_PATH=$prefix quiet bash -e "$consumer/cmake-build.sh")
found=$(sed -n 's/^ebpf_DIR:PATH=//p' "$work/gs/build/CMakeCache.txt")
[ "$found" = "$prefix/lib/cmake/ebpf" ] || { echo "find_package(ebpf) found '$found', not $prefix's" >&2; exit 1; }
[ -f "$work/gs/build/bpf/count_getppid.bpf.o" ] || { echo "ebpf_bpf_object made no bpf/count_getppid.bpf.o" >&2; exit 1; }

step "find_package(ebpf): skeleton, vmlinux.h, run-time maps, libseccomp"
configure "$more" "$work/more"

step "pkg-config: the getting-started commands (pkg-config-build.sh)"
echo "pkg-config --cflags --libs ebpf: $(pkg-config --cflags --libs ebpf)"
mkdir "$work/pc"
cp "$consumer/count_getppid.bpf.c" "$consumer/count_getppid.cpp" "$work/pc/"
(cd "$work/pc" && quiet bash -e "$consumer/pkg-config-build.sh")
# shellcheck disable=SC2046 # the flags are words
quiet g++ -std=c++20 -o "$work/pc/consumer" "$more/main.cpp" $(pkg-config --cflags --libs ebpf)
# shellcheck disable=SC2046
quiet g++ -std=c++20 -o "$work/pc/syscall_names" "$more/syscall_names.cpp" $(pkg-config --cflags --libs ebpf)

step "run"
# Built with plain g++, the programs find a libebpf.so outside the loader's path this way
# (an install into /usr/local needs only ldconfig, which `make install` runs).
export LD_LIBRARY_PATH=$libdir
"$work/more/syscall_names"
"$work/pc/syscall_names"
if [ "$(id -u)" -ne 0 ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "install test: CI=true but not root: cannot load programs to check the consumers" >&2
    exit 1
  fi
  echo "install test: SKIPPED running the consumers that load programs (needs root); built them fine"
  exit 0
fi
# The page's run command and the output it shows.
(cd "$work/gs" && bash -e "$consumer/run-example.sh") >"$work/gs.out"
diff -u "$consumer/expected-output.txt" "$work/gs.out"
(cd "$work/pc" && ./count_getppid count_getppid.bpf.o) >"$work/pc.out"
diff -u "$consumer/expected-output.txt" "$work/pc.out"
cat "$work/gs.out" "$work/pc.out"
"$work/more/skeleton"
# A UID of this run only: nothing else execs as it.
"$work/more/exec_uid_loader" $((3000000 + $$ % 1000000)) 5
"$work/more/consumer"
"$work/pc/consumer"
echo "install test: passed"
