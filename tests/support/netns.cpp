#include "netns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>

#include "unique.hpp"

namespace test {

namespace {
void sh(const std::string& command) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
}

// True if an interface of this namespace has an address in the /30 at `base` (host order).
bool subnet_in_use(std::uint32_t base) {
    ifaddrs* all = nullptr;
    if (getifaddrs(&all) != 0) return false;
    bool used = false;
    for (ifaddrs* a = all; a && !used; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
        const auto address = ntohl(reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr);
        used = (address & ~3u) == base;
    }
    freeifaddrs(all);
    return used;
}

std::string dotted(std::uint32_t address) {
    in_addr a{htonl(address)};
    char text[INET_ADDRSTRLEN];
    return inet_ntop(AF_INET, &a, text, sizeof(text));
}
}  // namespace

VethPair::VethPair() {
    ns_ = unique_name("ebpft");
    host_ = unique_name("ebh");
    peer_ = unique_name("ebp");
    // A /30 of 10.200.0.0/16 (16384 of them) picked by pid: two runs of the tests get
    // different ones unless their pids are 16384 apart, and then the first one free is taken.
    constexpr std::uint32_t net = (10u << 24) | (200u << 16), subnets = 1u << 14;
    const auto first = static_cast<std::uint32_t>(getpid()) % subnets;
    std::uint32_t base = 0;
    for (std::uint32_t i = 0; i < subnets && base == 0; ++i) {
        const std::uint32_t candidate = net | (((first + i) % subnets) << 2);
        if (!subnet_in_use(candidate)) base = candidate;
    }
    if (base == 0) throw std::runtime_error("no free /30 in 10.200.0.0/16 for a test veth pair");
    host_address_ = dotted(base + 1);
    peer_address_ = dotted(base + 2);

    std::system(("ip netns del " + ns_ + " >/dev/null 2>&1").c_str());
    std::system(("ip link del " + host_ + " >/dev/null 2>&1").c_str());
    sh("ip netns add " + ns_);
    sh("ip link add " + host_ + " type veth peer name " + peer_ + " netns " + ns_);
    sh("ip addr add " + host_address_ + "/30 dev " + host_);
    sh("ip link set " + host_ + " up");
    sh("ip -n " + ns_ + " addr add " + peer_address_ + "/30 dev " + peer_);
    sh("ip -n " + ns_ + " link set " + peer_ + " up");
    sh("ip -n " + ns_ + " link set lo up");
}

VethPair::~VethPair() {
    std::system(("ip link del " + host_ + " >/dev/null 2>&1").c_str());
    std::system(("ip netns del " + ns_ + " >/dev/null 2>&1").c_str());
}

bool VethPair::send_udp_from_peer(int n, int port) const {
    pid_t child = fork();
    if (child == 0) {
        int ns = open(("/var/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(1);
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<std::uint16_t>(port));
        if (inet_pton(AF_INET, host_address_.c_str(), &to.sin_addr) != 1) _exit(3);
        for (int i = 0; i < n; ++i) {
            if (sendto(s, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 1) _exit(2);
            usleep(2000);  // pace them: the first ones wait for ARP
        }
        _exit(0);
    }
    int status = 0;
    return waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace test
