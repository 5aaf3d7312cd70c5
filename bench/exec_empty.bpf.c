// SPDX-License-Identifier: GPL-2.0
/* Benchmark anchors for the exec tracers: programs that do nothing, on every hook that
 * `ebpf-tool execs`, `ebpf-tool events` and execsnoop use for an execve. Their run time is
 * the floor any program on the same hook pays. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_execve")
int empty_enter_execve(void *ctx)
{
    return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int empty_process_exec(void *ctx)
{
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int empty_exit_execve(void *ctx)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
