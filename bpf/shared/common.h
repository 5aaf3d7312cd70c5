/* Definitions shared by the kernel programs (bpf/NAME.bpf.c) and user space (src/).
 * C-compatible, fixed-width types only, so both compilers agree on every layout. */
#ifndef EBPF_TOOL_SHARED_COMMON_H
#define EBPF_TOOL_SHARED_COMMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TASK_COMM_LEN 16

#endif
