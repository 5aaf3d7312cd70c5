#!/usr/bin/env bash
# Installs every Debian package that building, testing and benchmarking ebpf-tool needs.
# Idempotent: packages already present are left alone, and apt is not touched at all then.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config
  # BPF: compiler, loader library, skeleton generator
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  # libraries the tool links
  libseccomp-dev libcli11-dev libfmt-dev nlohmann-json3-dev libcpp-httplib-dev
  # the sanitizer build and the fuzzers: libFuzzer and clang's sanitizer runtimes
  libclang-rt-14-dev
  # tests and benchmarks
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # what tests and benchmarks drive or compare against (util-linux: setpriv runs the tool
  # with exact capability sets, unshare gives a private mount namespace)
  util-linux procps iproute2 libbpf-tools bpftrace
  # `serve` tests: promtool and a real Prometheus (prometheus), the DaemonSet check (python3-yaml),
  # the unit check (systemd-analyze, in systemd)
  prometheus python3-yaml systemd
)

# The peers `make bench` compares against (Go + cilium/ebpf, BCC): its own list, installed
# here as well so that the test suite's benchmark smoke test (bench.smoke) finds them.
"$(dirname "$0")/install-bench-deps.sh"

"$(dirname "$0")/apt-ensure.sh" install-deps "${packages[@]}"
