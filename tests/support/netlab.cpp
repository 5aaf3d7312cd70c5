#include "netlab.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace test {

namespace {

void sh(const std::string& command) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
}

std::string read_line(const std::string& command) {
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    if (!p) return out;
    char buf[256];
    if (fgets(buf, sizeof(buf), p)) out = buf;
    pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

// A socket address for `address` (either family) and `port`.
struct Address {
    sockaddr_storage storage{};
    socklen_t len = 0;
    Address(int family, const std::string& address, std::uint16_t port) {
        if (family == 4) {
            auto* a = reinterpret_cast<sockaddr_in*>(&storage);
            a->sin_family = AF_INET;
            a->sin_port = htons(port);
            inet_pton(AF_INET, address.c_str(), &a->sin_addr);
            len = sizeof(*a);
        } else {
            auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
            a->sin6_family = AF_INET6;
            a->sin6_port = htons(port);
            inet_pton(AF_INET6, address.c_str(), &a->sin6_addr);
            len = sizeof(*a);
        }
    }
    sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

std::uint16_t local_port(int fd) {
    sockaddr_storage s{};
    socklen_t len = sizeof(s);
    getsockname(fd, reinterpret_cast<sockaddr*>(&s), &len);
    return ntohs(s.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&s)->sin_port
                                        : reinterpret_cast<sockaddr_in6*>(&s)->sin6_port);
}

bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, timeout_ms) == 1;
}

// A host-side UDP socket on `address`, an ephemeral port.
int host_udp(int family, const std::string& address) {
    int s = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    Address a(family, address, 0);
    if (s < 0 || bind(s, a.get(), a.len) != 0) throw std::runtime_error("bind UDP");
    return s;
}

// Receives `n` datagrams on `s` (5 s at most for each).
bool receive(int s, int n) {
    char buf[2048];
    for (int i = 0; i < n; ++i)
        if (!readable(s, 5000) || recv(s, buf, sizeof(buf), 0) < 0) return false;
    return true;
}

std::uint16_t icmp_checksum(const std::uint8_t* data, std::size_t len) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < len; i += 2) sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
    if (len % 2) sum += static_cast<std::uint32_t>(data[len - 1] << 8);
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return htons(static_cast<std::uint16_t>(~sum));
}

std::atomic<int> labs{0};

}  // namespace

NetLab::NetLab() {
    const unsigned pid = static_cast<unsigned>(getpid());
    const unsigned n = static_cast<unsigned>(labs++);
    const std::string id = std::to_string(pid) + static_cast<char>('a' + n % 26);
    ns_ = "nlab" + id;
    host_ = "nlh" + id;
    peer_ = "nlp" + id;
    // 198.18.0.0/15 (RFC 2544, benchmarking: never a real network): 32768 /30 subnets.
    const unsigned subnet = (pid * 7 + n) % 32768;
    const unsigned base = (198u << 24) | (18u << 16) | (subnet * 4);
    auto v4 = [](unsigned a) {
        return std::to_string(a >> 24) + "." + std::to_string(a >> 16 & 255) + "." + std::to_string(a >> 8 & 255) +
               "." + std::to_string(a & 255);
    };
    host4_ = v4(base + 1);
    peer4_ = v4(base + 2);
    // A unique-local /126 named by the pid and the counter.
    char v6[64];
    std::snprintf(v6, sizeof(v6), "fdeb:%x:%x:%x::", pid >> 16, pid & 0xFFFF, n);
    host6_ = std::string(v6) + "1";
    peer6_ = std::string(v6) + "2";

    std::system(("ip netns del " + ns_ + " >/dev/null 2>&1").c_str());
    sh("ip netns add " + ns_);
    try {
        sh("ip link add " + host_ + " type veth peer name " + peer_ + " netns " + ns_);
        sh("ip link set " + host_ + " arp off addrgenmode none");
        sh("ip -n " + ns_ + " link set " + peer_ + " arp off addrgenmode none");
        sh("ip addr add " + host4_ + "/30 dev " + host_);
        sh("ip addr add " + host6_ + "/126 dev " + host_ + " nodad");
        sh("ip -n " + ns_ + " addr add " + peer4_ + "/30 dev " + peer_);
        sh("ip -n " + ns_ + " addr add " + peer6_ + "/126 dev " + peer_ + " nodad");
        const std::string host_mac = read_line("cat /sys/class/net/" + host_ + "/address");
        const std::string peer_mac = read_line("ip netns exec " + ns_ + " cat /sys/class/net/" + peer_ + "/address");
        for (const auto& a : {peer4_, peer6_})
            sh("ip neigh replace " + a + " lladdr " + peer_mac + " dev " + host_ + " nud permanent");
        for (const auto& a : {host4_, host6_})
            sh("ip -n " + ns_ + " neigh replace " + a + " lladdr " + host_mac + " dev " + peer_ + " nud permanent");
        sh("ip link set " + host_ + " up");
        sh("ip -n " + ns_ + " link set " + peer_ + " up");
    } catch (...) {
        std::system(("ip link del " + host_ + " >/dev/null 2>&1").c_str());
        std::system(("ip netns del " + ns_ + " >/dev/null 2>&1").c_str());
        throw;
    }
}

NetLab::~NetLab() {
    std::system(("ip link del " + host_ + " >/dev/null 2>&1").c_str());
    std::system(("ip netns del " + ns_ + " >/dev/null 2>&1").c_str());
}

int NetLab::host_ifindex() const {
    return static_cast<int>(if_nametoindex(host_.c_str()));
}

template <class F>
bool NetLab::in_peer(F body) const {
    pid_t child = fork();
    if (child == 0) {
        int ns = open(("/var/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(100);
        _exit(body() ? 0 : 1);
    }
    int status = 0;
    return child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool NetLab::udp_flow(int family, int n, int payload, std::uint16_t* peer_port) const {
    int host = host_udp(family, host_address(family));
    const std::uint16_t port = local_port(host);
    int pipefd[2];
    if (pipe(pipefd)) return false;
    bool sent = in_peer([&] {
        int s = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0);
        Address to(family, host_address(family), port);
        std::vector<char> data(static_cast<std::size_t>(payload), 'x');
        for (int i = 0; i < n; ++i)
            if (sendto(s, data.data(), data.size(), 0, to.get(), to.len) != payload) return false;
        std::uint16_t p = local_port(s);
        return write(pipefd[1], &p, sizeof(p)) == sizeof(p);
    });
    std::uint16_t p = 0;
    bool got_port = sent && read(pipefd[0], &p, sizeof(p)) == sizeof(p);
    close(pipefd[0]);
    close(pipefd[1]);
    if (peer_port) *peer_port = p;
    bool ok = got_port && receive(host, n);
    close(host);
    return ok;
}

bool NetLab::udp_flows(int family, int flows) const {
    int host = host_udp(family, host_address(family));
    const std::uint16_t port = local_port(host);
    bool sent = in_peer([&] {
        Address to(family, host_address(family), port);
        for (int i = 0; i < flows; ++i) {
            int s = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0);
            if (sendto(s, "x", 1, 0, to.get(), to.len) != 1) return false;
            // Kept open to the end: a closed socket's port could be reused by the next.
        }
        return true;
    });
    bool ok = sent && receive(host, flows);
    close(host);
    return ok;
}

bool NetLab::ping(int family, int m) const {
    return in_peer([&] {
        int s = family == 4 ? socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) : socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
        if (s < 0) return false;
        if (family == 6) {
            // Only echo replies: nothing else reaches this socket on the quiet link anyway.
            icmp6_filter filter;
            ICMP6_FILTER_SETBLOCKALL(&filter);
            ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
            setsockopt(s, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter));
        }
        Address to(family, host_address(family), 0);
        for (int i = 0; i < m; ++i) {
            std::uint8_t packet[8] = {static_cast<std::uint8_t>(family == 4 ? ICMP_ECHO : ICMP6_ECHO_REQUEST),
                                      0,
                                      0,
                                      0,
                                      0x12,
                                      0x34,
                                      static_cast<std::uint8_t>(i >> 8),
                                      static_cast<std::uint8_t>(i)};
            if (family == 4) {  // the kernel computes ICMPv6 checksums itself
                std::uint16_t sum = icmp_checksum(packet, sizeof(packet));
                std::memcpy(packet + 2, &sum, 2);
            }
            if (sendto(s, packet, sizeof(packet), 0, to.get(), to.len) != sizeof(packet)) return false;
            // Wait for this echo's reply (IPv4 raw sockets see the IP header first).
            for (;;) {
                if (!readable(s, 5000)) return false;
                std::uint8_t buf[1500];
                ssize_t len = recv(s, buf, sizeof(buf), 0);
                std::size_t off = family == 4 ? static_cast<std::size_t>(buf[0] & 0xF) * 4 : 0;
                if (len < static_cast<ssize_t>(off + 8)) continue;
                const std::uint8_t* icmp = buf + off;
                bool reply = icmp[0] == (family == 4 ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY);
                if (reply && icmp[6] == packet[6] && icmp[7] == packet[7]) break;
            }
        }
        return true;
    });
}

bool NetLab::tcp_connection(int family, int bytes, std::uint16_t* peer_port) const {
    int listener = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    Address a(family, host_address(family), 0);
    if (listener < 0 || bind(listener, a.get(), a.len) != 0 || listen(listener, 1) != 0) return false;
    const std::uint16_t port = local_port(listener);
    int pipefd[2];
    if (pipe(pipefd)) return false;
    pid_t child = fork();
    if (child == 0) {
        int ns = open(("/var/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(100);
        int s = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);
        Address to(family, host_address(family), port);
        if (connect(s, to.get(), to.len) != 0) _exit(1);
        std::uint16_t p = local_port(s);
        if (write(pipefd[1], &p, sizeof(p)) != sizeof(p)) _exit(2);
        std::vector<char> data(static_cast<std::size_t>(bytes), 'y');
        if (send(s, data.data(), data.size(), 0) != bytes) _exit(3);
        shutdown(s, SHUT_WR);
        char buf[16];
        // Until the host closes too: then our last ACK has gone out.
        while (readable(s, 5000) && recv(s, buf, sizeof(buf), 0) > 0) {
        }
        close(s);
        _exit(0);
    }
    bool ok = false;
    if (readable(listener, 5000)) {
        int conn = accept(listener, nullptr, nullptr);
        char buf[4096];
        int total = 0;
        ssize_t got;
        while (readable(conn, 5000) && (got = recv(conn, buf, sizeof(buf), 0)) > 0) total += static_cast<int>(got);
        close(conn);
        ok = total == bytes;
    }
    int status = 0;
    ok = waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0 && ok;
    std::uint16_t p = 0;
    if (read(pipefd[0], &p, sizeof(p)) != sizeof(p)) ok = false;
    if (peer_port) *peer_port = p;
    close(pipefd[0]);
    close(pipefd[1]);
    close(listener);
    return ok;
}

bool NetLab::anything_attached() const {
    const int ifindex = host_ifindex();
    if (ifindex <= 0) return false;
    LIBBPF_OPTS(bpf_xdp_query_opts, xdp);
    if (bpf_xdp_query(ifindex, 0, &xdp) == 0 && (xdp.prog_id || xdp.drv_prog_id || xdp.skb_prog_id)) return true;
    for (int type : {46, 47}) {  // BPF_TCX_INGRESS, BPF_TCX_EGRESS
        __u32 ids[8], count = 8, flags = 0;
        if (bpf_prog_query(ifindex, static_cast<bpf_attach_type>(type), 0, &flags, ids, &count) == 0 && count)
            return true;
    }
    // And no clsact qdisc (the old tc attachment's leftover).
    return std::system(("tc qdisc show dev " + host_ + " | grep -q clsact").c_str()) == 0;
}

}  // namespace test
