// The kernel halves of the counting commands, loaded once and read at will: `execs`,
// `stats`, `proto` and `conns` print what they read, and `serve`'s collectors export the
// same reads to Prometheus. One loader per program keeps both on one code path (the same
// rodata, the same programs left out, the same drop counters).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ebpf/attach.hpp"
#include "net.h"
#include "net.hpp"

namespace ebpf_tool {

// execs.bpf.c: execs per UID (tracepoints syscalls/sys_enter_execve[at]).
class ExecCounter {
public:
    ExecCounter();  // opens and loads; nothing is attached yet
    ~ExecCounter();
    ExecCounter(ExecCounter&&) noexcept;
    ExecCounter& operator=(ExecCounter&&) noexcept;

    void attach();
    // Execs per UID since attach(), sorted by UID.
    [[nodiscard]] std::vector<std::pair<std::uint32_t, std::uint64_t>> counts() const;
    // Execs of a UID the full table had no room for.
    [[nodiscard]] std::uint64_t dropped() const;

private:
    struct Kernel;
    std::unique_ptr<Kernel> kernel_;
};

// syscalls.bpf.c: syscalls by number, system-wide or per (process, number).
struct SyscallCount {
    std::uint32_t pid = 0;  // per-process mode only
    std::string comm;       // per-process mode only
    std::uint32_t nr = 0;
    std::uint64_t count = 0;
};

struct SyscallDrops {
    std::uint64_t out_of_range = 0;
    std::uint64_t map_full = 0;
    std::uint64_t missed = 0;  // program runs the kernel skipped (recursion)
};

class SyscallCounter {
public:
    // `pid`: only that process; `per_process`: count per (process, syscall).
    SyscallCounter(std::optional<std::uint32_t> pid, bool per_process);
    ~SyscallCounter();
    SyscallCounter(SyscallCounter&&) noexcept;
    SyscallCounter& operator=(SyscallCounter&&) noexcept;

    void attach();
    // Every non-zero cumulative count (pid 0 and no comm in system-wide mode).
    [[nodiscard]] std::vector<SyscallCount> read() const;
    [[nodiscard]] SyscallDrops drops() const;

private:
    struct Kernel;
    std::unique_ptr<Kernel> kernel_;
};

// proto.bpf.c: packets and bytes per protocol slot, interface and direction.
// Names of enum proto_slot (family, protocol), as the text table prints them.
extern const std::array<std::pair<const char*, const char*>, PROTO_SLOTS> kProtoSlotNames;

class ProtoCounter {
public:
    // Loads the hook's programs for `targets` and fills the parsers' prog array.
    explicit ProtoCounter(const NetTargets& targets);
    ~ProtoCounter();
    ProtoCounter(ProtoCounter&&) noexcept;
    ProtoCounter& operator=(ProtoCounter&&) noexcept;

    // Attaches on every target (see attach_net); `command` names the reports on stderr.
    void attach(const char* command);
    // By counter index ((iface * NET_DIRECTIONS + direction) * PROTO_SLOTS + slot): per-CPU values.
    [[nodiscard]] std::vector<std::vector<proto_count>> read() const;

private:
    struct Kernel;
    std::unique_ptr<Kernel> kernel_;
};

// One counter of ProtoCounter::read(), summed over the CPUs, with its place in the table.
struct ProtoRow {
    std::size_t iface = 0;  // index into targets.names
    std::uint32_t direction = 0;
    std::uint32_t slot = 0;
    std::string family, protocol;  // lower case: "ipv4", "udp"
    proto_count sum{};
    const std::vector<proto_count>* per_cpu = nullptr;  // into the counts passed in
};
// Every counter of the targets' interfaces and directions, in table order.
std::vector<ProtoRow> proto_rows(const std::vector<std::vector<proto_count>>& counts, const NetTargets& targets);

// conns.bpf.c: a flow table (LRU hash) with exact creation and eviction counts.
struct Cidr {
    int family = 4;
    std::uint32_t prefixlen = 0;
    std::array<std::uint8_t, 16> addr{};
};

// A flow's protocol by name (tcp, udp, icmp, icmpv6); null for any other number.
const char* ip_protocol_name(std::uint8_t protocol);

struct ConnsTable {
    std::vector<std::pair<flow_key, flow_value>> flows;
    std::uint64_t created = 0, evicted = 0, insert_failed = 0, filtered = 0;
    bool evictions_exact = true;
    bool complete = true;
};

class ConnTracker {
public:
    ConnTracker(const NetTargets& targets, std::uint32_t max_entries, const std::vector<Cidr>& cidrs);
    ~ConnTracker();
    ConnTracker(ConnTracker&&) noexcept;
    ConnTracker& operator=(ConnTracker&&) noexcept;

    void attach(const char* command);
    // The table and its counters; see conns.cpp for why the eviction count is exact.
    [[nodiscard]] ConnsTable read() const;
    // Map ids of the --cidr tries (IPv4, IPv6), for the message that says how to change them.
    [[nodiscard]] std::pair<std::uint32_t, std::uint32_t> cidr_map_ids() const;

private:
    struct Kernel;
    std::unique_ptr<Kernel> kernel_;
};

}  // namespace ebpf_tool
