// Test support: what a process or an interface holds in the kernel, so that a test can
// assert that exactly its own objects are gone — never by diffing the kernel's global
// sets, which other test runs on the machine change at any moment.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <thread>

namespace test {

// BPF programs, maps and links by id.
struct BpfIds {
    std::set<std::uint32_t> programs, maps, links;
    bool empty() const { return programs.empty() && maps.empty() && links.empty(); }
    void merge(const BpfIds& other);
};
std::string describe(const BpfIds& ids);  // "programs {12, 13}, maps {}, links {4}"

// The ids of every BPF object `pid` holds an fd of right now (from /proc/PID/fdinfo; a
// link's program counts as held too).
BpfIds bpf_ids_of(pid_t pid);

// Of `ids`, those still in the kernel after waiting up to `timeout` for them to go (the
// kernel frees an object shortly after its last reference, not at once).
BpfIds still_in_kernel(const BpfIds& ids, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Samples bpf_ids_of(pid) about every millisecond on a thread, from construction until
// stop() (or destruction), and keeps the union: everything the process held while it ran.
class BpfObjectWatch {
public:
    explicit BpfObjectWatch(pid_t pid);
    ~BpfObjectWatch();
    BpfObjectWatch(const BpfObjectWatch&) = delete;
    BpfObjectWatch& operator=(const BpfObjectWatch&) = delete;

    // Waits up to `timeout` until the process holds at least one program (true).
    bool wait_for_program(std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
    // Waits up to `timeout` until the process holds any BPF object (true).
    bool wait_for_any(std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
    // Samples now, on the caller's thread (the watch's own thread may be starved on a busy
    // machine), adds it to what was seen and returns it. Call it when the process is known
    // to hold its objects (it said it is ready), to be sure they are in seen().
    BpfIds sample();
    void stop();
    BpfIds seen() const;

private:
    pid_t pid_;
    mutable std::mutex mutex_;
    BpfIds seen_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// What is attached to a network interface: XDP programs (any mode), tcx programs, cls_bpf
// filters and whether a clsact qdisc is there. Equal before and after a command = it left
// nothing on the interface.
struct InterfaceAttachments {
    std::set<std::uint32_t> xdp, tcx_ingress, tcx_egress;
    std::string tc_ingress_filters, tc_egress_filters;  // `tc filter show` output
    bool clsact = false;
    bool operator==(const InterfaceAttachments&) const = default;
    bool empty() const { return *this == InterfaceAttachments{}; }
};
std::string describe(const InterfaceAttachments& a);
inline void PrintTo(const InterfaceAttachments& a, std::ostream* out) {
    *out << describe(a);
}
InterfaceAttachments attachments_of(const std::string& interface);

}  // namespace test
