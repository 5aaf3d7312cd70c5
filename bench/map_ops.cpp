// Per-operation cost of the typed handles against the raw libbpf calls they wrap, on the
// same maps in the same run: HashMap<u32,u64>::lookup / lookup_into / update and
// Array<u64>::get / set, each one bpf(2) syscall. Whatever the typed layer adds (a call
// into the untyped core, the errno check, std::optional) shows up as the ratio, measured
// pairwise (see paired()) because it is far smaller than the syscall's own jitter.
// Writes its table into BENCHMARKS.md.
//
// usage: map_ops BENCHMARKS.md [--benchmark_* flags]   (needs root: it creates maps)
#include <benchmark/benchmark.h>
#include <bpf/bpf.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench_report.hpp"
#include "ebpf/array.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/system.hpp"
#include "typed_vs_raw.hpp"

namespace {

// Small enough to stay in cache, so the numbers are the call path and not memory misses;
// a power of two, so cycling through the keys is a mask.
constexpr std::uint32_t kEntries = 1024;

using Hash = ebpf::HashMap<std::uint32_t, std::uint64_t>;
using Arr = ebpf::Array<std::uint64_t>;

struct Maps {
    Hash hash = Hash::create("bench_ops_hash", kEntries);
    Arr array = Arr::create("bench_ops_array", kEntries);
};
// Created in main, after flag parsing, so a failure (no root) is one clear line.
std::optional<Maps> maps;

// Every typed operation and the raw call it is compared with.
struct Pair {
    const char* name;  // of the benchmark
    const char* typed_label;
    const char* raw_label;
};
constexpr Pair kPairs[] = {
    {"HashMap::lookup", "`HashMap::lookup` (→ `std::optional`)", "`bpf_map_lookup_elem`"},
    {"HashMap::lookup_into", "`HashMap::lookup_into` (→ `bool`)", "`bpf_map_lookup_elem`"},
    {"HashMap::update", "`HashMap::update`", "`bpf_map_update_elem`"},
    {"Array::get", "`Array::get`", "`bpf_map_lookup_elem`"},
    {"Array::update", "`Array::update`", "`bpf_map_update_elem`"},
};
// The harness against itself (raw hash lookup on both sides): how far from 1.000 a ratio
// lands when there is no difference. Not part of the goal.
constexpr Pair kControl{"control", "(control) `bpf_map_lookup_elem` again", "`bpf_map_lookup_elem`"};

// Syscalls on this kind of machine vary by several percent from one 0.1 s stretch to the
// next (other processes, the hypervisor), far more than the difference being measured.
// So typed and raw are measured as pairs of short blocks, back to back, alternating which
// goes first; per block the time per op is taken, and the median over blocks drops the
// blocks an interruption landed in. Both sides see the same machine at the same moment.
constexpr int kBlock = 64;  // ops per block: ~0.1 ms, far above the clock's resolution

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

template <class Typed, class Raw>
void paired(benchmark::State& state, Typed typed_op, Raw raw_op) {
    using Clock = std::chrono::steady_clock;
    std::vector<double> typed_ns, raw_ns, ratios;
    std::uint32_t key = 0;
    bool typed_first = true;
    bool ok = true;
    auto block = [&](auto& op) {
        const auto start = Clock::now();
        for (int i = 0; i < kBlock; ++i) {
            ok &= op(key);
            key = (key + 1) & (kEntries - 1);
        }
        return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / kBlock;
    };
    for (auto _ : state) {
        double t = 0, r = 0;
        if (typed_first) {
            t = block(typed_op);
            r = block(raw_op);
        } else {
            r = block(raw_op);
            t = block(typed_op);
        }
        typed_first = !typed_first;
        typed_ns.push_back(t);
        raw_ns.push_back(r);
        ratios.push_back(t / r);
    }
    if (!ok) return state.SkipWithError("an operation failed");
    state.counters["typed_ns"] = median(typed_ns);
    state.counters["raw_ns"] = median(raw_ns);
    state.counters["ratio"] = median(ratios);
}

void register_benchmarks() {
    // Both live in `maps` until after the run.
    Hash& hash = maps->hash;
    Arr& array = maps->array;
    // The typed operations; each returns whether it did what it should (update and set
    // throw instead).
    auto typed_lookup = [&hash](std::uint32_t key) {
        auto value = hash.lookup(key);
        benchmark::DoNotOptimize(value);
        return value.has_value();
    };
    auto typed_lookup_into = [&hash](std::uint32_t key) {
        std::uint64_t value;
        bool found = hash.lookup_into(key, value);
        benchmark::DoNotOptimize(value);
        return found;
    };
    auto typed_update = [&hash](std::uint32_t key) {
        hash.update(key, key + 1);
        return true;
    };
    auto typed_get = [&array](std::uint32_t index) {
        auto value = array.get(index);
        benchmark::DoNotOptimize(value);
        return true;
    };
    auto typed_array_update = [&array](std::uint32_t index) {
        array.update(index, index + 1);
        return true;
    };
    // The same operations as plain libbpf calls on the same fds; a raw caller checks the
    // return value too, so the comparison is with correct code.
    auto raw_lookup = [](int fd) {
        return [fd](std::uint32_t key) {
            std::uint64_t value;
            int ret = bpf_map_lookup_elem(fd, &key, &value);
            benchmark::DoNotOptimize(value);
            return ret == 0;
        };
    };
    auto raw_update = [](int fd) {
        return [fd](std::uint32_t key) {
            std::uint64_t value = key + 1;
            return bpf_map_update_elem(fd, &key, &value, BPF_ANY) == 0;
        };
    };
    auto add = [](const char* name, auto typed, auto raw) {
        benchmark::RegisterBenchmark(name, [typed, raw](benchmark::State& state) { paired(state, typed, raw); });
    };
    add(kPairs[0].name, typed_lookup, raw_lookup(hash.fd()));
    add(kPairs[1].name, typed_lookup_into, raw_lookup(hash.fd()));
    add(kPairs[2].name, typed_update, raw_update(hash.fd()));
    add(kPairs[3].name, typed_get, raw_lookup(array.fd()));
    add(kPairs[4].name, typed_array_update, raw_update(array.fd()));
    add(kControl.name, raw_lookup(hash.fd()), raw_lookup(hash.fd()));
}

using Result = bench::TypedVsRaw;
using bench::MedianCapture;

}  // namespace

int main(int argc, char** argv) {
    // Repetitions run in random order across all benchmarks: a drift of the machine
    // (frequency, another process) then spreads over typed and raw alike instead of
    // biasing whichever ran last.
    std::vector<std::string> defaults{"--benchmark_repetitions=5", "--benchmark_enable_random_interleaving=true",
                                      "--benchmark_report_aggregates_only=true", "--benchmark_min_time=0.5"};
    auto args = bench::initialize(argc, argv, defaults);
    if (args.size() != 2) {
        std::cerr << "usage: map_ops BENCHMARKS.md [--benchmark_* flags]\n";
        return 2;
    }
    const std::string report = args[1];
    try {
        ebpf::system::set_libbpf_logging(false);
        ebpf::system::raise_memlock_limit();
        maps.emplace();
        for (std::uint32_t k = 0; k < kEntries; ++k) {
            maps->hash.update(k, k);
            maps->array.update(k, k);
        }
        register_benchmarks();
        MedianCapture reporter;
        benchmark::RunSpecifiedBenchmarks(&reporter);
        benchmark::Shutdown();
        maps.reset();
        if (!reporter.errors.empty()) {
            for (const auto& e : reporter.errors) std::cerr << "map_ops: " << e << '\n';
            return 1;
        }

        std::string md = "## Typed map operations against raw libbpf\n\n";
        md += bench::machine_line() +
              fmt::format(
                  ". One `bpf(2)` syscall per operation, on a hash map of {} `u32 → u64` (every key "
                  "present) and an array of {} `u64`, keys cycled. Typed handle and raw libbpf call on "
                  "the same map, timed in alternating blocks of {} operations, back to back; ns/op is the "
                  "median over blocks, typed / raw the median of the per-block ratios; each number is then "
                  "the median of {} repetitions (Google Benchmark, random order).\n\n",
                  kEntries, kEntries, kBlock, reporter.repetitions);
        md += "| typed operation | ns/op | raw libbpf call | ns/op | typed / raw |\n|---|---:|---|---:|---:|\n";
        double worst = 0;
        for (const Pair& p : kPairs) {
            auto it = reporter.results.find(p.name);
            // A table with rows missing would claim a goal it did not check.
            if (it == reporter.results.end()) {
                std::cerr << "map_ops: '" << p.name << "' did not run; BENCHMARKS.md needs every pair\n";
                return 1;
            }
            const Result& r = it->second;
            worst = std::max(worst, r.ratio);
            md += fmt::format("| {} | {:.1f} | {} | {:.1f} | {:.3f} |\n", p.typed_label, r.typed_ns, p.raw_label,
                              r.raw_ns, r.ratio);
        }
        if (auto it = reporter.results.find(kControl.name); it != reporter.results.end())
            md += fmt::format("| {} | {:.1f} | {} | {:.1f} | {:.3f} |\n", kControl.typed_label, it->second.typed_ns,
                              kControl.raw_label, it->second.raw_ns, it->second.ratio);
        md += fmt::format(
            "\nGoal: every typed operation within 3% of the raw call (≤ 1.030×); now at most "
            "{:.3f}× ({}).\n",
            worst, worst <= 1.03 ? "met" : "missed");
        bench::write_section(report, "map-ops", md);
        bench::summary_row("typed map operations, worst typed ÷ raw", fmt::format("{:.3f}× raw", worst),
                           "raw libbpf call", worst, "≤ 1.03×", worst <= 1.03);
        std::cout << '\n' << md;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "map_ops: " << e.what() << '\n';
        return 1;
    }
}
