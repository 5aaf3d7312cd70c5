// HashMap and LruHashMap against the real kernel: update-flag semantics, lookups that
// miss, size and type checks, walks (batched, ENOSPC growth, concurrent deletes) and
// batch operations.
#include <bpf/btf.h>

#include <atomic>
#include <set>
#include <thread>

#include "ebpf/error.hpp"
#include "ebpf/hash_map.hpp"
#include "kernel.hpp"

namespace {

using Counts = ebpf::HashMap<std::uint32_t, std::uint64_t>;

struct ConnKey {
    std::uint32_t saddr, daddr;
    std::uint16_t sport, dport;
    std::uint8_t proto;
    std::uint8_t pad[3];
};
struct ConnValue {
    std::uint64_t packets, bytes;
};

TEST(HashMap, UpdateFlagsHaveTheKernelsDistinctOutcomes) {
    REQUIRE_KERNEL();
    auto m = Counts::create("t_flags", 2);
    m.update(1, 10, ebpf::UpdateFlags::no_exist);  // create
    try {
        m.update(1, 11, ebpf::UpdateFlags::no_exist);
        FAIL() << "no_exist on a present key succeeded";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::key_exists) << e.what();
        EXPECT_STREQ(e.what(), "map 't_flags': update: key exists (EEXIST)");
        EXPECT_EQ(e.errno_value(), EEXIST);
    }
    EXPECT_EQ(m.lookup(1), 10u);  // unchanged by the failed update
    try {
        m.update(2, 20, ebpf::UpdateFlags::exist);
        FAIL() << "exist on a missing key succeeded";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::key_not_found) << e.what();
        EXPECT_STREQ(e.what(), "map 't_flags': update: key not found (ENOENT)");
    }
    EXPECT_FALSE(m.lookup(2).has_value());
    m.update(1, 12, ebpf::UpdateFlags::exist);  // replace
    EXPECT_EQ(m.lookup(1), 12u);
    m.update(2, 20);
    try {
        m.update(3, 30);
        FAIL() << "a third key fit in a map of two";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::map_full) << e.what();
        EXPECT_STREQ(e.what(), "map 't_flags' is full (2 of 2 entries; E2BIG)");
        EXPECT_EQ(e.errno_value(), E2BIG);
    }
    m.update(2, 21);  // replacing in a full map is fine
    EXPECT_EQ(m.lookup(2), 21u);
}

TEST(HashMap, MissingKeysAreNotErrors) {
    REQUIRE_KERNEL();
    auto m = Counts::create("t_missing", 8);
    EXPECT_FALSE(m.lookup(42).has_value());
    std::uint64_t v = 7;
    EXPECT_FALSE(m.lookup_into(42, v));
    EXPECT_EQ(v, 7u);
    EXPECT_FALSE(m.erase(42));
    EXPECT_FALSE(m.take(42).has_value());
    m.update(42, 1);
    EXPECT_TRUE(m.contains(42));
    EXPECT_EQ(m.take(42), 1u);
    EXPECT_FALSE(m.contains(42));
    // get() is the lookup for keys that must be there: a miss is an error of its own kind.
    m.update(43, 9);
    EXPECT_EQ(m.get(43), 9u);
    try {
        (void)m.get(42);
        FAIL() << "get of a missing key returned";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::key_not_found);
        EXPECT_STREQ(e.what(), "map 't_missing': get: key not found");
    }
    // Keyless verbs on a keyed map name the type instead of the kernel's "Bad address".
    try {
        std::uint64_t value = 1;
        m.map().push(&value);
        FAIL() << "push on a hash";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::wrong_type);
        EXPECT_STREQ(e.what(), "map 't_missing' is a hash: push needs a queue, stack or bloom_filter map");
    }
}

TEST(HashMap, StructKeysAndValues) {
    REQUIRE_KERNEL();
    auto m = ebpf::HashMap<ConnKey, ConnValue>::create("t_conns", 16);
    ConnKey k{0x0100007f, 0x0200007f, 1234, 443, 6, {}};
    m.update(k, {3, 180});
    auto v = m.lookup(k);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->packets, 3u);
    EXPECT_EQ(v->bytes, 180u);
    k.dport = 80;
    EXPECT_FALSE(m.lookup(k));
}

TEST(HashMap, SizeMismatchNamesBothSizes) {
    REQUIRE_KERNEL();
    auto m = Counts::create("t_sizes", 4);
    try {
        ebpf::HashMap<std::uint32_t, std::uint32_t> wrong(ebpf::Map::open_by_id(m.info().id));
        FAIL() << "a u32 value handle bound to a u64 map";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::size_mismatch);
        EXPECT_STREQ(e.what(), "HashMap needs 4-byte values, 't_sizes' has 8-byte values");
    }
    try {
        ebpf::HashMap<std::uint64_t, std::uint64_t> wrong(ebpf::Map::open_by_id(m.info().id));
        FAIL() << "a u64 key handle bound to a u32 map";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::size_mismatch);
        EXPECT_STREQ(e.what(), "HashMap needs 8-byte keys, 't_sizes' has 4-byte keys");
    }
    try {
        ebpf::LruHashMap<std::uint32_t, std::uint64_t> wrong(ebpf::Map::open_by_id(m.info().id));
        FAIL() << "an LRU handle bound to a plain hash";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::wrong_type);
        EXPECT_STREQ(e.what(), "LruHashMap needs an lru_hash map, 't_sizes' is a hash");
    }
}

TEST(HashMap, EntriesSeesEveryEntryOnce) {
    REQUIRE_KERNEL();
    const std::uint32_t n = 10000;
    auto m = Counts::create("t_entries", n);
    for (std::uint32_t i = 0; i < n; ++i) m.update(i, i * 3ull);
    auto entries = m.entries(/*batch_size=*/256);
    EXPECT_TRUE(entries.complete());
    EXPECT_TRUE(entries.result.batched);
    ASSERT_EQ(entries.size(), n);
    std::set<std::uint32_t> seen;
    for (auto [k, v] : entries) {
        EXPECT_EQ(v, k * 3ull);
        seen.insert(k);
    }
    EXPECT_EQ(seen.size(), n);
}

// entries() reserves for max_entries up front (no growth on a full map); a map far from
// full must not hand back that whole reservation with its few entries.
TEST(HashMap, EntriesAreSizedFromMaxEntriesAndTrimmedWhenSparse) {
    REQUIRE_KERNEL();
    const std::uint32_t max = 100000;
    auto m = Counts::create("t_sizing", max);
    for (std::uint32_t i = 0; i < 10; ++i) m.update(i, i);
    auto sparse = m.entries();
    ASSERT_EQ(sparse.size(), 10u);
    EXPECT_LT(sparse.items.capacity(), max / 2);
    auto keys = m.keys();
    ASSERT_EQ(keys.size(), 10u);
    EXPECT_LT(keys.items.capacity(), max / 2);

    auto full = Counts::create("t_sizing_full", 3000);
    for (std::uint32_t i = 0; i < 3000; ++i) full.update(i, i);
    auto all = full.entries(/*batch_size=*/256);
    ASSERT_EQ(all.size(), 3000u);
    EXPECT_EQ(all.items.capacity(), 3000u);  // reserved once, exactly max_entries (growth gives 4096)
}

TEST(HashMap, BatchSmallerThanABucketGrowsInsteadOfFailing) {
    REQUIRE_KERNEL();
    // 64 keys in 64 buckets: some bucket holds two or more keys (with overwhelming
    // probability), and a batch of one then makes the kernel answer ENOSPC.
    auto m = Counts::create("t_enospc", 64);
    for (std::uint32_t i = 0; i < 64; ++i) m.update(i, i);
    auto entries = m.entries(/*batch_size=*/1);
    EXPECT_TRUE(entries.complete());
    std::set<std::uint32_t> seen;
    for (auto [k, v] : entries) seen.insert(k);
    EXPECT_EQ(seen.size(), 64u);
}

// Deletes every even key from another thread while `walk` runs; checks what the walk saw.
template <class Walk>
void walk_while_deleting(const char* name, Walk walk, bool expect_complete) {
    const std::uint32_t n = 20000;
    auto m = Counts::create(name, n);
    for (std::uint32_t i = 0; i < n; ++i) m.update(i, i);
    auto deleter_map = Counts::open_by_id(m.info().id);
    std::atomic<bool> go{false};
    std::thread deleter([&] {
        while (!go) std::this_thread::yield();
        for (std::uint32_t i = 0; i < n; i += 2) deleter_map.erase(i);
    });
    std::vector<std::uint32_t> keys;
    go = true;
    ebpf::WalkResult result = walk(m.map(), [&](const std::byte* k, const std::byte* v, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) {
            auto key = ebpf::load_as<std::uint32_t>(k + i * 4);
            EXPECT_EQ(ebpf::load_as<std::uint64_t>(v + i * 8), key);
            keys.push_back(key);
        }
    });
    deleter.join();
    std::set<std::uint32_t> unique(keys.begin(), keys.end());
    EXPECT_EQ(unique.size(), keys.size()) << "a key was delivered twice";
    EXPECT_EQ(result.entries, keys.size());
    if (expect_complete) {
        EXPECT_TRUE(result.complete);
    }
    if (result.complete) {
        // Odd keys were never deleted: a complete walk saw every one of them.
        for (std::uint32_t i = 1; i < n; i += 2) ASSERT_TRUE(unique.contains(i)) << "missed odd key " << i;
    }
}

TEST(HashMap, BatchedWalkSurvivesConcurrentDeletes) {
    REQUIRE_KERNEL();
    walk_while_deleting(
        "t_del_batch", [](const ebpf::Map& m, const ebpf::Map::ChunkVisitor& v) { return m.walk(v, 128); }, true);
}

TEST(HashMap, NextKeyWalkSurvivesConcurrentDeletes) {
    REQUIRE_KERNEL();
    // get_next_key restarts from the first key when the current key is deleted: the walk
    // must neither repeat keys nor run forever (it may stop at its bound, and says so).
    walk_while_deleting(
        "t_del_next", [](const ebpf::Map& m, const ebpf::Map::ChunkVisitor& v) { return m.walk_by_next_key(v); },
        false);
}

TEST(HashMap, BatchUpdateEraseAndDrain) {
    REQUIRE_KERNEL();
    auto m = Counts::create("t_batch", 1000);
    std::vector<std::uint32_t> keys;
    std::vector<std::uint64_t> values;
    for (std::uint32_t i = 0; i < 500; ++i) {
        keys.push_back(i);
        values.push_back(1000 + i);
    }
    EXPECT_EQ(m.update_batch(keys, values), 500u);
    EXPECT_EQ(m.lookup(499), 1499u);
    std::vector<std::uint32_t> gone{0, 1, 2, 3, 4};
    EXPECT_EQ(m.erase_batch(gone), 5u);
    EXPECT_FALSE(m.lookup(3));
    auto drained = m.drain();
    EXPECT_TRUE(drained.complete());
    EXPECT_EQ(drained.size(), 495u);
    EXPECT_TRUE(m.entries().empty());
    EXPECT_THROW(m.update_batch(keys, {}), ebpf::Error);
}

// BPF_F_LOCK needs a struct bpf_spin_lock in the value, described by BTF.
TEST(HashMap, LockFlagNeedsASpinLockInTheValue) {
    REQUIRE_KERNEL();
    struct Locked {
        std::uint32_t lock;  // struct bpf_spin_lock
        std::uint32_t value;
    };
    std::unique_ptr<btf, decltype(&btf__free)> types(btf__new_empty(), &btf__free);
    int u32_id = btf__add_int(types.get(), "unsigned int", 4, 0);
    int lock_id = btf__add_struct(types.get(), "bpf_spin_lock", 4);
    ASSERT_GE(btf__add_field(types.get(), "val", u32_id, 0, 0), 0);
    int value_id = btf__add_struct(types.get(), "locked", 8);
    ASSERT_GE(btf__add_field(types.get(), "lock", lock_id, 0, 0), 0);
    ASSERT_GE(btf__add_field(types.get(), "value", u32_id, 32, 0), 0);
    ASSERT_EQ(btf__load_into_kernel(types.get()), 0);
    ebpf::MapSpec spec;
    spec.type = BPF_MAP_TYPE_HASH;
    spec.name = "t_locked";
    spec.key_size = 4;
    spec.value_size = sizeof(Locked);
    spec.max_entries = 4;
    spec.btf_fd = btf__fd(types.get());
    spec.btf_key_type_id = static_cast<std::uint32_t>(u32_id);
    spec.btf_value_type_id = static_cast<std::uint32_t>(value_id);
    ebpf::HashMap<std::uint32_t, Locked> locked(ebpf::Map::create(spec));
    locked.update(1, {0, 5}, ebpf::UpdateFlags::lock);
    locked.update(1, {0, 6}, ebpf::UpdateFlags::lock | ebpf::UpdateFlags::exist);
    std::uint32_t key = 1;
    Locked out{};
    ASSERT_TRUE(locked.map().lookup(&key, &out, BPF_F_LOCK));
    EXPECT_EQ(out.value, 6u);
    // Without a spin lock in the value the kernel refuses the flag.
    auto plain = Counts::create("t_unlocked", 4);
    try {
        plain.update(1, 1, ebpf::UpdateFlags::lock);
        FAIL() << "BPF_F_LOCK accepted on a map without a spin lock";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.errno_value(), EINVAL) << e.what();
        EXPECT_EQ(e.code(), ebpf::errc::system);
        EXPECT_STREQ(e.what(), "map 't_unlocked': update: Invalid argument");
    }
}

}  // namespace
