// struct_ops: a BPF TCP congestion control, registered and unregistered through a link.
#include <fstream>
#include <sstream>

#include "ebpf/object.hpp"
#include "ebpf/struct_ops.hpp"
#include "kernel.hpp"
#include "struct_ops_test.skel.h"
#include "unique.hpp"

EBPF_SKELETON(struct_ops_test_bpf);

namespace {

std::string available_congestion_controls() {
    std::ifstream in("/proc/sys/net/ipv4/tcp_available_congestion_control");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(StructOpsMap, RegistersABpfCongestionControlWhileLinked) {
    REQUIRE_KERNEL();
    // "ebpf_test_cc" is one name for the whole kernel: another run of this test registers
    // it too, so runs take turns.
    test::NameLock lock("ebpf_test_cc");
    auto skel = ebpf::Skeleton<struct_ops_test_bpf>::open();
    skel.load();
    auto ops = ebpf::StructOpsMap::from_libbpf(skel->maps.ebpf_test_cc);
    EXPECT_NE(ops.kernel_type_id(), 0u) << "the kernel type (tcp_congestion_ops) is named by BTF id";
    EXPECT_EQ(available_congestion_controls().find("ebpf_test_cc"), std::string::npos);
    {
        ebpf::Link link = ebpf::attach_struct_ops(skel->maps.ebpf_test_cc);
        EXPECT_NE(available_congestion_controls().find("ebpf_test_cc"), std::string::npos);
    }
    EXPECT_EQ(available_congestion_controls().find("ebpf_test_cc"), std::string::npos)
        << "still registered after the link was destroyed";
}

TEST(StructOpsMap, CannotBeCreatedWithoutAKernelType) {
    REQUIRE_KERNEL();
    ebpf::MapSpec spec;
    spec.type = BPF_MAP_TYPE_STRUCT_OPS;
    spec.name = "t_struct_ops";
    spec.key_size = 4;
    spec.value_size = 64;
    spec.max_entries = 1;
    EXPECT_THROW(ebpf::Map::create(spec), ebpf::Error);
}

}  // namespace
