// Objects, programs and links against the real kernel: Program handles describe what the
// object defines; a Link keeps its program running exactly as long as it (or its pin)
// lives; a raw link fd from bpf_link_create() is owned the same way. Counts are getppid
// calls of this process, so nothing else on the machine can change them.
#include <bpf/bpf.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "ebpf/hash_map.hpp"
#include "ebpf/object.hpp"
#include "ebpf/system.hpp"
#include "kernel.hpp"

namespace {

std::string object_path() {
    return std::string(BPF_OBJECT_DIR) + "/link_test.o";
}

void call_getppid(int n) {
    for (int i = 0; i < n; ++i) ::syscall(SYS_getppid);
}

// This process's count in one of the object's maps (0 when it has none yet).
std::uint64_t count_in(const ebpf::Object& object, const char* map) {
    return object.map<ebpf::HashMap<std::uint32_t, std::uint64_t>>(map)
        .lookup(static_cast<std::uint32_t>(getpid()))
        .value_or(0);
}

ebpf::Object loaded_object() {
    ebpf::system::prepare();
    auto object = ebpf::Object::open_file(object_path());
    object.load();
    return object;
}

// A unique pin path on bpffs, removed at the end of the test whatever happens.
struct PinPath {
    std::string path = "/sys/fs/bpf/ebpf-link-test-" + std::to_string(getpid());
    ~PinPath() { std::filesystem::remove(path); }
};

TEST(Object, ProgramsAreHandlesWithNameSectionAndType) {
    REQUIRE_KERNEL();
    auto object = ebpf::Object::open_file(object_path());
    auto programs = object.programs();
    ASSERT_EQ(programs.size(), 2u);
    EXPECT_EQ(programs[0].name(), "count_getppid");
    EXPECT_EQ(programs[0].section(), "tracepoint/syscalls/sys_enter_getppid");
    EXPECT_EQ(programs[0].type(), BPF_PROG_TYPE_TRACEPOINT);
    EXPECT_EQ(programs[0].type_name(), "tracepoint");
    EXPECT_EQ(programs[1].name(), "count_getppid_exit");
    EXPECT_EQ(programs[1].section(), "tracepoint/syscalls/sys_exit_getppid");
    EXPECT_TRUE(programs[1].autoload());
    EXPECT_EQ(programs[0].fd(), -1) << "not loaded yet";

    ebpf::system::prepare();
    object.load();
    EXPECT_GE(object.program("count_getppid").fd(), 0);
    EXPECT_GT(object.program("count_getppid").id(), 0u);
    try {
        (void)object.program("nope");
        FAIL() << "no error for a missing program";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::not_found);
        EXPECT_NE(std::string(e.what()).find("no program named 'nope'"), std::string::npos) << e.what();
    }
}

TEST(Object, AutoloadOffLeavesAProgramOutOfLoadAndAttachAll) {
    REQUIRE_KERNEL();
    ebpf::system::prepare();
    auto object = ebpf::Object::open_file(object_path());
    object.program("count_getppid_exit").set_autoload(false);
    object.load();
    EXPECT_EQ(object.program("count_getppid_exit").fd(), -1);
    auto links = object.attach_all();
    ASSERT_EQ(links.size(), 1u);
    EXPECT_EQ(links[0].info().program_id, object.program("count_getppid").id());
    call_getppid(4);
    EXPECT_EQ(count_in(object, "calls"), 4u);
    EXPECT_EQ(count_in(object, "exit_calls"), 0u);
}

TEST(Link, CountsWhileAliveAndDetachStopsIt) {
    REQUIRE_KERNEL();
    auto object = loaded_object();
    auto program = object.program("count_getppid");
    ebpf::Link link = program.attach();
    ASSERT_TRUE(link);
    const auto info = link.info();
    EXPECT_GT(info.id, 0u);
    EXPECT_EQ(info.program_id, program.id());
    call_getppid(5);
    EXPECT_EQ(count_in(object, "calls"), 5u);

    link.detach();
    EXPECT_FALSE(link);
    EXPECT_EQ(link.fd(), -1);
    call_getppid(3);
    EXPECT_EQ(count_in(object, "calls"), 5u) << "the program still ran after detach()";
}

TEST(Link, AttachAllKeepsEveryProgramAttachedWhileTheLinksLive) {
    REQUIRE_KERNEL();
    auto object = loaded_object();
    {
        auto links = object.attach_all();
        ASSERT_EQ(links.size(), 2u);
        call_getppid(6);
    }
    call_getppid(2);  // after the links went: not counted
    EXPECT_EQ(count_in(object, "calls"), 6u);
    EXPECT_EQ(count_in(object, "exit_calls"), 6u);
}

TEST(Link, APinnedLinkOutlivesItsHandleUntilDetached) {
    REQUIRE_KERNEL();
    auto object = loaded_object();
    PinPath pin;
    std::uint32_t link_id = 0;
    {
        ebpf::Link link = object.program("count_getppid").attach();
        link.pin(pin.path);
        EXPECT_EQ(link.pin_path(), pin.path);
        link_id = link.info().id;
        try {
            link.pin(pin.path + "-again");
            FAIL() << "a second pin of one handle was accepted";
        } catch (const ebpf::Error& e) {
            EXPECT_EQ(e.errno_value(), EEXIST);
        }
    }  // the handle goes; the pin keeps the program attached
    call_getppid(7);
    EXPECT_EQ(count_in(object, "calls"), 7u);

    ebpf::Link pinned = ebpf::Link::open_pinned(pin.path);
    EXPECT_EQ(pinned.info().id, link_id);
    EXPECT_EQ(pinned.get(), nullptr) << "opened from a pin: no libbpf link";
    pinned.detach();
    EXPECT_FALSE(std::filesystem::exists(pin.path)) << "detach() left the pin";
    call_getppid(3);
    EXPECT_EQ(count_in(object, "calls"), 7u) << "the program still ran after detach()";
}

TEST(Link, OpenPinnedRefusesAPinThatIsNotALink) {
    REQUIRE_KERNEL();
    auto object = loaded_object();
    PinPath pin;
    object.map("calls").pin(pin.path);
    try {
        [[maybe_unused]] auto link = ebpf::Link::open_pinned(pin.path);
        FAIL() << "a map pin opened as a link";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.errno_value(), EINVAL);
        EXPECT_EQ(e.code(), ebpf::errc::not_an_object);
        EXPECT_NE(std::string(e.what()).find("not a BPF link (anon_inode:bpf-map)"), std::string::npos) << e.what();
    }
    EXPECT_THROW((void)ebpf::Link::open_pinned(pin.path + "-missing"), ebpf::Error);
}

// The id of a tracepoint, from tracefs.
int tracepoint_id(const std::string& category, const std::string& name) {
    std::ifstream in(ebpf::system::ensure_tracefs() + "/events/" + category + "/" + name + "/id");
    int id = -1;
    in >> id;
    return id;
}

// A link made outside libbpf's attach API, as bpf_link_create() makes tcx and netkit
// links: a perf-event link for a tracepoint program, adopted as an ebpf::Link.
TEST(Link, AdoptsARawLinkFdFromBpfLinkCreate) {
    REQUIRE_KERNEL();
    auto object = loaded_object();
    const int tp = tracepoint_id("syscalls", "sys_enter_getppid");
    ASSERT_GT(tp, 0);
    perf_event_attr attr{};
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.size = sizeof(attr);
    attr.config = static_cast<std::uint64_t>(tp);
    attr.sample_period = 1;
    attr.wakeup_events = 1;
    ebpf::Fd event(static_cast<int>(::syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC)));
    ASSERT_TRUE(event) << "perf_event_open: " << std::strerror(errno);

    auto program = object.program("count_getppid");
    const int fd = bpf_link_create(program.fd(), event.get(), BPF_PERF_EVENT, nullptr);
    ASSERT_GE(fd, 0) << "bpf_link_create: " << std::strerror(-fd);
    event.reset();  // the link holds the perf event now
    {
        ebpf::Link link{ebpf::Fd(fd)};
        EXPECT_EQ(link.fd(), fd);
        EXPECT_EQ(link.get(), nullptr);
        const auto info = link.info();
        EXPECT_EQ(info.type, BPF_LINK_TYPE_PERF_EVENT);
        EXPECT_EQ(info.program_id, program.id());
        call_getppid(9);
        EXPECT_EQ(count_in(object, "calls"), 9u);

        ebpf::Link moved = std::move(link);
        EXPECT_FALSE(link);
        call_getppid(1);
        EXPECT_EQ(count_in(object, "calls"), 10u) << "a move detached the program";
    }
    call_getppid(4);
    EXPECT_EQ(count_in(object, "calls"), 10u) << "the raw link stayed attached after its handle went";
}

}  // namespace
