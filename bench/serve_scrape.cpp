// `serve --map`: what one scrape of a pinned BTF struct map costs, for 1k, 10k and 100k
// entries — wall time (median of rounds) and CPU time per scrape, and the peak RSS of the
// process doing it. The map is a hash with a struct key (pid, comm, IPv4 addresses, ports,
// an enum) and a struct value (packets, bytes, a gauge): 3 series an entry.
//
// Two ways, on the same maps: collect() of map_export's collectors in this process (the
// map walk, labels and samples), and — given the tool — whole scrapes of
// `ebpf-tool serve --map pinned …` over HTTP (plus rendering and the server), with the
// server's CPU time from /proc and its peak RSS idle and after scraping.
//
// Usage: serve_scrape REPORT [--tool EBPF_TOOL] [--note TEXT] [ENTRIES...]   (needs root: creates and pins maps)
#include <arpa/inet.h>
#include <bpf/btf.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "bench_report.hpp"
#include "ebpf/map.hpp"
#include "ebpf/pin.hpp"
#include "map_export.hpp"
#include "process.hpp"

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
    // Over HTTP (0 when not measured).
    double http_wall_ms = 0, http_cpu_ms = 0, body_mib = 0;
    double rss_idle_mib = 0, rss_peak_mib = 0;
};

// GET /metrics on a new connection; the body size, or nullopt.
std::optional<std::size_t> http_scrape(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    struct Close {
        int fd;
        ~Close() { ::close(fd); }
    } closer{fd};
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return std::nullopt;
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
        return std::nullopt;
    std::size_t total = 0;
    bool ok = false;
    static char buffer[1 << 16];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        if (total == 0) ok = std::strncmp(buffer, "HTTP/1.1 200", 12) == 0;
        total += static_cast<std::size_t>(n);
    }
    if (!ok) return std::nullopt;
    return total;
}

// utime + stime of a process, in seconds (clock ticks: 10 ms resolution, so summed over rounds).
double process_cpu_seconds(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; fields >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) {
            stime = std::stoull(field);
            break;
        }
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// VmHWM: the process's peak resident set, in MiB.
double peak_rss_mib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

// Whole scrapes of `tool serve --map pinned PIN`: fills the HTTP columns of `row`.
void measure_http(const std::string& tool, const std::string& pin, int rounds, Row& row) {
    test::Process server({tool, "serve", "--collect", "none", "--listen", "127.0.0.1:0", "--map", "pinned", pin,
                          "--max-series", "1000000"});
    if (!server.wait_for_stderr("Hit Ctrl-C to end.", std::chrono::seconds(60)))
        throw std::runtime_error("serve did not start: " + server.finish(std::chrono::seconds(5)).err);
    std::smatch m;
    const std::string err = server.err();
    if (!std::regex_search(err, m, std::regex(R"(listening on http://[0-9.]+:([0-9]+)/metrics)")))
        throw std::runtime_error("serve did not say its port: " + err);
    const int port = std::stoi(m[1]);
    row.rss_idle_mib = peak_rss_mib(server.pid());
    std::vector<double> wall;
    double cpu_total = 0;
    for (int r = 0; r < rounds + 1; ++r) {
        const double c0 = process_cpu_seconds(server.pid());
        const auto t0 = std::chrono::steady_clock::now();
        const auto size = http_scrape(port);
        const auto t1 = std::chrono::steady_clock::now();
        const double c1 = process_cpu_seconds(server.pid());
        if (!size) throw std::runtime_error("scrape failed");
        if (r == 0) continue;
        row.body_mib = static_cast<double>(*size) / (1024.0 * 1024.0);
        wall.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        cpu_total += c1 - c0;
    }
    row.http_wall_ms = bench::median(wall);
    row.http_cpu_ms = cpu_total * 1e3 / rounds;
    row.rss_peak_mib = peak_rss_mib(server.pid());
    server.signal(SIGTERM);
    (void)server.finish(std::chrono::seconds(30));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: serve_scrape REPORT [ENTRIES...]\n";
        return 2;
    }
    const std::string report = argv[1];
    std::string tool, note;
    std::vector<std::uint32_t> sizes;
    for (int i = 2; i < argc; ++i) {
        if (std::string(argv[i]) == "--tool" && i + 1 < argc)
            tool = argv[++i];
        else if (std::string(argv[i]) == "--note" && i + 1 < argc)  // where the binaries came from, for the record
            note = argv[++i];
        else
            sizes.push_back(static_cast<std::uint32_t>(std::stoul(argv[i])));
    }
    if (sizes.empty()) sizes = {1000, 10000, 100000};
    try {
        const std::string dir =
            ebpf::pins::make_trusted_dir("/sys/fs/bpf/ebpf-bench-scrape-" + std::to_string(::getpid()));
        // This run's own directory goes on every way out, a failed run too.
        struct RemoveDir {
            std::string dir;
            ~RemoveDir() {
                std::error_code ec;
                std::filesystem::remove_all(dir, ec);
            }
        } remove_dir{dir};
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
            collectors.clear();
            Row row{n, series, rounds, bench::median(wall), bench::median(cpu)};
            if (!tool.empty()) measure_http(tool, pin, rounds, row);
            ebpf::Map::unpin(pin);
            rows.push_back(row);
            std::cout << n << " entries: " << series << " samples, collect() median " << row.wall_ms << " ms wall, "
                      << row.cpu_ms << " ms CPU";
            if (!tool.empty())
                std::cout << "; HTTP scrape median " << row.http_wall_ms << " ms, serve CPU " << row.http_cpu_ms
                          << " ms, body " << row.body_mib << " MiB, RSS idle " << row.rss_idle_mib << " MiB, peak "
                          << row.rss_peak_mib << " MiB";
            std::cout << "\n";
        }
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);

        std::string md = "## `serve --map`: scrape cost of a pinned BTF struct map\n\n";
        md += bench::machine_line() +
              ". The machine is shared by six engineers building and testing at the same "
              "time: numbers are from one run and noisy.\n\n";
        md +=
            "One pinned hash map per size (struct key: pid, comm, two IPv4 addresses, two ports, an enum; struct "
            "value: packets, bytes, state — 3 series an entry, so 100k entries are 300k series; "
            "`--max-series 1000000` so nothing is cut). Medians over the rounds after one warm-up round.\n\n";
        md +=
            "**collect()**: `map_export::make_collectors()`'s collectors called in the benchmark's own process — "
            "the batched map walk, label rendering and the samples, without writing text. CPU is the process's "
            "CPU time over the same interval.\n\n";
        md += "| entries | samples | rounds | collect() wall | collect() CPU |\n|---:|---:|---:|---:|---:|\n";
        char line[300];
        for (const Row& r : rows) {
            std::snprintf(line, sizeof line, "| %u | %zu | %d | %.2f ms | %.2f ms |\n", r.entries, r.series, r.rounds,
                          r.wall_ms, r.cpu_ms);
            md += line;
        }
        std::snprintf(line, sizeof line,
                      "\nPeak RSS of the benchmark process (maps filled from user space, largest collect() held in "
                      "memory): %.1f MiB.\n",
                      static_cast<double>(usage.ru_maxrss) / 1024.0);
        md += line;
        if (!tool.empty()) {
            md +=
                "\n**Over HTTP**: `ebpf-tool serve --collect none --map pinned PIN` scraped with `GET /metrics` "
                "(text format, one new connection a scrape, body read to the end): collect, rendering and "
                "HTTP. Server CPU is its utime+stime from /proc over all rounds (10 ms ticks) divided by the "
                "rounds; RSS is the server's VmHWM after start-up (idle) and after the rounds (peak).\n\n";
            md +=
                "| entries | scrape wall | serve CPU per scrape | body | serve RSS idle | serve RSS peak |\n"
                "|---:|---:|---:|---:|---:|---:|\n";
            for (const Row& r : rows) {
                std::snprintf(line, sizeof line, "| %u | %.2f ms | %.1f ms | %.1f MiB | %.1f MiB | %.1f MiB |\n",
                              r.entries, r.http_wall_ms, r.http_cpu_ms, r.body_mib, r.rss_idle_mib, r.rss_peak_mib);
                md += line;
            }
        } else {
            md += "\nThe `serve` HTTP endpoint was not measured in this run (no `--tool`).\n";
        }
        if (!note.empty()) md += "\n" + note + "\n";
        bench::write_section(report, "serve-scrape", md);
    } catch (const std::exception& e) {
        std::cerr << "serve_scrape: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
