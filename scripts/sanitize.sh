#!/usr/bin/env bash
# The sanitizer part of CI (.ci/run runs it after `make test`): builds the asan preset
# (clang, ASan + UBSan, -fno-sanitize-recover=undefined), runs the chosen tests under the
# sanitizers, then each libFuzzer target for a short fixed time.
#
# What runs under ASan, and why (2 cores, CI has 90 minutes in all; see docs/fuzzing.md):
#   unit_tests, btf_tests        pure code: CLI usage, syscalls table, BTF formatter/parser
#   map_tests, ring_buffer_tests, perf_buffer_tests, struct_ops_tests
#                                the library against the kernel (every map family, readers)
#   tool_tests, bad_input_tests  the CLI end to end: map and run commands, and the bad-input table
#   fuzz.*.replay                every seed and saved crash, once
# Left out: command_tests (execs/stats/events: long timed runs whose code paths the
# library tests and the bad-input table already cover) and install.find_package
# (builds an unsanitized consumer against the sanitized library).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
start=$SECONDS
cmake --preset asan >/dev/null
cmake --build --preset asan
echo "sanitize: build took $((SECONDS - start))s"
t=$SECONDS
# A failing test does not skip the fuzzing: both verdicts are reported, then combined.
tests=0
ctest --preset asan -E '(^|/)(ExecsCommand|StatsCommand|EventsCommand[A-Za-z]*)\.|^install\.' || tests=$?
echo "sanitize: tests took $((SECONDS - t))s"
t=$SECONDS
fuzz=0
scripts/fuzz.sh "$seconds" || fuzz=$?
echo "sanitize: fuzzing took $((SECONDS - t))s; all in $((SECONDS - start))s"
# New findings of the timed, random fuzzing are reported loudly but do not fail CI: what
# a random run finds differs run to run, and CI must be deterministic. The deterministic
# replay of every seed and saved reproducer (fuzz.*.replay, in the tests above) does fail it.
if [ "$fuzz" -ne 0 ]; then
  echo "sanitize: WARNING: the fuzzers found new inputs that crash or hang (build-asan/fuzz/artifacts/)" >&2
fi
if [ "$tests" -ne 0 ]; then
  echo "sanitize: FAILED (tests: exit $tests)" >&2
  exit 1
fi
