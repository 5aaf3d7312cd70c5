#!/usr/bin/python3
"""Reads a whole hash map with BCC, as a Python user would, for bench/peers/map_walk_peers:
items_lookup_batch() or items(). The walk into a list is timed (reported on stderr as
"walk_seconds WALL CPU"); then every entry is written to stdout in binary (12-byte key, 24-byte
value) for the driver to verify.

BCC opens maps through a module it compiled from C, and compiling needs the running
kernel's headers, which this kernel (like many) does not ship. So the map is opened by id
with libbcc's own bpf_map_get_fd_by_id and handed to BCC's HashTable class with a stand-in
for the module; the type and size it would have read from the module are given from the
kernel's map info. The walks measured are BCC's own code, unchanged.

usage: bcc_walk.py {batch|items} MAP_ID
"""
import ctypes as ct
import os
import resource
import sys
import time
import types

from bcc import libbcc, table


class PeerKey(ct.Structure):
    _fields_ = [("id", ct.c_uint32), ("hash", ct.c_uint32), ("inverse", ct.c_uint32)]


class PeerValue(ct.Structure):
    _fields_ = [("packets", ct.c_uint64), ("bytes", ct.c_uint64), ("stamp", ct.c_uint64)]


class BpfMapInfo(ct.Structure):
    # The head of struct bpf_map_info: all this needs.
    _fields_ = [("type", ct.c_uint32), ("id", ct.c_uint32), ("key_size", ct.c_uint32),
                ("value_size", ct.c_uint32), ("max_entries", ct.c_uint32), ("map_flags", ct.c_uint32),
                ("name", ct.c_char * 16), ("rest", ct.c_char * 128)]


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("batch", "items"):
        print("usage: bcc_walk.py {batch|items} MAP_ID", file=sys.stderr)
        return 2
    lib = libbcc.lib
    lib.bpf_map_get_fd_by_id.argtypes = [ct.c_uint32]
    lib.bpf_obj_get_info_by_fd.argtypes = [ct.c_int, ct.c_void_p, ct.POINTER(ct.c_uint32)]
    fd = lib.bpf_map_get_fd_by_id(int(sys.argv[2]))
    if fd < 0:
        print("bcc_walk: cannot open map id %s" % sys.argv[2], file=sys.stderr)
        return 1
    info = BpfMapInfo()
    size = ct.c_uint32(ct.sizeof(info))
    if lib.bpf_obj_get_info_by_fd(fd, ct.byref(info), ct.byref(size)) != 0:
        print("bcc_walk: cannot read the map's info", file=sys.stderr)
        return 1
    if info.key_size != ct.sizeof(PeerKey) or info.value_size != ct.sizeof(PeerValue):
        print("bcc_walk: the map's key or value size does not match", file=sys.stderr)
        return 1
    t = table.HashTable(types.SimpleNamespace(module=None), 0, fd, PeerKey, PeerValue)
    t.max_entries = info.max_entries  # what BCC reads from its module; sizes the batch buffers

    start, cpu_start = time.monotonic(), cpu_seconds()
    if sys.argv[1] == "batch":
        entries = list(t.items_lookup_batch())
    else:
        entries = t.items()
    elapsed, cpu = time.monotonic() - start, cpu_seconds() - cpu_start
    print("walk_seconds %.6f %.6f" % (elapsed, cpu), file=sys.stderr, flush=True)

    out = sys.stdout.buffer
    chunk = []
    for k, v in entries:
        chunk.append(bytes(k))
        chunk.append(bytes(v))
        if len(chunk) >= 8192:
            out.write(b"".join(chunk))
            chunk.clear()
    out.write(b"".join(chunk))
    out.flush()
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
