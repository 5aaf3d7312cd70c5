// SPDX-License-Identifier: GPL-2.0
/* Streams one record per execve() made by a child of one process, through a ring buffer:
 * the kernel keeps records in commit order, and user space wakes up when one arrives. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include "event_stream.h"

/* The parent whose children are watched, set by user space between open and load. */
const volatile __u32 parent_tgid = 0;

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024); /* bytes, a power of two and a multiple of the page size */
} events SEC(".maps");

/* Records lost because the ring was full (user space too slow): counted, never silent. */
__u64 lost = 0;

SEC("tracepoint/syscalls/sys_enter_execve")
int on_execve(struct trace_event_raw_sys_enter *ctx)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    __u32 ppid = BPF_CORE_READ(task, real_parent, tgid);
    if (ppid != parent_tgid)
        return 0;

    /* Reserve, fill in place, submit: no copy, and a failed reserve is the only loss. */
    struct exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
        __sync_fetch_and_add(&lost, 1);
        return 0;
    }
    e->time_ns = bpf_ktime_get_ns();
    e->pid = (__u32)(bpf_get_current_pid_tgid() >> 32);
    e->ppid = ppid;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    /* User memory is read without faulting: a string on a page not yet present reads as
     * "" (a real tool would also read sched/sched_process_exec, which has the path). */
    bpf_probe_read_user_str(e->filename, sizeof(e->filename), (const char *)ctx->args[0]);
    e->arg1[0] = '\0';
    const char *const *argv = (const char *const *)ctx->args[1];
    const char *arg1 = NULL;
    if (argv && bpf_probe_read_user(&arg1, sizeof(arg1), &argv[1]) == 0 && arg1)
        bpf_probe_read_user_str(e->arg1, sizeof(e->arg1), arg1);
    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
