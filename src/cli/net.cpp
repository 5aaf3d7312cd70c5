#include "net.hpp"

#include <fmt/format.h>
#include <net/if.h>

#include <iostream>

namespace ebpf_tool {

void add_net_options(CLI::App* cmd, NetOptions& options) {
    cmd->add_option("--iface", options.ifaces, "Network interface to watch (repeatable)")->required();
    cmd->add_option("--hook", options.hook, "xdp (native where the driver has it, generic otherwise) or tc (tcx)")
        ->check(CLI::IsMember({"xdp", "tc"}))
        ->capture_default_str();
    cmd->add_option("--direction", options.direction, "ingress, egress or both (default: ingress for xdp, both for tc)")
        ->check(CLI::IsMember({"ingress", "egress", "both"}));
    cmd->add_option("-i,--interval", options.interval, "Seconds between prints")
        ->check(kPositiveSeconds)
        ->capture_default_str();
    cmd->add_option("-d,--duration", options.duration, "Seconds to run (default: until Ctrl-C)")
        ->check(kPositiveSeconds);
    cmd->add_option("-c,--count", options.count, "Stop after N prints")->check(kPositiveInteger);
    cmd->add_flag("--json", options.json, "One JSON object per interval");
}

NetTargets resolve_net_targets(const NetOptions& options, std::size_t max_ifaces) {
    NetTargets t;
    if (options.ifaces.size() > max_ifaces)
        throw UsageError(fmt::format("--iface: at most {} interfaces at once", max_ifaces));
    for (const auto& name : options.ifaces) {
        int ifindex = static_cast<int>(if_nametoindex(name.c_str()));
        if (!ifindex) throw UsageError("--iface " + name + ": no such network interface");
        for (int seen : t.ifindexes)
            if (seen == ifindex) throw UsageError("--iface " + name + ": given twice");
        t.ifindexes.push_back(ifindex);
        t.names.push_back(name);
    }
    t.xdp = options.hook == "xdp";
    std::string direction = options.direction.empty() ? (t.xdp ? "ingress" : "both") : options.direction;
    if (t.xdp && direction != "ingress")
        throw UsageError("--direction " + direction + ": XDP sees ingress only (use --hook tc for egress)");
    t.ingress = direction != "egress";
    t.egress = direction != "ingress";
    return t;
}

std::vector<ebpf::NetLink> attach_net(const NetTargets& targets, const NetPrograms& programs, const char* command) {
    std::vector<ebpf::NetLink> links;
    for (int ifindex : targets.ifindexes) {
        if (targets.xdp) {
            links.push_back(ebpf::attach_xdp(programs.xdp, ifindex));
        } else {
            if (targets.ingress)
                links.push_back(ebpf::attach_tcx(programs.tc_ingress, ifindex, ebpf::TcDirection::ingress));
            if (targets.egress)
                links.push_back(ebpf::attach_tcx(programs.tc_egress, ifindex, ebpf::TcDirection::egress));
        }
    }
    for (const auto& link : links) std::cerr << command << ": attached to " << link.where() << '\n';
    return links;
}

std::string short_duration(double seconds) {
    if (seconds < 0) seconds = 0;
    if (seconds < 60) return fmt::format("{:.1f}s", seconds);
    auto s = static_cast<std::uint64_t>(seconds);
    if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
}

}  // namespace ebpf_tool
