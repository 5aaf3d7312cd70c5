// User ring buffer: records written by user space are drained by a BPF program.
#include <sys/syscall.h>
#include <unistd.h>

#include "ebpf/array.hpp"
#include "ebpf/object.hpp"
#include "ebpf/system.hpp"
#include "ebpf/user_ring_buffer.hpp"
#include "kernel.hpp"
#include "maps_test.skel.h"

EBPF_SKELETON(maps_test_bpf);

namespace {

TEST(UserRingBuffer, ABpfProgramDrainsWhatUserSpaceWrote) {
    REQUIRE_KERNEL();
    ebpf::system::prepare();
    auto skel = ebpf::Skeleton<maps_test_bpf>::open();
    skel->rodata->target_tgid = static_cast<std::uint32_t>(getpid());
    skel.load();
    ebpf::UserRingBufferWriter writer(ebpf::Map::from_libbpf(skel->maps.user_ring));
    for (std::uint64_t v = 1; v <= 100; ++v) writer.write(v);
    ebpf::Link link = ebpf::Link::attach(skel->progs.drain_user_ring);
    syscall(SYS_getppid);  // the program drains on this process's getppid
    link.reset();
    auto totals = ebpf::Array<std::uint64_t>::from_libbpf(skel->maps.user_ring_totals);
    EXPECT_EQ(totals.get(0), 5050u);
    EXPECT_EQ(totals.get(1), 100u);
}

TEST(UserRingBuffer, AFullRingIsAnErrorNotALoss) {
    REQUIRE_KERNEL();
    auto skel = ebpf::Skeleton<maps_test_bpf>::open();
    skel.load();
    ebpf::UserRingBufferWriter writer(ebpf::Map::from_libbpf(skel->maps.user_ring));
    // 4096 bytes of ring, 16 bytes a record (8-byte header + 8 bytes): 256 fit.
    int written = 0;
    try {
        for (std::uint64_t v = 0; v < 1000; ++v, ++written) writer.write(v);
        FAIL() << "1000 records fit in a 4 KiB ring";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.errno_value(), ENOSPC) << e.what();
        EXPECT_EQ(e.code(), ebpf::errc::map_full);
        EXPECT_STREQ(e.what(), "map 'user_ring' is full: no room for 8 bytes (ENOSPC)");
    }
    EXPECT_EQ(written, 256);
}

TEST(UserRingBuffer, RefusesOtherMapTypes) {
    REQUIRE_KERNEL();
    auto skel = ebpf::Skeleton<maps_test_bpf>::open();
    skel.load();
    try {
        ebpf::UserRingBufferWriter writer(ebpf::Map::from_libbpf(skel->maps.result));
        FAIL();
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::wrong_type);
        EXPECT_STREQ(e.what(), "UserRingBufferWriter needs a user_ringbuf map, 'result' is an array");
    }
}

}  // namespace
