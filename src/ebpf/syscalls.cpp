#include "ebpf/syscalls.hpp"

#include <seccomp.h>

#include <array>
#include <cstdlib>
#include <memory>

namespace ebpf {

namespace {

struct Known {
    std::uint32_t nr;
    const char* name;
};

#if defined(__x86_64__)
// Syscalls newer than the libseccomp in Debian 12 (2.5.4) knows; numbers from the
// kernel's arch/x86/entry/syscalls/syscall_64.tbl. libseccomp is asked first.
constexpr std::array kNewer{
    Known{335, "uretprobe"},       Known{336, "uprobe"},          Known{457, "statmount"},
    Known{458, "listmount"},       Known{459, "lsm_get_self_attr"}, Known{460, "lsm_set_self_attr"},
    Known{461, "lsm_list_modules"}, Known{462, "mseal"},          Known{463, "setxattrat"},
    Known{464, "getxattrat"},      Known{465, "listxattrat"},     Known{466, "removexattrat"},
    Known{467, "open_tree_attr"},  Known{468, "file_getattr"},    Known{469, "file_setattr"},
};
#else
constexpr std::array<Known, 0> kNewer{};
#endif

}  // namespace

std::string syscall_name(std::uint32_t nr) {
    std::unique_ptr<char, decltype(&std::free)> name(
        seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, static_cast<int>(nr)), &std::free);
    if (name) return name.get();
    for (const auto& k : kNewer)
        if (k.nr == nr) return k.name;
    return "syscall_" + std::to_string(nr);
}

std::optional<std::uint32_t> syscall_number(std::string_view name) {
    std::string n(name);
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, n.c_str());
    if (nr >= 0) return static_cast<std::uint32_t>(nr);
    for (const auto& k : kNewer)
        if (name == k.name) return k.nr;
    return std::nullopt;
}

}  // namespace ebpf
