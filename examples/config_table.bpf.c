// SPDX-License-Identifier: GPL-2.0
/* Counts getppid() calls, but only as the configuration table says: user space writes
 * settings[0] at any time, and the next run of the program sees the new value. No
 * reload, no re-attach. (Rodata, by contrast, is fixed at load.) */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "config_table.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct counter_config);
} settings SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} counted SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_if_configured(void *ctx)
{
    __u32 zero = 0;
    struct counter_config *cfg = bpf_map_lookup_elem(&settings, &zero);
    if (!cfg || !cfg->enabled)
        return 0;
    if ((__u32)(bpf_get_current_pid_tgid() >> 32) != cfg->pid)
        return 0;
    __u64 *n = bpf_map_lookup_elem(&counted, &zero);
    /* One slot shared by every CPU: the add must be atomic. */
    if (n)
        __sync_fetch_and_add(n, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
