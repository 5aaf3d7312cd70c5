// `ebpf-tool proto --iface IF`: packets and bytes per protocol (IPv4/IPv6 × TCP, UDP,
// ICMP/ICMPv6, other; non-IP) per interface and direction, from a per-CPU array summed
// here. The counters only grow: every print shows the totals since the start, read
// without ever resetting a counter (a reset would lose the increments made meanwhile).
// "bytes" is the L2 frame length (bpf/shared/net.h).
#include <fmt/format.h>

#include <iostream>

#include "commands.hpp"
#include "ebpf/object.hpp"
#include "ebpf/percpu.hpp"
#include "net.h"
#include "net.hpp"
#include "probes.hpp"
#include "proto.skel.h"

EBPF_SKELETON(proto_bpf);

namespace ebpf_tool {

// Row names, in enum proto_slot order; the JSON names are the text ones in lower case.
const std::array<std::pair<const char*, const char*>, PROTO_SLOTS> kProtoSlotNames{{
    {"IPv4", "TCP"},
    {"IPv4", "UDP"},
    {"IPv4", "ICMP"},
    {"IPv4", "other"},
    {"IPv6", "TCP"},
    {"IPv6", "UDP"},
    {"IPv6", "ICMPv6"},
    {"IPv6", "other"},
    {"non-IP", "-"},
    {"unparsed", "-"},
}};

struct ProtoCounter::Kernel {
    ebpf::Skeleton<proto_bpf> skel = ebpf::Skeleton<proto_bpf>::open();
    NetTargets targets;
    std::optional<ebpf::PerCpuArray<proto_count>> counts;
    std::vector<ebpf::NetLink> links;
};

ProtoCounter::ProtoCounter(const NetTargets& targets) : kernel_(std::make_unique<Kernel>()) {
    auto& skel = kernel_->skel;
    kernel_->targets = targets;
    skel->rodata->iface_count = static_cast<__u32>(targets.ifindexes.size());
    for (std::size_t i = 0; i < targets.ifindexes.size(); ++i)
        skel->rodata->ifindexes[i] = static_cast<__u32>(targets.ifindexes[i]);
    // Load only the hook's programs: the others would cost verifier time for nothing.
    for (auto* p : {skel->progs.xdp_proto, skel->progs.xdp_proto_ipv4, skel->progs.xdp_proto_ipv6})
        bpf_program__set_autoload(p, targets.xdp);
    for (auto* p : {skel->progs.tc_proto_ingress, skel->progs.tc_proto_egress, skel->progs.tc_proto_ipv4,
                    skel->progs.tc_proto_ipv6})
        bpf_program__set_autoload(p, !targets.xdp);
    skel.load();

    // The parsers go into the prog array before anything is attached: no frame ever
    // finds an empty slot.
    auto parsers = ebpf::Map::from_libbpf(targets.xdp ? skel->maps.xdp_parsers : skel->maps.tc_parsers);
    const std::pair<std::uint32_t, ::bpf_program*> table[] = {
        {PROTO_PARSER_IPV4, targets.xdp ? skel->progs.xdp_proto_ipv4 : skel->progs.tc_proto_ipv4},
        {PROTO_PARSER_IPV6, targets.xdp ? skel->progs.xdp_proto_ipv6 : skel->progs.tc_proto_ipv6}};
    for (const auto& [slot, program] : table) {
        std::uint32_t fd = static_cast<std::uint32_t>(bpf_program__fd(program));
        parsers.update(&slot, &fd);
    }
    kernel_->counts.emplace(ebpf::PerCpuArray<proto_count>::from_libbpf(skel->maps.proto_counts));
}
ProtoCounter::~ProtoCounter() = default;
ProtoCounter::ProtoCounter(ProtoCounter&&) noexcept = default;
ProtoCounter& ProtoCounter::operator=(ProtoCounter&&) noexcept = default;

void ProtoCounter::attach(const char* command) {
    auto& skel = kernel_->skel;
    kernel_->links = attach_net(kernel_->targets,
                                {bpf_program__fd(skel->progs.xdp_proto), bpf_program__fd(skel->progs.tc_proto_ingress),
                                 bpf_program__fd(skel->progs.tc_proto_egress)},
                                command);
}

std::vector<std::vector<proto_count>> ProtoCounter::read() const {
    std::vector<std::vector<proto_count>> per_cpu(kernel_->counts->size());
    for (const auto& [index, values] : kernel_->counts->entries())
        if (index < per_cpu.size()) per_cpu[index] = values.values();
    return per_cpu;
}

std::vector<ProtoRow> proto_rows(const std::vector<std::vector<proto_count>>& counts, const NetTargets& targets) {
    const auto lower = [](std::string s) {
        for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    std::vector<ProtoRow> rows;
    for (std::size_t i = 0; i < targets.ifindexes.size(); ++i) {
        for (std::uint32_t dir = 0; dir < NET_DIRECTIONS; ++dir) {
            if ((dir == 0 && !targets.ingress) || (dir == 1 && !targets.egress)) continue;
            for (std::uint32_t slot = 0; slot < PROTO_SLOTS; ++slot) {
                ProtoRow row{i, dir, slot, lower(kProtoSlotNames[slot].first), lower(kProtoSlotNames[slot].second)};
                row.per_cpu = &counts.at((i * NET_DIRECTIONS + dir) * PROTO_SLOTS + slot);
                for (const auto& v : *row.per_cpu) {
                    row.sum.packets += v.packets;
                    row.sum.bytes += v.bytes;
                }
                rows.push_back(std::move(row));
            }
        }
    }
    return rows;
}

namespace {

struct ProtoOptions : NetOptions {
    bool per_cpu = false;
};

struct Counters {
    // By counter index: per-CPU values.
    std::vector<std::vector<proto_count>> per_cpu;
};

void print(const Counters& counters, const NetTargets& targets, const ProtoOptions& options,
           const GlobalOptions& global) {
    const bool json = options.json || global.json;
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    std::string text = clock_time() + "\n";
    text +=
        fmt::format("{:<16} {:<8} {:<7} {:<7} {:>12} {:>14}", "IFACE", "DIR", "FAMILY", "PROTO", "PACKETS", "BYTES");
    std::size_t cpus = ebpf::possible_cpus();
    if (options.per_cpu)
        for (std::size_t cpu = 0; cpu < cpus; ++cpu) text += fmt::format(" {:>10}", fmt::format("CPU{}", cpu));
    text += "\n";
    for (const ProtoRow& r : proto_rows(counters.per_cpu, targets)) {
        // A frame no parser took is a bug, not a protocol: shown only if it happened.
        if (r.slot == PROTO_UNPARSED && r.sum.packets == 0) continue;
        const char* direction = r.direction ? "egress" : "ingress";
        if (json) {
            nlohmann::ordered_json row{
                {"iface", targets.names[r.iface]}, {"direction", direction},   {"family", r.family},
                {"protocol", r.protocol},          {"packets", r.sum.packets}, {"bytes", r.sum.bytes}};
            if (options.per_cpu) {
                auto list = nlohmann::ordered_json::array();
                for (const auto& v : *r.per_cpu) list.push_back({{"packets", v.packets}, {"bytes", v.bytes}});
                row["per_cpu"] = std::move(list);
            }
            rows.push_back(std::move(row));
        } else {
            text +=
                fmt::format("{:<16} {:<8} {:<7} {:<7} {:>12} {:>14}", targets.names[r.iface], direction,
                            kProtoSlotNames[r.slot].first, kProtoSlotNames[r.slot].second, r.sum.packets, r.sum.bytes);
            if (options.per_cpu)
                for (const auto& v : *r.per_cpu) text += fmt::format(" {:>10}", v.packets);
            text += "\n";
        }
    }
    if (json) {
        print_json(std::cout, {{"time", iso_time()}, {"protocols", std::move(rows)}}, global);
    } else {
        std::cout << text << std::flush;
    }
}

void run_proto(const ProtoOptions& options, const GlobalOptions& global) {
    NetTargets targets = resolve_net_targets(options, NET_MAX_IFACES);
    prepare_kernel(global, /*need_tracefs=*/false);
    StopSignals signals;

    ProtoCounter counter(targets);
    counter.attach("proto");
    std::cerr << "Counting packets by protocol... Hit Ctrl-C to end." << std::endl;

    IntervalLoop loop(signals, seconds(options.interval),
                      options.duration ? std::optional(seconds(*options.duration)) : std::nullopt, options.count);
    for (;;) {
        bool more = loop.next();
        print(Counters{counter.read()}, targets, options, global);
        if (!more) break;
    }
}

}  // namespace

void add_proto_command(CLI::App& app, const GlobalOptions& global) {
    auto options = std::make_shared<ProtoOptions>();
    auto* cmd = app.add_subcommand(
        "proto", "Count packets and bytes per protocol on network interfaces (XDP or tcx; totals since start)");
    add_net_options(cmd, *options);
    cmd->add_flag("--per-cpu", options->per_cpu, "Show each CPU's slot too (packets)");
    cmd->callback([options, &global] { run_proto(*options, global); });
}

}  // namespace ebpf_tool
