// LRU hash maps: when full, the kernel evicts instead of failing.
#include <sched.h>

#include <set>

#include "ebpf/hash_map.hpp"
#include "ebpf/percpu.hpp"
#include "kernel.hpp"

namespace {

// Inserting on one CPU keeps the kernel's per-CPU LRU lists out of the picture.
class PinnedToOneCpu {
public:
    PinnedToOneCpu() {
        sched_getaffinity(0, sizeof(saved_), &saved_);
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        sched_setaffinity(0, sizeof(one), &one);
    }
    ~PinnedToOneCpu() { sched_setaffinity(0, sizeof(saved_), &saved_); }

private:
    cpu_set_t saved_{};
};

// The kernel's LRU is exact in order but frees ahead in small batches (its per-CPU
// "target free", about max_entries / possible CPUs / 2), so after overfilling a map by
// five it may have evicted a few more than five. What it guarantees, and what this
// checks: the five least recently used are gone, nothing newer than a survivor was
// evicted before it, and the newest entries are all there.
TEST(LruHashMap, FullMapEvictsTheLeastRecentlyUsed) {
    REQUIRE_KERNEL();
    PinnedToOneCpu pin;
    auto m = ebpf::LruHashMap<std::uint32_t, std::uint32_t>::create("t_lru", 10);
    for (std::uint32_t k = 0; k < 10; ++k) m.update(k, k);
    m.update(0, 100);  // an update makes key 0 the most recently used
    for (std::uint32_t k = 10; k < 15; ++k) m.update(k, k);
    std::set<std::uint32_t> present;
    for (auto [k, v] : m.entries()) present.insert(k);
    // Recency order, oldest first: 1..9, 0, 10..14.
    const std::vector<std::uint32_t> order{1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 10, 11, 12, 13, 14};
    for (std::size_t i = 0; i < 5; ++i) EXPECT_FALSE(present.contains(order[i])) << "LRU key " << order[i] << " kept";
    std::size_t first_kept = order.size();
    for (std::size_t i = 0; i < order.size(); ++i)
        if (present.contains(order[i])) {
            first_kept = i;
            break;
        }
    for (std::size_t i = first_kept; i < order.size(); ++i)
        EXPECT_TRUE(present.contains(order[i])) << "key " << order[i] << " evicted before an older one";
    EXPECT_GE(present.size(), 8u);
    EXPECT_LE(present.size(), 10u);
    EXPECT_EQ(m.lookup(0), 100u);
}

TEST(LruHashMap, UpdatesNeverFailWithMapFull) {
    REQUIRE_KERNEL();
    auto m = ebpf::LruHashMap<std::uint32_t, std::uint64_t>::create("t_lru_full", 64);
    for (std::uint32_t k = 0; k < 10000; ++k) m.update(k, k);
    EXPECT_LE(m.entries().size(), 64u);
    EXPECT_TRUE(m.contains(9999));  // the newest is always kept
}

TEST(LruPerCpuHashMap, EvictsToo) {
    REQUIRE_KERNEL();
    PinnedToOneCpu pin;
    auto m = ebpf::LruPerCpuHashMap<std::uint32_t, std::uint64_t>::create("t_lru_pcpu", 8);
    for (std::uint32_t k = 0; k < 100; ++k) m.update_all(k, k);
    auto entries = m.entries();
    EXPECT_LE(entries.size(), 8u);
    EXPECT_EQ(m.lookup_sum(99), 99ull * ebpf::possible_cpus());
}

}  // namespace
