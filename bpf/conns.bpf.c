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

/* The key as the words it is built from. Every byte is written by one 64- or 32-bit
 * store, and none twice: the hash reads the key back from the stack at once, and a
 * read that spans several smaller stores (a zeroed key, then its fields) cannot be
 * forwarded from the store buffer and waits for them to reach the cache. */
union flow_key_words {
    struct flow_key key;
    struct {
        __u64 saddr[2];
        __u64 daddr[2];
        __u64 rest; /* sport, dport, protocol, family, direction, pad: see flow_rest() */
        __u32 ifindex;
    } w;
};
_Static_assert(sizeof(struct flow_key) == 44, "flow_key: the words below cover it");
_Static_assert(__builtin_offsetof(struct flow_key, sport) == 32 && __builtin_offsetof(struct flow_key, ifindex) == 40,
               "flow_key layout");

/* sport | dport | protocol | family | direction | pad, as struct flow_key lays them out
 * (little-endian: the first field in the low bits). */
static __always_inline __u64 flow_rest(__u32 ports, __u8 protocol, __u8 family, __u8 direction)
{
    return (__u64)ports | (__u64)protocol << 32 | (__u64)family << 40 | (__u64)direction << 48;
}

/* Host-order source port in the low 16 bits, destination port in the high 16; 0 for a
 * protocol without ports or a header past the frame. */
static __always_inline __u32 read_ports(__u8 protocol, void *l4, void *data_end, __u8 *tcp_flags)
{
    if (protocol == IPPROTO_TCP) {
        struct tcphdr *tcp = l4;
        if ((void *)(tcp + 1) > data_end)
            return 0;
        *tcp_flags = ((__u8 *)tcp)[13];
        return (__u32)bpf_ntohs(tcp->source) | (__u32)bpf_ntohs(tcp->dest) << 16;
    }
    if (protocol == IPPROTO_UDP) {
        struct udphdr *udp = l4;
        if ((void *)(udp + 1) > data_end)
            return 0;
        return (__u32)bpf_ntohs(udp->source) | (__u32)bpf_ntohs(udp->dest) << 16;
    }
    return 0;
}

/* The flow key of an IP frame, all but the interface; false for anything else (non-IP
 * frames are not flows). */
static __always_inline bool parse_flow(void *data, void *data_end, __u8 direction, union flow_key_words *k,
                                       __u8 *tcp_flags)
{
    __u16 ethertype;
    __u32 l3_offset;
    if (!net_parse_l2(data, data_end, &ethertype, &l3_offset) || l3_offset > NET_MAX_L3_OFFSET)
        return false;
    if (ethertype == ETH_P_IP) {
        struct iphdr *ip = data + l3_offset;
        if ((void *)(ip + 1) > data_end)
            return false;
        __u32 ports = 0;
        /* Ports are in the first fragment only. */
        if ((ip->frag_off & bpf_htons(0x1FFF)) == 0)
            ports = read_ports(ip->protocol, (void *)ip + ((__u32)ip->ihl & 0xF) * 4, data_end, tcp_flags);
        k->w.saddr[0] = ip->saddr; /* the address in the first 4 bytes, the rest zero */
        k->w.saddr[1] = 0;
        k->w.daddr[0] = ip->daddr;
        k->w.daddr[1] = 0;
        k->w.rest = flow_rest(ports, ip->protocol, 4, direction);
        return true;
    }
    if (ethertype == ETH_P_IPV6) {
        struct ipv6hdr *ip6 = data + l3_offset;
        if ((void *)(ip6 + 1) > data_end)
            return false;
        __u32 l4_offset, ports = 0;
        __u8 protocol = net_ipv6_upper(ip6, data_end, &l4_offset);
        if (l4_offset && l4_offset < 4096)
            ports = read_ports(protocol, (void *)ip6 + l4_offset, data_end, tcp_flags);
        __builtin_memcpy(k->w.saddr, &ip6->saddr, 16);
        __builtin_memcpy(k->w.daddr, &ip6->daddr, 16);
        k->w.rest = flow_rest(ports, protocol, 6, direction);
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

/* Now, on CLOCK_MONOTONIC_COARSE (what conns and its users read first/last seen on).
 * With tick_ns set (user space: clock_getres(CLOCK_MONOTONIC_COARSE), the tick), it is
 * jiffies * tick + offset: the verifier inlines bpf_jiffies64 into one load, where
 * bpf_ktime_get_coarse_ns is a helper call (measured ~15-25 ns per packet on the
 * benchmark's machine, more than the rest of a known flow's update bar the lookup). The
 * kernel advances jiffies by one for every tick of monotonic time, so the offset is a
 * constant: the first packet measures it with the coarse clock itself (racing CPUs
 * store the same value). Both clocks step once per tick, so times stay exact to the
 * tick, as the coarse clock alone was. Without tick_ns: the coarse clock. */
const volatile __u64 tick_ns = 0;
__u64 clock_offset = 0;

static __always_inline __u64 now_ns(void)
{
    if (!tick_ns)
        return bpf_ktime_get_coarse_ns();
    __u64 ticks = bpf_jiffies64() * tick_ns;
    __u64 offset = clock_offset;
    if (!offset) {
        offset = bpf_ktime_get_coarse_ns() - ticks;
        clock_offset = offset;
    }
    return ticks + offset;
}

/* With one --iface (set by user space) every frame is from it: its ifindex is a
 * constant, not three dependent loads (XDP: ctx->rxq->dev->ifindex) ahead of the hash. */
const volatile __u32 only_ifindex = 0;

#define IFINDEX(expr) (only_ifindex ? only_ifindex : (expr))

static __always_inline void track(void *data, void *data_end, __u32 len, __u32 ifindex, __u8 direction)
{
    union flow_key_words k;
    __u8 tcp_flags = 0;
    if (!parse_flow(data, data_end, direction, &k, &tcp_flags))
        return;
    if (filter_cidr && !cidr_match(&k.key)) {
        bump(CONNS_FILTERED);
        return;
    }
    k.w.ifindex = ifindex;

    __u64 now = now_ns();
    struct flow_value *v = bpf_map_lookup_elem(&flows, &k.key);
    if (!v) {
        struct flow_value first = {
            .packets = 1, .bytes = len, .first_ns = now, .last_ns = now, .tcp_flags = tcp_flags};
        if (bpf_map_update_elem(&flows, &k.key, &first, BPF_NOEXIST) == 0) {
            bump(CONNS_CREATED);
            return;
        }
        /* Another CPU inserted this flow between our lookup and update: count into it. */
        v = bpf_map_lookup_elem(&flows, &k.key);
        if (!v) {
            bump(CONNS_INSERT_FAILED);
            return;
        }
    }
    /* Atomic: a flow's packets can reach two CPUs at once (RSS, RPS, tc egress from
     * any CPU), and the counts must stay exact. */
    __sync_fetch_and_add(&v->packets, 1);
    __sync_fetch_and_add(&v->bytes, len);
    /* A write only when the tick has moved on, and a flags OR only when new flags
     * appear: most packets of a flow change neither. */
    if (v->last_ns < now)
        v->last_ns = now;
    if (tcp_flags && (v->tcp_flags & tcp_flags) != tcp_flags)
        __sync_fetch_and_or(&v->tcp_flags, (__u32)tcp_flags);
}

SEC("xdp")
int xdp_conns(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    track(data, data_end, (__u32)(data_end - data), IFINDEX(ctx->ingress_ifindex), 0);
    return XDP_PASS;
}

SEC("tc")
int tc_conns_ingress(struct __sk_buff *skb)
{
    track((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, IFINDEX(skb->ifindex), 0);
    return TC_ACT_UNSPEC;
}

SEC("tc")
int tc_conns_egress(struct __sk_buff *skb)
{
    track((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, IFINDEX(skb->ifindex), 1);
    return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
