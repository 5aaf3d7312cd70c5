// SPDX-License-Identifier: GPL-2.0
/* The benchmark anchor for the packet programs: XDP that only passes the frame. Its run
 * time is the floor any XDP program on the same interface and traffic pays. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
