// Stack traces recorded by bpf_get_stackid and read back by id.
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "ebpf/array.hpp"
#include "ebpf/object.hpp"
#include "ebpf/stack_trace.hpp"
#include "ebpf/system.hpp"
#include "kernel.hpp"
#include "maps_test.skel.h"

EBPF_SKELETON(maps_test_bpf);

namespace {

// True when `ip` lies in an executable mapping of this process.
bool in_executable_mapping(std::uint64_t ip) {
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) {
        std::istringstream in(line);
        std::string range, perms;
        in >> range >> perms;
        auto dash = range.find('-');
        std::uint64_t lo = std::stoull(range.substr(0, dash), nullptr, 16);
        std::uint64_t hi = std::stoull(range.substr(dash + 1), nullptr, 16);
        if (perms.find('x') != std::string::npos && ip >= lo && ip < hi) return true;
    }
    return false;
}

TEST(StackTraceMap, ReadsTheUserStackOfASyscall) {
    REQUIRE_KERNEL();
    ebpf::system::prepare();
    auto skel = ebpf::Skeleton<maps_test_bpf>::open();
    skel->rodata->target_tgid = static_cast<std::uint32_t>(getpid());
    skel.load();
    auto stacks = ebpf::StackTraceMap::from_libbpf(skel->maps.stacks);
    EXPECT_EQ(stacks.depth(), 127u);
    ebpf::Link link = ebpf::Link::attach(skel->progs.record_stack);
    syscall(SYS_getppid);
    link.reset();
    auto id = ebpf::Array<std::int64_t>::from_libbpf(skel->maps.last_stack_id).get(0);
    ASSERT_GE(id, 0) << "bpf_get_stackid failed: " << id;
    auto ips = stacks.lookup(static_cast<std::uint32_t>(id));
    ASSERT_TRUE(ips);
    ASSERT_FALSE(ips->empty());
    EXPECT_TRUE(in_executable_mapping(ips->front())) << std::hex << ips->front();
    auto ids = stacks.ids();
    EXPECT_TRUE(ids.complete());
    EXPECT_EQ(ids.items, std::vector<std::uint32_t>{static_cast<std::uint32_t>(id)});
    EXPECT_TRUE(stacks.erase(static_cast<std::uint32_t>(id)));
    EXPECT_FALSE(stacks.lookup(static_cast<std::uint32_t>(id)));
}

}  // namespace
