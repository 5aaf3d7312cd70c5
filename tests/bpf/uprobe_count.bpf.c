// SPDX-License-Identifier: GPL-2.0
/* Counts calls of libc's getppid() by processes named "ebpf-uprobe-t", per process (tgid),
 * for the `ebpf-tool run --binary` test: SEC("uprobe/FUNC") names the function, --binary
 * the file. Per process, because another run of the test may call it at the same time. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, u32);
    __type(value, u64);
} getppid_calls SEC(".maps");

SEC("uprobe/getppid")
int count_getppid(void *ctx)
{
    const char want[] = "ebpf-uprobe-t";
    char comm[16] = {};
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    u64 one = 1, *n;

    bpf_get_current_comm(comm, sizeof(comm));
    for (int i = 0; i < sizeof(want); i++)
        if (comm[i] != want[i])
            return 0;
    n = bpf_map_lookup_elem(&getppid_calls, &tgid);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&getppid_calls, &tgid, &one, BPF_NOEXIST);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
