// SPDX-License-Identifier: GPL-2.0
/* Event transport benchmark (bench/events_throughput.cpp): every getppid() of a producer
 * process, one whose tgid is in `producers`, sends one 64-byte event through the ring
 * buffer (emit_ringbuf) or the perf buffer (emit_perfbuf); the benchmark attaches one of
 * the two. Every event is counted as produced, and every one that did not fit as dropped,
 * per CPU, so the benchmark can check received + dropped = produced for every run. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* 64 bytes: the benchmark checks the size of what it receives. */
struct bench_event {
    __u64 seq; /* this CPU's produced count, before this event */
    __u64 ts_ns;
    __u32 tgid;
    __u32 cpu;
    __u8 payload[40];
};

enum { COUNT_PRODUCED = 0, COUNT_DROPPED = 1, COUNTERS = 2 };

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u32);
    __type(value, __u8);
} producers SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024); /* the benchmark sets it before load */
} ring SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

/* Returns this CPU's counter. Plain increments are exact: one producer is pinned to each
 * CPU, so no two runs of these programs share a CPU's slot at once. */
static __always_inline __u64 *counter(__u32 which)
{
    return bpf_map_lookup_elem(&counters, &which);
}

/* The produced count before this event, or -1 when the caller is not a producer. */
static __always_inline long produce(void)
{
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    __u64 *produced;

    if (!bpf_map_lookup_elem(&producers, &tgid))
        return -1;
    produced = counter(COUNT_PRODUCED);
    if (!produced)
        return -1;
    return (long)(*produced)++;
}

static __always_inline void fill(struct bench_event *e, long seq)
{
    e->seq = seq;
    e->ts_ns = bpf_ktime_get_ns();
    e->tgid = bpf_get_current_pid_tgid() >> 32;
    e->cpu = bpf_get_smp_processor_id();
}

static __always_inline void count_drop(void)
{
    __u64 *dropped = counter(COUNT_DROPPED);

    if (dropped)
        (*dropped)++;
}

/* Each transport the way it is meant to be used: the ring buffer's event is written in
 * place (reserve/submit), the perf buffer's is built on the stack and copied. */
SEC("tracepoint/syscalls/sys_enter_getppid")
int emit_ringbuf(void *ctx)
{
    long seq = produce();
    struct bench_event *e;

    if (seq < 0)
        return 0;
    e = bpf_ringbuf_reserve(&ring, sizeof(*e), 0);
    if (!e) {
        count_drop();
        return 0;
    }
    fill(e, seq);
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int emit_perfbuf(void *ctx)
{
    long seq = produce();
    struct bench_event e = {};

    if (seq < 0)
        return 0;
    fill(&e, seq);
    if (bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e)))
        count_drop();
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
