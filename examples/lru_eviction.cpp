// Pattern: an LRU hash map. When an LRU_HASH map is full, inserting a new key evicts the
// least recently used ones instead of failing with E2BIG, as a plain HASH map would.
//
// Pure user space: a map of 10 entries made with LruHashMap::create. First 15 keys go in,
// in order, and the example shows which ones the kernel evicted. Then, in a fresh map, key
// 1 is written again after the map filled up: that makes it recent, and it survives the
// inserts that evict its neighbours.
#include <string>
#include <vector>

#include "ebpf/hash_map.hpp"
#include "example.hpp"

namespace {

using example::check;
using Lru = ebpf::LruHashMap<std::uint32_t, std::uint64_t>;

constexpr std::uint32_t kMaxEntries = 10;
constexpr std::uint32_t kKeys = 15;

// One line per step: "+" for a key in the map, "." for one not (or no longer) there.
void show(const Lru& map, const std::string& step) {
    std::string row;
    for (std::uint32_t key = 1; key <= kKeys; ++key) row += map.contains(key) ? "  +" : "  .";
    fmt::print("{:<18}{}   {} entries\n", step, row, map.keys().size());
}

void header() {
    std::string keys;
    for (std::uint32_t key = 1; key <= kKeys; ++key) keys += fmt::format("{:>3}", key);
    fmt::print("{:<18}{}\n", "key:", keys);
}

std::vector<std::uint32_t> present(const Lru& map) {
    std::vector<std::uint32_t> out;
    for (std::uint32_t key = 1; key <= kKeys; ++key)
        if (map.contains(key)) out.push_back(key);
    return out;
}

bool run() {
    fmt::print("An LRU hash map of {} entries; {} keys are inserted in order, nothing is read.\n\n", kMaxEntries,
               kKeys);
    auto lru = Lru::create("lru_example", kMaxEntries);
    header();
    std::size_t largest = 0;
    for (std::uint32_t key = 1; key <= kKeys; ++key) {
        lru.update(key, key * 100);  // never fails with E2BIG: an LRU map makes room
        largest = std::max(largest, lru.keys().size());
        if (key >= kMaxEntries) show(lru, fmt::format("insert {}", key));
    }
    const auto kept = present(lru);
    std::string gone;
    for (std::uint32_t key = 1; key <= kKeys; ++key)
        if (!lru.contains(key)) gone += fmt::format(" {}", key);
    fmt::print("\ngone:{} ({} keys; {} had to go)\n", gone, kKeys - kept.size(), kKeys - kMaxEntries);
    fmt::print("The kernel frees LRU slots a few at a time (per-CPU batches), so it may evict a\n"
               "little more than strictly needed, and it takes the least recently used first.\n\n");

    bool ok = check(largest <= kMaxEntries, fmt::format("never more than {} entries", kMaxEntries));
    ok &= check(kKeys - kept.size() >= kKeys - kMaxEntries, "at least 5 keys were evicted");
    // The survivors are the newest keys: a run that ends at the last key inserted.
    bool newest = !kept.empty() && kept.back() == kKeys;
    for (std::size_t i = 1; i < kept.size(); ++i) newest &= kept[i] == kept[i - 1] + 1;
    ok &= check(newest, "the evicted keys are the oldest ones, the survivors the newest");

    fmt::print("\nA fresh map: keys 1 to 10, then key 1 is written again (that makes it the most\n"
               "recently used), then keys 11 to 15.\n\n");
    auto again = Lru::create("lru_example2", kMaxEntries);
    header();
    for (std::uint32_t key = 1; key <= kMaxEntries; ++key) again.update(key, key * 100);
    show(again, "insert 1..10");
    again.update(1, 111);  // user-space lookups do not count as use; an update does
    show(again, "write 1 again");
    for (std::uint32_t key = kMaxEntries + 1; key <= kKeys; ++key) again.update(key, key * 100);
    show(again, "insert 11..15");
    fmt::print("\nWriting key 1 into the full map needed a fresh slot (an update replaces the entry),\n"
               "so it evicted the oldest key, 2. Lookups from user space do not count as use;\n"
               "lookups by BPF programs do.\n\n");
    ok &= check(again.lookup(1) == std::optional<std::uint64_t>(111),
                "key 1, written recently, survived with its new value");
    ok &= check(!again.contains(2) && again.contains(kKeys), "key 2, untouched since it was inserted, was evicted");
    return ok;
}

}  // namespace

int main() { return example::run("lru_eviction", /*need_tracefs=*/false, run); }
