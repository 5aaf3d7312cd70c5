// SPDX-License-Identifier: GPL-2.0
/* Known events for the RingBufferReader tests: every getppid() of the target process
 * becomes a fixed-size record in `getppid_events`, every getpgid() a variable-size record
 * in `getpgid_events`. `not_a_ringbuf` exists to be rejected by the reader. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ring_buffer_test.h"

/* The test's own PID, set before load: other processes never produce a record. */
const volatile __u32 target_tgid = 0;

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} getppid_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} getpgid_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} not_a_ringbuf SEC(".maps");

/* Only the test's single calling thread passes the filter, so plain increments are exact. */
__u64 getppid_seq = 0;
__u32 getpgid_seq = 0;
__u64 dropped = 0; /* records that did not fit: a test that sees one is wrong */

static __always_inline bool is_target(void)
{
    return (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
    if (!is_target())
        return 0;
    struct rb_test_event *e = bpf_ringbuf_reserve(&getppid_events, sizeof(*e), 0);
    if (!e) {
        dropped++;
        return 0;
    }
    __u64 id = bpf_get_current_pid_tgid();
    e->seq = getppid_seq++;
    e->tgid = (__u32)(id >> 32);
    e->tid = (__u32)id;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int on_getpgid(struct trace_event_raw_sys_enter *ctx)
{
    if (!is_target())
        return 0;
    struct rb_test_tail rec = {};
    rec.seq = getpgid_seq++;
    rec.len = (__u32)(ctx->args[0] % (RB_TEST_TAIL_MAX + 1));
    for (int i = 0; i < RB_TEST_TAIL_MAX; i++)
        rec.bytes[i] = (__u8)(rec.seq + i);
    __u64 size = 8 + rec.len;
    /* clang knows the bound holds and would drop the check; the verifier needs to see it. */
    barrier_var(size);
    if (size > sizeof(rec))
        return 0;
    if (bpf_ringbuf_output(&getpgid_events, &rec, size, 0))
        dropped++;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
