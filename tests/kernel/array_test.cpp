// Array and PerCpuArray/PerCpuHashMap against the real kernel.
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <set>
#include <stdexcept>
#include <vector>

#include "ebpf/array.hpp"
#include "ebpf/object.hpp"
#include "ebpf/percpu.hpp"
#include "ebpf/system.hpp"
#include "kernel.hpp"
#include "maps_test.skel.h"

EBPF_SKELETON(maps_test_bpf);

namespace {

// A child process that, once run() lets it go, makes getppid calls in phases, each pinned
// to its CPU (-1: wherever it runs), and exits. Programs that count only its pid
// (maps_test's target_tgid) count exactly these calls.
class GetppidChild {
public:
    struct Phase {
        int cpu;
        int calls;
    };
    explicit GetppidChild(std::vector<Phase> phases) {
        int go[2];
        if (pipe(go) != 0) throw std::runtime_error("pipe");
        pid_ = fork();
        if (pid_ == 0) {
            close(go[1]);
            char c;
            if (read(go[0], &c, 1) != 1) _exit(2);
            for (const Phase& phase : phases) {
                if (phase.cpu >= 0) {
                    cpu_set_t set;
                    CPU_ZERO(&set);
                    CPU_SET(phase.cpu, &set);
                    if (sched_setaffinity(0, sizeof(set), &set)) _exit(1);
                }
                for (int i = 0; i < phase.calls; ++i) syscall(SYS_getppid);
            }
            _exit(0);
        }
        close(go[0]);
        go_ = go[1];
    }
    ~GetppidChild() {
        close(go_);
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    GetppidChild(const GetppidChild&) = delete;
    GetppidChild& operator=(const GetppidChild&) = delete;

    pid_t pid() const { return pid_; }
    // Lets it make its calls and waits for it: true if it made them all.
    bool run() {
        if (write(go_, "x", 1) != 1) return false;
        int status = 0;
        const bool reaped = waitpid(pid_, &status, 0) == pid_;
        if (reaped) pid_ = -1;
        return reaped && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }

private:
    pid_t pid_ = -1;
    int go_ = -1;
};

TEST(Array, EverySlotExistsAndNoneCanBeDeleted) {
    REQUIRE_KERNEL();
    auto a = ebpf::Array<std::uint64_t>::create("t_array", 8);
    EXPECT_EQ(a.size(), 8u);
    EXPECT_EQ(a.get(7), 0u);  // zeroed at creation
    a.update(3, 33);
    EXPECT_EQ(a.get(3), 33u);
    auto values = a.values();
    EXPECT_TRUE(values.complete());
    EXPECT_EQ(values.items, (std::vector<std::uint64_t>{0, 0, 0, 33, 0, 0, 0, 0}));
    EXPECT_FALSE(a.lookup(8).has_value());
    try {
        a.get(8);
        FAIL() << "index 8 of 8 read";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::out_of_range);
        EXPECT_STREQ(e.what(), "array 't_array': index 8 out of range (8 entries)");
    }
    try {
        a.update(8, 1);
        FAIL() << "index 8 of 8 written";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.errno_value(), E2BIG) << e.what();
        EXPECT_EQ(e.code(), ebpf::errc::out_of_range);
        EXPECT_STREQ(e.what(), "array 't_array': index 8 out of range (8 entries; E2BIG)");
    }
    try {
        a.update(1, 1, ebpf::UpdateFlags::no_exist);
        FAIL() << "no_exist accepted on an array slot, which always exists";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::key_exists) << e.what();
    }
    std::uint32_t index = 3;
    EXPECT_THROW(a.map().erase(&index), ebpf::Error);  // EINVAL: arrays have no delete
}

TEST(Array, FrozenMapRefusesUserWrites) {
    REQUIRE_KERNEL();
    auto a = ebpf::Array<std::uint32_t>::create("t_frozen", 2);
    a.update(0, 5);
    a.freeze();
    try {
        a.update(0, 6);
        FAIL() << "a frozen map was written";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.errno_value(), EPERM) << e.what();
        EXPECT_EQ(e.code(), ebpf::errc::permission);
        EXPECT_STREQ(e.what(), "map 't_frozen': update: not permitted (EPERM)");
    }
    EXPECT_EQ(a.get(0), 5u);
}

TEST(MappedArray, SlotsAreTheMapsOwnMemory) {
    REQUIRE_KERNEL();
    auto a = ebpf::Array<std::uint64_t>::create("t_mmap", 1000, BPF_F_MMAPABLE);
    auto memory = a.mmap(ebpf::Access::read_write);
    EXPECT_EQ(memory.size(), 1000u);
    EXPECT_TRUE(memory.writable());
    memory.store(5, 55);
    EXPECT_EQ(a.get(5), 55u);  // the syscall reads what the store wrote
    a.update(999, 77);
    EXPECT_EQ(memory.load(999), 77u);  // and the memory what the syscall wrote
    EXPECT_EQ(memory.load(0), 0u);
    try {
        (void)memory.load(1000);
        FAIL() << "slot 1000 of 1000 read";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::out_of_range);
        EXPECT_STREQ(e.what(), "array 't_mmap': index 1000 out of range (1000 entries)");
    }
    auto read_only = a.mmap();
    EXPECT_FALSE(read_only.writable());
    EXPECT_EQ(read_only.load(5), 55u);
    try {
        read_only.store(5, 1);
        FAIL() << "a read-only mapping was written";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::misuse);
    }
    EXPECT_EQ(a.get(5), 55u);
}

TEST(MappedArray, AStructSlotIsLaidOutAtAnEightByteStride) {
    REQUIRE_KERNEL();
    struct Slot {
        std::uint32_t a, b, c;  // 12 bytes: the kernel keeps each slot at 16
    };
    static_assert(ebpf::MappedArray<Slot>::kStride == 16);
    auto a = ebpf::Array<Slot>::create("t_mmap_struct", 5, BPF_F_MMAPABLE);
    for (std::uint32_t i = 0; i < 5; ++i) a.update(i, Slot{i, i * 10, i * 100});
    auto memory = a.mmap();
    for (std::uint32_t i = 0; i < 5; ++i) {
        Slot s = memory.load(i);
        EXPECT_EQ(s.a, i);
        EXPECT_EQ(s.b, i * 10);
        EXPECT_EQ(s.c, i * 100);
    }
}

TEST(MappedArray, OnlyAnMmapableArrayMapsAndAFrozenOneOnlyForReading) {
    REQUIRE_KERNEL();
    auto plain = ebpf::Array<std::uint64_t>::create("t_no_mmap", 4);
    try {
        (void)plain.mmap();
        FAIL() << "an array without BPF_F_MMAPABLE was mapped";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::not_supported);
        EXPECT_STREQ(e.what(), "array 't_no_mmap': not created with BPF_F_MMAPABLE, so it cannot be mapped");
    }
    auto frozen = ebpf::Array<std::uint64_t>::create("t_mmap_frozen", 4, BPF_F_MMAPABLE);
    frozen.update(2, 9);
    frozen.freeze();
    try {
        (void)frozen.mmap(ebpf::Access::read_write);
        FAIL() << "a frozen array was mapped for writing";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::permission) << e.what();
    }
    EXPECT_EQ(frozen.mmap().load(2), 9u);
}

// A program's atomic adds, read through memory while and after it runs: exact.
TEST(MappedArray, ABpfProgramsCountsAreReadThroughMemory) {
    REQUIRE_KERNEL();
    ebpf::system::prepare();
    GetppidChild child({{-1, 700}});
    auto skel = ebpf::Skeleton<maps_test_bpf>::open();
    skel->rodata->target_tgid = static_cast<std::uint32_t>(child.pid());
    skel.load();
    auto memory = ebpf::Array<std::uint64_t>::from_libbpf(skel->maps.mapped_hits).mmap();
    EXPECT_EQ(memory.load(0), 0u);
    ebpf::Link link = ebpf::Link::attach(skel->progs.count_getppid);
    ASSERT_TRUE(child.run());
    EXPECT_EQ(memory.load(0), 700u);
    EXPECT_EQ(memory.load(1), 0u);
}

TEST(PerCpu, ValuesAreSizedByPossibleCpusWithAnEightByteStride) {
    REQUIRE_KERNEL();
    struct Small {
        std::uint32_t v;  // 4 bytes: the kernel pads each CPU's slot to 8
        Small& operator+=(const Small& o) {
            v += o.v;
            return *this;
        }
    };
    auto m = ebpf::PerCpuArray<Small>::create("t_percpu", 2);
    EXPECT_EQ(m.map().value_buffer_size(), 8u * ebpf::possible_cpus());
    ebpf::PerCpu<Small> values;
    ASSERT_EQ(values.size(), ebpf::possible_cpus());
    for (std::size_t cpu = 0; cpu < values.size(); ++cpu) values[cpu].v = static_cast<std::uint32_t>(cpu + 1) * 10;
    m.update(1, values);
    auto back = m.lookup(1);
    ASSERT_TRUE(back);
    for (std::size_t cpu = 0; cpu < values.size(); ++cpu) EXPECT_EQ((*back)[cpu].v, (cpu + 1) * 10);
    std::uint32_t expected = 0;
    for (std::size_t cpu = 0; cpu < values.size(); ++cpu) expected += static_cast<std::uint32_t>(cpu + 1) * 10;
    EXPECT_EQ(m.lookup_sum(1)->v, expected);
    EXPECT_THROW(ebpf::PerCpu<Small>(std::vector<Small>(ebpf::possible_cpus() + 1)), ebpf::Error);
}

TEST(PerCpu, HashMapUpdateAllAndEntries) {
    REQUIRE_KERNEL();
    auto m = ebpf::PerCpuHashMap<std::uint32_t, std::uint64_t>::create("t_pcpu_hash", 16);
    m.update_all(7, 3);
    EXPECT_EQ(m.lookup_sum(7), 3ull * ebpf::possible_cpus());
    EXPECT_FALSE(m.lookup(8));
    auto entries = m.entries();
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries.items[0].first, 7u);
    EXPECT_EQ(entries.items[0].second.sum(), 3ull * ebpf::possible_cpus());
    EXPECT_TRUE(m.erase(7));
    EXPECT_FALSE(m.erase(7));
}

TEST(PerCpu, HashMapHasTheHashVerbs) {
    REQUIRE_KERNEL();
    auto m = ebpf::PerCpuHashMap<std::uint32_t, std::uint64_t>::create("t_pcpu_verbs", 16);
    const unsigned cpus = ebpf::possible_cpus();
    for (std::uint32_t k = 1; k <= 3; ++k) m.update_all(k, k);
    EXPECT_TRUE(m.contains(2));
    EXPECT_FALSE(m.contains(9));
    EXPECT_EQ(m.get(2).sum(), 2ull * cpus);
    EXPECT_THROW((void)m.get(9), ebpf::Error);
    auto taken = m.take(2);
    ASSERT_TRUE(taken);
    EXPECT_EQ(taken->sum(), 2ull * cpus);
    EXPECT_FALSE(m.take(2));
    auto keys = m.keys();
    EXPECT_TRUE(keys.complete());
    EXPECT_EQ(std::set<std::uint32_t>(keys.begin(), keys.end()), (std::set<std::uint32_t>{1, 3}));
    auto drained = m.drain();
    EXPECT_TRUE(drained.complete());
    ASSERT_EQ(drained.size(), 2u);
    std::uint64_t total = 0;
    for (const auto& [k, values] : drained) total += values.sum();
    EXPECT_EQ(total, 4ull * cpus);
    EXPECT_TRUE(m.keys().empty());
}

TEST(PerCpu, ArrayGetIsOutOfRangePastTheEnd) {
    REQUIRE_KERNEL();
    auto a = ebpf::PerCpuArray<std::uint64_t>::create("t_pcpu_range", 2);
    a.update_all(1, 5);
    EXPECT_EQ(a.get(1).sum(), 5ull * ebpf::possible_cpus());
    try {
        (void)a.get(2);
        FAIL() << "index 2 of 2 read";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::out_of_range);
        EXPECT_STREQ(e.what(), "percpu_array 't_pcpu_range': index 2 out of range (2 entries)");
    }
}

TEST(PerCpu, ABpfProgramsCountsLandOnTheCpuThatRanThem) {
    REQUIRE_KERNEL();
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs two online CPUs";
    ebpf::system::prepare();
    // The program counts getppid of one process; that process runs 300 calls on CPU 0
    // and, after a re-pin, 500 on CPU 1.
    GetppidChild child({{0, 300}, {1, 500}});
    auto skel = ebpf::Skeleton<maps_test_bpf>::open();
    skel->rodata->target_tgid = static_cast<std::uint32_t>(child.pid());
    skel.load();
    auto hits = ebpf::PerCpuArray<std::uint64_t>::from_libbpf(skel->maps.percpu_hits);
    ebpf::Link link = ebpf::Link::attach(skel->progs.count_getppid);
    ASSERT_TRUE(child.run());
    auto per_cpu = hits.lookup(0).value();
    EXPECT_EQ(per_cpu[0], 300u);
    EXPECT_EQ(per_cpu[1], 500u);
    EXPECT_EQ(per_cpu.sum(), 800u);
    auto sums = hits.sums();
    EXPECT_TRUE(sums.complete());
    EXPECT_EQ(sums.at(0), 800u);
}

}  // namespace
