// SPDX-License-Identifier: GPL-2.0
/* Keeps a table of the TCP sockets that use one port: every state change of such a socket
 * (tracepoint sock/inet_sock_set_state) is appended to its entry in a hash map keyed by
 * a struct of addresses and ports. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "errno.bpf.h"
#include "connection_table.h"

#define AF_INET 2

/* The port to watch (either end), set by user space between open and load. */
const volatile __u16 port = 0;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct conn_key);
    __type(value, struct conn_value);
} connections SEC(".maps");

/* State changes not recorded because the table was full. */
__u64 table_full = 0;

SEC("tracepoint/sock/inet_sock_set_state")
int on_state_change(struct trace_event_raw_inet_sock_set_state *ctx)
{
    if (ctx->family != AF_INET || ctx->protocol != IPPROTO_TCP)
        return 0;
    if (ctx->sport != port && ctx->dport != port)
        return 0;
    /* A connecting socket enters SYN_SENT before its local port is chosen: that change
     * arrives with port 0, has no 4-tuple to be keyed by yet, and is left out. */
    if (ctx->sport == 0 || ctx->dport == 0)
        return 0;

    struct conn_key key = {};
    __builtin_memcpy(&key.saddr, ctx->saddr, sizeof(key.saddr));
    __builtin_memcpy(&key.daddr, ctx->daddr, sizeof(key.daddr));
    key.sport = ctx->sport;
    key.dport = ctx->dport;

    __u64 now = bpf_ktime_get_ns();
    struct conn_value *value = bpf_map_lookup_elem(&connections, &key);
    if (!value) {
        struct conn_value init = {};
        init.first_ns = now;
        init.states[0] = (__u8)ctx->oldstate;
        init.n_states = 1;
        /* NOEXIST, then look up again: whoever inserts first wins, nothing is overwritten. */
        long err = bpf_map_update_elem(&connections, &key, &init, BPF_NOEXIST);
        if (err && err != -EEXIST) {
            __sync_fetch_and_add(&table_full, 1);
            return 0;
        }
        value = bpf_map_lookup_elem(&connections, &key);
        if (!value)
            return 0;
    }
    /* A socket changes state under its own lock, so one entry is never written by two
     * CPUs at once: plain writes are enough here. */
    __u32 i = value->n_states;
    if (i < CONN_MAX_STATES) {
        value->states[i] = (__u8)ctx->newstate;
        value->n_states = i + 1;
    }
    value->last_ns = now;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
