// SPDX-License-Identifier: GPL-2.0
/* Records too big for their buffers, to overflow them on purpose: each exec by targ_uid
 * sends a 1 KiB record through a 4 KiB ring buffer and a perf buffer, and counts in .bss
 * what it produced and what each buffer had no room for. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct big {
    u32 seq;
    u32 uid;
    char pad[1016];
};

struct big *unused_big __attribute__((unused));

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, struct big);
} scratch SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} ring SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(u32));
    __uint(value_size, sizeof(u32));
} perf SEC(".maps");

const volatile u32 targ_uid = 0;

u64 produced = 0;
u64 ring_full = 0;
u64 perf_failed = 0;

SEC("tracepoint/syscalls/sys_enter_execve")
int on_exec(void *ctx)
{
    u32 zero = 0, uid = bpf_get_current_uid_gid();
    struct big *b;

    if (uid != targ_uid)
        return 0;
    b = bpf_map_lookup_elem(&scratch, &zero);
    if (!b)
        return 0;
    b->seq = __sync_fetch_and_add(&produced, 1);
    b->uid = uid;
    if (bpf_ringbuf_output(&ring, b, sizeof(*b), 0))
        __sync_fetch_and_add(&ring_full, 1);
    if (bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, b, sizeof(*b)))
        __sync_fetch_and_add(&perf_failed, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
