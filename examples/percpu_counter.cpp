// Pattern: an atomic-free counter in a per-CPU array.
//
// One thread per CPU this process may run on, each pinned to its CPU, calls getppid() a
// different number of times. The BPF program adds each call to the slot of the CPU it ran
// on; user space reads every slot (one per *possible* CPU) and their sum, and checks both
// against the calls it made.
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "ebpf/object.hpp"
#include "ebpf/percpu.hpp"
#include "example.hpp"
#include "percpu_counter.skel.h"

EBPF_SKELETON(percpu_counter_bpf);

namespace {

using example::check;

// The CPUs this process may run on (a container or taskset may allow fewer than exist).
std::vector<int> allowed_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) != 0) throw ebpf::Error::sys(errno, "sched_getaffinity");
    std::vector<int> cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    return cpus;
}

// Runs on `cpu` only, then makes `n` getppid() calls. False when pinning failed.
bool calls_on_cpu(int cpu, std::uint64_t n) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set) != 0) return false;
    for (std::uint64_t i = 0; i < n; ++i) ::syscall(SYS_getppid);
    return true;
}

bool run() {
    auto skel = ebpf::Skeleton<percpu_counter_bpf>::open();
    skel->rodata->target_tgid = static_cast<std::uint32_t>(::getpid());
    skel.load();
    auto calls = ebpf::PerCpuArray<std::uint64_t>::from_libbpf(skel->maps.calls);
    skel.attach();

    fmt::print("Counting getppid() calls of PID {} in a per-CPU array.\n", ::getpid());
    const auto cpus = allowed_cpus();
    std::vector<std::uint64_t> expected(ebpf::possible_cpus(), 0);
    std::vector<std::thread> threads;
    std::vector<char> pinned(cpus.size(), 0);
    for (std::size_t i = 0; i < cpus.size(); ++i) {
        const int cpu = cpus[i];
        const std::uint64_t n = 300 + 100 * i;  // different per CPU, so the slots tell apart
        expected.at(static_cast<std::size_t>(cpu)) = n;
        fmt::print("  a thread pinned to CPU {} calls getppid() {} times\n", cpu, n);
        threads.emplace_back([&pinned, i, cpu, n] { pinned[i] = calls_on_cpu(cpu, n); });
    }
    for (auto& t : threads) t.join();

    // One value per possible CPU, each in its own 8-byte slot: PerCpu<V> hides both.
    const auto slots = calls.lookup(0).value();
    fmt::print("\ncalls[0] has {} slots, one per possible CPU:\n", slots.size());
    for (std::size_t cpu = 0; cpu < slots.size(); ++cpu) fmt::print("  CPU {}: {}\n", cpu, slots[cpu]);
    std::uint64_t made = 0;
    for (auto n : expected) made += n;
    fmt::print("  sum:   {}\n\n", slots.sum());

    bool ok = check(std::find(pinned.begin(), pinned.end(), 0) == pinned.end(), "every thread ran on its CPU");
    ok &= check(slots.values() == expected, "each CPU's slot holds exactly the calls made on that CPU");
    ok &= check(slots.sum() == made, fmt::format("the sum is the {} calls made, none lost", made));
    return ok;
}

}  // namespace

int main() { return example::run("percpu_counter", /*need_tracefs=*/true, run); }
