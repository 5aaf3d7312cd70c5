// Local storage (socket, task, inode) and cgroup storage.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <fstream>

#include "ebpf/object.hpp"
#include "ebpf/storage.hpp"
#include "ebpf/system.hpp"
#include "kernel.hpp"
#include "maps_test.skel.h"

EBPF_SKELETON(maps_test_bpf);

namespace {

struct Tag {
    std::uint64_t id;
    char label[8];
};

TEST(SocketStorage, AttachesAValueToASocket) {
    REQUIRE_KERNEL();
    auto tags = ebpf::SocketStorage<Tag>::create("t_sk_storage");
    EXPECT_NE(tags.info().btf_value_type_id, 0u) << "local storage needs BTF";
    ebpf::Fd a(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)), b(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    tags.update(a.get(), {7, "alpha"});
    auto got = tags.lookup(a.get());
    ASSERT_TRUE(got);
    EXPECT_EQ(got->id, 7u);
    EXPECT_STREQ(got->label, "alpha");
    EXPECT_FALSE(tags.lookup(b.get()));
    EXPECT_TRUE(tags.erase(a.get()));
    EXPECT_FALSE(tags.lookup(a.get()));
}

TEST(TaskStorage, AttachesAValueToAProcessByPidfd) {
    REQUIRE_KERNEL();
    auto tags = ebpf::TaskStorage<std::uint64_t>::create("t_task_storage");
    ebpf::Fd self(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
    ASSERT_TRUE(self);
    tags.update(self.get(), 42);
    EXPECT_EQ(tags.lookup(self.get()), 42u);
    tags.update(self.get(), 43, ebpf::UpdateFlags::exist);
    EXPECT_EQ(tags.lookup(self.get()), 43u);
}

TEST(InodeStorage, AttachesAValueToAFile) {
    REQUIRE_KERNEL();
    auto tags = ebpf::InodeStorage<std::uint64_t>::create("t_inode_storage");
    char path[] = "/tmp/ebpf-inode-XXXXXX";
    ebpf::Fd file(mkstemp(path));
    ASSERT_TRUE(file);
    unlink(path);
    tags.update(file.get(), 99);
    EXPECT_EQ(tags.lookup(file.get()), 99u);
    ebpf::Fd again(dup(file.get()));
    EXPECT_EQ(tags.lookup(again.get()), 99u) << "the value belongs to the inode, not the fd";
}

// A cgroup program counts the packets a process in a fresh cgroup sends; user space
// reads the count by (cgroup id, attach type).
TEST(CgroupStorage, CountsPerCgroupWhileAProgramIsAttached) {
    REQUIRE_KERNEL();
    const std::string cgroup = ebpf::system::cgroup2_mount() + "/ebpf-tool-test-" + std::to_string(getpid());
    ASSERT_EQ(mkdir(cgroup.c_str(), 0755), 0) << cgroup;
    struct RemoveCgroup {
        std::string path;
        ~RemoveCgroup() { rmdir(path.c_str()); }
    } remove{cgroup};
    ebpf::Fd cgroup_fd(open(cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct stat st {};
    ASSERT_EQ(fstat(cgroup_fd.get(), &st), 0);

    auto skel = ebpf::Skeleton<maps_test_bpf>::open();
    skel.load();
    ebpf::Link link(bpf_program__attach_cgroup(skel->progs.count_egress, cgroup_fd.get()));
    ASSERT_TRUE(link) << "attach to " << cgroup;
    auto packets = ebpf::CgroupStorage<std::uint64_t>::from_libbpf(skel->maps.egress_packets);

    const int n = 25;
    int go[2];
    ASSERT_EQ(pipe(go), 0);
    pid_t child = fork();
    if (child == 0) {
        char c;
        if (read(go[0], &c, 1) != 1) _exit(1);
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(9);  // discard
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        for (int i = 0; i < n; ++i)
            if (sendto(s, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 1) _exit(2);
        _exit(0);
    }
    std::ofstream(cgroup + "/cgroup.procs") << child << std::endl;
    ASSERT_EQ(write(go[1], "x", 1), 1);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(go[0]);
    close(go[1]);
    EXPECT_EQ(packets.lookup(st.st_ino, BPF_CGROUP_INET_EGRESS), static_cast<std::uint64_t>(n));
    EXPECT_FALSE(packets.lookup(st.st_ino, BPF_CGROUP_INET_INGRESS));
}

}  // namespace
