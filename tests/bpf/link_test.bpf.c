// SPDX-License-Identifier: GPL-2.0
/* Programs for the Object/Program/Link tests: getppid calls counted per process, by two
 * programs (entry and exit), so a test can attach one, the other, or both. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, u32);
    __type(value, u64);
} calls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, u32);
    __type(value, u64);
} exit_calls SEC(".maps");

static void count(void *map)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32;
    u64 one = 1, *n = bpf_map_lookup_elem(map, &pid);

    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(map, &pid, &one, BPF_NOEXIST);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
    count(&calls);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_getppid")
int count_getppid_exit(void *ctx)
{
    count(&exit_calls);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
