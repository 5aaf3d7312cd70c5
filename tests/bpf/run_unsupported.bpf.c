// SPDX-License-Identifier: GPL-2.0
/* One program for every kind of kernel: a tracepoint, which every kernel with BPF has,
 * and a kprobe and an fentry program, which need kprobes and BPF trampolines. All three
 * count execs by the UID in targ_uid. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile u32 targ_uid = 0;

u64 tracepoint_hits = 0;
u64 kprobe_hits = 0;
u64 fentry_hits = 0;

static bool wanted(void)
{
    return (u32)bpf_get_current_uid_gid() == targ_uid;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int tp_exec(void *ctx)
{
    if (wanted())
        __sync_fetch_and_add(&tracepoint_hits, 1);
    return 0;
}

SEC("kprobe/__x64_sys_execve")
int kp_exec(void *ctx)
{
    if (wanted())
        __sync_fetch_and_add(&kprobe_hits, 1);
    return 0;
}

SEC("fentry/__x64_sys_execve")
int BPF_PROG(fe_exec)
{
    if (wanted())
        __sync_fetch_and_add(&fentry_hits, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
