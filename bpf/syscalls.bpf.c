// SPDX-License-Identifier: GPL-2.0
/* Counts syscalls at raw_syscalls/sys_enter, system-wide or per process.
 * The raw tracepoint is the cheapest hook there is for every syscall: no perf event
 * record is built, and the program reads the syscall number straight from the args.
 *
 * The context is read as the raw u64 argument array it is (the layout of the UAPI struct
 * bpf_raw_tracepoint_args), not through vmlinux.h's struct: vmlinux.h marks its structs
 * for CO-RE, and a single CO-RE relocation makes libbpf read and parse the whole kernel
 * BTF (~5 MiB, held twice while parsing) at load — 11 MiB of the tool's peak memory, for
 * a layout that cannot change. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "errno.bpf.h"
#include "syscalls.h"

/* Set by user space between open and load; 0 means every process. The verifier sees the
 * frozen value, so with no filter the check is removed from the program entirely. */
const volatile __u32 filter_tgid = 0;

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, SYSCALLS_MAX_NR);
    __type(key, __u32);
    __type(value, __u64);
} syscall_counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, SYSCALLS_MAX_PROC_ENTRIES);
    __type(key, struct proc_syscall_key);
    __type(value, struct proc_syscall_value);
} proc_syscall_counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, SYSCALLS_DROP_REASONS);
    __type(key, __u32);
    __type(value, __u64);
} syscalls_dropped SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
    __u64 *dropped = bpf_map_lookup_elem(&syscalls_dropped, &reason);
    if (dropped)
        (*dropped)++;
}

static __always_inline bool filtered_out(void)
{
    return filter_tgid && (__u32)(bpf_get_current_pid_tgid() >> 32) != filter_tgid;
}

SEC("raw_tp/sys_enter")
int count_syscall(const __u64 *ctx)
{
    if (filtered_out())
        return 0;
    /* Per-CPU slot, and the program runs with preemption off: a plain increment is exact. */
    __u32 nr = (__u32)ctx[1];
    __u64 *count = bpf_map_lookup_elem(&syscall_counts, &nr);
    if (count)
        (*count)++;
    else
        count_drop(SYSCALLS_DROP_OUT_OF_RANGE);
    return 0;
}

SEC("raw_tp/sys_enter")
int count_syscall_per_process(const __u64 *ctx)
{
    if (filtered_out())
        return 0;
    struct proc_syscall_key key = {
        .tgid = (__u32)(bpf_get_current_pid_tgid() >> 32),
        .nr = (__u32)ctx[1],
    };
    struct proc_syscall_value *value = bpf_map_lookup_elem(&proc_syscall_counts, &key);
    if (!value) {
        struct proc_syscall_value init = {};
        bpf_get_current_comm(init.comm, sizeof(init.comm));
        /* NOEXIST, then look up again: a concurrent insert by another thread of the same
         * process wins, and both increments land on its entry. */
        long err = bpf_map_update_elem(&proc_syscall_counts, &key, &init, BPF_NOEXIST);
        if (err && err != -EEXIST) {
            count_drop(SYSCALLS_DROP_MAP_FULL);
            return 0;
        }
        value = bpf_map_lookup_elem(&proc_syscall_counts, &key);
        if (!value) {
            count_drop(SYSCALLS_DROP_MAP_FULL);
            return 0;
        }
    }
    __sync_fetch_and_add(&value->count, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
