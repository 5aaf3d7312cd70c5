// `ebpf-tool serve` idle and under scraping, with its built-in collectors: peak RSS idle
// (after start-up and a first scrape) and after a burst of concurrent scrapes, scrape
// latency per collector set, and the exporter's CPU time per scrape. (Scrapes of large
// pinned maps are bench/serve_scrape.cpp's.) Needs root. Writes its BENCHMARKS.md section.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

#include "bench_report.hpp"
#include "process.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// One GET /metrics on a new connection; the body's size, or -1.
long scrape(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    long got = -1;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
        const char request[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        if (::send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof(request) - 1)) {
            char buffer[65536];
            got = 0;
            for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) got += n;
        }
    }
    ::close(fd);
    return got;
}

// kB of a /proc/PID/status field (VmRSS, VmHWM).
long status_kb(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    return -1;
}

// User + system CPU seconds of the process so far.
double cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(in)), {});
    std::istringstream rest(all.substr(all.rfind(')') + 2));
    std::string field;
    unsigned long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoul(field);
        if (i == 15) stime = std::stoul(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct Result {
    std::string collectors;
    long idle_hwm_kb = 0, busy_hwm_kb = 0;
    double median_ms = 0, p99_ms = 0, cpu_ms_per_scrape = 0;
    long body_bytes = 0;
};

Result measure(const std::string& collectors, const std::string& tool, int scrapes) {
    test::Process server({tool, "serve", "--listen", "127.0.0.1:0", "--collect", collectors});
    if (!server.wait_for_stderr("Hit Ctrl-C to end.", std::chrono::seconds(60)))
        throw std::runtime_error("serve did not start: " + server.err());
    std::smatch m;
    std::regex_search(server.err(), m, std::regex(R"(127\.0\.0\.1:([0-9]+)/metrics)"));
    const int port = std::stoi(m[1]);
    Result r;
    r.collectors = collectors;
    r.body_bytes = scrape(port);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    r.idle_hwm_kb = status_kb(server.pid(), "VmHWM");

    // Latency: one scraper at a time, as Prometheus scrapes.
    std::vector<double> ms;
    const double cpu_before = cpu_seconds(server.pid());
    for (int i = 0; i < scrapes; ++i) {
        auto start = Clock::now();
        if (scrape(port) <= 0) throw std::runtime_error("a scrape failed");
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    r.cpu_ms_per_scrape = (cpu_seconds(server.pid()) - cpu_before) * 1000 / scrapes;
    std::sort(ms.begin(), ms.end());
    r.median_ms = bench::median(ms);
    r.p99_ms = ms[ms.size() * 99 / 100];

    // Under scraping: 16 concurrent scrapers, `scrapes` each.
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < scrapes; ++i) scrape(port);
        });
    for (auto& t : threads) t.join();
    r.busy_hwm_kb = status_kb(server.pid(), "VmHWM");
    server.signal(SIGTERM);
    server.finish();
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string tool = argc > 1 ? argv[1] : "ebpf-tool";
    const std::string report = argc > 2 ? argv[2] : "BENCHMARKS.md";
    const int scrapes = argc > 3 ? std::stoi(argv[3]) : 200;
    std::vector<Result> results;
    for (const char* collectors : {"execs", "stats", "execs,stats"})
        results.push_back(measure(collectors, tool, scrapes));

    std::string md = fmt::format(
        "## `ebpf-tool serve`: idle and under scraping (built-in collectors)\n\n"
        "{}. `bench/serve_idle.cpp`: `serve --collect X` on loopback; peak RSS (VmHWM) after start-up and one "
        "scrape, then after 16 concurrent scrapers × {} scrapes; latency of {} scrapes one at a time (a new "
        "connection each, as Prometheus without keep-alive); CPU time of the exporter per scrape. One run on a "
        "shared machine: the numbers are noisy, ratios between rows come from one run. Large pinned maps: "
        "bench/serve_scrape.cpp.\n\n"
        "| collectors | first response | peak RSS idle | peak RSS under scraping | scrape median | scrape p99 | CPU "
        "per "
        "scrape |\n|---|---:|---:|---:|---:|---:|---:|\n",
        bench::machine_line(), scrapes, scrapes);
    for (const auto& r : results)
        md += fmt::format("| {} | {:.1f} KiB | {:.1f} MiB | {:.1f} MiB | {:.2f} ms | {:.2f} ms | {:.2f} ms |\n",
                          r.collectors, static_cast<double>(r.body_bytes) / 1024,
                          static_cast<double>(r.idle_hwm_kb) / 1024, static_cast<double>(r.busy_hwm_kb) / 1024,
                          r.median_ms, r.p99_ms, r.cpu_ms_per_scrape);
    std::cout << md;
    bench::write_section(report, "serve_idle", md);
    return 0;
}
