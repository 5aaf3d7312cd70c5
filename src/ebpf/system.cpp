#include "ebpf/system.hpp"

#include <bpf/libbpf.h>
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
#include <fstream>
#include <sstream>

#include "ebpf/error.hpp"

namespace ebpf::system {

namespace {

constexpr long kBpfFsMagic = 0xcafe4a11;
constexpr long kTraceFsMagic = 0x74726163;
constexpr long kDebugFsMagic = 0x64626720;
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

void mount_if_missing(const std::string& path, const char* type, long magic, const char* what) {
    if (has_magic(path, magic)) return;
    if (::mount(type, path.c_str(), type, 0, nullptr) != 0)
        throw Error::sys(errno, std::string(what) + " is not mounted at " + path + " and mounting it failed");
}

}  // namespace

std::vector<std::string> missing_capabilities() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) != 0) return {"CAP_BPF", "CAP_PERFMON"};
    if (effective_capability(data, kCapSysAdmin)) return {};
    std::vector<std::string> missing;
    if (!effective_capability(data, kCapBpf)) missing.emplace_back("CAP_BPF");
    if (!effective_capability(data, kCapPerfmon)) missing.emplace_back("CAP_PERFMON");
    return missing;
}

void require_privileges() {
    auto missing = missing_capabilities();
    if (missing.empty()) return;
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    throw Error::make(errc::permission, "need CAP_BPF and CAP_PERFMON (or root), missing " + names, EPERM);
}

bool is_on_bpffs(const std::string& path) {
    // The path itself may not exist yet (a pin target): check its directory then.
    struct statfs st {};
    if (::statfs(path.c_str(), &st) == 0) return static_cast<long>(st.f_type) == kBpfFsMagic;
    auto slash = path.find_last_of('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    return ::statfs(dir.c_str(), &st) == 0 && static_cast<long>(st.f_type) == kBpfFsMagic;
}

std::string ensure_bpffs(const std::string& path) {
    mount_if_missing(path, "bpf", kBpfFsMagic, "bpffs");
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

void prepare(bool need_tracefs) {
    require_privileges();
    raise_memlock_limit();
    ensure_bpffs();
    if (need_tracefs) ensure_tracefs();
}

}  // namespace ebpf::system
