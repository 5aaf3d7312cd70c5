// SPDX-License-Identifier: GPL-2.0
/* Maps defined the pre-BTF way, which libbpf 1.0 refuses: `ebpf-tool run` must say what
 * to write instead. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct legacy_map_def {
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
};

struct legacy_map_def SEC("maps") legacy_counts = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = sizeof(u32),
    .value_size = sizeof(u64),
    .max_entries = 1024,
};

struct legacy_map_def SEC("maps") legacy_names = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(u32),
    .value_size = 16,
    .max_entries = 8,
    .map_flags = 0,
};

SEC("tracepoint/syscalls/sys_enter_execve")
int count(void *ctx)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
