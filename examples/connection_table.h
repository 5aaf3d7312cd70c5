/* examples/connection_table: one hash map entry per TCP socket, keyed by its addresses.
 * Shared by the BPF program and user space, so both agree on every byte. */
#ifndef EBPF_TOOL_EXAMPLES_CONNECTION_TABLE_H
#define EBPF_TOOL_EXAMPLES_CONNECTION_TABLE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* A socket seen from its own side: local address and port, then the remote ones.
 * Addresses are IPv4 in network byte order; ports in host order, as the tracepoint gives
 * them. No padding: hashing a key hashes every byte of it. */
struct conn_key {
    __u32 saddr;
    __u32 daddr;
    __u16 sport;
    __u16 dport;
};

#define CONN_MAX_STATES 8

/* The socket's TCP states in order: states[0] is the state it was in when first seen. */
struct conn_value {
    __u64 first_ns; /* bpf_ktime_get_ns() of the first and the last change */
    __u64 last_ns;
    __u32 n_states;
    __u8 states[CONN_MAX_STATES];
    __u32 pad;
};

#endif
