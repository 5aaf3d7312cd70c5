// SPDX-License-Identifier: GPL-2.0
/* Counts execs per user: every execve/execveat entry adds one to its caller's UID.
 *
 * Most UIDs are small: they index an array, whose lookup the verifier inlines to a bounds
 * check and an address (no hashing, no bucket walk), and which user space reads as memory.
 * Measured on sys_enter_execve, the array costs about half what the hash lookup did over an
 * empty program. Larger UIDs go to a hash. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "errno.bpf.h"
#include "execs.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, EXECS_DIRECT_UIDS);
    __uint(map_flags, BPF_F_MMAPABLE);
    __type(key, __u32);
    __type(value, __u64);
} execs_by_uid SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, EXECS_MAX_USERS);
    __type(key, __u32);
    __type(value, __u64);
} execs_per_uid SEC(".maps");

/* Execs that could not be counted because execs_per_uid was full. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} execs_dropped SEC(".maps");

static __always_inline void count_drop(void)
{
    __u32 zero = 0;
    __u64 *dropped = bpf_map_lookup_elem(&execs_dropped, &zero);
    if (dropped)
        (*dropped)++;
}

static __always_inline void count_exec(void)
{
    __u32 uid = (__u32)bpf_get_current_uid_gid();
    __u64 *count;

    if (uid < EXECS_DIRECT_UIDS) {
        count = bpf_map_lookup_elem(&execs_by_uid, &uid);
        if (count)
            __sync_fetch_and_add(count, 1);
        return;
    }
    count = bpf_map_lookup_elem(&execs_per_uid, &uid);
    if (!count) {
        __u64 zero = 0;
        /* NOEXIST: when another CPU inserts the same UID first this fails with EEXIST and
         * the lookup below finds that CPU's entry, so neither increment is lost (the
         * get-then-insert pattern would overwrite it). */
        long err = bpf_map_update_elem(&execs_per_uid, &uid, &zero, BPF_NOEXIST);
        if (err && err != -EEXIST) {
            count_drop();
            return;
        }
        count = bpf_map_lookup_elem(&execs_per_uid, &uid);
        if (!count) {
            count_drop();
            return;
        }
    }
    __sync_fetch_and_add(count, 1);
}

SEC("tracepoint/syscalls/sys_enter_execve")
int on_execve(void *ctx)
{
    count_exec();
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int on_execveat(void *ctx)
{
    count_exec();
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
