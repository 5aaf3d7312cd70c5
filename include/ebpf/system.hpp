// The kernel prerequisites a BPF tool needs before it loads anything: privileges, bpffs
// and tracefs mounted, the memlock limit, and libbpf's log kept quiet unless asked for.
#pragma once

#include <string>
#include <vector>

namespace ebpf::system {

// Names of the capabilities the caller lacks to load and attach tracing programs:
// CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN covers both). Empty when all is well.
std::vector<std::string> missing_capabilities();

// Throws Error("need CAP_BPF and CAP_PERFMON (or root): missing …") when privileges lack.
void require_privileges();

// Mount points, mounted when missing (needs privileges). Both return the path.
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

}  // namespace ebpf::system
