// Kernel-side cost per packet of `ebpf-tool proto` and `ebpf-tool conns` against an XDP
// program that only returns XDP_PASS: three veth pairs from one benchmark namespace, one
// program on each, the same packets sent to all three in turn, all in one run, measured
// by the kernel's own accounting (BPF_ENABLE_STATS: run_time_ns / run_cnt; the proto
// dispatcher's run time includes the parser it tail-calls). Writes its table into
// BENCHMARKS.md.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <vector>

#include "bench_report.hpp"
#include "ebpf/attach.hpp"
#include "ebpf/fd.hpp"
#include "ebpf/object.hpp"
#include "ebpf/system.hpp"
#include "process.hpp"
#include "xdp_pass.skel.h"

EBPF_SKELETON(xdp_pass_bpf);

namespace {

using bench::median;

constexpr int kFlows = 64;                 // UDP flows (source ports) per interface
constexpr int kPacketsPerRound = 100'000;  // per interface
constexpr int kPayload = 64;

void sh(const std::string& command) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
}

std::string read_line(const std::string& command) {
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    char buf[256];
    if (p && fgets(buf, sizeof(buf), p)) out = buf;
    if (p) pclose(p);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

// One namespace, three quiet veth pairs (ARP off, permanent neighbours, no IPv6 chatter).
struct Bench {
    std::string ns;
    std::vector<std::string> hosts, host_addrs;
    Bench() {
        const std::string id = std::to_string(getpid());
        ns = "nbench" + id;
        std::system(("ip netns del " + ns + " >/dev/null 2>&1").c_str());
        sh("ip netns add " + ns);
        for (int i = 0; i < 3; ++i) {
            std::string host = "nb" + std::to_string(i) + "h" + id, peer = "nb" + std::to_string(i) + "p" + id;
            // 198.19.<pid-derived>.<4i>/30: RFC 2544 benchmarking space.
            unsigned third = static_cast<unsigned>(getpid()) % 256;
            std::string net = "198.19." + std::to_string(third) + ".";
            std::string h = net + std::to_string(4 * i + 1), p = net + std::to_string(4 * i + 2);
            sh("ip link add " + host + " type veth peer name " + peer + " netns " + ns);
            sh("ip link set " + host + " arp off addrgenmode none");
            sh("ip -n " + ns + " link set " + peer + " arp off addrgenmode none");
            sh("ip addr add " + h + "/30 dev " + host);
            sh("ip -n " + ns + " addr add " + p + "/30 dev " + peer);
            std::string hm = read_line("cat /sys/class/net/" + host + "/address");
            std::string pm = read_line("ip netns exec " + ns + " cat /sys/class/net/" + peer + "/address");
            sh("ip neigh replace " + p + " lladdr " + pm + " dev " + host + " nud permanent");
            sh("ip -n " + ns + " neigh replace " + h + " lladdr " + hm + " dev " + peer + " nud permanent");
            sh("ip link set " + host + " up");
            sh("ip -n " + ns + " link set " + peer + " up");
            hosts.push_back(host);
            host_addrs.push_back(h);
        }
    }
    ~Bench() {
        for (const auto& h : hosts) std::system(("ip link del " + h + " >/dev/null 2>&1").c_str());
        std::system(("ip netns del " + ns + " >/dev/null 2>&1").c_str());
    }

    // The same packets to each interface in turn: kPacketsPerRound UDP datagrams over
    // kFlows flows, sent from the namespace.
    void send_round() const {
        pid_t child = fork();
        if (child == 0) {
            int fd = open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(1);
            std::vector<int> sockets;
            for (int f = 0; f < kFlows; ++f) sockets.push_back(socket(AF_INET, SOCK_DGRAM, 0));
            std::vector<sockaddr_in> to(host_addrs.size());
            for (std::size_t i = 0; i < host_addrs.size(); ++i) {
                to[i].sin_family = AF_INET;
                to[i].sin_port = htons(9);
                inet_pton(AF_INET, host_addrs[i].c_str(), &to[i].sin_addr);
            }
            char payload[kPayload] = {};
            for (int n = 0; n < kPacketsPerRound; ++n)
                for (const auto& addr : to)
                    sendto(sockets[static_cast<std::size_t>(n % kFlows)], payload, sizeof(payload), 0,
                           reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
            _exit(0);
        }
        int status = 0;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("sender failed");
    }
};

struct RunStats {
    std::uint64_t run_time_ns = 0, run_cnt = 0;
};

RunStats stats_of(std::uint32_t id) {
    ebpf::Fd fd(bpf_prog_get_fd_by_id(id));
    bpf_prog_info info{};
    std::uint32_t len = sizeof(info);
    if (!fd || bpf_obj_get_info_by_fd(fd.get(), &info, &len)) throw std::runtime_error("prog info");
    return {info.run_time_ns, info.run_cnt};
}

// The id of the XDP program on `iface`, once there is one.
std::uint32_t xdp_program_on(const std::string& iface) {
    int ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
    for (int tries = 0; tries < 200; ++tries) {
        LIBBPF_OPTS(bpf_xdp_query_opts, q);
        if (bpf_xdp_query(ifindex, 0, &q) == 0 && q.prog_id) return q.prog_id;
        usleep(20'000);
    }
    throw std::runtime_error("no XDP program on " + iface);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: net_kernel_cost EBPF_TOOL BENCHMARKS.md [rounds]\n";
        return 2;
    }
    const std::string tool = argv[1], report = argv[2];
    const int rounds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 5;
    try {
        ebpf::system::set_libbpf_logging(false);
        ebpf::system::prepare(/*need_tracefs=*/false);
        // kernel.bpf_stats_enabled for as long as this fd is open (and no longer).
        int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
        if (stats_fd < 0) throw std::runtime_error("BPF_ENABLE_STATS failed");
        ebpf::Fd stats_enabled(stats_fd);

        Bench bench;
        auto pass = ebpf::Skeleton<xdp_pass_bpf>::open();
        pass.load();
        auto pass_link = ebpf::attach_xdp(bpf_program__fd(pass->progs.xdp_pass),
                                          static_cast<int>(if_nametoindex(bench.hosts[0].c_str())));
        test::Process proto({tool, "proto", "--iface", bench.hosts[1], "--interval", "3600"});
        test::Process conns({tool, "conns", "--iface", bench.hosts[2], "--interval", "3600"});
        if (!proto.wait_for_stderr("Hit Ctrl-C")) throw std::runtime_error("ebpf-tool proto did not start");
        if (!conns.wait_for_stderr("Hit Ctrl-C")) throw std::runtime_error("ebpf-tool conns did not start");
        struct Subject {
            std::string label;
            std::uint32_t id;
            std::vector<double> ns_per_packet;
            std::uint64_t packets = 0;
        };
        std::vector<Subject> subjects{
            {"XDP_PASS only (empty)", xdp_program_on(bench.hosts[0]), {}},
            {"ebpf-tool proto (dispatcher + IPv4 parser)", xdp_program_on(bench.hosts[1]), {}},
            {"ebpf-tool conns", xdp_program_on(bench.hosts[2]), {}}};
        const std::string mode = pass_link.where().substr(0, pass_link.where().find(" on "));
        bench.send_round();  // warm-up: flows created, caches warm
        for (int r = 0; r < rounds; ++r) {
            std::vector<RunStats> before;
            for (const auto& s : subjects) before.push_back(stats_of(s.id));
            bench.send_round();
            for (std::size_t i = 0; i < subjects.size(); ++i) {
                RunStats after = stats_of(subjects[i].id);
                std::uint64_t runs = after.run_cnt - before[i].run_cnt;
                if (runs == 0) throw std::runtime_error(subjects[i].label + " did not run");
                subjects[i].packets = runs;
                subjects[i].ns_per_packet.push_back(static_cast<double>(after.run_time_ns - before[i].run_time_ns) /
                                                    static_cast<double>(runs));
            }
        }
        proto.signal(SIGINT);
        conns.signal(SIGINT);
        proto.finish();
        conns.finish();

        const double base = median(subjects[0].ns_per_packet);
        std::string md = "## `ebpf-tool proto` and `ebpf-tool conns`: kernel cost per packet\n\n";
        md += bench::machine_line() +
              fmt::format(
                  ". Three veth pairs from one namespace, one program on each, {} (the mode each got); "
                  "every round sends the same {} UDP datagrams ({}-byte payload, {} flows) to each "
                  "interface in turn. {} rounds after a warm-up, median shown; cost = Δrun_time_ns / "
                  "Δrun_cnt from the kernel's BPF_ENABLE_STATS accounting (kernel.bpf_stats_enabled).\n\n",
                  mode, kPacketsPerRound, kPayload, kFlows, rounds);
        md += "| program | packets per round | ns per packet | × XDP_PASS |\n|---|---:|---:|---:|\n";
        for (const auto& s : subjects) {
            double m = median(s.ns_per_packet);
            md += fmt::format("| {} | {} | {:.1f} | {:.2f} |\n", s.label, s.packets, m, m / base);
        }
        md += fmt::format("\nGoals: proto ≤ 1.3× the empty program (now {:.2f}×), conns ≤ 2× (now {:.2f}×).\n",
                          median(subjects[1].ns_per_packet) / base, median(subjects[2].ns_per_packet) / base);
        md +=
            "\nWhere the time goes (variants measured while tuning, not in this run; the reasons are our "
            "reading, not measured): proto reads the frame, which the empty program never does, and makes "
            "the tail call its dispatcher design requires (constant indexes, so direct jumps). conns hashes "
            "a 44-byte key into the LRU hash and updates the flow with atomic adds: plain adds (not exact "
            "across CPUs) measured ~65 ns cheaper, and an LRU_PERCPU_HASH, which needs no atomics, measured "
            "slower (its lookup is a helper call, not inlined). Its clock is the coarse one; the exact one "
            "cost more. The machine is shared: absolute numbers move by up to ±15% between runs; the "
            "ratios, from one run, move less.\n";
        std::cout << md;
        bench::write_section(report, "net-kernel-cost", md);
        const double proto_ns = median(subjects[1].ns_per_packet), conns_ns = median(subjects[2].ns_per_packet);
        bench::summary_row("`proto`: kernel ns per packet", fmt::format("{:.1f} ns", proto_ns),
                           fmt::format("empty XDP {:.1f} ns", base), proto_ns / base, "≤ 1.3× empty",
                           proto_ns / base <= 1.3);
        bench::summary_row("`conns`: kernel ns per packet", fmt::format("{:.1f} ns", conns_ns),
                           fmt::format("empty XDP {:.1f} ns", base), conns_ns / base, "≤ 2× empty",
                           conns_ns / base <= 2.0);
    } catch (const std::exception& e) {
        std::cerr << "net_kernel_cost: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
