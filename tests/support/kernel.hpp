// Test support for tests that need the real kernel: they need root. Outside CI they
// skip with a message; under CI=true a skip would hide a broken suite, so they fail.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

namespace test {

inline bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci && std::string(ci) == "true";
}

// (No helpers here list the kernel's programs or maps: other test runs on the machine
// change those sets at any moment. Check your own objects' ids: owned.hpp.)

// Forks a child that becomes `uid` (and gid) and runs `/bin/true ebpf-test <i>` for i in
// [0, n), one after another: exactly n execs by that UID (through execveat(2) when
// `use_execveat`). With `cpu` >= 0 the child and its execs run on that CPU only — a perf
// buffer keeps order per CPU, so that is how a test may expect them in order. False if
// anything failed.
bool exec_as(unsigned uid, int n, bool use_execveat = false, int cpu = -1);

// The first CPU this process may run on.
int first_usable_cpu();

// Path of the ebpf-tool binary under test.
std::string tool_path();

}  // namespace test

#define REQUIRE_KERNEL()                                                                           \
    do {                                                                                           \
        if (::geteuid() != 0) {                                                                    \
            if (::test::in_ci()) FAIL() << "kernel test needs root, and CI=true forbids skipping"; \
            GTEST_SKIP() << "kernel test skipped: needs root (run the suite as root)";             \
        }                                                                                          \
    } while (0)
