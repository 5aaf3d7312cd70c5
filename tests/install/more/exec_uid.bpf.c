// SPDX-License-Identifier: GPL-2.0
// Execs per UID, written against vmlinux.h (CO-RE): counts the execve calls of each UID.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, u32);
    __type(value, u64);
} execs SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int count_exec(struct trace_event_raw_sys_enter *ctx)
{
    u32 uid = (u32)bpf_get_current_uid_gid();
    u64 one = 1, *n = bpf_map_lookup_elem(&execs, &uid);

    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&execs, &uid, &one, BPF_NOEXIST);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
