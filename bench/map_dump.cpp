// `ebpf-tool map dump` of a 1,000,000-entry hash map whose struct key and value are
// described by BTF, against `bpftool map dump` and `bpftool -j map dump` of the same map
// in the same run, and against a raw batch-lookup loop that formats nothing. Commands are
// timed end to end (wall clock, output to /dev/null); writes its table to BENCHMARKS.md.
//
// usage: map_dump EBPF_TOOL BENCHMARKS.md   (needs root)
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <vector>

#include "bench_report.hpp"
#include "btf_map.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/system.hpp"

namespace {

using bench::median;

constexpr std::uint32_t kEntries = 1'000'000;

struct FlowKey {
    std::uint32_t saddr, daddr;
    std::uint16_t sport, dport;
    std::uint32_t proto;
};
struct FlowStats {
    std::uint64_t packets, bytes;
    std::uint32_t state, flags;
};

// The map, with BTF naming every field, as a BPF object would define it.
ebpf::Map make_map() {
    return bench::make_btf_hash(
        "bench_flows",
        {"flow_key",
         sizeof(FlowKey),
         {{"saddr", 4, 0}, {"daddr", 4, 4}, {"sport", 2, 8}, {"dport", 2, 10}, {"proto", 4, 12}}},
        {"flow_stats", sizeof(FlowStats), {{"packets", 8, 0}, {"bytes", 8, 8}, {"state", 4, 16}, {"flags", 4, 20}}},
        kEntries);
}

void fill(ebpf::Map& map) {
    std::vector<FlowKey> keys(kEntries);
    std::vector<FlowStats> values(kEntries);
    for (std::uint32_t i = 0; i < kEntries; ++i) {
        keys[i] = {0x0a000000 + i, 0x0a640001, static_cast<std::uint16_t>(1024 + i % 60000), 443, 6};
        values[i] = {i * 3ull, i * 1500ull, i % 12, 0};
    }
    ebpf::HashMap<FlowKey, FlowStats> typed(ebpf::Map::open_by_id(map.info().id));
    for (std::uint32_t at = 0; at < kEntries; at += 65536) {
        std::uint32_t n = std::min<std::uint32_t>(65536, kEntries - at);
        map.update_batch(keys.data() + at, values.data() + at, n);
    }
}

// Wall seconds of one run of `argv`, stdout to /dev/null; throws if it fails.
double run_seconds(const std::vector<std::string>& argv) {
    auto start = std::chrono::steady_clock::now();
    pid_t child = fork();
    if (child == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("failed: " + argv[0]);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The floor: every entry read in batches of 4096, nothing formatted or written.
double raw_seconds(int fd) {
    auto start = std::chrono::steady_clock::now();
    std::vector<FlowKey> keys(4096);
    std::vector<FlowStats> values(4096);
    std::uint32_t in = 0, out = 0, total = 0;
    bool first = true;
    for (;;) {
        std::uint32_t count = 4096;
        LIBBPF_OPTS(bpf_map_batch_opts, opts);
        int ret = bpf_map_lookup_batch(fd, first ? nullptr : &in, &out, keys.data(), values.data(), &count, &opts);
        if (ret < 0 && ret != -ENOENT) throw std::runtime_error("lookup batch");
        total += count;
        if (ret == -ENOENT) break;
        in = out;
        first = false;
    }
    if (total != kEntries) throw std::runtime_error("raw walk saw " + std::to_string(total) + " entries");
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: map_dump EBPF_TOOL BENCHMARKS.md\n";
        return 2;
    }
    const std::string tool = argv[1], report = argv[2];
    const std::string pin = ebpf::system::ensure_bpffs() + "/ebpf-bench-dump";
    try {
        ebpf::system::require_privileges();
        std::filesystem::remove(pin);
        auto map = make_map();
        fill(map);
        map.pin(pin);
        // MAP_DUMP_KEEP=1 leaves the filled map pinned and stops, for profiling a dump by hand.
        if (std::getenv("MAP_DUMP_KEEP")) {
            std::cerr << "kept " << pin << " (remove it when done)\n";
            return 0;
        }
        struct Unpin {
            std::string path;
            ~Unpin() { std::filesystem::remove(path); }
        } unpin{pin};

        const int runs = 3;
        std::vector<double> raw, table, json, bt_table, bt_json;
        for (int r = 0; r < runs; ++r) {
            raw.push_back(raw_seconds(map.fd()));
            table.push_back(run_seconds({tool, "map", "dump", "pinned", pin}));
            json.push_back(run_seconds({tool, "-j", "map", "dump", "pinned", pin}));
        }
        // bpftool takes seconds per dump: one run each.
        bt_table.push_back(run_seconds({"/usr/sbin/bpftool", "map", "dump", "pinned", pin}));
        bt_json.push_back(run_seconds({"/usr/sbin/bpftool", "-j", "map", "dump", "pinned", pin}));

        double raw_s = median(raw), table_s = median(table), json_s = median(json);
        double bt_table_s = median(bt_table), bt_json_s = median(bt_json);
        std::string md = "## `ebpf-tool map dump`: 1,000,000 entries with a BTF struct key and value\n\n";
        md += bench::machine_line() +
              ". A hash map of 1,000,000 `struct flow_key` (16 bytes, 5 fields) → `struct flow_stats` (24 bytes, 4 "
              "fields), both described by BTF, pinned once and dumped by each command to /dev/null in the same run; "
              "wall time of the whole command. ebpf-tool and the raw loop: median of 3 runs; bpftool: 1 run each.\n\n";
        md += "| command | seconds | × raw loop | bpftool ÷ this |\n|---|---:|---:|---:|\n";
        md += fmt::format("| raw `bpf_map_lookup_batch` loop, formats nothing | {:.3f} | 1.00 | |\n", raw_s);
        md +=
            fmt::format("| `ebpf-tool map dump` (typed table) | {:.3f} | {:.2f} | {:.1f}× (vs `bpftool map dump`) |\n",
                        table_s, table_s / raw_s, bt_table_s / table_s);
        md += fmt::format(
            "| `ebpf-tool -j map dump` (bpftool's JSON schema, with `formatted`) | {:.3f} | {:.2f} | "
            "{:.1f}× (vs `bpftool -j map dump`) |\n",
            json_s, json_s / raw_s, bt_json_s / json_s);
        md += fmt::format("| `bpftool map dump` | {:.3f} | {:.2f} | |\n", bt_table_s, bt_table_s / raw_s);
        md += fmt::format("| `bpftool -j map dump` | {:.3f} | {:.2f} | |\n", bt_json_s, bt_json_s / raw_s);
        md += fmt::format(
            "\nGoals: at least 10× faster than bpftool (now {:.1f}× table, {:.1f}× JSON) and within 1.3× "
            "of the raw loop (now {:.2f}× table, {:.2f}× JSON).\n",
            bt_table_s / table_s, bt_json_s / json_s, table_s / raw_s, json_s / raw_s);
        bench::write_section(report, "map-dump", md);
        bench::summary_row("`map dump` of 1M entries vs bpftool", fmt::format("{:.3f} s", table_s),
                           fmt::format("`bpftool map dump` {:.3f} s", bt_table_s), table_s / bt_table_s,
                           "≤ 0.1× bpftool", table_s / bt_table_s <= 0.1);
        bench::summary_row("`map dump -j` of 1M entries vs bpftool", fmt::format("{:.3f} s", json_s),
                           fmt::format("`bpftool -j map dump` {:.3f} s", bt_json_s), json_s / bt_json_s,
                           "≤ 0.1× bpftool", json_s / bt_json_s <= 0.1);
        bench::summary_row("`map dump` of 1M entries vs the raw batch loop", fmt::format("{:.3f} s", table_s),
                           fmt::format("raw loop {:.3f} s", raw_s), table_s / raw_s, "≤ 1.3× raw",
                           table_s / raw_s <= 1.3);
        bench::summary_row("`map dump -j` of 1M entries vs the raw batch loop", fmt::format("{:.3f} s", json_s),
                           fmt::format("raw loop {:.3f} s", raw_s), json_s / raw_s, "≤ 1.3× raw",
                           json_s / raw_s <= 1.3);
        std::cout << md;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "map_dump: " << e.what() << '\n';
        return 1;
    }
}
