// SPDX-License-Identifier: GPL-2.0
/* Counts getppid() and getpgid() calls of one process into `counts`, a map that user
 * space creates at run time and hands to this object before load (bpf_map__reuse_fd):
 * the declaration below only describes it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 target_tgid = 0;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1); /* replaced by the run-time map, whatever its size */
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

static __always_inline void count(__u32 slot)
{
    if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
        return;
    __u64 *n = bpf_map_lookup_elem(&counts, &slot);
    if (n)
        __sync_fetch_and_add(n, 1);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
    count(0);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int count_getpgid(void *ctx)
{
    count(1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
