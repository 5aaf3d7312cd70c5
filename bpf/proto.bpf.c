// SPDX-License-Identifier: GPL-2.0
/* `ebpf-tool proto`: packets and bytes per protocol, per interface and direction, in a
 * per-CPU array. A dispatcher per hook reads the Ethernet header (and VLAN tags), counts
 * non-IP frames itself, and tail-calls the parser of the frame's family through a prog
 * array; the parser classifies by the IP protocol and counts. One frame, one counter:
 * the parser counts, or the dispatcher when there is no parser to call (PROTO_UNPARSED). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "net.h"
#include "net_parse.bpf.h"

#define TC_ACT_UNSPEC (-1)

/* The interfaces, in the order of --iface: their slot in the counters. Frozen at load,
 * so the verifier sees constants and the lookup below is a handful of compares. */
const volatile __u32 iface_count = 0;
const volatile __u32 ifindexes[NET_MAX_IFACES] = {};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, PROTO_COUNTERS);
    __type(key, __u32);
    __type(value, struct proto_count);
} proto_counts SEC(".maps");

/* The tc dispatchers' hand-over to their parser: ingress and egress share the parsers,
 * so the parser cannot tell the direction (hence the counter base) by itself. (The XDP
 * parsers need none: see XDP_PARSE.) */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct proto_scratch);
} tc_scratch SEC(".maps");

/* The per-family parsers (PROTO_PARSER_IPV4/IPV6), filled by user space before attach. */
struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, PROTO_PARSERS);
    __type(key, __u32);
    __type(value, __u32);
} xdp_parsers SEC(".maps"), tc_parsers SEC(".maps");

/* With one interface every frame is from it: the ifindex (two pointer loads away from
 * the context) is not even read. */
#define COUNTER_BASE(ifindex_expr, direction) \
    (iface_count == 1 ? (direction) * PROTO_SLOTS : counter_base((ifindex_expr), (direction)))

static __always_inline __u32 counter_base(__u32 ifindex, __u32 direction)
{
    __u32 slot = NET_MAX_IFACES;
    for (__u32 i = 0; i < NET_MAX_IFACES; i++) {
        if (i >= iface_count)
            break;
        if (ifindexes[i] == ifindex) {
            slot = i;
            break;
        }
    }
    return (slot * NET_DIRECTIONS + direction) * PROTO_SLOTS;
}

static __always_inline void count(__u32 index, __u32 len)
{
    struct proto_count *c = bpf_map_lookup_elem(&proto_counts, &index);
    if (c) {
        /* Per-CPU and never nested on a CPU: plain adds are exact. */
        c->packets++;
        c->bytes += len;
    }
}

/* Counts the frame, or hands it to its family's parser; returns only when it counted.
 * `handoff` leaves the parser what it cannot recompute (tc: the direction); it may
 * `break` after counting the frame itself. */
#define DISPATCH(ctx, data, data_end, len, base, handoff, parsers)                        \
    do {                                                                                   \
        __u16 ethertype = 0;                                                               \
        __u32 l3_offset = 0;                                                               \
        if (!net_parse_l2(data, data_end, &ethertype, &l3_offset) ||                      \
            (ethertype != ETH_P_IP && ethertype != ETH_P_IPV6)) {                          \
            count(base + PROTO_NON_IP, len);                                               \
            break;                                                                         \
        }                                                                                  \
        handoff;                                                                           \
        /* Constant indexes, one call site each: direct jumps the kernel patches in, not  \
         * an indirect jump through a retpoline (BENCHMARKS.md, net-kernel-cost). */         \
        if (ethertype == ETH_P_IP)                                                         \
            bpf_tail_call_static(ctx, &parsers, PROTO_PARSER_IPV4);                       \
        else                                                                               \
            bpf_tail_call_static(ctx, &parsers, PROTO_PARSER_IPV6);                       \
        count(base + PROTO_UNPARSED, len);                                                 \
    } while (0)

/* tc: the counter base and L3 offset, in the hook's one-slot per-CPU scratch. */
#define TC_HANDOFF(base, l3_offset, len)                                     \
    __u32 zero = 0;                                                         \
    struct proto_scratch *s = bpf_map_lookup_elem(&tc_scratch, &zero);      \
    if (!s) {                                                               \
        count(base + PROTO_UNPARSED, len);                                  \
        break;                                                              \
    }                                                                       \
    s->base = base;                                                         \
    s->l3_offset = l3_offset

static __always_inline __u32 ipv4_slot(void *data, void *data_end, __u32 l3_offset)
{
    if (l3_offset > NET_MAX_L3_OFFSET)
        return PROTO_IPV4_OTHER;
    struct iphdr *ip = data + l3_offset;
    if ((void *)(ip + 1) > data_end)
        return PROTO_IPV4_OTHER;
    switch (ip->protocol) {
    case IPPROTO_TCP:
        return PROTO_IPV4_TCP;
    case IPPROTO_UDP:
        return PROTO_IPV4_UDP;
    case IPPROTO_ICMP:
        return PROTO_IPV4_ICMP;
    default:
        return PROTO_IPV4_OTHER;
    }
}

static __always_inline __u32 ipv6_slot(void *data, void *data_end, __u32 l3_offset)
{
    if (l3_offset > NET_MAX_L3_OFFSET)
        return PROTO_IPV6_OTHER;
    struct ipv6hdr *ip6 = data + l3_offset;
    if ((void *)(ip6 + 1) > data_end)
        return PROTO_IPV6_OTHER;
    __u32 l4_offset;
    switch (net_ipv6_upper(ip6, data_end, &l4_offset)) {
    case IPPROTO_TCP:
        return PROTO_IPV6_TCP;
    case IPPROTO_UDP:
        return PROTO_IPV6_UDP;
    case NET_IPPROTO_ICMPV6:
        return PROTO_IPV6_ICMPV6;
    default:
        return PROTO_IPV6_OTHER;
    }
}

/* A tc parser: the scratch its dispatcher left, then one counter. */
#define TC_PARSE(data, data_end, len, classify)                            \
    do {                                                                   \
        __u32 zero = 0;                                                    \
        struct proto_scratch *s = bpf_map_lookup_elem(&tc_scratch, &zero); \
        if (s)                                                             \
            count(s->base + classify(data, data_end, s->l3_offset), len);  \
    } while (0)

/* An XDP parser recomputes what its dispatcher knew: the counter base (ingress only, so
 * the interface alone decides it; a constant with one interface) and the L3 offset
 * (the Ethernet header, hot in cache, read again). That is cheaper than a hand-over
 * through a per-CPU scratch map: one map lookup and its stores less per frame. The
 * dispatcher only calls a parser for an IPv4 or IPv6 frame, so net_parse_l2 succeeds. */
#define XDP_PARSE(ctx, data, data_end, classify)                                     \
    do {                                                                             \
        __u16 ethertype;                                                             \
        __u32 l3_offset;                                                             \
        __u32 base = COUNTER_BASE(ctx->ingress_ifindex, 0);                          \
        if (!net_parse_l2(data, data_end, &ethertype, &l3_offset))                   \
            l3_offset = NET_MAX_L3_OFFSET + 1; /* classified "other"; not expected */ \
        count(base + classify(data, data_end, l3_offset), (__u32)(data_end - data)); \
    } while (0)

/* ---- XDP (ingress only) -------------------------------------------------------- */

SEC("xdp")
int xdp_proto(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    __u32 base = COUNTER_BASE(ctx->ingress_ifindex, 0);
    DISPATCH(ctx, data, data_end, (__u32)(data_end - data), base, , xdp_parsers);
    return XDP_PASS;
}

SEC("xdp")
int xdp_proto_ipv4(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    XDP_PARSE(ctx, data, data_end, ipv4_slot);
    return XDP_PASS;
}

SEC("xdp")
int xdp_proto_ipv6(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    XDP_PARSE(ctx, data, data_end, ipv6_slot);
    return XDP_PASS;
}

/* ---- tc (tcx links), ingress and egress ------------------------------------------ */

static __always_inline int tc_dispatch(struct __sk_buff *skb, __u32 direction)
{
    void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
    __u32 base = COUNTER_BASE(skb->ifindex, direction);
    /* skb->len: the whole frame, paged part included (data_end covers the linear part). */
    DISPATCH(skb, data, data_end, skb->len, base, TC_HANDOFF(base, l3_offset, skb->len), tc_parsers);
    /* TC_ACT_UNSPEC: go on to the next tcx program, if any, as if we were not here. */
    return TC_ACT_UNSPEC;
}

SEC("tc")
int tc_proto_ingress(struct __sk_buff *skb)
{
    return tc_dispatch(skb, 0);
}

SEC("tc")
int tc_proto_egress(struct __sk_buff *skb)
{
    return tc_dispatch(skb, 1);
}

SEC("tc")
int tc_proto_ipv4(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
    TC_PARSE(data, data_end, skb->len, ipv4_slot);
    return TC_ACT_UNSPEC;
}

SEC("tc")
int tc_proto_ipv6(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
    TC_PARSE(data, data_end, skb->len, ipv6_slot);
    return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
