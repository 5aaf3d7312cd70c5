// SPDX-License-Identifier: GPL-2.0
/* Waiting in the kernel for user space to set a flag: a loop the verifier cannot bound
 * ("infinite loop detected"). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} ready SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int wait_ready(void *ctx)
{
    u32 zero = 0;
    u64 *flag = bpf_map_lookup_elem(&ready, &zero);

    if (!flag)
        return 0;
    while (!*(volatile u64 *)flag)
        ;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
