// SPDX-License-Identifier: GPL-2.0
/* An XDP program alone, for the signal-matrix test of `ebpf-tool run --iface`: counts
 * every packet and passes it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} xdp_packets SEC(".maps");

SEC("xdp")
int xdp_pass_count(struct xdp_md *ctx)
{
    u32 zero = 0;
    u64 *n = bpf_map_lookup_elem(&xdp_packets, &zero);
    if (n)
        __sync_fetch_and_add(n, 1);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
