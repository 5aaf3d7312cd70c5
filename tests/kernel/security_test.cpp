// What an attacker or a careless user tried (issue 10), as regression tests: a pinned
// program or link taken for a map, pins reused from directories others control, bpffs
// mounted 1777, pin paths off bpffs leaving directories behind, malformed objects and
// input that crashed or hung the tool, and privilege messages that did not say what is
// missing. Every test works in its own pin directory and with its own test UID.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "ebpf/error.hpp"
#include "ebpf/map.hpp"
#include "ebpf/object.hpp"
#include "ebpf/pin.hpp"
#include "kernel.hpp"
#include "process.hpp"
#include "unique.hpp"

namespace {

namespace fs = std::filesystem;

std::string object(const char* name) {
    return std::string(BPF_OBJECT_DIR) + "/" + name + ".o";
}

test::Result tool(std::vector<std::string> args) {
    args.insert(args.begin(), test::tool_path());
    return test::run(args, std::chrono::seconds(20));
}

// A UID no other process uses (tests of other engineers run concurrently).
unsigned test_uid() { return test::test_uid(0); }

// ebpf-tool run as test_uid() with exactly `caps` (setpriv, util-linux): "bpf,perfmon".
test::Result tool_with_caps(const std::string& caps, std::vector<std::string> args) {
    const std::string uid = std::to_string(test_uid());
    std::string set = "-all";
    if (!caps.empty()) {
        std::size_t start = 0;
        for (;;) {
            auto comma = caps.find(',', start);
            set += ",+" + caps.substr(start, comma - start);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    std::vector<std::string> argv{"/usr/bin/setpriv",  "--reuid=" + uid,        "--regid=" + uid, "--clear-groups",
                                  "--inh-caps=" + set, "--ambient-caps=" + set, test::tool_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv, std::chrono::seconds(20));
}

// One line on stderr, exactly.
std::string one_line(const test::Result& r) {
    auto all = test::lines(r.err);
    EXPECT_EQ(all.size(), 1u) << r.err;
    return all.empty() ? "" : all.front();
}

// A scratch directory in bpffs, removed (with what the test put in it) at the end.
class PinTest : public ::testing::Test {
protected:
    void SetUp() override {
        REQUIRE_KERNEL();
        base_ = "/sys/fs/bpf/ebpf-security-test-" + std::to_string(getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name();
        ASSERT_EQ(::mkdir(base_.c_str(), 0700), 0) << base_;
    }
    void TearDown() override {
        if (!base_.empty()) fs::remove_all(base_);
    }
    std::string path(const std::string& name) const { return base_ + "/" + name; }
    // Entries of a directory, sorted (to show that nothing was added).
    static std::vector<std::string> entries(const std::string& dir) {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename());
        std::sort(out.begin(), out.end());
        return out;
    }
    std::string base_;
};

// --- Defect 1: a pinned program or link is not a map --------------------------------------

TEST_F(PinTest, PinnedProgramIsNamedAsSuchByEveryMapVerb) {
    auto obj = ebpf::Object::open_file(object("counter"));
    obj.load();
    const std::string prog = path("prog");
    ASSERT_EQ(bpf_program__pin(obj.program("count_execs").get(), prog.c_str()), 0);
    const std::string expected = "ebpf-tool: '" + prog + "' is a program, not a map";
    for (const char* verb : {"show", "dump", "freeze"}) {
        auto r = tool({"map", verb, "pinned", prog});
        EXPECT_EQ(r.exit_code, 1) << verb;
        EXPECT_EQ(one_line(r), expected) << verb;
        EXPECT_TRUE(r.out.empty()) << verb << ": " << r.out;
    }
    auto pin = tool({"map", "pin", "pinned", prog, path("again")});
    EXPECT_EQ(pin.exit_code, 1);
    EXPECT_EQ(one_line(pin), expected);
    EXPECT_FALSE(fs::exists(path("again"))) << "the program was pinned again";

    // The other way round: a prog array's value names a pin that must be a program.
    auto jumps = tool({"map", "create", path("jumps"), "type", "prog_array", "key", "4", "value", "4", "entries", "1",
                       "name", "jumps"});
    ASSERT_EQ(jumps.exit_code, 0) << jumps.err;
    auto wrong = tool({"map", "update", "pinned", path("jumps"), "key", "0", "0", "0", "0", "value", "pinned",
                       path("jumps")});
    EXPECT_EQ(wrong.exit_code, 1);
    EXPECT_EQ(one_line(wrong), "ebpf-tool: '" + path("jumps") + "' is a map, not a program");
    auto right = tool({"map", "update", "pinned", path("jumps"), "key", "0", "0", "0", "0", "value", "pinned", prog});
    EXPECT_EQ(right.exit_code, 0) << right.err;

    try {
        (void)ebpf::Map::open_pinned(prog);
        ADD_FAILURE() << "Map::open_pinned opened a program";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(std::string(e.what()), "'" + prog + "' is a program, not a map");
    }
}

TEST_F(PinTest, PinnedLinkIsNamedAsSuch) {
    auto obj = ebpf::Object::open_file(object("counter"));
    obj.load();
    auto link = ebpf::Link::attach(obj.program("count_execs").get());
    const std::string pinned = path("link");
    ASSERT_EQ(bpf_link__pin(link.get(), pinned.c_str()), 0);
    auto r = tool({"map", "show", "pinned", pinned});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(one_line(r), "ebpf-tool: '" + pinned + "' is a link, not a map");
    // run --pin reusing "exec_count": a link pinned under the map's name is refused by kind.
    ASSERT_EQ(::rename(pinned.c_str(), path("exec_count").c_str()), 0);
    auto run = tool({"run", object("counter"), "--pin", base_, "-c", "1", "-i", "0.05"});
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_NE(run.err.find("'" + path("exec_count") + "' is a link, not a map"), std::string::npos) << run.err;
}

// --- Defect 2: pins you can trust ------------------------------------------------------------

// The probe's case: a directory another user made (0777, under a 1777 parent), with
// exec_count symlinked to an unrelated root map. The tool must not use it at all.
TEST_F(PinTest, RunRefusesAPinDirectoryAnotherUserControls) {
    ASSERT_EQ(::chmod(base_.c_str(), 01777), 0);
    auto made = tool({"map", "create", path("root_map"), "type", "hash", "key", "4", "value", "8", "entries", "16",
                      "name", "root_map"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const std::string theirs = path("theirs");
    ASSERT_EQ(::mkdir(theirs.c_str(), 0777), 0);
    ASSERT_EQ(::chmod(theirs.c_str(), 0777), 0);
    ASSERT_EQ(::chown(theirs.c_str(), test_uid(), test_uid()), 0);
    ASSERT_EQ(::symlink(path("root_map").c_str(), (theirs + "/exec_count").c_str()), 0);

    auto r = tool({"run", object("counter"), "--pin", theirs, "-c", "1", "-i", "0.05"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(one_line(r), "ebpf-tool: pin directory '" + theirs + "' is owned by uid " + std::to_string(test_uid()) +
                               ", not by the caller (uid 0): refusing pins someone else controls");
    EXPECT_EQ(entries(theirs), std::vector<std::string>{"exec_count"}) << "something was pinned";
    auto dump = tool({"-j", "map", "dump", "pinned", path("root_map")});
    EXPECT_EQ(dump.out, "[]\n") << "the root map was written to";

    // Owned by root now, but still writable by everybody: refused too.
    ASSERT_EQ(::chown(theirs.c_str(), 0, 0), 0);
    r = tool({"run", object("counter"), "--pin", theirs, "-c", "1", "-i", "0.05"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(one_line(r), "ebpf-tool: pin directory '" + theirs +
                               "' is writable by group or others (mode 0777): refusing pins someone else can replace");

    // Ours and private, but with the symlink inside: the symlink is refused, not followed.
    ASSERT_EQ(::chmod(theirs.c_str(), 0700), 0);
    r = tool({"run", object("counter"), "--pin", theirs, "-c", "1", "-i", "0.05"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(one_line(r),
              "ebpf-tool: pin '" + theirs + "/exec_count' is a symlink: pins are not followed through symlinks");
    EXPECT_EQ(tool({"-j", "map", "dump", "pinned", path("root_map")}).out, "[]\n");

    // Without the symlink, the same directory is used: the sticky parent is fine.
    ASSERT_EQ(::unlink((theirs + "/exec_count").c_str()), 0);
    r = tool({"run", object("counter"), "--pin", theirs, "-c", "1", "-i", "0.05"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(entries(theirs), std::vector<std::string>{"exec_count"});
}

TEST_F(PinTest, AnAncestorOthersCanWriteWithoutStickyIsRefused) {
    ASSERT_EQ(::chmod(base_.c_str(), 0777), 0);  // others could rename "mine" away and replace it
    const std::string mine = path("mine");
    ASSERT_EQ(::mkdir(mine.c_str(), 0700), 0);
    auto r = tool({"run", object("counter"), "--pin", mine, "-c", "1", "-i", "0.05"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(one_line(r), "ebpf-tool: pin directory '" + mine + "': directory '" + base_ +
                               "' is writable by others (mode 0777, not sticky), who could replace what is in it");
    EXPECT_TRUE(entries(mine).empty());
    // The same rule for a single pin: map create and map pin refuse that directory too.
    auto created =
        tool({"map", "create", path("m"), "type", "array", "key", "4", "value", "4", "entries", "1", "name", "m"});
    EXPECT_EQ(created.exit_code, 1);
    EXPECT_NE(one_line(created).find("is writable by others (mode 0777, not sticky)"), std::string::npos);
    EXPECT_FALSE(fs::exists(path("m")));
}

TEST_F(PinTest, MapPinRefusesADirectoryOfAnotherUser) {
    auto made =
        tool({"map", "create", path("m"), "type", "array", "key", "4", "value", "4", "entries", "1", "name", "m"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const std::string theirs = path("theirs");
    ASSERT_EQ(::mkdir(theirs.c_str(), 0755), 0);
    ASSERT_EQ(::chown(theirs.c_str(), test_uid(), test_uid()), 0);
    auto r = tool({"map", "pin", "pinned", path("m"), theirs + "/m"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(one_line(r), "ebpf-tool: pin path '" + theirs + "/m': directory '" + theirs + "' is owned by uid " +
                               std::to_string(test_uid()) +
                               ", who could replace what is in it (trusted: root or uid 0)");
    EXPECT_TRUE(entries(theirs).empty());
}

TEST_F(PinTest, RunPinOffBpffsLeavesNoDirectoryBehind) {
    const std::string parent = "/tmp/ebpf-security-test-" + std::to_string(getpid());
    ASSERT_TRUE(fs::create_directory(parent));
    struct Cleanup {
        std::string dir;
        ~Cleanup() { fs::remove_all(dir); }
    } cleanup{parent};
    auto r = tool({"run", object("counter"), "--pin", parent + "/pins", "-c", "1", "-i", "0.05"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(one_line(r), "ebpf-tool: pin directory '" + parent +
                               "/pins' is not on a bpf filesystem (mount bpffs, e.g. at /sys/fs/bpf)");
    EXPECT_FALSE(fs::exists(parent + "/pins")) << "the refused pin directory was created";
}

// When the tool mounts bpffs, it is 0700 (the kernel adds the sticky bit to every bpffs
// root: 1700): nobody else can make pin directories in it, where the default is 1777. In a
// private mount namespace, so that the machine's own bpffs stays as it is.
TEST(Bpffs, MountedByTheToolIsMode0700) {
    REQUIRE_KERNEL();
    const std::string script =
        "umount -l /sys/fs/bpf && " + test::tool_path() + " stats -d 0.05 >/dev/null 2>&1 && stat -c %a /sys/fs/bpf";
    auto r = test::run({"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "1700\n");
}

// --- Defect 4: malformed input ends cleanly ------------------------------------------------

TEST(MalformedInput, LegacyMapsSectionWithoutBytesIsExplainedNotACrash) {
    REQUIRE_KERNEL();
    auto r = tool({"run", object("legacy_nobits"), "-d", "0.1"});
    EXPECT_EQ(r.signal, 0) << "crashed";
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("defines maps the legacy way"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("} nobits_map SEC(\".maps\");"), std::string::npos) << r.err;
}

TEST(MalformedInput, RunOnAFifoIsRefusedAtOnce) {
    const std::string fifo = "/tmp/ebpf-security-fifo-" + std::to_string(getpid()) + ".o";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    struct Cleanup {
        std::string path;
        ~Cleanup() { ::unlink(path.c_str()); }
    } cleanup{fifo};
    auto r = test::run({test::tool_path(), "run", fifo, "-d", "0.1"}, std::chrono::seconds(10));
    EXPECT_EQ(r.signal, 0) << "it blocked in open() and was killed";
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(one_line(r), "ebpf-tool: run: '" + fifo + "' is not a regular file (a BPF object file is)");
}

TEST(MalformedInput, LibraryRefusesANonRegularObjectFile) {
    try {
        (void)ebpf::Object::open_file("/dev/null");
        ADD_FAILURE() << "opened /dev/null as an object";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(std::string(e.what()), "open '/dev/null': not a regular file");
    }
}

TEST_F(PinTest, DeeplyNestedJsonIsAUsageErrorNotACrash) {
    auto made = tool({"run", object("typed_maps"), "--pin", base_, "--count", "1", "--interval", "0.05"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    for (std::size_t depth : {101u, 65000u}) {
        std::string key = "{\"k\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
        auto r = tool({"map", "update", "pinned", path("flows"), "key", key, "value", "0"});
        EXPECT_EQ(r.signal, 0) << "crashed at depth " << depth;
        EXPECT_EQ(r.exit_code, 2) << depth;
        EXPECT_EQ(one_line(r), "ebpf-tool: map: key: JSON nested deeper than 100 levels");
    }
    EXPECT_EQ(tool({"-j", "map", "dump", "pinned", path("flows")}).out, "[]\n") << "the map changed";
}

// --- Defect 6: privileges named exactly ---------------------------------------------------

class Privileges : public ::testing::Test {
protected:
    void SetUp() override { REQUIRE_KERNEL(); }
};

TEST_F(Privileges, UsageErrorsComeBeforeThePrivilegeCheck) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"map", "bogusverb"}, {"map", "show", "id", "x"}, {"map", "dump", "name"}, {"stats", "-i", "0.001"}}) {
        auto r = tool_with_caps("", args);
        EXPECT_EQ(r.exit_code, 2) << args[1] << ": " << r.err;
        EXPECT_EQ(one_line(r).find("need CAP"), std::string::npos) << r.err;
    }
}

TEST_F(Privileges, TracepointCommandsNameTracefsAccess) {
    const std::string expected =
        "ebpf-tool: need CAP_BPF, CAP_PERFMON and access to tracefs (or root), missing access to tracefs (";
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"execs", "-c", "1"}, {"events", "-d", "0.1"}, {"run", object("counter"), "-d", "0.1"}}) {
        auto r = tool_with_caps("bpf,perfmon", args);
        EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.err;
        EXPECT_EQ(one_line(r).rfind(expected, 0), 0u) << r.err;
        EXPECT_NE(r.err.find("Permission denied)"), std::string::npos) << r.err;
    }
    // With read access to tracefs added, the same command runs: the check is not stricter
    // than the kernel.
    auto r = tool_with_caps("bpf,perfmon,dac_read_search", {"execs", "-c", "1", "-i", "0.05"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(Privileges, NothingAtAllIsNamedInFull) {
    auto r = tool_with_caps("", {"execs", "-c", "1"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(one_line(r).rfind("ebpf-tool: need CAP_BPF, CAP_PERFMON and access to tracefs (or root), missing "
                                "CAP_BPF, CAP_PERFMON, access to tracefs (",
                                0),
              0u)
        << r.err;
}

TEST_F(Privileges, NetworkProgramsNameCapNetAdmin) {
    auto r = tool_with_caps("bpf,perfmon", {"run", object("net_count"), "--iface", "lo", "-d", "0.1"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(one_line(r), "ebpf-tool: need CAP_BPF and CAP_NET_ADMIN (or root), missing CAP_NET_ADMIN");
}

TEST_F(Privileges, IdWalksNameCapSysAdmin) {
    const std::string expected = "ebpf-tool: need CAP_BPF and CAP_SYS_ADMIN (or root), missing CAP_SYS_ADMIN";
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"map", "list"}, {"map", "show", "id", "1"}, {"map", "dump", "name", "exec_count"}}) {
        auto r = tool_with_caps("bpf,perfmon", args);
        EXPECT_EQ(r.exit_code, 1) << args[1];
        EXPECT_EQ(one_line(r), expected) << args[1];
    }
    auto without_bpf = tool_with_caps("", {"map", "list"});
    EXPECT_EQ(one_line(without_bpf),
              "ebpf-tool: need CAP_BPF and CAP_SYS_ADMIN (or root), missing CAP_BPF, CAP_SYS_ADMIN");
    auto r = tool_with_caps("bpf,sys_admin", {"-j", "map", "list"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
