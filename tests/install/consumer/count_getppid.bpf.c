// SPDX-License-Identifier: GPL-2.0
// Counts getppid() calls per process. Plain UAPI headers, no vmlinux.h.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u32);   // process id
    __type(value, __u64); // getppid() calls
} calls SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
    __u32 pid = bpf_get_current_pid_tgid() >> 32;
    __u64 one = 1, *n = bpf_map_lookup_elem(&calls, &pid);

    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&calls, &pid, &one, BPF_NOEXIST);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
