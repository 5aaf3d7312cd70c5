// SPDX-License-Identifier: GPL-2.0
/* An exact counter without atomics: every getppid() of one process adds one to the
 * calling CPU's own slot of a per-CPU array. User space adds the slots up. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* The process to count, set by user space between open and load. */
const volatile __u32 target_tgid = 0;

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} calls SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
    if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
        return 0;
    __u32 zero = 0;
    __u64 *count = bpf_map_lookup_elem(&calls, &zero);
    /* This CPU's slot: no other CPU writes it, and the program is not preempted on this
     * one, so a plain increment loses nothing. A shared ARRAY slot would need an atomic. */
    if (count)
        (*count)++;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
