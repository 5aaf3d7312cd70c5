#!/usr/bin/env bash
# Runs every benchmark and writes its table into BENCHMARKS.md, then the summary table (one
# row per goal: ours, best peer, ratio, met or not) as its first section. Needs root (the
# kernel benchmarks load programs). Numbers come from this run only: nothing is edited by hand.
#
# usage: scripts/bench.sh [--tiny] [--report PATH]
#   --tiny    every benchmark at the smallest size that still runs all of it (CI's smoke
#             test: it proves they run; its numbers mean nothing). Benchmarks without a
#             size parameter (map_dump) are skipped, and say so; events_throughput shrinks
#             under BENCH_TINY=1.
#   --report  where the tables go (default: BENCHMARKS.md of this tree)
# BENCH_ROUNDS sets the rounds of the peer comparisons (map_walk_peers, exec_kernel_cost).
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath -m "${BUILD_DIR:-build}")
report=$PWD/BENCHMARKS.md
tiny=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tiny) tiny=1 ;;
    --report) report=$(realpath -m "$2"); shift ;;
    *) echo "usage: scripts/bench.sh [--tiny] [--report PATH]" >&2; exit 2 ;;
  esac
  shift
done

if [ "$(id -u)" -ne 0 ]; then
  # The smoke test, like every kernel test, skips outside CI without root (77: ctest's
  # SKIP_RETURN_CODE); in CI that would be a failure.
  if [ $tiny -eq 1 ] && [ "${CI:-}" != true ]; then
    echo "bench.sh: skipped: the benchmarks need root" >&2
    exit 77
  fi
  echo "bench.sh: the benchmarks need root" >&2
  exit 1
fi

mkdir -p "$(dirname "$report")"

# The peers (cilium/ebpf, BCC; bpftool, bpftrace, libbpf-tools come with install-deps.sh).
scripts/install-bench-deps.sh

# cilium/ebpf's walker, built offline from Debian's source tree (GOPATH mode: no module
# download, no network).
peers=$build/bench/peers
mkdir -p "$peers"
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$peers/go-cache GOPROXY=off GOFLAGS= \
  go build -o "$peers/cilium_walk" ./bench/peers/cilium_walk

# Every benchmark appends its goal rows here (bench::summary_row).
if [ $tiny -eq 1 ]; then
  BENCH_SUMMARY=$(mktemp /tmp/bench-summary.XXXXXX)
  trap 'rm -f "$BENCH_SUMMARY"' EXIT
else
  BENCH_SUMMARY=$build/bench/summary.tsv
  : >"$BENCH_SUMMARY"
fi
export BENCH_SUMMARY

failed=()
run() {
  echo "bench.sh: $*" >&2
  "$@" || failed+=("$(basename "$1")")
}
skip() { echo "bench.sh: --tiny: $1 skipped (it has no size parameter)" >&2; }

rounds=${BENCH_ROUNDS:-5}
if [ $tiny -eq 1 ]; then
  run "$build/bench/stats_kernel_cost" "$build/ebpf-tool" "$report" 1
  run "$build/bench/net_kernel_cost" "$build/ebpf-tool" "$report" 1
  run "$build/bench/serve_idle" "$build/ebpf-tool" "$report" 20
  # Medians come from aggregates, which Google Benchmark makes from 2 repetitions on.
  run "$build/bench/map_ops" "$report" --benchmark_repetitions=2 --benchmark_min_time=0.01
  run "$build/bench/map_iteration" "$report" --benchmark_repetitions=2
  skip map_dump
  run "$build/bench/startup" "$build/ebpf-tool" "$report" 1
  BENCH_TINY=1 run "$build/bench/events_throughput" "$report"
  run "$build/bench/map_walk_peers" "$report" --entries 1000 --rounds 1 \
    --cilium-walk "$peers/cilium_walk" --bcc-walk bench/peers/bcc_walk.py
  run "$build/bench/exec_kernel_cost" "$build/ebpf-tool" "$report" --execs 50 --rounds 1
  run "$build/bench/serve_scrape" "$report" --tool "$build/ebpf-tool" 1000
else
  run "$build/bench/stats_kernel_cost" "$build/ebpf-tool" "$report"
  run "$build/bench/net_kernel_cost" "$build/ebpf-tool" "$report"
  run "$build/bench/serve_idle" "$build/ebpf-tool" "$report"
  run "$build/bench/map_ops" "$report"
  run "$build/bench/map_iteration" "$report"
  run "$build/bench/map_dump" "$build/ebpf-tool" "$report"
  run "$build/bench/startup" "$build/ebpf-tool" "$report"
  run "$build/bench/events_throughput" "$report"
  run "$build/bench/map_walk_peers" "$report" --rounds "$rounds" \
    --cilium-walk "$peers/cilium_walk" --bcc-walk bench/peers/bcc_walk.py
  run "$build/bench/exec_kernel_cost" "$build/ebpf-tool" "$report" --rounds "$rounds"
  run "$build/bench/serve_scrape" "$report" --tool "$build/ebpf-tool"
fi

# The summary goes first in the report, even when some benchmark failed (its rows are
# missing then, and the failure is named below).
run "$build/bench/bench_summary" "$BENCH_SUMMARY" "$report"
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench.sh: failed: ${failed[*]}" >&2
  exit 1
fi
