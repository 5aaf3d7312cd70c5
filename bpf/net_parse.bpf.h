/* Frame parsing shared by proto.bpf.c and conns.bpf.c: Ethernet with up to two VLAN
 * tags, IPv4, IPv6 with its extension headers. Every access is bounds-checked against
 * data_end, so a truncated frame is classified by what it has, never read past. */
#ifndef EBPF_TOOL_NET_PARSE_BPF_H
#define EBPF_TOOL_NET_PARSE_BPF_H

#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define NET_ETH_HLEN 14
#define NET_MAX_L3_OFFSET (NET_ETH_HLEN + 2 * 4)

struct net_vlan_tag {
    __be16 tci;
    __be16 proto;
};

/* The EtherType after the VLAN tags and where the L3 header starts; false for a frame
 * shorter than its Ethernet header (and tags). */
static __always_inline bool net_parse_l2(void *data, void *data_end, __u16 *ethertype, __u32 *l3_offset)
{
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return false;
    __u16 proto = eth->h_proto;
    __u32 offset = NET_ETH_HLEN;
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
            break;
        struct net_vlan_tag *tag = data + offset;
        if ((void *)(tag + 1) > data_end)
            return false;
        proto = tag->proto;
        offset += sizeof(*tag);
    }
    *ethertype = bpf_ntohs(proto);
    *l3_offset = offset;
    return true;
}

#define NET_IPPROTO_HOPOPTS 0
#define NET_IPPROTO_ROUTING 43
#define NET_IPPROTO_FRAGMENT 44
#define NET_IPPROTO_AH 51
#define NET_IPPROTO_DSTOPTS 60
#define NET_IPV6_MAX_EXT 6
#define NET_IPPROTO_ICMPV6 58

/* The upper-layer protocol of an IPv6 packet whose header is at `ip6` (already checked
 * to fit), skipping extension headers, and the offset from `ip6` of that protocol's
 * header. *l4_offset is 0 when the protocol header is not there: a non-first fragment,
 * or a header chain longer than NET_IPV6_MAX_EXT or past the frame. */
static __always_inline __u8 net_ipv6_upper(struct ipv6hdr *ip6, void *data_end, __u32 *l4_offset)
{
    __u8 next = ip6->nexthdr;
    __u32 offset = sizeof(*ip6);
    *l4_offset = 0;
#pragma unroll
    for (int i = 0; i < NET_IPV6_MAX_EXT; i++) {
        if (next != NET_IPPROTO_HOPOPTS && next != NET_IPPROTO_ROUTING && next != NET_IPPROTO_FRAGMENT &&
            next != NET_IPPROTO_AH && next != NET_IPPROTO_DSTOPTS) {
            *l4_offset = offset;
            return next;
        }
        __u8 *ext = (void *)ip6 + offset;
        if ((void *)(ext + 8) > data_end)
            return next;
        if (next == NET_IPPROTO_FRAGMENT) {
            /* Fragment offset (13 bits) non-zero: the upper header is in the first one. */
            bool later = (((__u16)ext[2] << 8 | ext[3]) & 0xFFF8) != 0;
            next = ext[0];
            offset += 8;
            if (later)
                return next;
            continue;
        }
        __u32 len = next == NET_IPPROTO_AH ? ((__u32)ext[1] + 2) * 4 : ((__u32)ext[1] + 1) * 8;
        next = ext[0];
        offset += len;
    }
    return next;
}

#endif
