// The part of the static libebpf that needs its private dependency, libseccomp: linking
// this proves the package hands consumers a complete link line (CMake: the exported
// $<LINK_ONLY:PkgConfig::LIBSECCOMP>; pkg-config: Requires.private with --static).
#include <cstdio>

#include <ebpf/syscalls.hpp>

int main() {
    // Syscall 0 has a name everywhere, but not the same one (read on x86-64, io_setup on
    // arm64): check the round trip instead of a literal.
    const auto name = ebpf::syscall_name(0);
    const auto nr = ebpf::syscall_number(name);
    std::printf("syscall_names: 0 = %s\n", name.c_str());
    return nr && *nr == 0 ? 0 : 1;
}
