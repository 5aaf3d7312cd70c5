#!/usr/bin/env bash
# The other way to package: a static libebpf.a (EBPF_STATIC=ON). Builds only the library
# in BUILD_DIR/static-library (inside the build tree, so a compiler cache shares its
# objects between runs), installs its "library" component, and runs the same consumers
# as install.find_package (run.sh): with find_package and with plain pkg-config, whose
# Requires must then carry libseccomp and libelf.
# usage: static.sh BUILD_DIR SOURCE_DIR   (CMAKE_COMMAND may name cmake)
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
cmake=${CMAKE_COMMAND:-cmake}
static_build=$(cd "$1" && pwd)/static-library
log=$static_build.log
echo "== configure and build a static libebpf in $static_build"
if ! { "$cmake" -S "$2" -B "$static_build" -DCMAKE_BUILD_TYPE=Release -DEBPF_STATIC=ON \
         -DEBPF_BUILD_TESTS=OFF -DEBPF_BUILD_EXAMPLES=OFF -DEBPF_BUILD_BENCH=OFF &&
       "$cmake" --build "$static_build" --target ebpf; } >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
[ -f "$static_build/libebpf.a" ] || { echo "EBPF_STATIC=ON made no libebpf.a" >&2; exit 1; }
INSTALL_COMPONENT=library exec "$(dirname "$0")/run.sh" "$static_build" "$2"
