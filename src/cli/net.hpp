// What `ebpf-tool proto` and `ebpf-tool conns` share: the interface and hook options, and
// attaching one program per interface and direction through links that the kernel
// detaches when the process ends, however it ends.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common.hpp"
#include "ebpf/attach.hpp"

namespace ebpf_tool {

struct NetOptions {
    std::vector<std::string> ifaces;
    std::string hook = "xdp";
    std::string direction;  // empty: ingress for XDP, both for tc
    double interval = 1.0;
    std::optional<double> duration;
    std::optional<std::uint64_t> count;
    bool json = false;
};

// --iface (repeatable, required), --hook, --direction, --interval, --duration, --count, --json.
void add_net_options(CLI::App* cmd, NetOptions& options);

struct NetTargets {
    std::vector<int> ifindexes;  // in --iface order
    std::vector<std::string> names;
    bool xdp = true;
    bool ingress = true, egress = false;
};

// Checks the options: an unknown interface, a repeated one, or a direction the hook does
// not have is a UsageError of one line.
NetTargets resolve_net_targets(const NetOptions& options, std::size_t max_ifaces);

// The programs to attach: XDP, or tc ingress and egress.
struct NetPrograms {
    int xdp = -1, tc_ingress = -1, tc_egress = -1;
};

// Attaches on every target interface and direction, reporting each attachment (with the
// XDP mode it got) on stderr as "COMMAND: attached to xdp (native) on eth0". All or none:
// when one fails, those made before are detached as the exception unwinds.
[[nodiscard]] std::vector<ebpf::NetLink> attach_net(const NetTargets& targets, const NetPrograms& programs,
                                                    const char* command);

// "1.2s", "3m04s", "2h05m": an age for a table column.
std::string short_duration(double seconds);

}  // namespace ebpf_tool
