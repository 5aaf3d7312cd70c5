// Syscall names for the running architecture: every number the kernel has gets a name.
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include "ebpf/syscalls.hpp"

TEST(SyscallNames, KnownNumbersResolveBothWays) {
    EXPECT_EQ(ebpf::syscall_name(SYS_read), "read");
    EXPECT_EQ(ebpf::syscall_name(SYS_openat), "openat");
    EXPECT_EQ(ebpf::syscall_name(SYS_getppid), "getppid");
    EXPECT_EQ(ebpf::syscall_number("execve"), SYS_execve);
    EXPECT_FALSE(ebpf::syscall_number("no_such_syscall").has_value());
}

#if defined(__x86_64__)
// x86-64 numbers 0–336 and 424–469 are all assigned (6.18); libseccomp 2.5.4 stops
// at 456, the rest comes from the table in syscalls.cpp.
TEST(SyscallNames, EveryX8664NumberHasAName) {
    for (std::uint32_t nr = 0; nr <= 469; ++nr) {
        if (nr > 336 && nr < 424) continue;
        EXPECT_EQ(ebpf::syscall_name(nr).rfind("syscall_", 0), std::string::npos) << nr;
    }
    EXPECT_EQ(ebpf::syscall_name(462), "mseal");
    EXPECT_EQ(ebpf::syscall_number("mseal"), 462u);
    EXPECT_EQ(ebpf::syscall_name(1000), "syscall_1000");
}
#endif
