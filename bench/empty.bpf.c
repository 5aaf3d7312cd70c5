// SPDX-License-Identifier: GPL-2.0
/* Benchmark anchors: programs that do nothing, on the hooks the syscall counters use.
 * Their run time is the floor any program on the same hook pays. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("raw_tp/sys_enter")
int empty_raw_tp(void *ctx)
{
    return 0;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int empty_tp(void *ctx)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
