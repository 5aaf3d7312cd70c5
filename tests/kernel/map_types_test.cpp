// Coverage: every map type the running kernel offers has a handle in the library, and
// that handle creates (or, for struct_ops, binds) a real map of that type.
#include <bpf/libbpf.h>

#include <functional>
#include <map>

#include "ebpf/array.hpp"
#include "ebpf/dev_map.hpp"
#include "ebpf/fd_array.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/lpm_trie.hpp"
#include "ebpf/percpu.hpp"
#include "ebpf/queue_stack.hpp"
#include "ebpf/stack_trace.hpp"
#include "ebpf/storage.hpp"
#include "ebpf/struct_ops.hpp"
#include "kernel.hpp"
#include "struct_ops_test.skel.h"

EBPF_SKELETON(struct_ops_test_bpf);

namespace {

ebpf::Map keyless(bpf_map_type type, std::uint32_t max_entries) {
    ebpf::MapSpec spec;
    spec.type = type;
    spec.name = "t_" + ebpf::map_type_name(type);
    spec.max_entries = max_entries;
    return ebpf::Map::create(spec);
}

template <class Handle>
ebpf::Map take(Handle&& handle) {
    return std::move(handle.map());
}

// One way to get a map of each type through the library's handles.
std::map<bpf_map_type, std::function<ebpf::Map()>> makers() {
    using namespace ebpf;
    auto inner = [] { return Array<std::uint32_t>::create("t_inner", 1); };
    return {
        {BPF_MAP_TYPE_HASH, [] { return take(HashMap<std::uint32_t, std::uint64_t>::create("t_hash", 4)); }},
        {BPF_MAP_TYPE_ARRAY, [] { return take(Array<std::uint64_t>::create("t_array", 4)); }},
        {BPF_MAP_TYPE_PROG_ARRAY, [] { return take(ProgArray::create("t_prog_array", 4)); }},
        {BPF_MAP_TYPE_PERF_EVENT_ARRAY, [] { return take(PerfEventArray::create("t_perf", 4)); }},
        {BPF_MAP_TYPE_PERCPU_HASH, [] { return take(PerCpuHashMap<std::uint32_t, std::uint64_t>::create("t_pch", 4)); }},
        {BPF_MAP_TYPE_PERCPU_ARRAY, [] { return take(PerCpuArray<std::uint64_t>::create("t_pca", 4)); }},
        {BPF_MAP_TYPE_STACK_TRACE, [] { return take(StackTraceMap::create("t_stacks", 4)); }},
        {BPF_MAP_TYPE_CGROUP_ARRAY, [] { return take(CgroupArray::create("t_cgroups", 4)); }},
        {BPF_MAP_TYPE_LRU_HASH, [] { return take(LruHashMap<std::uint32_t, std::uint64_t>::create("t_lru", 4)); }},
        {BPF_MAP_TYPE_LRU_PERCPU_HASH,
         [] { return take(LruPerCpuHashMap<std::uint32_t, std::uint64_t>::create("t_lru_pc", 4)); }},
        {BPF_MAP_TYPE_LPM_TRIE, [] { return take(LpmTrie<Ipv4, std::uint32_t>::create("t_lpm", 4)); }},
        {BPF_MAP_TYPE_ARRAY_OF_MAPS, [=] { return take(ArrayOfMaps::create_of_maps("t_aom", 2, inner().map())); }},
        {BPF_MAP_TYPE_HASH_OF_MAPS,
         [=] { return take(HashOfMaps<std::uint32_t>::create_of_maps("t_hom", 2, inner().map())); }},
        {BPF_MAP_TYPE_DEVMAP, [] { return take(DevMap::create("t_devmap", 4)); }},
        {BPF_MAP_TYPE_SOCKMAP, [] { return take(SockMap::create("t_sockmap", 4)); }},
        {BPF_MAP_TYPE_CPUMAP, [] { return take(CpuMap::create("t_cpumap", 2)); }},
        {BPF_MAP_TYPE_XSKMAP, [] { return take(XskMap::create("t_xskmap", 4)); }},
        {BPF_MAP_TYPE_SOCKHASH, [] { return take(SockHash<std::uint32_t>::create("t_sockhash", 4)); }},
        {BPF_MAP_TYPE_CGROUP_STORAGE, [] { return take(CgroupStorage<std::uint64_t>::create("t_cg_storage")); }},
        {BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, [] { return take(ReuseportSockArray::create("t_reuseport", 4)); }},
        {BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
         [] { return take(PerCpuCgroupStorage<std::uint64_t>::create("t_pcg_storage")); }},
        {BPF_MAP_TYPE_QUEUE, [] { return take(Queue<std::uint64_t>::create("t_queue", 4)); }},
        {BPF_MAP_TYPE_STACK, [] { return take(Stack<std::uint64_t>::create("t_stack", 4)); }},
        {BPF_MAP_TYPE_SK_STORAGE, [] { return take(SocketStorage<std::uint64_t>::create("t_sk_storage")); }},
        {BPF_MAP_TYPE_DEVMAP_HASH, [] { return take(DevMapHash<>::create("t_devhash", 4)); }},
        {BPF_MAP_TYPE_STRUCT_OPS,
         [] {
             auto skel = ebpf::Skeleton<struct_ops_test_bpf>::open();
             skel.load();
             return take(StructOpsMap::from_libbpf(skel->maps.ebpf_test_cc));
         }},
        {BPF_MAP_TYPE_RINGBUF, [] { return keyless(BPF_MAP_TYPE_RINGBUF, 4096); }},
        {BPF_MAP_TYPE_INODE_STORAGE, [] { return take(InodeStorage<std::uint64_t>::create("t_inode_storage")); }},
        {BPF_MAP_TYPE_TASK_STORAGE, [] { return take(TaskStorage<std::uint64_t>::create("t_task_storage")); }},
        {BPF_MAP_TYPE_BLOOM_FILTER, [] { return take(BloomFilter<std::uint64_t>::create("t_bloom", 4)); }},
        {BPF_MAP_TYPE_USER_RINGBUF, [] { return keyless(BPF_MAP_TYPE_USER_RINGBUF, 4096); }},
    };
}

TEST(MapTypes, EveryTypeTheKernelOffersHasAWorkingHandle) {
    REQUIRE_KERNEL();
    auto all = makers();
    int offered = 0;
    for (int t = BPF_MAP_TYPE_UNSPEC + 1; t <= BPF_MAP_TYPE_USER_RINGBUF; ++t) {
        auto type = static_cast<bpf_map_type>(t);
        if (libbpf_probe_bpf_map_type(type, nullptr) != 1) continue;
        ++offered;
        auto it = all.find(type);
        ASSERT_NE(it, all.end()) << "no handle for " << ebpf::map_type_name(type);
        ebpf::Map m = it->second();
        EXPECT_EQ(m.type(), type) << ebpf::map_type_name(type);
    }
    std::cout << offered << " map types offered by this kernel, each created through its handle\n";
    EXPECT_GE(offered, 30);
}

TEST(MapTypes, NamesRoundTrip) {
    for (int t = BPF_MAP_TYPE_UNSPEC + 1; t <= BPF_MAP_TYPE_USER_RINGBUF; ++t) {
        auto type = static_cast<bpf_map_type>(t);
        auto name = ebpf::map_type_name(type);
        EXPECT_EQ(ebpf::map_type_from_name(name), type) << name;
    }
    EXPECT_FALSE(ebpf::map_type_from_name("no_such_type"));
    EXPECT_EQ(ebpf::map_type_name(BPF_MAP_TYPE_LRU_PERCPU_HASH), "lru_percpu_hash");
}

}  // namespace
