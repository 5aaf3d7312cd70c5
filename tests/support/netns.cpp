#include "netns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace test {

namespace {
void sh(const std::string& command) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
}
}  // namespace

VethPair::VethPair() {
    const std::string id = std::to_string(getpid() % 100000);
    ns_ = "ebpft" + id;
    host_ = "ebh" + id;
    peer_ = "ebp" + id;
    std::system(("ip netns del " + ns_ + " >/dev/null 2>&1").c_str());
    sh("ip netns add " + ns_);
    sh("ip link add " + host_ + " type veth peer name " + peer_ + " netns " + ns_);
    sh("ip addr add " + std::string(host_address) + "/24 dev " + host_);
    sh("ip link set " + host_ + " up");
    sh("ip -n " + ns_ + " addr add " + peer_address + "/24 dev " + peer_);
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
        inet_pton(AF_INET, host_address, &to.sin_addr);
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
