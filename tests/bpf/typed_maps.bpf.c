// SPDX-License-Identifier: GPL-2.0
/* Maps whose BTF covers every kind `ebpf-tool map` must format and parse: ints of each
 * size and sign, bool, enums, structs, unions, arrays, char arrays, bitfields, typedefs,
 * pointers, and a per-CPU map. Loaded and pinned by the tests through `ebpf-tool run`. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum conn_state { STATE_NEW = 1, STATE_ESTABLISHED = 2, STATE_CLOSED = 3 };

typedef __u16 port_t;

struct flow_key {
    __u32 src_ip;
    __u32 dst_ip;
    port_t src_port;
    port_t dst_port;
    __u8 proto;
    __u8 pad[3];
};

struct flow_value {
    __s8 s8;
    __u8 u8;
    __s16 s16;
    __u16 u16;
    __s32 s32;
    __u32 u32;
    __s64 s64;
    __u64 u64;
    bool flag;
    enum conn_state state;
    char comm[16];
    __u32 samples[4];
    union {
        __u32 as_u32;
        __u8 as_bytes[4];
    } raw;
    __u32 low : 4;
    __u32 mid : 12;
    __u32 high : 16;
    void *ptr;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct flow_key);
    __type(value, struct flow_value);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} percpu_counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, enum conn_state);
} states SEC(".maps");

/* References the maps so that they are part of the object. */
SEC("tracepoint/syscalls/sys_enter_getppid")
int touch(void *ctx)
{
    __u32 key = 0;
    struct flow_key fk = {};
    bpf_map_lookup_elem(&flows, &fk);
    bpf_map_lookup_elem(&percpu_counts, &key);
    bpf_map_lookup_elem(&states, &key);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
