// A program's run time and run count from the kernel's BPF_ENABLE_STATS accounting
// (kernel.bpf_stats_enabled): what the kernel-cost benchmarks difference around a workload.
#pragma once

#include <bpf/bpf.h>

#include <cstdint>
#include <optional>

#include "ebpf/fd.hpp"

namespace bench {

struct RunStats {
    std::uint64_t run_time_ns = 0;
    std::uint64_t run_cnt = 0;
};

// Nothing when the program is gone or its info cannot be read.
inline std::optional<RunStats> run_stats(std::uint32_t prog_id) {
    int fd = bpf_prog_get_fd_by_id(prog_id);
    if (fd < 0) return std::nullopt;
    ebpf::Fd owned(fd);
    bpf_prog_info info{};
    std::uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(owned.get(), &info, &len)) return std::nullopt;
    return RunStats{info.run_time_ns, info.run_cnt};
}

}  // namespace bench
