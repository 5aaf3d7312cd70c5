// The kernel prerequisites a BPF tool needs before it loads anything: privileges, bpffs
// and tracefs mounted, the memlock limit, and libbpf's log kept quiet unless asked for.
#pragma once

#include <string>
#include <vector>

namespace ebpf::system {

// What a job needs from the kernel, so it can be checked before anything is loaded and
// the message can name exactly what is missing.
struct Needs {
    bool bpf = true;         // CAP_BPF (or CAP_SYS_ADMIN): create maps, load programs
    bool perfmon = false;    // CAP_PERFMON (or CAP_SYS_ADMIN): tracing programs, perf events
    bool net_admin = false;  // CAP_NET_ADMIN: XDP, tc and other networking programs
    bool sys_admin = false;  // CAP_SYS_ADMIN itself: walking ids (map list, map show id N)
    bool tracefs = false;    // search and read access to tracefs (tracepoint ids); it is often 0700
};

// What the caller lacks of `needs`, each as it is named in messages ("CAP_NET_ADMIN",
// "access to tracefs (/sys/kernel/tracing: Permission denied)"). Empty when all is well.
// tracefs access is checked where tracefs is mounted (nothing to check when it is not
// mounted yet: mounting it needs CAP_SYS_ADMIN, and that is named instead).
std::vector<std::string> missing(const Needs& needs);

// Throws Error (EPERM) "need CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (or root), missing
// CAP_NET_ADMIN" when anything of `needs` is missing: one line, everything it lacks.
void require(const Needs& needs);

// The needs of loading and attaching tracing programs: CAP_BPF and CAP_PERFMON
// (CAP_SYS_ADMIN covers both). Kept for callers of the first versions of this header.
std::vector<std::string> missing_capabilities();
void require_privileges();

// Mount points, mounted when missing (needs privileges). Both return the path. bpffs is
// mounted mode 0700 (the kernel's default is 1777, where any user could make directories).
std::string ensure_bpffs(const std::string& path = "/sys/fs/bpf");
std::string ensure_tracefs();

// Where cgroup v2 is mounted (read from /proc/self/mounts; on hybrid systems often
// /sys/fs/cgroup/unified). Mounts it at /run/ebpf-tool/cgroup2 when it is nowhere.
std::string cgroup2_mount();

// Lifts RLIMIT_MEMLOCK for kernels that still charge BPF memory to it (before 5.11).
void raise_memlock_limit();

// libbpf prints warnings and debug output through this switch only.
void set_libbpf_logging(bool verbose);

// True when `path` is on a bpffs mount.
bool is_on_bpffs(const std::string& path);

// Every prerequisite above, in order: privileges, memlock, bpffs, tracefs.
void prepare(bool need_tracefs = true);
// The same for a job's own needs (tracefs is mounted when needs.tracefs).
void prepare(const Needs& needs);

}  // namespace ebpf::system
