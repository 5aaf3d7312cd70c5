#!/usr/bin/env bash
# Installs the Debian packages that `make bench` compares ebpf-tool against, beyond what
# scripts/install-deps.sh already brings (bpftool, bpftrace, libbpf-tools):
#   golang-go + golang-github-cilium-ebpf-dev  cilium/ebpf, built offline from Debian's source
#   python3-bpfcc                              BCC's Python bindings
#   time                                       GNU time: each contender's peak RSS
# Idempotent: packages already present are left alone, and apt is not touched at all then.
set -euo pipefail

packages=(golang-go golang-github-cilium-ebpf-dev python3-bpfcc time)

"$(dirname "$0")/apt-ensure.sh" install-bench-deps "${packages[@]}"
