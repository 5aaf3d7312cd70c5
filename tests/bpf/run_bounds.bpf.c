// SPDX-License-Identifier: GPL-2.0
/* A histogram whose slot index is not capped to the array: 32 possible slots, 16 in the
 * value. The verifier rejects the access (value_size=128 off=248). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MAX_SLOTS 16

struct hist {
    u64 slots[MAX_SLOTS];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, struct hist);
} hists SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int exec_hist(void *ctx)
{
    u32 zero = 0;
    struct hist *h = bpf_map_lookup_elem(&hists, &zero);
    u32 slot;

    if (!h)
        return 0;
    slot = bpf_get_prandom_u32() & 31;
    h->slots[slot]++;
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
