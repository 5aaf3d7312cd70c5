// SPDX-License-Identifier: GPL-2.0
/* A legacy `maps` section that is SHT_NOBITS (no bytes in the file, as a fuzzer or a
 * hand-written assembler file can make it): reading its definitions must not read through
 * the null buffer libelf gives for it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

asm(".section maps,\"aw\",@nobits\n"
    ".globl nobits_map\n"
    ".type nobits_map,@object\n"
    ".p2align 2\n"
    "nobits_map:\n"
    ".zero 20\n"
    ".size nobits_map, 20\n"
    ".text\n");

SEC("tracepoint/syscalls/sys_enter_execve")
int count_exec(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
