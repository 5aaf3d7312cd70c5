// SPDX-License-Identifier: GPL-2.0
/* One map of every type a .bpf.o can define in SEC(".maps") and `ebpf-tool run --pin`
 * pins, each as a user writes it (defaults left to libbpf and the kernel where a user
 * leaves them: perf_event_array without max_entries, devmaps without flags). The pin
 * reuse test runs it twice with the same --pin directory: the second run must reuse every
 * pin. Not here: struct_ops (a kernel ops struct of programs, registered by attaching,
 * not a map a run pins and refills) and arena (libbpf 1.1 cannot create one). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MAP(kind, name, n, k, v)      \
    struct {                          \
        __uint(type, kind);           \
        __uint(max_entries, n);       \
        __type(key, k);               \
        __type(value, v);             \
    } name SEC(".maps")

MAP(BPF_MAP_TYPE_HASH, pt_hash, 8, u32, u64);
MAP(BPF_MAP_TYPE_ARRAY, pt_array, 8, u32, u64);
MAP(BPF_MAP_TYPE_PERCPU_HASH, pt_percpu_hash, 8, u32, u64);
MAP(BPF_MAP_TYPE_PERCPU_ARRAY, pt_percpu_array, 8, u32, u64);
MAP(BPF_MAP_TYPE_LRU_HASH, pt_lru_hash, 8, u32, u64);
MAP(BPF_MAP_TYPE_LRU_PERCPU_HASH, pt_lru_pcpu, 8, u32, u64);
MAP(BPF_MAP_TYPE_DEVMAP, pt_devmap, 8, u32, u32);
MAP(BPF_MAP_TYPE_DEVMAP_HASH, pt_devmap_hash, 8, u32, u32);
MAP(BPF_MAP_TYPE_CPUMAP, pt_cpumap, 2, u32, struct bpf_cpumap_val);
MAP(BPF_MAP_TYPE_XSKMAP, pt_xskmap, 8, u32, u32);
MAP(BPF_MAP_TYPE_SOCKMAP, pt_sockmap, 8, u32, u64);
MAP(BPF_MAP_TYPE_SOCKHASH, pt_sockhash, 8, u32, u64);
MAP(BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, pt_reuseport, 8, u32, u64);
MAP(BPF_MAP_TYPE_CGROUP_ARRAY, pt_cgroup_array, 8, u32, u32);
MAP(BPF_MAP_TYPE_PROG_ARRAY, pt_prog_array, 8, u32, u32);
MAP(BPF_MAP_TYPE_STACK_TRACE, pt_stack_trace, 8, u32, u64[127]);

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);  /* max_entries: libbpf makes it the CPU count */
    __type(key, u32);
    __type(value, u32);
} pt_perf SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} pt_ringbuf SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
    __uint(max_entries, 4096);
} pt_user_ringbuf SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 8);
    __type(value, u64);
} pt_queue SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK);
    __uint(max_entries, 8);
    __type(value, u64);
} pt_stack SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
    __uint(max_entries, 8);
    __uint(map_extra, 3);
    __type(value, u32);
} pt_bloom SEC(".maps");

struct lpm_v4 {
    u32 prefixlen;
    u32 addr;
};
struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 8);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct lpm_v4);
    __type(value, u64);
} pt_lpm SEC(".maps");

struct inner {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 4);
    __type(key, u32);
    __array(values, struct inner);
} pt_array_of_maps SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 4);
    __type(key, u32);
    __array(values, struct inner);
} pt_hash_of_maps SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
    __type(key, struct bpf_cgroup_storage_key);
    __type(value, u64);
} pt_cg_storage SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE);
    __type(key, struct bpf_cgroup_storage_key);
    __type(value, u64);
} pt_pcpu_cg_stor SEC(".maps");

#define LOCAL_STORAGE(kind, name)                  \
    struct {                                       \
        __uint(type, kind);                        \
        __uint(map_flags, BPF_F_NO_PREALLOC);      \
        __type(key, int);                          \
        __type(value, u64);                        \
    } name SEC(".maps")

LOCAL_STORAGE(BPF_MAP_TYPE_SK_STORAGE, pt_sk_storage);
LOCAL_STORAGE(BPF_MAP_TYPE_INODE_STORAGE, pt_inode_stor);
LOCAL_STORAGE(BPF_MAP_TYPE_TASK_STORAGE, pt_task_stor);
LOCAL_STORAGE(BPF_MAP_TYPE_CGRP_STORAGE, pt_cgrp_stor);

/* Something for the run to attach: counts the getppid calls of the process whose pid is
 * in pt_array[0] (set by the test between the runs) in pt_hash, so the test also sees the
 * second run's program read one reused pin and write another. */
SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
    u32 pid = bpf_get_current_pid_tgid() >> 32, zero = 0;
    u64 *want = bpf_map_lookup_elem(&pt_array, &zero);

    if (!want || *want != pid)
        return 0;
    u64 one = 1, *count = bpf_map_lookup_elem(&pt_hash, &pid);

    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&pt_hash, &pid, &one, BPF_NOEXIST);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
