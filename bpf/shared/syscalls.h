/* `ebpf-tool stats`: syscall counts, system-wide or per process. */
#ifndef EBPF_TOOL_SHARED_SYSCALLS_H
#define EBPF_TOOL_SHARED_SYSCALLS_H

#include "common.h"

/* Syscall numbers are small dense integers (x86-64 tops out below 512), so the
 * system-wide counters are a per-CPU array indexed by number: no hashing, no locks, no
 * atomics, and the kernel inlines the lookup. A number at or above this bound (or the -1
 * of an invalid syscall) is counted in syscalls_dropped instead of being lost. */
#define SYSCALLS_MAX_NR 1024

/* Distinct (process, syscall) pairs in --per-process mode. */
#define SYSCALLS_MAX_PROC_ENTRIES 65536

struct proc_syscall_key {
    __u32 tgid;
    __u32 nr;
};

struct proc_syscall_value {
    __u64 count;
    char comm[TASK_COMM_LEN];
};

/* Indexes into syscalls_dropped. */
enum syscalls_drop_reason {
    SYSCALLS_DROP_OUT_OF_RANGE = 0, /* number outside [0, SYSCALLS_MAX_NR) */
    SYSCALLS_DROP_MAP_FULL = 1,     /* per-process table full */
    SYSCALLS_DROP_REASONS = 2,
};

#endif
