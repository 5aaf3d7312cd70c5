/* `ebpf-tool execs`: execs per user. A UID below EXECS_DIRECT_UIDS (every ordinary user,
 * and nobody at 65534) is counted in the array execs_by_uid, indexed by UID, which user
 * space reads as memory; a larger UID (a container's mapped range) in the hash
 * execs_per_uid (key: UID, __u32; value: exec count, __u64). */
#ifndef EBPF_TOOL_SHARED_EXECS_H
#define EBPF_TOOL_SHARED_EXECS_H

#include "common.h"

#define EXECS_DIRECT_UIDS 65536
/* Distinct UIDs of EXECS_DIRECT_UIDS and above the kernel side can count; a further one
 * is counted in execs_dropped. */
#define EXECS_MAX_USERS 10240

#endif
