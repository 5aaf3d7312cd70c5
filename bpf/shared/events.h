/* `ebpf-tool events`: exec events streamed through a ring buffer or a perf buffer. */
#ifndef EBPF_TOOL_SHARED_EVENTS_H
#define EBPF_TOOL_SHARED_EVENTS_H

#include "common.h"

#define EVENTS_FILENAME_MAX 256
/* The argument strings argv[0], argv[1], …, each NUL-terminated, as the kernel lays them
 * out on the new program's stack. */
#define EVENTS_ARGS_SIZE 2048 /* a power of two: offsets are masked with it */
#define EVENTS_ARG_MAX 256    /* longest single string kept (failed execs) */
#define EVENTS_MAX_ARGS 20    /* argv strings kept (failed execs) */

/* Execs between sys_enter_execve and sys_exit_execve, by thread id. */
#define EVENTS_MAX_INFLIGHT 8192

struct exec_event {
    __u64 ts_ns; /* bpf_ktime_get_ns() at sys_exit_execve */
    __u32 pid;   /* thread group id */
    __u32 ppid;
    __u32 uid;
    __s32 retval;         /* of execve: 0, or -errno */
    __u32 args_size;      /* bytes used in args */
    __u32 args_truncated; /* 1 when argv had more than was kept */
    __u32 _pad;
    __u64 filename_ptr; /* kernel side only: execve's user pointers, for failed execs */
    __u64 argv_ptr;
    char comm[TASK_COMM_LEN]; /* the new program's name (the old one's if exec failed) */
    char filename[EVENTS_FILENAME_MAX];
    char args[EVENTS_ARGS_SIZE];
};

/* Only args_size bytes of args are sent. */
#define EXEC_EVENT_HEADER_SIZE (sizeof(struct exec_event) - EVENTS_ARGS_SIZE)

/* The configuration table (array of one entry): written by user space before attaching,
 * read by the program on every exec. */
struct events_config {
    __u32 filter_uid; /* nonzero: only execs by uid */
    __u32 uid;
    __u32 filter_pid; /* nonzero: only execs by process pid */
    __u32 pid;
};

/* Indexes into events_dropped. */
enum events_drop_reason {
    EVENTS_DROP_OUTPUT = 0,   /* ring/perf buffer full: reserve or output failed */
    EVENTS_DROP_INFLIGHT = 1, /* the in-flight table was full at sys_enter */
    EVENTS_DROP_REASONS = 2,
};

#endif
