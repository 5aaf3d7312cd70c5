// SPDX-License-Identifier: GPL-2.0
/* Exec events (execve and execveat), as execsnoop reports them, sent through a ring buffer or a perf buffer
 * (chosen at load time). Every event that cannot be sent is counted.
 *
 * Where the data comes from matters for correctness: at sys_enter_execve the caller's
 * strings may sit in pages not yet faulted in (a fork copies no page tables for
 * file-backed memory, so a string literal of the parent is unreadable from BPF), and
 * reads fail. So a successful exec is reported at sched_process_exec, from the kernel's
 * copy of the filename and from the new program's argument area, which the kernel has
 * just written; a failed exec is reported at sys_exit_execve, after the syscall has
 * faulted the caller's filename in. sys_enter_execve only records who called.
 *
 * What sys_enter_execve records is small (struct exec_start, 32 bytes); the 2.4 KB event is
 * built only when it is sent, in a per-CPU scratch slot (a program runs to its end on one
 * CPU). Keeping whole events in the in-flight table cost an allocation and a 2.4 KB copy of
 * a zeroed event on every exec, about a tenth of the exec's whole cost to this tool. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "errno.bpf.h"
#include "events.h"

/* Set between open and load. */
const volatile bool use_ringbuf = true;
/* Ring buffer only. With both 0, every event wakes a waiting reader (the kernel's default).
 * Otherwise an event wakes the reader only when wakeup_bytes wait in the ring, or when no
 * event has woken it for wakeup_interval_ns: the first event after a quiet spell is
 * delivered at once, and a busy stream costs one wakeup per interval instead of one per
 * event (the wakeup, an irq_work, is most of what an event costs: BENCHMARKS.md). An
 * event sent without a wakeup is never left behind: the reader drains the ring on a timer
 * of that interval while last_wakeup_ns + 2 intervals has not passed. */
const volatile __u64 wakeup_bytes = 0;
const volatile __u64 wakeup_interval_ns = 0;

/* When an event last woke the reader (bpf_ktime_get_ns, CLOCK_MONOTONIC); the reader reads
 * it from the mmapped .bss. CPUs race on it harmlessly: at worst both wake the reader. */
__u64 last_wakeup_ns = 0;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct events_config);
} events_config SEC(".maps");

/* Who called execve, from sys_enter_execve until the exec is reported. */
struct exec_start {
    __u32 pid;
    __u32 ppid;
    __u32 uid;
    __u32 _pad;
    __u64 filename_ptr;
    __u64 argv_ptr;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, EVENTS_MAX_INFLIGHT);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, __u32);
    __type(value, struct exec_start);
} inflight SEC(".maps");

/* Where an event is built before it is sent: too large for the 512-byte BPF stack. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct exec_event);
} event_scratch SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024); /* --buffer-size sets it before load */
} events_ring SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} events_perf SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, EVENTS_DROP_REASONS);
    __type(key, __u32);
    __type(value, __u64);
} events_dropped SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
    __u64 *dropped = bpf_map_lookup_elem(&events_dropped, &reason);
    if (dropped)
        (*dropped)++;
}

static __always_inline bool wanted(__u32 uid, __u32 tgid)
{
    __u32 key = 0;
    struct events_config *config = bpf_map_lookup_elem(&events_config, &key);
    if (!config)
        return true;
    if (config->filter_uid && uid != config->uid)
        return false;
    if (config->filter_pid && tgid != config->pid)
        return false;
    return true;
}

static __always_inline int record_exec(__u64 filename_ptr, __u64 argv_ptr)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 tid = (__u32)pid_tgid, tgid = pid_tgid >> 32;
    __u32 uid = (__u32)bpf_get_current_uid_gid();
    struct exec_start start = {};

    if (!wanted(uid, tgid))
        return 0;
    start.pid = tgid;
    start.uid = uid;
    start.ppid = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), real_parent, tgid);
    start.filename_ptr = filename_ptr;
    start.argv_ptr = argv_ptr;
    /* BPF_ANY: a stale entry of this thread (an exec that never returned) is replaced. The
     * only failure is a full table. */
    if (bpf_map_update_elem(&inflight, &tid, &start, BPF_ANY))
        count_drop(EVENTS_DROP_INFLIGHT);
    return 0;
}

/* The scratch event, its header filled from what sys_enter_execve recorded; NULL only if
 * the per-CPU slot is missing, which a one-entry array never is. */
static __always_inline struct exec_event *begin_event(const struct exec_start *start)
{
    __u32 zero = 0;
    struct exec_event *e = bpf_map_lookup_elem(&event_scratch, &zero);

    if (!e)
        return NULL;
    e->pid = start->pid;
    e->ppid = start->ppid;
    e->uid = start->uid;
    e->_pad = 0;
    e->filename_ptr = start->filename_ptr;
    e->argv_ptr = start->argv_ptr;
    e->args_size = 0;
    e->args_truncated = 0;
    return e;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int on_execve_enter(struct trace_event_raw_sys_enter *ctx)
{
    return record_exec(ctx->args[0], ctx->args[1]);
}

/* execveat(dirfd, filename, argv, envp, flags) */
SEC("tracepoint/syscalls/sys_enter_execveat")
int on_execveat_enter(struct trace_event_raw_sys_enter *ctx)
{
    return record_exec(ctx->args[1], ctx->args[2]);
}

static __always_inline void send(void *ctx, struct exec_event *e)
{
    __u64 size = EXEC_EVENT_HEADER_SIZE + (e->args_size & (EVENTS_ARGS_SIZE - 1));
    long err;

    if (e->args_size >= EVENTS_ARGS_SIZE)
        size = sizeof(*e);
    e->ts_ns = bpf_ktime_get_ns();
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    if (use_ringbuf) {
        __u64 flags = 0;
        if (wakeup_bytes || wakeup_interval_ns) {
            bool wake = (wakeup_bytes && bpf_ringbuf_query(&events_ring, BPF_RB_AVAIL_DATA) + size >= wakeup_bytes) ||
                        (wakeup_interval_ns && e->ts_ns - last_wakeup_ns >= wakeup_interval_ns);
            if (wake)
                last_wakeup_ns = e->ts_ns;
            flags = wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
        }
        err = bpf_ringbuf_output(&events_ring, e, size, flags);
    } else {
        err = bpf_perf_event_output(ctx, &events_perf, BPF_F_CURRENT_CPU, e, size);
    }
    if (err)
        count_drop(EVENTS_DROP_OUTPUT);
}

SEC("tracepoint/sched/sched_process_exec")
int on_exec_done(struct trace_event_raw_sched_process_exec *ctx)
{
    __u32 old_tid = ctx->old_pid;
    struct exec_start *recorded = bpf_map_lookup_elem(&inflight, &old_tid);
    struct exec_event *e;
    struct mm_struct *mm;
    unsigned long start, end, len;
    unsigned int filename_off = ctx->__data_loc_filename & 0xFFFF;

    if (!recorded)
        return 0;
    e = begin_event(recorded);
    if (!e)
        return 0;
    e->pid = bpf_get_current_pid_tgid() >> 32;
    e->retval = 0;
    bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + filename_off);
    mm = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), mm);
    start = BPF_CORE_READ(mm, arg_start);
    end = BPF_CORE_READ(mm, arg_end);
    len = end > start ? end - start : 0;
    if (len > EVENTS_ARGS_SIZE) {
        len = EVENTS_ARGS_SIZE;
        e->args_truncated = 1;
    }
    if (len && bpf_probe_read_user(e->args, len, (void *)start) == 0)
        e->args_size = len;
    send(ctx, e);
    bpf_map_delete_elem(&inflight, &old_tid);
    return 0;
}

static __always_inline int report_failed_exec(struct trace_event_raw_sys_exit *ctx)
{
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    struct exec_start *recorded = bpf_map_lookup_elem(&inflight, &tid);
    struct exec_event *e;
    const char **argv;
    const char *arg;
    long n;
    int i;

    /* A successful exec was sent from sched_process_exec and is gone from the table. */
    if (!recorded)
        return 0;
    e = begin_event(recorded);
    if (!e)
        return 0;
    e->retval = ctx->ret;
    bpf_probe_read_user_str(e->filename, sizeof(e->filename), (const char *)e->filename_ptr);
    argv = (const char **)e->argv_ptr;
    for (i = 0; i < EVENTS_MAX_ARGS; i++) {
        if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
            break;
        if (e->args_size > EVENTS_ARGS_SIZE - EVENTS_ARG_MAX) {
            e->args_truncated = 1;
            break;
        }
        n = bpf_probe_read_user_str(&e->args[e->args_size & (EVENTS_ARGS_SIZE - 1)], EVENTS_ARG_MAX, arg);
        if (n <= 0)
            break;
        e->args_size += n;
    }
    send(ctx, e);
    bpf_map_delete_elem(&inflight, &tid);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int on_execve_exit(struct trace_event_raw_sys_exit *ctx)
{
    return report_failed_exec(ctx);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int on_execveat_exit(struct trace_event_raw_sys_exit *ctx)
{
    return report_failed_exec(ctx);
}

char LICENSE[] SEC("license") = "GPL";
