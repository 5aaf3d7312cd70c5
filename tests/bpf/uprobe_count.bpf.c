// SPDX-License-Identifier: GPL-2.0
/* Counts calls of libc's getppid() by processes named "ebpf-uprobe-t", for the
 * `ebpf-tool run --binary` test: SEC("uprobe/FUNC") names the function, --binary the file. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} getppid_calls SEC(".maps");

SEC("uprobe/getppid")
int count_getppid(void *ctx)
{
    const char want[] = "ebpf-uprobe-t";
    char comm[16] = {};
    u32 key = 0;
    u64 *n;

    bpf_get_current_comm(comm, sizeof(comm));
    for (int i = 0; i < sizeof(want); i++)
        if (comm[i] != want[i])
            return 0;
    n = bpf_map_lookup_elem(&getppid_calls, &key);
    if (n)
        __sync_fetch_and_add(n, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
