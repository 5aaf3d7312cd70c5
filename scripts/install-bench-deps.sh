#!/usr/bin/env bash
# Installs the Debian packages that `make bench` compares ebpf-tool against, beyond what
# scripts/install-deps.sh already brings (bpftool, bpftrace, libbpf-tools):
#   golang-go + golang-github-cilium-ebpf-dev  cilium/ebpf, built offline from Debian's source
#   python3-bpfcc                              BCC's Python bindings
#   time                                       GNU time: each contender's peak RSS
# Idempotent: packages already present are left alone, and apt is not touched at all then.
set -euo pipefail

packages=(golang-go golang-github-cilium-ebpf-dev python3-bpfcc time)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-bench-deps: these packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi

echo "install-bench-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
