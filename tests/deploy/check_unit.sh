#!/bin/sh
# systemd-analyze verify on deploy/ebpf-tool-serve.service. verify also checks that
# ExecStart's binary exists, so the unit is checked as a copy whose ExecStart names the
# binary just built (nothing else changes); any message at all (an unknown key, a bad
# value) fails, since verify exits 0 on warnings.
set -eu
unit="$1"
tool="$2"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|^ExecStart=/usr/local/sbin/ebpf-tool |ExecStart=$tool |" "$unit" > "$dir/ebpf-tool-serve.service"
grep -q "^ExecStart=$tool serve" "$dir/ebpf-tool-serve.service" || { echo "ExecStart is not /usr/local/sbin/ebpf-tool serve" >&2; exit 1; }
out=$(systemd-analyze verify "$dir/ebpf-tool-serve.service" 2>&1) || { echo "$out" >&2; exit 1; }
if [ -n "$out" ]; then echo "$out" >&2; exit 1; fi
