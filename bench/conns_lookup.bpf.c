// SPDX-License-Identifier: GPL-2.0
/* The second anchor for `ebpf-tool conns`: conns' own code (included), its parser and its
 * flow table at the same size, but a known flow is only looked up, never counted (a new one
 * is inserted, so that the lookups hit as conns' do). Its run time is what any design that
 * keeps flows in an LRU hash pays per packet before it counts anything; conns' run time
 * over it is the cost of the counting itself. */
#include "conns.bpf.c"

SEC("xdp")
int xdp_lookup_only(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    union flow_key_words k;
    __u8 tcp_flags = 0;

    if (!parse_flow(data, data_end, 0, &k, &tcp_flags))
        return XDP_PASS;
    k.w.ifindex = IFINDEX(ctx->ingress_ifindex);
    if (!bpf_map_lookup_elem(&flows, &k.key)) {
        struct flow_value first = {.packets = 1};
        bpf_map_update_elem(&flows, &k.key, &first, BPF_NOEXIST);
    }
    return XDP_PASS;
}
