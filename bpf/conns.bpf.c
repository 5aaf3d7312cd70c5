// SPDX-License-Identifier: GPL-2.0
/* `ebpf-tool conns`: one entry per flow (5-tuple, direction, interface) in an LRU hash:
 * packets, bytes, first and last seen, TCP flags. New flows are inserted with
 * BPF_NOEXIST and counted (CONNS_CREATED), so user space knows exactly how many entries
 * the LRU evicted: created - present. Known flows are updated in place with atomics:
 * an update through bpf_map_update_elem would take a fresh LRU node each time, and could
 * evict another flow just to rewrite this one. (An LRU_PERCPU_HASH, which needs no
 * atomics, measured slower: its lookups are a helper call, not inlined.) */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "net.h"
#include "net_parse.bpf.h"

#define TC_ACT_UNSPEC (-1)

/* --cidr given: keep only flows whose source or destination is in cidr_v4/cidr_v6. */
const volatile bool filter_cidr = false;

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, CONNS_DEFAULT_MAX_ENTRIES); /* --max-entries */
    __type(key, struct flow_key);
    __type(value, struct flow_value);
} flows SEC(".maps");

/* The live configuration: `ebpf-tool map update|delete id N ...` changes them while
 * conns runs, and the next packet sees the change. */
struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 1024);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct cidr4_key);
    __type(value, __u8);
} cidr_v4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 1024);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct cidr6_key);
    __type(value, __u8);
} cidr_v6 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, CONNS_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} conns_counters SEC(".maps");

static __always_inline void bump(__u32 counter)
{
    __u64 *n = bpf_map_lookup_elem(&conns_counters, &counter);
    if (n)
        (*n)++;
}

static __always_inline void read_ports(struct flow_key *key, void *l4, void *data_end, __u8 *tcp_flags)
{
    if (key->protocol == IPPROTO_TCP) {
        struct tcphdr *tcp = l4;
        if ((void *)(tcp + 1) > data_end)
            return;
        key->sport = bpf_ntohs(tcp->source);
        key->dport = bpf_ntohs(tcp->dest);
        *tcp_flags = ((__u8 *)tcp)[13];
    } else if (key->protocol == IPPROTO_UDP) {
        struct udphdr *udp = l4;
        if ((void *)(udp + 1) > data_end)
            return;
        key->sport = bpf_ntohs(udp->source);
        key->dport = bpf_ntohs(udp->dest);
    }
}

/* The flow key of an IP frame; false for anything else (non-IP frames are not flows). */
static __always_inline bool parse_flow(void *data, void *data_end, struct flow_key *key, __u8 *tcp_flags)
{
    __u16 ethertype;
    __u32 l3_offset;
    if (!net_parse_l2(data, data_end, &ethertype, &l3_offset) || l3_offset > NET_MAX_L3_OFFSET)
        return false;
    if (ethertype == ETH_P_IP) {
        struct iphdr *ip = data + l3_offset;
        if ((void *)(ip + 1) > data_end)
            return false;
        key->family = 4;
        key->protocol = ip->protocol;
        __builtin_memcpy(key->saddr, &ip->saddr, 4);
        __builtin_memcpy(key->daddr, &ip->daddr, 4);
        /* Ports are in the first fragment only. */
        if ((ip->frag_off & bpf_htons(0x1FFF)) == 0)
            read_ports(key, (void *)ip + ((__u32)ip->ihl & 0xF) * 4, data_end, tcp_flags);
        return true;
    }
    if (ethertype == ETH_P_IPV6) {
        struct ipv6hdr *ip6 = data + l3_offset;
        if ((void *)(ip6 + 1) > data_end)
            return false;
        __u32 l4_offset;
        key->family = 6;
        key->protocol = net_ipv6_upper(ip6, data_end, &l4_offset);
        __builtin_memcpy(key->saddr, &ip6->saddr, 16);
        __builtin_memcpy(key->daddr, &ip6->daddr, 16);
        if (l4_offset && l4_offset < 4096)
            read_ports(key, (void *)ip6 + l4_offset, data_end, tcp_flags);
        return true;
    }
    return false;
}

static __always_inline bool cidr_match(const struct flow_key *key)
{
    if (key->family == 4) {
        struct cidr4_key k = {.prefixlen = 32};
        __builtin_memcpy(k.addr, key->saddr, 4);
        if (bpf_map_lookup_elem(&cidr_v4, &k))
            return true;
        __builtin_memcpy(k.addr, key->daddr, 4);
        return bpf_map_lookup_elem(&cidr_v4, &k) != NULL;
    }
    struct cidr6_key k = {.prefixlen = 128};
    __builtin_memcpy(k.addr, key->saddr, 16);
    if (bpf_map_lookup_elem(&cidr_v6, &k))
        return true;
    __builtin_memcpy(k.addr, key->daddr, 16);
    return bpf_map_lookup_elem(&cidr_v6, &k) != NULL;
}

static __always_inline void track(void *data, void *data_end, __u32 len, __u32 ifindex, __u8 direction)
{
    struct flow_key key = {};
    __u8 tcp_flags = 0;
    if (!parse_flow(data, data_end, &key, &tcp_flags))
        return;
    if (filter_cidr && !cidr_match(&key)) {
        bump(CONNS_FILTERED);
        return;
    }
    key.direction = direction;
    key.ifindex = ifindex;

    /* Coarse (the last tick): a seen time to the jiffy is plenty, and reading the clock
     * exactly costs more than the rest of an update (bench/net_kernel_cost.cpp). */
    __u64 now = bpf_ktime_get_coarse_ns();
    struct flow_value *v = bpf_map_lookup_elem(&flows, &key);
    if (!v) {
        struct flow_value first = {
            .packets = 1, .bytes = len, .first_ns = now, .last_ns = now, .tcp_flags = tcp_flags};
        if (bpf_map_update_elem(&flows, &key, &first, BPF_NOEXIST) == 0) {
            bump(CONNS_CREATED);
            return;
        }
        /* Another CPU inserted this flow between our lookup and update: count into it. */
        v = bpf_map_lookup_elem(&flows, &key);
        if (!v) {
            bump(CONNS_INSERT_FAILED);
            return;
        }
    }
    __sync_fetch_and_add(&v->packets, 1);
    __sync_fetch_and_add(&v->bytes, len);
    if (v->last_ns < now)
        v->last_ns = now;
    if (tcp_flags && (v->tcp_flags & tcp_flags) != tcp_flags)
        __sync_fetch_and_or(&v->tcp_flags, (__u32)tcp_flags);
}

SEC("xdp")
int xdp_conns(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    track(data, data_end, (__u32)(data_end - data), ctx->ingress_ifindex, 0);
    return XDP_PASS;
}

SEC("tc")
int tc_conns_ingress(struct __sk_buff *skb)
{
    track((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, skb->ifindex, 0);
    return TC_ACT_UNSPEC;
}

SEC("tc")
int tc_conns_egress(struct __sk_buff *skb)
{
    track((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, skb->ifindex, 1);
    return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
