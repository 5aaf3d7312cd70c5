/* examples/event_stream: the record a BPF program streams through the ring buffer for
 * each execve(), shared by both sides. */
#ifndef EBPF_TOOL_EXAMPLES_EVENT_STREAM_H
#define EBPF_TOOL_EXAMPLES_EVENT_STREAM_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define EXEC_PATH_LEN 64
#define EXEC_ARG_LEN 32

struct exec_event {
    __u64 time_ns; /* bpf_ktime_get_ns() at the execve() */
    __u32 pid;
    __u32 ppid;
    char comm[16];                /* the caller's name before the exec replaces it */
    char filename[EXEC_PATH_LEN]; /* execve's first argument */
    char arg1[EXEC_ARG_LEN];      /* argv[1], "" when absent */
};

#endif
