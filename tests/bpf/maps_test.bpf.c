// SPDX-License-Identifier: GPL-2.0
/* Kernel-side halves of the library's map tests: each program exercises one map family
 * from BPF, so that the tests can check what a program actually sees. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Programs on syscall tracepoints act only for this process (set before load). */
const volatile __u32 target_tgid = 0;

static __always_inline bool is_target(void)
{
    return (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

/* ---- per-CPU sums: one slot per CPU, incremented without atomics ---- */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} percpu_hits SEC(".maps");

/* ---- the same count in a memory-mapped array (Array::mmap), added atomically ---- */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __uint(map_flags, BPF_F_MMAPABLE);
    __type(key, __u32);
    __type(value, __u64);
} mapped_hits SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
    __u32 key = 0;
    __u64 *hits;

    if (!is_target())
        return 0;
    hits = bpf_map_lookup_elem(&percpu_hits, &key);
    if (hits)
        (*hits)++;
    hits = bpf_map_lookup_elem(&mapped_hits, &key);
    if (hits)
        __sync_fetch_and_add(hits, 1);
    return 0;
}

/* ---- stack traces ---- */
struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(max_entries, 64);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __s64);
} last_stack_id SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int record_stack(void *ctx)
{
    __u32 key = 0;
    __s64 *slot;

    if (!is_target())
        return 0;
    slot = bpf_map_lookup_elem(&last_stack_id, &key);
    if (slot)
        *slot = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
    return 0;
}

/* ---- map of maps and tail calls, run with BPF_PROG_TEST_RUN ---- */
struct inner_map {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 1);
    __type(key, __u32);
    __array(values, struct inner_map);
} outer SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} result SEC(".maps");

#define NO_INNER_MAP 0xdead
#define NO_INNER_VALUE 0xbeef

static __always_inline void set_result(__u32 value)
{
    __u32 key = 0;
    bpf_map_update_elem(&result, &key, &value, BPF_ANY);
}

SEC("xdp")
int read_inner(struct xdp_md *ctx)
{
    __u32 key = 0;
    void *inner = bpf_map_lookup_elem(&outer, &key);
    __u32 *value;

    if (!inner) {
        set_result(NO_INNER_MAP);
        return XDP_PASS;
    }
    value = bpf_map_lookup_elem(inner, &key);
    set_result(value ? *value : NO_INNER_VALUE);
    return XDP_PASS;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} jump_table SEC(".maps");

#define TAIL_TARGET_RAN 42
#define TAIL_CALL_FELL_THROUGH 7

SEC("xdp")
int tail_target(struct xdp_md *ctx)
{
    set_result(TAIL_TARGET_RAN);
    return XDP_PASS;
}

SEC("xdp")
int tail_entry(struct xdp_md *ctx)
{
    bpf_tail_call(ctx, &jump_table, 0);
    set_result(TAIL_CALL_FELL_THROUGH);
    return XDP_PASS;
}

/* ---- user ring buffer: user space writes u64 records, this program sums them ---- */
struct {
    __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
    __uint(max_entries, 4096);
} user_ring SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2); /* [0] sum of values, [1] records */
    __type(key, __u32);
    __type(value, __u64);
} user_ring_totals SEC(".maps");

static long on_user_record(struct bpf_dynptr *record, void *ctx)
{
    __u32 sum_key = 0, count_key = 1;
    __u64 value, *sum, *count;

    if (bpf_dynptr_read(&value, sizeof(value), record, 0, 0))
        return 1;
    sum = bpf_map_lookup_elem(&user_ring_totals, &sum_key);
    count = bpf_map_lookup_elem(&user_ring_totals, &count_key);
    if (sum && count) {
        *sum += value;
        *count += 1;
    }
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int drain_user_ring(void *ctx)
{
    if (is_target())
        bpf_user_ringbuf_drain(&user_ring, on_user_record, NULL, 0);
    return 0;
}

/* ---- cgroup storage: packets sent by the cgroup the program is attached to ---- */
struct {
    __uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
    __type(key, struct bpf_cgroup_storage_key);
    __type(value, __u64);
} egress_packets SEC(".maps");

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
    __u64 *packets = bpf_get_local_storage(&egress_packets, 0);
    __sync_fetch_and_add(packets, 1);
    return 1;
}

char LICENSE[] SEC("license") = "GPL";
