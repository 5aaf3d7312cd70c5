#include "ebpf/system.hpp"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ebpf/error.hpp"

namespace ebpf::system {

namespace {

constexpr long kBpfFsMagic = 0xcafe4a11;
constexpr long kTraceFsMagic = 0x74726163;
constexpr long kDebugFsMagic = 0x64626720;
constexpr int kCapNetAdmin = 12;
constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

bool has_magic(const std::string& path, long magic) {
    struct statfs st {};
    return ::statfs(path.c_str(), &st) == 0 && static_cast<long>(st.f_type) == magic;
}

bool effective_capability(const __user_cap_data_struct (&data)[2], int cap) {
    return (data[cap / 32].effective & (1U << (cap % 32))) != 0;
}

int print_all(enum libbpf_print_level, const char* format, va_list args) {
    return std::vfprintf(stderr, format, args);
}

void mount_if_missing(const std::string& path, const char* type, long magic, const char* what,
                      const char* options = nullptr) {
    if (has_magic(path, magic)) return;
    if (::mount(type, path.c_str(), type, 0, options) != 0)
        throw Error::sys(errno, std::string(what) + " is not mounted at " + path + " and mounting it failed");
}

}  // namespace

std::vector<std::string> missing(const Needs& needs) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    const bool known = ::syscall(SYS_capget, &header, data) == 0;
    auto has = [&](int cap) { return known && effective_capability(data, cap); };
    const bool admin = has(kCapSysAdmin);
    std::vector<std::string> out;
    if (needs.bpf && !admin && !has(kCapBpf)) out.emplace_back("CAP_BPF");
    if (needs.perfmon && !admin && !has(kCapPerfmon)) out.emplace_back("CAP_PERFMON");
    if (needs.net_admin && !has(kCapNetAdmin)) out.emplace_back("CAP_NET_ADMIN");
    if (needs.sys_admin && !admin) out.emplace_back("CAP_SYS_ADMIN");
    if (needs.tracefs) {
        std::string path;
        if (has_magic("/sys/kernel/tracing", kTraceFsMagic))
            path = "/sys/kernel/tracing";
        else if (has_magic("/sys/kernel/debug/tracing", kTraceFsMagic))
            path = "/sys/kernel/debug/tracing";
        else if (!admin)
            out.emplace_back("CAP_SYS_ADMIN (to mount tracefs, which is not mounted)");
        // The effective ids and capabilities decide (AT_EACCESS): tracefs is 0700 root,
        // so a non-root user with CAP_BPF and CAP_PERFMON still cannot read tracepoint ids.
        if (!path.empty() && ::faccessat(AT_FDCWD, (path + "/events").c_str(), R_OK | X_OK, AT_EACCESS) != 0)
            out.push_back("access to tracefs (" + path + ": " + std::strerror(errno) + ")");
    }
    return out;
}

void require(const Needs& needs) {
    auto lacking = missing(needs);
    if (lacking.empty()) return;
    std::vector<std::string> wanted;
    if (needs.bpf) wanted.emplace_back("CAP_BPF");
    if (needs.perfmon) wanted.emplace_back("CAP_PERFMON");
    if (needs.net_admin) wanted.emplace_back("CAP_NET_ADMIN");
    if (needs.sys_admin) wanted.emplace_back("CAP_SYS_ADMIN");
    if (needs.tracefs) wanted.emplace_back("access to tracefs");
    std::string need;
    for (std::size_t i = 0; i < wanted.size(); ++i)
        need += (i == 0 ? "" : i + 1 == wanted.size() ? " and " : ", ") + wanted[i];
    std::string names;
    for (const auto& m : lacking) names += (names.empty() ? "" : ", ") + m;
    throw Error::make(errc::permission, "need " + need + " (or root), missing " + names, EPERM);
}

std::vector<std::string> missing_capabilities() { return missing(Needs{.bpf = true, .perfmon = true}); }

void require_privileges() { require(Needs{.bpf = true, .perfmon = true}); }

bool is_on_bpffs(const std::string& path) {
    // The path itself may not exist yet (a pin target): check its directory then.
    struct statfs st {};
    if (::statfs(path.c_str(), &st) == 0) return static_cast<long>(st.f_type) == kBpfFsMagic;
    auto slash = path.find_last_of('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    return ::statfs(dir.c_str(), &st) == 0 && static_cast<long>(st.f_type) == kBpfFsMagic;
}

std::string ensure_bpffs(const std::string& path) {
    // Mode 0700, not the kernel's 1777: only root may make pin directories in it.
    mount_if_missing(path, "bpf", kBpfFsMagic, "bpffs", "mode=0700");
    return path;
}

std::string ensure_tracefs() {
    const std::string path = "/sys/kernel/tracing";
    if (has_magic(path, kTraceFsMagic)) return path;
    // An old-style mount under debugfs is fine too (libbpf looks there as well).
    if (has_magic("/sys/kernel/debug", kDebugFsMagic) && has_magic("/sys/kernel/debug/tracing", kTraceFsMagic))
        return "/sys/kernel/debug/tracing";
    mount_if_missing(path, "tracefs", kTraceFsMagic, "tracefs");
    return path;
}

std::string cgroup2_mount() {
    std::ifstream mounts("/proc/self/mounts");
    for (std::string line; std::getline(mounts, line);) {
        std::istringstream fields(line);
        std::string device, dir, type;
        fields >> device >> dir >> type;
        if (type == "cgroup2") return dir;
    }
    const std::string dir = "/run/ebpf-tool/cgroup2";
    ::mkdir("/run/ebpf-tool", 0755);
    ::mkdir(dir.c_str(), 0755);
    if (::mount("cgroup2", dir.c_str(), "cgroup2", 0, nullptr) != 0)
        throw Error::sys(errno, "cgroup v2 is not mounted and mounting it at " + dir + " failed");
    return dir;
}

void raise_memlock_limit() {
    rlimit limit{RLIM_INFINITY, RLIM_INFINITY};
    // Kernels since 5.11 account BPF memory to the cgroup, and this is a no-op for them;
    // an EPERM here only matters on older kernels, where loading then fails with its own error.
    (void)::setrlimit(RLIMIT_MEMLOCK, &limit);
}

void set_libbpf_logging(bool verbose) { libbpf_set_print(verbose ? print_all : nullptr); }

void prepare(bool need_tracefs) { prepare(Needs{.bpf = true, .perfmon = true, .tracefs = need_tracefs}); }

void prepare(const Needs& needs) {
    require(needs);
    raise_memlock_limit();
    ensure_bpffs();
    if (needs.tracefs) ensure_tracefs();
}

}  // namespace ebpf::system
