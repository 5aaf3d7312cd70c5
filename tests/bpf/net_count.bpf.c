// SPDX-License-Identifier: GPL-2.0
/* Counts IPv4 UDP packets to port 9 (discard) seen by XDP and by tc ingress, for the
 * `ebpf-tool run --iface` tests: [0] XDP, [1] tc. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define TC_ACT_OK 0

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, u32);
    __type(value, u64);
} udp_discard_packets SEC(".maps");

static __always_inline bool is_udp_discard(void *data, void *data_end)
{
    struct ethhdr *eth = data;
    struct iphdr *ip = (void *)(eth + 1);
    struct udphdr *udp;

    if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP)
        return false;
    udp = (void *)ip + ip->ihl * 4;
    if ((void *)(udp + 1) > data_end)
        return false;
    return udp->dest == bpf_htons(9);
}

static __always_inline void count(u32 slot)
{
    u64 *n = bpf_map_lookup_elem(&udp_discard_packets, &slot);
    if (n)
        __sync_fetch_and_add(n, 1);
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
    if (is_udp_discard((void *)(long)ctx->data, (void *)(long)ctx->data_end))
        count(0);
    return XDP_PASS;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
    if (is_udp_discard((void *)(long)skb->data, (void *)(long)skb->data_end))
        count(1);
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
