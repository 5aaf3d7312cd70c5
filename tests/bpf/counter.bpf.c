// SPDX-License-Identifier: GPL-2.0
/* The seeds' exec counter, as a learner writes it: execs per UID in a hash map. It is
 * compiled unchanged and run by `ebpf-tool run` in the tests. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, u32);
    __type(value, u64);
} exec_count SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int count_execs(void *ctx)
{
    u32 uid = bpf_get_current_uid_gid();
    u64 *count = bpf_map_lookup_elem(&exec_count, &uid);

    if (count) {
        __sync_fetch_and_add(count, 1);
    } else {
        u64 one = 1;
        bpf_map_update_elem(&exec_count, &uid, &one, BPF_NOEXIST);
    }
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
