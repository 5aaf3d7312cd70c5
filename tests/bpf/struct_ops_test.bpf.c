// SPDX-License-Identifier: GPL-2.0
/* A TCP congestion control written in BPF: the smallest real struct_ops map. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("struct_ops/ebpf_test_ssthresh")
__u32 BPF_PROG(ebpf_test_ssthresh, struct sock *sk)
{
    return 10;
}

SEC("struct_ops/ebpf_test_undo_cwnd")
__u32 BPF_PROG(ebpf_test_undo_cwnd, struct sock *sk)
{
    return 10;
}

SEC("struct_ops/ebpf_test_cong_avoid")
void BPF_PROG(ebpf_test_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
}

SEC(".struct_ops")
struct tcp_congestion_ops ebpf_test_cc = {
    .ssthresh = (void *)ebpf_test_ssthresh,
    .undo_cwnd = (void *)ebpf_test_undo_cwnd,
    .cong_avoid = (void *)ebpf_test_cong_avoid,
    .name = "ebpf_test_cc",
};

char LICENSE[] SEC("license") = "GPL";
