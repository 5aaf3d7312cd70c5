#!/usr/bin/env bash
# Runs every benchmark and writes its table into BENCHMARKS.md. Needs root (the kernel
# benchmarks load programs). Numbers come from this run only: nothing is edited by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
report=$PWD/BENCHMARKS.md

"$build/bench/stats_kernel_cost" "$build/ebpf-tool" "$report"
"$build/bench/net_kernel_cost" "$build/ebpf-tool" "$report"
"$build/bench/serve_idle" "$build/ebpf-tool" "$report"
"$build/bench/map_ops" "$report"
"$build/bench/map_iteration" "$report"
"$build/bench/map_dump" "$build/ebpf-tool" "$report"
"$build/bench/events_throughput" "$report"
"$build/bench/serve_scrape" "$report" --tool "$build/ebpf-tool"
