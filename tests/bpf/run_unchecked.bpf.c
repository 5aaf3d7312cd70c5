// SPDX-License-Identifier: GPL-2.0
/* A learner's first mistake: the lookup's result is used without checking it for NULL.
 * The verifier rejects it (R0 invalid mem access 'map_value_or_null'). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, u32);
    __type(value, u64);
} exec_count SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int count_execs(void *ctx)
{
    u32 uid = bpf_get_current_uid_gid();
    u64 *count = bpf_map_lookup_elem(&exec_count, &uid);

    __sync_fetch_and_add(count, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
