// SPDX-License-Identifier: GPL-2.0
/* A tc (SCHED_CLS) program alone, for the signal-matrix test of `ebpf-tool run --iface`:
 * counts every packet and lets it through. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TC_ACT_OK 0

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} tc_packets SEC(".maps");

SEC("tc")
int tc_pass_count(struct __sk_buff *skb)
{
    u32 zero = 0;
    u64 *n = bpf_map_lookup_elem(&tc_packets, &zero);
    if (n)
        __sync_fetch_and_add(n, 1);
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
