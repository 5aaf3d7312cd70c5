/* `ebpf-tool execs`: execs per user. Key: UID (__u32); value: exec count (__u64). */
#ifndef EBPF_TOOL_SHARED_EXECS_H
#define EBPF_TOOL_SHARED_EXECS_H

#include "common.h"

/* Distinct UIDs the kernel side can count; a further UID is counted in execs_dropped. */
#define EXECS_MAX_USERS 10240

#endif
