// SPDX-License-Identifier: GPL-2.0
/* Benchmark anchors for the exec tracers: programs that do nothing, on every hook that
 * `ebpf-tool execs`, `ebpf-tool events` and execsnoop use for an execve. Their run time is
 * the floor any program on the same hook pays. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Written so the compiler keeps the read. */
__u32 last_uid = 0;

/* Attached before every tracer: the first program on the hook to read the caller's
 * credentials takes the cache miss on them (the cred was last touched by fork, often on
 * another CPU). Every per-UID tracer pays it once per exec, so this program pays it for all
 * of them, in a row of its own, and each tracer's row is its own work. */
SEC("tracepoint/syscalls/sys_enter_execve")
int uid_enter_execve(void *ctx)
{
    last_uid = (__u32)bpf_get_current_uid_gid();
    return 0;
}

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
