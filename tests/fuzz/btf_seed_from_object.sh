#!/usr/bin/env bash
# Makes a btf_blob_fuzz seed from a BPF object's .BTF section: the fuzzer's input format is
# a 4-byte little-endian length, the raw BTF, then value bytes (here 64 bytes 0x00..0x3f).
# Usage: tests/fuzz/btf_seed_from_object.sh OBJECT.o SEED
set -euo pipefail
obj=$1 out=$2
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
llvm-objcopy --dump-section ".BTF=$tmp" "$obj" /dev/null
python3 - "$tmp" "$out" <<'PY'
import struct, sys
btf = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'wb').write(struct.pack('<I', len(btf)) + btf + bytes(range(64)))
PY
