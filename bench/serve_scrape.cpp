// `serve --map`: what one scrape of a pinned BTF struct map costs, for 1k, 10k and 100k
// entries — wall time (median of rounds) and CPU time per scrape, and the peak RSS of the
// process doing it. The map is a hash with a struct key (pid, comm, IPv4 addresses, ports,
// an enum) and a struct value (packets, bytes, a gauge): 3 series an entry.
//
// Usage: serve_scrape REPORT [ENTRIES...]   (needs root: creates and pins maps)
#include <bpf/btf.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench_report.hpp"
#include "ebpf/map.hpp"
#include "ebpf/pin.hpp"
#include "map_export.hpp"

namespace {

struct FlowKey {
    std::uint32_t pid;
    char comm[16];
    std::uint32_t saddr, daddr;
    std::uint16_t sport, dport;
    std::uint32_t proto;  // enum
};
struct FlowValue {
    std::uint64_t packets, bytes;
    std::uint32_t state, pad;
};

// Keeps the BTF loaded while the map is created (the map holds its own reference after).
ebpf::Map make_map(const std::string& name, std::uint32_t entries) {
    std::unique_ptr<btf, decltype(&btf__free)> types(btf__new_empty(), &btf__free);
    btf* b = types.get();
    const int u16 = btf__add_int(b, "__u16", 2, 0);
    const int u32 = btf__add_int(b, "__u32", 4, 0);
    const int u64 = btf__add_int(b, "__u64", 8, 0);
    const int ch = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
    const int comm = btf__add_array(b, u32, ch, 16);
    const int proto = btf__add_enum(b, "proto", 4);
    btf__add_enum_value(b, "PROTO_TCP", 6);
    btf__add_enum_value(b, "PROTO_UDP", 17);
    const int key = btf__add_struct(b, "flow_key", sizeof(FlowKey));
    btf__add_field(b, "pid", u32, 0, 0);
    btf__add_field(b, "comm", comm, 32, 0);
    btf__add_field(b, "saddr", u32, 160, 0);
    btf__add_field(b, "daddr", u32, 192, 0);
    btf__add_field(b, "sport", u16, 224, 0);
    btf__add_field(b, "dport", u16, 240, 0);
    btf__add_field(b, "proto", proto, 256, 0);
    const int value = btf__add_struct(b, "flow_value", sizeof(FlowValue));
    btf__add_field(b, "packets", u64, 0, 0);
    btf__add_field(b, "bytes", u64, 64, 0);
    btf__add_field(b, "state", u32, 128, 0);
    if (btf__load_into_kernel(b)) throw std::runtime_error("load BTF into the kernel");
    ebpf::MapSpec spec = ebpf::MapSpec::make(BPF_MAP_TYPE_HASH, name, sizeof(FlowKey), sizeof(FlowValue), entries);
    spec.btf_fd = btf__fd(b);
    spec.btf_key_type_id = static_cast<std::uint32_t>(key);
    spec.btf_value_type_id = static_cast<std::uint32_t>(value);
    ebpf::Map map = ebpf::Map::create(spec);

    std::vector<FlowKey> keys(entries);
    std::vector<FlowValue> values(entries);
    for (std::uint32_t i = 0; i < entries; ++i) {
        FlowKey& k = keys[i];
        std::memset(&k, 0, sizeof k);
        k.pid = 1000 + i;
        std::snprintf(k.comm, sizeof k.comm, "proc-%u", i % 97);
        k.saddr = 0x0100000a + (i << 8);
        k.daddr = 0x0101a8c0;
        k.sport = static_cast<std::uint16_t>(i);
        k.dport = 443;
        k.proto = i % 2 ? 6 : 17;
        values[i] = {i * 3ull, i * 1500ull, i % 5, 0};
    }
    if (map.update_batch(keys.data(), values.data(), entries) != entries) throw std::runtime_error("fill the map");
    return map;
}

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Row {
    std::uint32_t entries;
    std::size_t series;
    int rounds;
    double wall_ms, cpu_ms;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: serve_scrape REPORT [ENTRIES...]\n";
        return 2;
    }
    const std::string report = argv[1];
    std::vector<std::uint32_t> sizes;
    for (int i = 2; i < argc; ++i) sizes.push_back(static_cast<std::uint32_t>(std::stoul(argv[i])));
    if (sizes.empty()) sizes = {1000, 10000, 100000};
    try {
        const std::string dir =
            ebpf::pins::make_trusted_dir("/sys/fs/bpf/ebpf-bench-scrape-" + std::to_string(::getpid()));
        std::vector<Row> rows;
        for (std::uint32_t n : sizes) {
            const std::string pin = dir + "/flows_" + std::to_string(n);
            {
                ebpf::Map map = make_map("flows_" + std::to_string(n), n);
                map.pin(pin);
            }
            ebpf_tool::map_export::Options options;
            options.pinned = {pin};
            options.max_series = 1'000'000;  // every entry exported (3 series each)
            auto collectors = ebpf_tool::map_export::make_collectors(options);
            const int rounds = n >= 100000 ? 9 : 25;
            std::vector<double> wall, cpu;
            std::size_t series = 0;
            for (int r = 0; r < rounds + 1; ++r) {  // the first round warms up and is not counted
                const double c0 = cpu_seconds();
                const auto t0 = std::chrono::steady_clock::now();
                std::vector<ebpf_tool::metrics::Family> families;
                for (auto& c : collectors) c->collect(families);
                const auto t1 = std::chrono::steady_clock::now();
                const double c1 = cpu_seconds();
                series = 0;
                for (const auto& f : families) series += f.samples.size();
                if (r == 0) continue;
                wall.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
                cpu.push_back((c1 - c0) * 1e3);
            }
            ebpf::Map::unpin(pin);
            rows.push_back({n, series, rounds, bench::median(wall), bench::median(cpu)});
            std::cout << n << " entries: " << series << " samples, median " << rows.back().wall_ms << " ms wall, "
                      << rows.back().cpu_ms << " ms CPU\n";
        }
        std::filesystem::remove(dir);
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);

        std::string md = "## `serve --map`: scrape cost of a pinned BTF struct map\n\n";
        md += bench::machine_line() +
              ". The machine is shared by six engineers building and testing at the same "
              "time: numbers are from one run and noisy.\n\n";
        md +=
            "What is measured: `map_export::make_collectors()` on one pinned hash map (struct key: pid, comm, "
            "two IPv4 addresses, two ports, an enum; struct value: packets, bytes, state — 3 series an entry), "
            "then `collect()` of its collectors — the batched map walk, label rendering and the samples, i.e. "
            "everything a scrape does except writing the text. The `serve` HTTP endpoint and its exposition "
            "writer were not on main when this was run, so rendering and HTTP are not included. Median of the "
            "rounds after one warm-up round; CPU is the process's CPU time over the same interval.\n\n";
        md +=
            "| entries | samples | rounds | scrape wall (median) | scrape CPU (median) |\n|---:|---:|---:|---:|---:|\n";
        char line[200];
        for (const Row& r : rows) {
            std::snprintf(line, sizeof line, "| %u | %zu | %d | %.2f ms | %.2f ms |\n", r.entries, r.series, r.rounds,
                          r.wall_ms, r.cpu_ms);
            md += line;
        }
        std::snprintf(line, sizeof line,
                      "\nPeak RSS of the benchmark process (maps filled from user space, "
                      "largest scrape held in memory): %.1f MiB.\n",
                      static_cast<double>(usage.ru_maxrss) / 1024.0);
        md += line;
        bench::write_section(report, "serve-scrape", md);
    } catch (const std::exception& e) {
        std::cerr << "serve_scrape: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
