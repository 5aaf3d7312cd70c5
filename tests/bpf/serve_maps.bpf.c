// SPDX-License-Identifier: GPL-2.0
/* Maps for `serve --map`'s exporter (tests/kernel/map_export_test.cpp): a struct key with
 * every kind of label (integer, string, enum, bool, IPv4 by name and by __be32, IPv6 by
 * struct in6_addr and by name, a nested struct), a struct value with counters and a gauge,
 * a per-CPU hash, a scalar-key array, and log2 histograms as libbpf-tools lays them out
 * (struct hist { __u32 slots[N]; }, and a bare array). The tests fill them from user
 * space; the program only exists to be loaded (and pinned, as a pin that is not a map). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum flow_proto { FLOW_TCP = 6, FLOW_UDP = 17 };

struct flow_key {
    __u32 pid;
    char comm[16];
    enum flow_proto proto;
    __u8 saddr[4];
    struct in6_addr daddr;
    __be32 dst;
    struct {
        __u16 port;
        __s16 zone;
    } inner;
    __u8 ip6[16];
    bool outbound;
};

struct flow_value {
    __u64 packets;
    __u64 bytes;
    __u32 something;
};

struct cpu_value {
    __u64 events;
    __s64 delta_sum; /* signed: a gauge, and "_sum" is kept for histograms */
};

#define SLOTS 8
struct hist {
    __u32 slots[SLOTS];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, struct flow_key);
    __type(value, struct flow_value);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, struct cpu_value);
} per_cpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} by_index SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, struct hist);
} latency SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64[4]);
} bare_hist SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int serve_maps_noop(struct xdp_md *ctx)
{
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
