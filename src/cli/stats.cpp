// `ebpf-tool stats`: syscall counts, system-wide or for one process, as a table sorted by
// count. Counts are exact: per-CPU counters in the kernel, and intervals are differences
// of cumulative snapshots (never a read-then-reset, which would lose increments).
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <map>

#include "commands.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/object.hpp"
#include "ebpf/percpu.hpp"
#include "ebpf/syscalls.hpp"
#include "probes.hpp"
#include "syscalls.h"
#include "syscalls.skel.h"

EBPF_SKELETON(syscalls_bpf);

namespace ebpf_tool {

struct SyscallCounter::Kernel {
    ebpf::Skeleton<syscalls_bpf> skel = ebpf::Skeleton<syscalls_bpf>::open();
    ::bpf_program* program = nullptr;
    std::optional<ebpf::PerCpuArray<std::uint64_t>> dropped;
    std::optional<ebpf::PerCpuArray<std::uint64_t>> system_wide;
    std::optional<ebpf::HashMap<proc_syscall_key, proc_syscall_value>> per_process;
    std::optional<ebpf::Link> link;
};

SyscallCounter::SyscallCounter(std::optional<std::uint32_t> pid, bool per_process)
    : kernel_(std::make_unique<Kernel>()) {
    auto& skel = kernel_->skel;
    skel->rodata->filter_tgid = pid.value_or(0);
    // Load only the counting program this mode needs, and shrink the other mode's map to
    // a single entry so that it costs no kernel memory.
    bpf_program__set_autoload(per_process ? skel->progs.count_syscall : skel->progs.count_syscall_per_process, false);
    bpf_map__set_max_entries(per_process ? skel->maps.syscall_counts : skel->maps.proc_syscall_counts, 1);
    skel.load();

    kernel_->dropped.emplace(ebpf::PerCpuArray<std::uint64_t>::from_libbpf(skel->maps.syscalls_dropped));
    if (per_process) {
        kernel_->per_process.emplace(
            ebpf::HashMap<proc_syscall_key, proc_syscall_value>::from_libbpf(skel->maps.proc_syscall_counts));
        kernel_->program = skel->progs.count_syscall_per_process;
    } else {
        kernel_->system_wide.emplace(ebpf::PerCpuArray<std::uint64_t>::from_libbpf(skel->maps.syscall_counts));
        kernel_->program = skel->progs.count_syscall;
    }
}
SyscallCounter::~SyscallCounter() = default;
SyscallCounter::SyscallCounter(SyscallCounter&&) noexcept = default;
SyscallCounter& SyscallCounter::operator=(SyscallCounter&&) noexcept = default;

void SyscallCounter::attach() {
    kernel_->link.emplace(ebpf::Link::attach(kernel_->program));
}

std::vector<SyscallCount> SyscallCounter::read() const {
    std::vector<SyscallCount> rows;
    if (kernel_->per_process) {
        for (const auto& [key, value] : kernel_->per_process->entries()) {
            std::string comm(value.comm, strnlen(value.comm, sizeof(value.comm)));
            rows.push_back(SyscallCount{key.tgid, std::move(comm), key.nr, value.count});
        }
    } else {
        auto sums = kernel_->system_wide->sums();
        for (std::uint32_t nr = 0; nr < sums.size(); ++nr)
            if (sums[nr]) rows.push_back(SyscallCount{0, {}, nr, sums[nr]});
    }
    return rows;
}

SyscallDrops SyscallCounter::drops() const {
    auto sums = kernel_->dropped->sums();
    return SyscallDrops{sums.at(SYSCALLS_DROP_OUT_OF_RANGE), sums.at(SYSCALLS_DROP_MAP_FULL),
                        ebpf::program_recursion_misses(kernel_->program)};
}

namespace {

struct StatsOptions {
    // Default 2 s; with --interval and no --duration, runs until Ctrl-C (as syscount -i).
    std::optional<double> duration;
    std::optional<double> interval;
    std::uint32_t top = 20;
    std::optional<std::uint32_t> pid;
    bool per_process = false;
    bool json = false;
};

using Row = SyscallCount;

// Cumulative counts keyed by (pid, nr); pid is 0 in system-wide mode.
using Snapshot = std::map<std::pair<std::uint32_t, std::uint32_t>, Row>;

Snapshot snapshot(const SyscallCounter& counter) {
    Snapshot snap;
    for (auto& row : counter.read()) snap[{row.pid, row.nr}] = std::move(row);
    return snap;
}

// Rows of `now` minus `before`, largest first, at most `top` (0: all).
std::vector<Row> difference(const Snapshot& now, const Snapshot& before, std::uint32_t top) {
    std::vector<Row> rows;
    for (const auto& [key, row] : now) {
        auto it = before.find(key);
        std::uint64_t base = it == before.end() ? 0 : it->second.count;
        if (row.count > base) {
            Row r = row;
            r.count -= base;
            rows.push_back(std::move(r));
        }
    }
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        if (a.count != b.count) return a.count > b.count;
        return std::tie(a.pid, a.nr) < std::tie(b.pid, b.nr);
    });
    if (top && rows.size() > top) rows.resize(top);
    return rows;
}

using Drops = SyscallDrops;

void print_rows(const std::vector<Row>& rows, double seconds_covered, const Drops& drops, bool with_time,
                const StatsOptions& options, const GlobalOptions& global) {
    if (options.json || global.json) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& r : rows) {
            nlohmann::ordered_json item{{"syscall", ebpf::syscall_name(r.nr)}, {"nr", r.nr}, {"count", r.count}};
            if (options.per_process) {
                item["pid"] = r.pid;
                item["comm"] = r.comm;
            }
            list.push_back(std::move(item));
        }
        nlohmann::ordered_json doc{{"duration", std::round(seconds_covered * 1000) / 1000},
                                   {"syscalls", list},
                                   {"dropped", {{"out_of_range", drops.out_of_range}, {"map_full", drops.map_full}}},
                                   {"missed", drops.missed}};
        if (with_time) doc["time"] = iso_time();
        if (options.pid) doc["pid"] = *options.pid;
        print_json(std::cout, doc, global);
        return;
    }
    std::string text;
    if (with_time) text += fmt::format("[{}]\n", clock_time());
    if (rows.empty()) {
        text += "(No data collected)\n";
    } else if (options.per_process) {
        text += fmt::format("{:<8} {:<16} {:<22} {:>12}\n", "PID", "COMM", "SYSCALL", "COUNT");
        for (const auto& r : rows)
            text += fmt::format("{:<8} {:<16} {:<22} {:>12}\n", r.pid, r.comm, ebpf::syscall_name(r.nr), r.count);
    } else {
        text += fmt::format("{:<22} {:>12}\n", "SYSCALL", "COUNT");
        for (const auto& r : rows) text += fmt::format("{:<22} {:>12}\n", ebpf::syscall_name(r.nr), r.count);
    }
    if (drops.out_of_range || drops.map_full || drops.missed)
        text += fmt::format(
            "not counted: {} with an out-of-range number, {} with the table full, {} missed by the kernel\n",
            drops.out_of_range, drops.map_full, drops.missed);
    std::cout << text << std::flush;
}

void run_stats(const StatsOptions& options, const GlobalOptions& global) {
    if (options.pid && ::kill(static_cast<pid_t>(*options.pid), 0) != 0 && errno == ESRCH)
        throw UsageError(fmt::format("--pid {}: no such process", *options.pid));
    if (options.interval && options.duration && *options.interval > *options.duration)
        throw UsageError(
            fmt::format("--interval {} is longer than --duration {}", *options.interval, *options.duration));
    std::optional<double> duration = options.duration;
    if (!duration && !options.interval) duration = 2.0;

    prepare_kernel(global, /*need_tracefs=*/false);
    StopSignals signals;

    SyscallCounter counter(options.pid, options.per_process);
    counter.attach();
    std::cerr << (options.pid ? fmt::format("Tracing syscalls of PID {}", *options.pid)
                              : std::string("Tracing syscalls"))
              << ", printing " << (options.interval ? "every interval" : "at the end") << "... Hit Ctrl-C to end."
              << std::endl;

    Snapshot before;
    double covered = 0;
    IntervalLoop loop(signals, seconds(options.interval ? *options.interval : *duration),
                      duration ? std::optional(seconds(*duration)) : std::nullopt, std::nullopt);
    for (;;) {
        bool more = loop.next();
        Snapshot now = snapshot(counter);
        double elapsed = loop.elapsed();
        print_rows(difference(now, before, options.top), elapsed - covered, counter.drops(),
                   options.interval.has_value(), options, global);
        before = std::move(now);
        covered = elapsed;
        if (!more) break;
    }
}

}  // namespace

void add_stats_command(CLI::App& app, const GlobalOptions& global) {
    auto options = std::make_shared<StatsOptions>();
    auto* cmd = app.add_subcommand("stats", "Count syscalls system-wide or for one process (raw tracepoint sys_enter)");
    cmd->add_option("-d,--duration", options->duration,
                    "Seconds to count for (default 2; with --interval, until Ctrl-C)")
        ->check(kPositiveSeconds);
    cmd->add_option("-i,--interval", options->interval, "Print every S seconds (counts for that interval)")
        ->check(kIntervalSeconds);
    cmd->add_option("-T,--top", options->top, "Rows to print, largest first (0: all)")
        ->check(kNonNegativeInteger)
        ->capture_default_str();
    cmd->add_option("-p,--pid", options->pid, "Only this process (PID, i.e. thread group id)")->check(kPositiveInteger);
    cmd->add_flag("-P,--per-process", options->per_process, "Rows of PID, COMM, SYSCALL, COUNT");
    cmd->add_flag("--json", options->json, "JSON output");
    cmd->callback([options, &global] { run_stats(*options, global); });
}

}  // namespace ebpf_tool
