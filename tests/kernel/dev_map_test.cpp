// XDP redirect maps: devmap, devmap_hash, cpumap.
#include <net/if.h>

#include "ebpf/dev_map.hpp"
#include "kernel.hpp"

namespace {

TEST(DevMap, MapsIndexesToInterfaces) {
    REQUIRE_KERNEL();
    const std::uint32_t lo = if_nametoindex("lo");
    ASSERT_GT(lo, 0u);
    auto ports = ebpf::DevMap::create("t_devmap", 4);
    EXPECT_EQ(ports.info().value_size, sizeof(ebpf::DevMapValue));
    ports.update(2, {lo, 0});
    auto v = ports.lookup(2);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->ifindex, lo);
    EXPECT_EQ(v->program, 0);
    EXPECT_THROW(ports.update(1, {999999, 0}), ebpf::Error);  // no such interface
    EXPECT_TRUE(ports.erase(2));
    EXPECT_FALSE(ports.lookup(2));
}

TEST(DevMapHash, KeysInterfacesByAnyKey) {
    REQUIRE_KERNEL();
    const std::uint32_t lo = if_nametoindex("lo");
    auto ports = ebpf::DevMapHash<std::uint32_t>::create("t_devhash", 8);
    ports.update(lo, {lo, 0});
    EXPECT_EQ(ports.lookup(lo)->ifindex, lo);
    EXPECT_FALSE(ports.lookup(lo + 1000));
}

TEST(CpuMap, SetsAQueuePerCpu) {
    REQUIRE_KERNEL();
    auto cpus = ebpf::CpuMap::create("t_cpumap", 2);
    cpus.update(1, {192, 0});
    auto v = cpus.lookup(1);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->qsize, 192u);
    EXPECT_FALSE(cpus.lookup(0));
    EXPECT_THROW(cpus.update(5, {192, 0}), ebpf::Error);  // beyond max_entries
}

}  // namespace
