// Maps of references to other kernel objects: prog arrays (tail calls), map-of-maps,
// socket maps, perf event arrays, cgroup arrays, AF_XDP socket maps.
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ebpf/array.hpp"
#include "ebpf/fd_array.hpp"
#include "ebpf/object.hpp"
#include "ebpf/system.hpp"
#include "kernel.hpp"
#include "maps_test.skel.h"
#include "net.hpp"

EBPF_SKELETON(maps_test_bpf);

namespace {

// Runs an XDP program once on a dummy packet (BPF_PROG_TEST_RUN) and returns what it
// wrote to the `result` map.
std::uint32_t run_and_read_result(const ebpf::Skeleton<maps_test_bpf>& skel, ::bpf_program* program) {
    unsigned char packet[64] = {};
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet), .repeat = 1);
    int err = bpf_prog_test_run_opts(bpf_program__fd(program), &opts);
    if (err) throw ebpf::Error::sys(err, "test run");
    return ebpf::Array<std::uint32_t>::from_libbpf(skel->maps.result).get(0);
}

std::uint32_t program_id(::bpf_program* program) {
    bpf_prog_info info{};
    std::uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(program), &info, &len)) throw std::runtime_error("prog info");
    return info.id;
}

TEST(ProgArray, TailCallRunsTheProgramInTheSlot) {
    REQUIRE_KERNEL();
    auto skel = ebpf::Skeleton<maps_test_bpf>::open();
    skel.load();
    auto jumps = ebpf::ProgArray::from_libbpf(skel->maps.jump_table);
    EXPECT_EQ(run_and_read_result(skel, skel->progs.tail_entry), 7u) << "an empty slot must fall through";
    jumps.update(0, bpf_program__fd(skel->progs.tail_target));
    EXPECT_EQ(jumps.lookup(0), program_id(skel->progs.tail_target));
    EXPECT_EQ(run_and_read_result(skel, skel->progs.tail_entry), 42u);
    EXPECT_TRUE(jumps.erase(0));
    EXPECT_FALSE(jumps.lookup(0).has_value());
    EXPECT_EQ(run_and_read_result(skel, skel->progs.tail_entry), 7u);
}

TEST(ArrayOfMaps, AnInnerMapSwappedInIsSeenByTheProgram) {
    REQUIRE_KERNEL();
    auto skel = ebpf::Skeleton<maps_test_bpf>::open();
    skel.load();
    auto outer = ebpf::ArrayOfMaps::from_libbpf(skel->maps.outer);
    auto a = ebpf::Array<std::uint32_t>::create("t_inner_a", 1);
    auto b = ebpf::Array<std::uint32_t>::create("t_inner_b", 1);
    a.update(0, 111);
    b.update(0, 222);
    EXPECT_EQ(run_and_read_result(skel, skel->progs.read_inner), 0xdeadu);
    outer.update(0, a.map());
    EXPECT_EQ(run_and_read_result(skel, skel->progs.read_inner), 111u);
    outer.update(0, b.map());
    EXPECT_EQ(outer.lookup(0), b.info().id);
    EXPECT_EQ(run_and_read_result(skel, skel->progs.read_inner), 222u);
    b.update(0, 333);  // the program reads the live inner map
    EXPECT_EQ(run_and_read_result(skel, skel->progs.read_inner), 333u);
    // An inner map of another shape is refused by the kernel.
    auto wrong = ebpf::Array<std::uint64_t>::create("t_inner_wrong", 1);
    EXPECT_THROW(outer.update(0, wrong.map()), ebpf::Error);
    EXPECT_TRUE(outer.erase(0));
    EXPECT_EQ(run_and_read_result(skel, skel->progs.read_inner), 0xdeadu);
}

TEST(MapOfMaps, CreatedAtRunTimeWithATemplate) {
    REQUIRE_KERNEL();
    auto inner = ebpf::Array<std::uint32_t>::create("t_tmpl", 4);
    auto by_index = ebpf::ArrayOfMaps::create_of_maps("t_aom", 2, inner.map());
    auto by_key = ebpf::HashOfMaps<std::uint64_t>::create_of_maps("t_hom", 8, inner.map());
    by_index.update(1, inner.map());
    by_key.update(0xabcdef, inner.map());
    EXPECT_EQ(by_index.lookup(1), inner.info().id);
    EXPECT_EQ(by_key.lookup(0xabcdef), inner.info().id);
    auto keys = by_key.keys();
    EXPECT_TRUE(keys.complete());
    EXPECT_EQ(keys.items, std::vector<std::uint64_t>{0xabcdef});
    EXPECT_FALSE(by_key.lookup(1));
}

TEST(SockMap, AcceptsAConnectedSocketAndReturnsItsCookie) {
    REQUIRE_KERNEL();
    auto pair = test::tcp_pair();
    auto sockets = ebpf::SockMap::create("t_sockmap", 4, /*value_size=*/8);
    sockets.update(0, pair.client.get());
    EXPECT_EQ(sockets.lookup(0), test::socket_cookie(pair.client.get()));
    EXPECT_FALSE(sockets.lookup(1));
    // A socket that is not connected is refused.
    ebpf::Fd unconnected(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_THROW(sockets.update(1, unconnected.get()), ebpf::Error);
    EXPECT_THROW(sockets.update(1, -1), ebpf::Error);
    EXPECT_TRUE(sockets.erase(0));
}

TEST(SockHash, KeysSocketsByStruct) {
    REQUIRE_KERNEL();
    struct Flow {
        std::uint32_t addr;
        std::uint32_t port;
    };
    auto pair = test::tcp_pair();
    auto sockets = ebpf::SockHash<Flow>::create("t_sockhash", 4, 8);
    sockets.update({0x0100007f, 80}, pair.server.get());
    EXPECT_EQ(sockets.lookup({0x0100007f, 80}), test::socket_cookie(pair.server.get()));
    EXPECT_FALSE(sockets.lookup({0x0100007f, 81}));
}

TEST(ReuseportSockArray, HoldsReuseportSockets) {
    REQUIRE_KERNEL();
    ebpf::Fd udp(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    int one = 1;
    ASSERT_EQ(setsockopt(udp.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(udp.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    auto group = ebpf::ReuseportSockArray::create("t_reuseport", 2, 8);
    group.update(0, udp.get());
    EXPECT_EQ(group.lookup(0), test::socket_cookie(udp.get()));
}

TEST(PerfEventArray, StoresPerfEventsButCannotBeReadFromUserSpace) {
    REQUIRE_KERNEL();
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_BPF_OUTPUT;
    attr.sample_type = PERF_SAMPLE_RAW;
    ebpf::Fd event(static_cast<int>(syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC)));
    ASSERT_TRUE(event);
    auto events = ebpf::PerfEventArray::create("t_perf", 2);
    events.update(0, event.get());
    try {
        (void)events.lookup(0);
        FAIL() << "a perf event array was read from user space";
    } catch (const ebpf::Error& e) {
        EXPECT_NE(std::string(e.what()).find("not supported"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(events.erase(0));
}

TEST(CgroupArray, StoresCgroupDirectories) {
    REQUIRE_KERNEL();
    ebpf::Fd cgroup(open(ebpf::system::cgroup2_mount().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(cgroup);
    auto cgroups = ebpf::CgroupArray::create("t_cgroups", 2);
    cgroups.update(0, cgroup.get());
    EXPECT_THROW(cgroups.update(1, STDIN_FILENO), ebpf::Error);  // not a cgroup
    EXPECT_TRUE(cgroups.erase(0));
}

TEST(XskMap, HoldsAfXdpSocketsOnly) {
    REQUIRE_KERNEL();
    auto xsks = ebpf::XskMap::create("t_xsks", 4);
    ebpf::Fd xsk(socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(xsk);
    xsks.update(0, xsk.get());
    auto pair = test::tcp_pair();
    EXPECT_THROW(xsks.update(1, pair.client.get()), ebpf::Error);  // not AF_XDP
    try {
        (void)xsks.lookup(0);
        FAIL() << "an xskmap was read from user space";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.errno_value(), EOPNOTSUPP) << e.what();
        EXPECT_EQ(e.code(), ebpf::errc::not_supported);
        EXPECT_STREQ(e.what(), "map 't_xsks': lookup: not supported by an xskmap map (EOPNOTSUPP)");
    }
    EXPECT_TRUE(xsks.erase(0));
    // The kernel answers 0 for deleting an empty xskmap slot too, so erase() cannot
    // report "was missing" for this type (documented in docs/library.md).
}

TEST(FdMaps, WrongValueSizeIsRefused) {
    REQUIRE_KERNEL();
    ebpf::MapSpec spec;
    spec.type = BPF_MAP_TYPE_HASH;
    spec.name = "t_not_fd";
    spec.key_size = 4;
    spec.value_size = 4;
    spec.max_entries = 1;
    auto plain = ebpf::Map::create(spec);
    try {
        ebpf::ProgArray wrong(ebpf::Map::open_by_id(plain.info().id));
        FAIL();
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::wrong_type);
        EXPECT_STREQ(e.what(), "ProgArray needs a prog_array map, 't_not_fd' is a hash");
    }
}

}  // namespace
