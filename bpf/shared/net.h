/* Shared by bpf/proto.bpf.c, bpf/conns.bpf.c and `ebpf-tool proto` / `ebpf-tool conns`.
 * "bytes" everywhere is the L2 frame length: from the first byte of the Ethernet header
 * to the end of the payload, without FCS or padding the driver adds (XDP: data_end -
 * data; tc: skb->len, which tc sees with the MAC header pushed back). */
#ifndef EBPF_TOOL_SHARED_NET_H
#define EBPF_TOOL_SHARED_NET_H

#include "common.h"

/* Interfaces one run can watch (--iface is repeatable). */
#define NET_MAX_IFACES 16
#define NET_DIRECTIONS 2 /* 0 ingress, 1 egress */

/* ---- proto ---------------------------------------------------------------------- */
enum proto_slot {
    PROTO_IPV4_TCP,
    PROTO_IPV4_UDP,
    PROTO_IPV4_ICMP,
    PROTO_IPV4_OTHER,
    PROTO_IPV6_TCP,
    PROTO_IPV6_UDP,
    PROTO_IPV6_ICMPV6,
    PROTO_IPV6_OTHER,
    PROTO_NON_IP,
    /* A frame whose parser could not be reached (a failed tail call): never expected,
     * counted so that every frame is in exactly one slot. */
    PROTO_UNPARSED,
    PROTO_SLOTS,
};

/* Counter index: ((interface slot * NET_DIRECTIONS) + direction) * PROTO_SLOTS + slot.
 * The interface slot NET_MAX_IFACES collects frames from an interface not in the list
 * (there is none: the programs are only attached to listed interfaces). */
#define PROTO_COUNTERS ((NET_MAX_IFACES + 1) * NET_DIRECTIONS * PROTO_SLOTS)

struct proto_count {
    __u64 packets;
    __u64 bytes;
};

/* Prog array slots of the per-family parsers the dispatchers tail-call. */
enum proto_parser {
    PROTO_PARSER_IPV4,
    PROTO_PARSER_IPV6,
    PROTO_PARSERS,
};

/* What a tc dispatcher hands its parser (a one-slot per-CPU scratch array): a tail call
 * keeps the context but no registers or stack. (XDP parsers recompute it.) */
struct proto_scratch {
    __u32 base;       /* counter index of slot 0 for this interface and direction */
    __u32 l3_offset;  /* where the IP header starts (after Ethernet and VLAN tags) */
};

/* ---- conns ---------------------------------------------------------------------- */
/* A flow, one direction of it, where it was seen. Addresses in network order (IPv4 in
 * the first 4 bytes, the rest zero); ports in host order, 0 for protocols without. */
struct flow_key {
    __u8 saddr[16];
    __u8 daddr[16];
    __u16 sport;
    __u16 dport;
    __u8 protocol; /* IPPROTO_* */
    __u8 family;   /* 4 or 6 */
    __u8 direction;
    __u8 pad;
    __u32 ifindex;
};

struct flow_value {
    __u64 packets;
    __u64 bytes;
    __u64 first_ns; /* CLOCK_MONOTONIC_COARSE, to the tick (now_ns() in conns.bpf.c) */
    __u64 last_ns;
    __u32 tcp_flags; /* OR of every TCP flags byte seen (FIN 0x01 ... CWR 0x80) */
    __u32 pad;
};

/* --cidr: LPM trie keys (prefixlen in bits, then the address in network order). */
struct cidr4_key {
    __u32 prefixlen;
    __u8 addr[4];
};
struct cidr6_key {
    __u32 prefixlen;
    __u8 addr[16];
};

/* Per-CPU counters of conns. */
enum conns_counter {
    CONNS_CREATED,       /* flows inserted (BPF_NOEXIST succeeded) */
    CONNS_INSERT_FAILED, /* an insert failed for another reason than a racing insert */
    CONNS_FILTERED,      /* IP packets left out by --cidr */
    CONNS_COUNTERS,
};

#define CONNS_DEFAULT_MAX_ENTRIES 65536

#endif
