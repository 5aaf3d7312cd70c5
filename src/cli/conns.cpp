// `ebpf-tool conns --iface IF`: a connection table. Each flow (5-tuple, direction,
// interface) has packets, bytes (L2 frame length), first and last seen and the TCP flags
// seen, in an LRU hash; the busiest flows print every interval.
//
// Evictions are exact: the kernel side counts every flow it inserts (an insert with
// BPF_NOEXIST that succeeded), so created = present + evicted at any moment no insert is
// under way. We read created, walk the table, and read created again: equal reads mean no
// flow was inserted meanwhile, and none can have been evicted either (the LRU evicts
// only to make room for an insert), so created - present is the exact count. Entries a
// user deletes by hand (`ebpf-tool map delete`) are counted as evicted too.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>

#include "commands.hpp"
#include "conns.skel.h"
#include "ebpf/hash_map.hpp"
#include "ebpf/lpm_trie.hpp"
#include "ebpf/object.hpp"
#include "ebpf/percpu.hpp"
#include "net.h"
#include "net.hpp"
#include "probes.hpp"

EBPF_SKELETON(conns_bpf);

namespace ebpf_tool {

struct ConnTracker::Kernel {
    ebpf::Skeleton<conns_bpf> skel = ebpf::Skeleton<conns_bpf>::open();
    NetTargets targets;
    std::optional<ebpf::LpmTrie<ebpf::Ipv4, std::uint8_t>> v4;
    std::optional<ebpf::LpmTrie<ebpf::Ipv6, std::uint8_t>> v6;
    std::optional<ebpf::LruHashMap<flow_key, flow_value>> flows;
    std::optional<ebpf::PerCpuArray<std::uint64_t>> counters;
    std::vector<ebpf::NetLink> links;
};

ConnTracker::ConnTracker(const NetTargets& targets, std::uint32_t max_entries, const std::vector<Cidr>& cidrs)
    : kernel_(std::make_unique<Kernel>()) {
    auto& skel = kernel_->skel;
    kernel_->targets = targets;
    skel->rodata->filter_cidr = !cidrs.empty();
    // The kernel side's clock (now_ns in conns.bpf.c): jiffies times the tick, which is
    // the coarse clock's resolution. 0 if that cannot be read: the coarse clock then.
    timespec tick{};
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &tick) == 0 && tick.tv_sec == 0)
        skel->rodata->tick_ns = static_cast<__u64>(tick.tv_nsec);
    if (targets.ifindexes.size() == 1) skel->rodata->only_ifindex = static_cast<__u32>(targets.ifindexes[0]);
    bpf_map__set_max_entries(skel->maps.flows, max_entries);
    bpf_program__set_autoload(skel->progs.xdp_conns, targets.xdp);
    bpf_program__set_autoload(skel->progs.tc_conns_ingress, !targets.xdp);
    bpf_program__set_autoload(skel->progs.tc_conns_egress, !targets.xdp);
    skel.load();

    auto& v4 = kernel_->v4.emplace(ebpf::LpmTrie<ebpf::Ipv4, std::uint8_t>::from_libbpf(skel->maps.cidr_v4));
    auto& v6 = kernel_->v6.emplace(ebpf::LpmTrie<ebpf::Ipv6, std::uint8_t>::from_libbpf(skel->maps.cidr_v6));
    for (const auto& c : cidrs) {
        if (c.family == 4) {
            ebpf::Ipv4 a{};
            std::copy_n(c.addr.begin(), 4, a.begin());
            v4.update({c.prefixlen, a}, 1);
        } else {
            v6.update({c.prefixlen, c.addr}, 1);
        }
    }
    kernel_->flows.emplace(ebpf::LruHashMap<flow_key, flow_value>::from_libbpf(skel->maps.flows));
    kernel_->counters.emplace(ebpf::PerCpuArray<std::uint64_t>::from_libbpf(skel->maps.conns_counters));
}
ConnTracker::~ConnTracker() = default;
ConnTracker::ConnTracker(ConnTracker&&) noexcept = default;
ConnTracker& ConnTracker::operator=(ConnTracker&&) noexcept = default;

void ConnTracker::attach(const char* command) {
    auto& skel = kernel_->skel;
    kernel_->links = attach_net(kernel_->targets,
                                {bpf_program__fd(skel->progs.xdp_conns), bpf_program__fd(skel->progs.tc_conns_ingress),
                                 bpf_program__fd(skel->progs.tc_conns_egress)},
                                command);
}

std::pair<std::uint32_t, std::uint32_t> ConnTracker::cidr_map_ids() const {
    return {kernel_->v4->info().id, kernel_->v6->info().id};
}

ConnsTable ConnTracker::read() const {
    const auto& flows = *kernel_->flows;
    const auto& counters = *kernel_->counters;
    ConnsTable t;
    for (int attempt = 0; attempt < 5; ++attempt) {
        auto before = counters.sums();
        auto entries = flows.entries();
        auto after = counters.sums();
        t.flows.assign(entries.begin(), entries.end());
        t.complete = entries.complete();
        t.created = after.at(CONNS_CREATED);
        t.insert_failed = after.at(CONNS_INSERT_FAILED);
        t.filtered = after.at(CONNS_FILTERED);
        t.evictions_exact = before.at(CONNS_CREATED) == t.created && t.complete;
        t.evicted = t.created > t.flows.size() ? t.created - t.flows.size() : 0;
        if (t.evictions_exact) break;
    }
    return t;
}

const char* ip_protocol_name(std::uint8_t protocol) {
    switch (protocol) {
        case IPPROTO_TCP:
            return "tcp";
        case IPPROTO_UDP:
            return "udp";
        case IPPROTO_ICMP:
            return "icmp";
        case IPPROTO_ICMPV6:
            return "icmpv6";
        default:
            return nullptr;
    }
}

namespace {

struct ConnsOptions : NetOptions {
    std::uint32_t max_entries = CONNS_DEFAULT_MAX_ENTRIES;
    std::string sort = "bytes";
    std::uint32_t top = 20;
    std::vector<std::string> cidrs;
};

// "10.0.0.0/8", "fd00::/8", or an address alone (a /32 or /128). Host bits past the
// prefix are cleared, as the trie ignores them anyway.
Cidr parse_cidr(const std::string& text) {
    Cidr c;
    auto slash = text.find('/');
    std::string address = text.substr(0, slash);
    c.family = address.find(':') != std::string::npos ? 6 : 4;
    const std::uint32_t max = c.family == 4 ? 32 : 128;
    if (inet_pton(c.family == 4 ? AF_INET : AF_INET6, address.c_str(), c.addr.data()) != 1)
        throw UsageError("--cidr " + text + ": not an IPv4 or IPv6 prefix (e.g. 10.0.0.0/8, fd00::/8)");
    c.prefixlen = max;
    if (slash != std::string::npos) {
        std::string bits = text.substr(slash + 1);
        unsigned long n = 0;
        std::size_t used = 0;
        try {
            n = std::stoul(bits, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (bits.empty() || used != bits.size() || n > max)
            throw UsageError(fmt::format("--cidr {}: prefix length must be 0 to {}", text, max));
        c.prefixlen = static_cast<std::uint32_t>(n);
    }
    for (std::uint32_t bit = c.prefixlen; bit < max; ++bit)
        c.addr[bit / 8] = static_cast<std::uint8_t>(c.addr[bit / 8] & ~(0x80u >> (bit % 8)));
    return c;
}

std::string address_text(const flow_key& k, const std::uint8_t* addr, std::uint16_t port) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(k.family == 4 ? AF_INET : AF_INET6, addr, buf, sizeof(buf));
    bool ports = k.protocol == IPPROTO_TCP || k.protocol == IPPROTO_UDP;
    if (!ports) return buf;
    return k.family == 4 ? fmt::format("{}:{}", buf, port) : fmt::format("[{}]:{}", buf, port);
}

// The name, or the number for a protocol without one.
std::string protocol_name(std::uint8_t p) {
    const char* name = ip_protocol_name(p);
    return name ? name : std::to_string(p);
}

std::string flags_text(std::uint32_t flags) {
    static const char* const names[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    std::string out;
    for (int bit = 0; bit < 8; ++bit)
        if (flags & (1u << bit)) out += (out.empty() ? "" : ",") + std::string(names[bit]);
    return out;
}

// The clock of first_ns/last_ns (now_ns() in conns.bpf.c).
std::uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// A CLOCK_MONOTONIC_COARSE time (first_ns/last_ns) as UTC, to the millisecond.
std::string wall_time(std::uint64_t mono_ns, std::uint64_t mono_now, std::int64_t wall_now_ms) {
    std::int64_t ms =
        wall_now_ms - static_cast<std::int64_t>((mono_now - std::min<std::uint64_t>(mono_ns, mono_now)) / 1'000'000);
    time_t secs = static_cast<time_t>(ms / 1000);
    tm t{};
    gmtime_r(&secs, &t);
    char buf[32];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &t);
    return fmt::format("{}.{:03}Z", buf, ms % 1000);
}

using Table = ConnsTable;

void print(Table table, const NetTargets& targets, const ConnsOptions& options, const GlobalOptions& global) {
    const std::uint64_t now = monotonic_ns();
    const auto wall_now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    const std::size_t present = table.flows.size();
    auto& rows = table.flows;
    std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
        if (options.sort == "packets" && a.second.packets != b.second.packets)
            return a.second.packets > b.second.packets;
        if (options.sort == "age" && a.second.first_ns != b.second.first_ns)
            return a.second.first_ns < b.second.first_ns;
        if (a.second.bytes != b.second.bytes) return a.second.bytes > b.second.bytes;
        return std::memcmp(&a.first, &b.first, sizeof(flow_key)) < 0;
    });
    if (options.top && rows.size() > options.top) rows.resize(options.top);
    auto iface = [&](std::uint32_t ifindex) {
        for (std::size_t i = 0; i < targets.ifindexes.size(); ++i)
            if (static_cast<std::uint32_t>(targets.ifindexes[i]) == ifindex) return targets.names[i];
        return std::to_string(ifindex);
    };
    const double to_s = 1e-9;

    if (options.json || global.json) {
        auto list = nlohmann::ordered_json::array();
        for (const auto& [k, v] : rows) {
            char src[INET6_ADDRSTRLEN] = {}, dst[INET6_ADDRSTRLEN] = {};
            inet_ntop(k.family == 4 ? AF_INET : AF_INET6, k.saddr, src, sizeof(src));
            inet_ntop(k.family == 4 ? AF_INET : AF_INET6, k.daddr, dst, sizeof(dst));
            nlohmann::ordered_json row{
                {"iface", iface(k.ifindex)},
                {"direction", k.direction ? "egress" : "ingress"},
                {"protocol", protocol_name(k.protocol)},
                {"src", src},
                {"sport", k.sport},
                {"dst", dst},
                {"dport", k.dport},
                {"packets", v.packets},
                {"bytes", v.bytes},
                {"first_seen", wall_time(v.first_ns, now, wall_now_ms)},
                {"last_seen", wall_time(v.last_ns, now, wall_now_ms)},
                {"age",
                 std::round(static_cast<double>(now - std::min<std::uint64_t>(v.first_ns, now)) * to_s * 1000) / 1000}};
            if (k.protocol == IPPROTO_TCP) {
                row["tcp_flags"] = flags_text(v.tcp_flags);
            }
            list.push_back(std::move(row));
        }
        nlohmann::ordered_json doc{{"time", iso_time()},
                                   {"flows", present},
                                   {"created", table.created},
                                   {"evicted", table.evicted},
                                   {"evictions_exact", table.evictions_exact},
                                   {"insert_failed", table.insert_failed},
                                   {"filtered", table.filtered},
                                   {"connections", std::move(list)}};
        print_json(std::cout, doc, global);
        return;
    }
    std::string text = fmt::format("{}  flows {} of {}, created {}, evicted {}{}", clock_time(), present,
                                   options.max_entries, table.created, table.evictions_exact ? "" : "~", table.evicted);
    if (table.filtered) text += fmt::format(", filtered out {} packets", table.filtered);
    if (table.insert_failed) text += fmt::format(", {} packets not tracked (insert failed)", table.insert_failed);
    text += "\n";
    std::size_t src_w = 6, dst_w = 11, if_w = 5;
    for (const auto& [k, v] : rows) {
        src_w = std::max(src_w, address_text(k, k.saddr, k.sport).size());
        dst_w = std::max(dst_w, address_text(k, k.daddr, k.dport).size());
        if_w = std::max(if_w, iface(k.ifindex).size());
    }
    text += fmt::format("{:<6} {:<{}} {:<{}} {:<3} {:<{}} {:>9} {:>11} {:>7} {:>7} {}\n", "PROTO", "SOURCE", src_w,
                        "DESTINATION", dst_w, "DIR", "IFACE", if_w, "PACKETS", "BYTES", "AGE", "IDLE", "TCP FLAGS");
    for (const auto& [k, v] : rows) {
        text += fmt::format("{:<6} {:<{}} {:<{}} {:<3} {:<{}} {:>9} {:>11} {:>7} {:>7} {}", protocol_name(k.protocol),
                            address_text(k, k.saddr, k.sport), src_w, address_text(k, k.daddr, k.dport), dst_w,
                            k.direction ? "out" : "in", iface(k.ifindex), if_w, v.packets, v.bytes,
                            short_duration(static_cast<double>(now - std::min<std::uint64_t>(v.first_ns, now)) * to_s),
                            short_duration(static_cast<double>(now - std::min<std::uint64_t>(v.last_ns, now)) * to_s),
                            flags_text(v.tcp_flags));
        while (text.back() == ' ') text.pop_back();  // no flags: no trailing blanks
        text += '\n';
    }
    std::cout << text << std::flush;
}

void run_conns(const ConnsOptions& options, const GlobalOptions& global) {
    NetTargets targets = resolve_net_targets(options, 64);
    std::vector<Cidr> cidrs;
    for (const auto& text : options.cidrs) cidrs.push_back(parse_cidr(text));
    prepare_kernel(global, /*need_tracefs=*/false);
    StopSignals signals;

    ConnTracker tracker(targets, options.max_entries, cidrs);
    tracker.attach("conns");
    if (!cidrs.empty()) {
        auto [v4_id, v6_id] = tracker.cidr_map_ids();
        std::cerr << fmt::format(
            "conns: --cidr filter in map id {} (cidr_v4) and id {} (cidr_v6); change it while this runs with "
            "`ebpf-tool map update|delete id N key ...`\n",
            v4_id, v6_id);
    }
    std::cerr << "Tracking connections... Hit Ctrl-C to end." << std::endl;

    IntervalLoop loop(signals, seconds(options.interval),
                      options.duration ? std::optional(seconds(*options.duration)) : std::nullopt, options.count);
    for (;;) {
        bool more = loop.next();
        print(tracker.read(), targets, options, global);
        if (!more) break;
    }
}

}  // namespace

void add_conns_command(CLI::App& app, const GlobalOptions& global) {
    auto options = std::make_shared<ConnsOptions>();
    auto* cmd = app.add_subcommand("conns", "Track connections (5-tuples) on network interfaces in an LRU hash");
    add_net_options(cmd, *options);
    cmd->add_option("--max-entries", options->max_entries, "Flows the table holds (LRU: the least recent go first)")
        ->check(CLI::Range(1u, 16u * 1024 * 1024))
        ->capture_default_str();
    cmd->add_option("--sort", options->sort, "packets, bytes or age (oldest first)")
        ->check(CLI::IsMember({"packets", "bytes", "age"}))
        ->capture_default_str();
    cmd->add_option("-T,--top", options->top, "Rows to print (0: all)")
        ->check(kNonNegativeInteger)
        ->capture_default_str();
    cmd->add_option("--cidr", options->cidrs,
                    "Keep only flows from or to this prefix (repeatable; an LPM trie you can change while it runs)");
    cmd->callback([options, &global] { run_conns(*options, global); });
}

}  // namespace ebpf_tool
