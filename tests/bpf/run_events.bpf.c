// SPDX-License-Identifier: GPL-2.0
/* Structured events to user space, configured by const volatile globals (set with
 * `run --set`): each exec by targ_uid sends a struct event through a ring buffer and a
 * perf buffer, and counts itself in .bss. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum mode {
    MODE_QUIET = 0,
    MODE_LOUD = 7,
};

struct event {
    u32 pid;
    u32 uid;
    enum mode mode;
    char label[8];
    char comm[16];
};

/* user space reads struct event from the buffers: keep its BTF in the object */
struct event *unused_event __attribute__((unused));

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} ring SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(u32));
    __uint(value_size, sizeof(u32));
} perf SEC(".maps");

const volatile u32 targ_uid = 0;
const volatile enum mode mode = MODE_QUIET;
const volatile char label[8] = "none";

u64 matched = 0;    /* .bss */
u64 ring_full = 0;  /* .bss: records the ring buffer had no room for */
u32 version = 3;    /* .data */

SEC("tracepoint/syscalls/sys_enter_execve")
int on_exec(void *ctx)
{
    struct event e = {};
    struct event *r;

    e.uid = bpf_get_current_uid_gid();
    if (e.uid != targ_uid)
        return 0;
    __sync_fetch_and_add(&matched, 1);
    e.pid = bpf_get_current_pid_tgid() >> 32;
    e.mode = mode;
    for (int i = 0; i < sizeof(e.label); i++)
        e.label[i] = label[i];  /* volatile reads: not folded to the compiled-in "none" */
    bpf_get_current_comm(e.comm, sizeof(e.comm));

    r = bpf_ringbuf_reserve(&ring, sizeof(*r), 0);
    if (r) {
        *r = e;
        bpf_ringbuf_submit(r, 0);
    } else {
        __sync_fetch_and_add(&ring_full, 1);
    }
    bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
