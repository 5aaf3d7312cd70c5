// SPDX-License-Identifier: GPL-2.0
/* Counts the getppid() calls of one process in a hash map that user space pins, so the
 * counts outlive this program and the process that loaded it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* The process to count, set by user space between open and load. */
const volatile __u32 target_tgid = 0;

/* PID -> calls. Other processes add their own entries through the pin. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} calls_by_pid SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
    __u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
    if (tgid != target_tgid)
        return 0;
    __u64 *count = bpf_map_lookup_elem(&calls_by_pid, &tgid);
    if (count) {
        __sync_fetch_and_add(count, 1);
    } else {
        __u64 one = 1;
        /* Only the target's thread gets here; NOEXIST keeps a racing first call safe anyway. */
        if (bpf_map_update_elem(&calls_by_pid, &tgid, &one, BPF_NOEXIST)) {
            count = bpf_map_lookup_elem(&calls_by_pid, &tgid);
            if (count)
                __sync_fetch_and_add(count, 1);
        }
    }
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
