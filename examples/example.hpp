// What every example shares: the privilege check (skip with a message outside CI, fail
// under CI=true), the kernel prerequisites, a printed self-check, and one place that
// turns an exception into a one-line message and exit status 1.
#pragma once

#include <fmt/format.h>

#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <string_view>

#include "ebpf/error.hpp"
#include "ebpf/system.hpp"

namespace example {

inline bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci && std::string_view(ci) == "true";
}

// Prints "ok: what" or "FAILED: what" and returns `ok`, so an example can check its own
// result and say so in the same line a reader sees.
inline bool check(bool ok, std::string_view what) {
    fmt::print("{}: {}\n", ok ? "ok" : "FAILED", what);
    return ok;
}

// Runs an example: `body` returns true when every check passed. Returns main's status.
// `need_tracefs`: the example attaches tracepoints (tracefs gets mounted if missing).
inline int run(std::string_view name, bool need_tracefs, const std::function<bool()>& body) {
    auto missing = ebpf::system::missing_capabilities();
    if (!missing.empty()) {
        if (in_ci()) {
            fmt::print(stderr, "{}: error: needs CAP_BPF and CAP_PERFMON (or root), and CI=true forbids skipping\n",
                       name);
            return 1;
        }
        fmt::print("{}: skipped: needs CAP_BPF and CAP_PERFMON (or root); run it as root to see it work\n", name);
        return 0;
    }
    try {
        ebpf::system::prepare(need_tracefs);
        if (body()) return 0;
        fmt::print(stderr, "{}: a check FAILED (see above)\n", name);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", name, e.what());
    }
    return 1;
}

}  // namespace example
