#include "owned.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace test {

void BpfIds::merge(const BpfIds& other) {
    programs.insert(other.programs.begin(), other.programs.end());
    maps.insert(other.maps.begin(), other.maps.end());
    links.insert(other.links.begin(), other.links.end());
}

namespace {
std::string join(const std::set<std::uint32_t>& ids) {
    std::string out = "{";
    for (auto id : ids) out += (out.size() > 1 ? ", " : "") + std::to_string(id);
    return out + "}";
}

// True while an object with this id exists. Asked of the id table (the *_get_next_id
// calls), never by opening the object: opening a prog array by id after its last user fd
// closed, and closing it again, can leak it in the kernel — the second release schedules
// the work that empties the array while the first is still pending, and the reference
// taken for that work is then put only once (our reading of kernel/bpf/arraymap.c; seen
// here as prog arrays that outlived every program and fd).
template <class Next>
bool exists(std::uint32_t id, Next next) {
    std::uint32_t found = 0;
    return id > 0 && next(id - 1, &found) == 0 && found == id;
}

std::string command_output(const std::string& command) {
    std::string out;
    if (FILE* p = ::popen((command + " 2>&1").c_str(), "r")) {
        char buffer[4096];
        for (std::size_t n; (n = std::fread(buffer, 1, sizeof(buffer), p)) > 0;) out.append(buffer, n);
        ::pclose(p);
    }
    return out;
}

// libbpf 1.1's headers predate tcx (kernel 6.6); the kernel's attach types are stable ABI.
constexpr auto kTcxIngress = static_cast<bpf_attach_type>(46);
constexpr auto kTcxEgress = static_cast<bpf_attach_type>(47);

std::set<std::uint32_t> tcx_programs(int ifindex, bpf_attach_type type) {
    std::uint32_t ids[64]{}, count = 64, flags = 0;
    std::set<std::uint32_t> out;
    // For tcx the kernel reads the target as an ifindex.
    if (bpf_prog_query(ifindex, type, 0, &flags, ids, &count) == 0)
        for (std::uint32_t i = 0; i < count; ++i) out.insert(ids[i]);
    return out;
}
}  // namespace

std::string describe(const BpfIds& ids) {
    return "programs " + join(ids.programs) + ", maps " + join(ids.maps) + ", links " + join(ids.links);
}

BpfIds bpf_ids_of(pid_t pid) {
    BpfIds ids;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return ids;
    while (const dirent* entry = ::readdir(d)) {
        if (entry->d_name[0] == '.') continue;
        std::ifstream in(dir + "/" + entry->d_name);
        for (std::string line; std::getline(in, line);) {
            auto field = [&](const char* name, std::set<std::uint32_t>& into) {
                const std::string prefix = std::string(name) + ":";
                if (line.rfind(prefix, 0) == 0)
                    into.insert(static_cast<std::uint32_t>(std::stoul(line.substr(prefix.size()))));
            };
            field("prog_id", ids.programs);
            field("map_id", ids.maps);
            field("link_id", ids.links);
        }
    }
    ::closedir(d);
    return ids;
}

BpfIds still_in_kernel(const BpfIds& ids, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        BpfIds left;
        for (auto id : ids.programs)
            if (exists(id, bpf_prog_get_next_id)) left.programs.insert(id);
        for (auto id : ids.maps)
            if (exists(id, bpf_map_get_next_id)) left.maps.insert(id);
        for (auto id : ids.links)
            if (exists(id, bpf_link_get_next_id)) left.links.insert(id);
        if (left.empty() || std::chrono::steady_clock::now() > deadline) return left;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

BpfObjectWatch::BpfObjectWatch(pid_t pid) : pid_(pid) {
    thread_ = std::thread([this] {
        while (!stop_) {
            auto now = bpf_ids_of(pid_);
            {
                std::lock_guard lock(mutex_);
                seen_.merge(now);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
}

BpfObjectWatch::~BpfObjectWatch() {
    stop();
}

void BpfObjectWatch::stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

BpfIds BpfObjectWatch::sample() {
    auto now = bpf_ids_of(pid_);
    std::lock_guard lock(mutex_);
    seen_.merge(now);
    return now;
}

BpfIds BpfObjectWatch::seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
}

bool BpfObjectWatch::wait_for_program(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (seen().programs.empty()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

bool BpfObjectWatch::wait_for_any(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (seen().empty()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

std::string describe(const InterfaceAttachments& a) {
    std::ostringstream out;
    out << "xdp " << join(a.xdp) << ", tcx ingress " << join(a.tcx_ingress) << ", tcx egress " << join(a.tcx_egress)
        << ", clsact qdisc " << (a.clsact ? "yes" : "no") << ", tc ingress filters [" << a.tc_ingress_filters
        << "], tc egress filters [" << a.tc_egress_filters << "]";
    return out.str();
}

InterfaceAttachments attachments_of(const std::string& interface) {
    InterfaceAttachments a;
    const int ifindex = static_cast<int>(::if_nametoindex(interface.c_str()));
    if (ifindex == 0) throw std::runtime_error("no interface " + interface);
    bpf_xdp_query_opts xdp{};
    xdp.sz = sizeof(xdp);
    if (bpf_xdp_query(ifindex, 0, &xdp) == 0)
        for (std::uint32_t id : {xdp.prog_id, xdp.drv_prog_id, xdp.hw_prog_id, xdp.skb_prog_id})
            if (id) a.xdp.insert(id);
    a.tcx_ingress = tcx_programs(ifindex, kTcxIngress);
    a.tcx_egress = tcx_programs(ifindex, kTcxEgress);
    a.clsact = command_output("tc qdisc show dev " + interface).find("clsact") != std::string::npos;
    if (a.clsact) {
        a.tc_ingress_filters = command_output("tc filter show dev " + interface + " ingress");
        a.tc_egress_filters = command_output("tc filter show dev " + interface + " egress");
    }
    return a;
}

}  // namespace test
