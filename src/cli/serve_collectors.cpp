#include "serve_collectors.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <map>
#include <string>

#include "common.hpp"
#include "ebpf/syscalls.hpp"
#include "probes.hpp"

namespace ebpf_tool::serve {

namespace {

using metrics::Family;
using metrics::Label;
using metrics::Sample;
using metrics::Type;

Sample sample(std::vector<Label> labels, double value) {
    Sample s;
    s.labels = std::move(labels);
    s.value = value;
    return s;
}

double number(std::uint64_t n) {
    return static_cast<double>(n);
}

class ExecsCollector final : public metrics::Collector {
public:
    ExecsCollector() { counter_.attach(); }
    std::string name() const override { return "execs"; }

    void collect(std::vector<Family>& out) override {
        Family execs{
            "ebpf_execs", "Execs (execve and execveat calls) per user since the exporter started", Type::counter, {}};
        for (auto [uid, count] : counter_.counts())
            execs.samples.push_back(sample({{"uid", std::to_string(uid)}, {"user", user(uid)}}, number(count)));
        out.push_back(std::move(execs));
        out.push_back(Family{"ebpf_execs_dropped",
                             "Execs not counted because the per-user table was full",
                             Type::counter,
                             {sample({}, number(counter_.dropped()))}});
    }

private:
    // Names are looked up once per UID: a scrape of thousands of users does not read the
    // passwd database thousands of times. An empty name is a UID without an account.
    const std::string& user(std::uint32_t uid) {
        auto it = users_.find(uid);
        if (it == users_.end()) it = users_.emplace(uid, user_name(uid).value_or("")).first;
        return it->second;
    }

    ExecCounter counter_;
    std::map<std::uint32_t, std::string> users_;
};

class StatsCollector final : public metrics::Collector {
public:
    StatsCollector() : counter_(std::nullopt, false) { counter_.attach(); }
    std::string name() const override { return "stats"; }

    void collect(std::vector<Family>& out) override {
        // Two numbers could share a name (a name table that lags the kernel): one series each
        // name, summed, since Prometheus refuses two series with the same labels.
        std::map<std::string, std::uint64_t> by_name;
        for (const auto& row : counter_.read()) by_name[syscall(row.nr)] += row.count;
        Family calls{
            "ebpf_syscalls", "System calls by name, system-wide, since the exporter started", Type::counter, {}};
        for (const auto& [name, count] : by_name) calls.samples.push_back(sample({{"syscall", name}}, number(count)));
        out.push_back(std::move(calls));

        SyscallDrops drops = counter_.drops();
        out.push_back(Family{"ebpf_syscalls_dropped",
                             "System calls not counted, by reason",
                             Type::counter,
                             {sample({{"reason", "out_of_range"}}, number(drops.out_of_range)),
                              sample({{"reason", "map_full"}}, number(drops.map_full))}});
        out.push_back(Family{"ebpf_syscalls_missed",
                             "Runs of the syscall counting program the kernel skipped (recursion)",
                             Type::counter,
                             {sample({}, number(drops.missed))}});
    }

private:
    const std::string& syscall(std::uint32_t nr) {
        auto it = names_.find(nr);
        if (it == names_.end()) it = names_.emplace(nr, ebpf::syscall_name(nr)).first;
        return it->second;
    }

    SyscallCounter counter_;
    std::map<std::uint32_t, std::string> names_;
};

class ProtoCollector final : public metrics::Collector {
public:
    explicit ProtoCollector(const NetTargets& targets) : targets_(targets), counter_(targets) {
        counter_.attach("serve");
    }
    std::string name() const override { return "proto"; }

    void collect(std::vector<Family>& out) override {
        auto counts = counter_.read();
        Family packets{"ebpf_proto_packets",
                       "Packets per interface, direction, address family and protocol since the exporter started",
                       Type::counter,
                       {}};
        Family bytes{"ebpf_proto_bytes",
                     "Bytes (L2 frame length) per interface, direction, address family and protocol since the "
                     "exporter started",
                     Type::counter,
                     {}};
        for (const ProtoRow& r : proto_rows(counts, targets_)) {
            // "unparsed" (a frame no parser took) is kept: it is the loss counter.
            std::vector<Label> labels{{"iface", targets_.names[r.iface]},
                                      {"direction", r.direction ? "egress" : "ingress"},
                                      {"family", r.family},
                                      {"protocol", r.protocol}};
            packets.samples.push_back(sample(labels, number(r.sum.packets)));
            bytes.samples.push_back(sample(std::move(labels), number(r.sum.bytes)));
        }
        out.push_back(std::move(packets));
        out.push_back(std::move(bytes));
    }

private:
    NetTargets targets_;
    ProtoCounter counter_;
};

// Named protocols, and "other" for the rest: one label value, not one per number.
const char* protocol_name(std::uint8_t p) {
    const char* name = ip_protocol_name(p);
    return name ? name : "other";
}

class ConnsCollector final : public metrics::Collector {
public:
    explicit ConnsCollector(const NetTargets& targets)
        : targets_(targets), tracker_(targets, CONNS_DEFAULT_MAX_ENTRIES, {}) {
        tracker_.attach("serve");
    }
    std::string name() const override { return "conns"; }

    void collect(std::vector<Family>& out) override {
        ConnsTable table = tracker_.read();
        // Flows now in the table by interface, direction, family and protocol: a gauge (flows
        // come and go). The 5-tuples themselves are not labels: unbounded cardinality.
        std::map<std::vector<std::string>, std::uint64_t> present;
        for (const auto& [key, value] : table.flows)
            ++present[{iface(key.ifindex), key.direction ? "egress" : "ingress", key.family == 4 ? "ipv4" : "ipv6",
                       protocol_name(key.protocol)}];
        Family flows{"ebpf_conns_flows", "Flows in the connection table now", Type::gauge, {}};
        for (const auto& [labels, count] : present)
            flows.samples.push_back(
                sample({{"iface", labels[0]}, {"direction", labels[1]}, {"family", labels[2]}, {"protocol", labels[3]}},
                       number(count)));
        out.push_back(std::move(flows));
        out.push_back(Family{"ebpf_conns_flows_max",
                             "Flows the connection table holds (LRU: the least recent go first)",
                             Type::gauge,
                             {sample({}, CONNS_DEFAULT_MAX_ENTRIES)}});
        out.push_back(Family{"ebpf_conns_created",
                             "Flows inserted into the connection table since the exporter started",
                             Type::counter,
                             {sample({}, number(table.created))}});
        // created - present is exact when no insert raced the walk (conns.cpp); an inexact
        // read may be a little high or low, and a counter must never go down.
        evicted_ = std::max(evicted_, table.evicted);
        out.push_back(Family{"ebpf_conns_evicted",
                             "Flows evicted from the full connection table (or deleted by hand) since the exporter "
                             "started",
                             Type::counter,
                             {sample({}, number(evicted_))}});
        out.push_back(Family{"ebpf_conns_insert_failed_packets",
                             "Packets not tracked because inserting their flow failed",
                             Type::counter,
                             {sample({}, number(table.insert_failed))}});
        out.push_back(Family{"ebpf_conns_filtered_packets",
                             "IP packets left out by the address filter",
                             Type::counter,
                             {sample({}, number(table.filtered))}});
    }

private:
    std::string iface(std::uint32_t ifindex) const {
        for (std::size_t i = 0; i < targets_.ifindexes.size(); ++i)
            if (static_cast<std::uint32_t>(targets_.ifindexes[i]) == ifindex) return targets_.names[i];
        return std::to_string(ifindex);
    }

    NetTargets targets_;
    ConnTracker tracker_;
    std::uint64_t evicted_ = 0;
};

}  // namespace

std::unique_ptr<metrics::Collector> make_execs_collector() {
    return std::make_unique<ExecsCollector>();
}
std::unique_ptr<metrics::Collector> make_stats_collector() {
    return std::make_unique<StatsCollector>();
}
std::unique_ptr<metrics::Collector> make_proto_collector(const NetTargets& targets) {
    return std::make_unique<ProtoCollector>(targets);
}
std::unique_ptr<metrics::Collector> make_conns_collector(const NetTargets& targets) {
    return std::make_unique<ConnsCollector>(targets);
}

}  // namespace ebpf_tool::serve
