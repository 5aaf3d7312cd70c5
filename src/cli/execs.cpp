// `ebpf-tool execs`: execs per user, cumulative since start, printed every interval.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "commands.hpp"
#include "ebpf/array.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/object.hpp"
#include "ebpf/percpu.hpp"
#include "execs.h"
#include "execs.skel.h"
#include "probes.hpp"

EBPF_SKELETON(execs_bpf);

namespace ebpf_tool {

struct ExecCounter::Kernel {
    ebpf::Skeleton<execs_bpf> skel = ebpf::Skeleton<execs_bpf>::open();
    std::optional<ebpf::MappedArray<std::uint64_t>> small_uids;  // UID < EXECS_DIRECT_UIDS: slot UID
    std::optional<ebpf::HashMap<std::uint32_t, std::uint64_t>> large_uids;
    std::optional<ebpf::PerCpuArray<std::uint64_t>> dropped;
};

ExecCounter::ExecCounter() : kernel_(std::make_unique<Kernel>()) {
    kernel_->skel.load();
    kernel_->small_uids.emplace(
        ebpf::Array<std::uint64_t>::from_libbpf(kernel_->skel->maps.execs_by_uid).mmap(ebpf::Access::read));
    kernel_->large_uids.emplace(
        ebpf::HashMap<std::uint32_t, std::uint64_t>::from_libbpf(kernel_->skel->maps.execs_per_uid));
    kernel_->dropped.emplace(ebpf::PerCpuArray<std::uint64_t>::from_libbpf(kernel_->skel->maps.execs_dropped));
}
ExecCounter::~ExecCounter() = default;
ExecCounter::ExecCounter(ExecCounter&&) noexcept = default;
ExecCounter& ExecCounter::operator=(ExecCounter&&) noexcept = default;

void ExecCounter::attach() {
    kernel_->skel.attach();
}

std::vector<std::pair<std::uint32_t, std::uint64_t>> ExecCounter::counts() const {
    std::vector<std::pair<std::uint32_t, std::uint64_t>> rows;
    // 512 KiB of memory, scanned in tens of microseconds, no syscall.
    const auto& small = *kernel_->small_uids;
    for (std::uint32_t uid = 0; uid < small.size(); ++uid)
        if (auto count = small.load(uid)) rows.emplace_back(uid, count);
    auto large = kernel_->large_uids->entries();
    rows.insert(rows.end(), large.begin(), large.end());
    std::sort(rows.begin(), rows.end());
    return rows;
}

std::uint64_t ExecCounter::dropped() const {
    return kernel_->dropped->lookup_sum(0).value_or(0);
}

namespace {

struct ExecsOptions {
    double interval = 1.0;
    std::optional<std::uint64_t> count;
    bool json = false;
};

void print_counts(const std::vector<std::pair<std::uint32_t, std::uint64_t>>& rows, std::uint64_t dropped,
                  const ExecsOptions& options, const GlobalOptions& global) {
    if (options.json || global.json) {
        nlohmann::ordered_json users = nlohmann::ordered_json::array();
        for (auto [uid, count] : rows) {
            auto name = user_name(uid);
            users.push_back({{"uid", uid},
                             {"user", name ? nlohmann::ordered_json(*name) : nlohmann::ordered_json()},
                             {"count", count}});
        }
        print_json(std::cout, {{"time", iso_time()}, {"users", users}, {"dropped", dropped}}, global);
        return;
    }
    std::string text = clock_time() + "\n";
    if (rows.empty()) text += "(no execs)\n";
    for (auto [uid, count] : rows) {
        auto name = user_name(uid);
        text += name ? fmt::format("UID {} ({}): {} execs\n", uid, *name, count)
                     : fmt::format("UID {}: {} execs\n", uid, count);
    }
    if (dropped) text += fmt::format("dropped: {} execs not counted (UID table full)\n", dropped);
    std::cout << text << std::flush;
}

void run_execs(const ExecsOptions& options, const GlobalOptions& global) {
    prepare_kernel(global, /*need_tracefs=*/true);
    StopSignals signals;

    ExecCounter counter;
    counter.attach();
    std::cerr << "Counting execs per user... Hit Ctrl-C to end." << std::endl;

    IntervalLoop loop(signals, seconds(options.interval), std::nullopt, options.count);
    for (;;) {
        bool more = loop.next();
        print_counts(counter.counts(), counter.dropped(), options, global);
        if (!more) break;
    }
}

}  // namespace

void add_execs_command(CLI::App& app, const GlobalOptions& global) {
    auto options = std::make_shared<ExecsOptions>();
    auto* cmd = app.add_subcommand("execs", "Count execs per user (tracepoint syscalls/sys_enter_execve[at])");
    cmd->add_option("-i,--interval", options->interval, "Seconds between prints")
        ->check(kIntervalSeconds)
        ->capture_default_str();
    cmd->add_option("-c,--count", options->count, "Stop after N prints")->check(kPositiveInteger);
    cmd->add_flag("--json", options->json, "One JSON object per interval");
    cmd->callback([options, &global] { run_execs(*options, global); });
}

}  // namespace ebpf_tool
