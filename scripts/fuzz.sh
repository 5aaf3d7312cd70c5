#!/usr/bin/env bash
# Runs every libFuzzer target for a fixed time, starting from its checked-in seed corpus
# (tests/fuzz/corpus/<target>/). Needs the asan build (cmake --preset asan; make asan builds it).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      default: 30 s, every target
#
# New inputs that reach new code go to build-asan/fuzz/corpus/<target>/ (to merge into the
# checked-in corpus by hand: <target> -merge=1 tests/fuzz/corpus/<target> build-asan/fuzz/corpus/<target>).
# A crash stops that target and leaves its reproducer in build-asan/fuzz/artifacts/; the
# script then fails. Save the reproducer as tests/fuzz/crashes/<target>-<what> and the
# replay tests (ctest -R fuzz) run it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(btf_blob_fuzz btf_json_fuzz map_words_fuzz)
build=build-asan
failed=()
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/$t
  [ -x "$bin" ] || { echo "fuzz: $bin is not built (cmake --preset asan && cmake --build build-asan --target $t)" >&2; exit 1; }
  mkdir -p "$build/fuzz/corpus/$t" "$build/fuzz/artifacts"
  echo "fuzz: $t for ${seconds}s"
  # -max_len: JSON and words need room; BTF seeds are a few KiB. The first corpus
  # directory is where new inputs are written, so the checked-in one is only read.
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$bin" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz/artifacts/$t-" \
      "$build/fuzz/corpus/$t" "tests/fuzz/corpus/$t" > "$build/fuzz/$t.log" 2>&1; then
    echo "fuzz: $t FAILED; the end of its log ($build/fuzz/$t.log):" >&2
    tail -40 "$build/fuzz/$t.log" >&2
    failed+=("$t")
  else
    grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$build/fuzz/$t.log" | sed "s/^/fuzz: $t: /"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]} (reproducers in $build/fuzz/artifacts/)" >&2
  exit 1
fi
