/* examples/config_table: the configuration that user space writes and the BPF program
 * reads, shared by both sides so they agree on the layout. */
#ifndef EBPF_TOOL_EXAMPLES_CONFIG_TABLE_H
#define EBPF_TOOL_EXAMPLES_CONFIG_TABLE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct counter_config {
    __u32 enabled; /* 0: count nothing */
    __u32 pid;     /* the one process (thread group) to count */
};

#endif
