// `ebpf-tool run` on objects compiled by plain clang: the seeds' exec counter with exact
// counts, XDP and tc on a veth of a test network namespace, pins kept and reused, and the
// legacy-maps explanation.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <filesystem>
#include <thread>
#include <nlohmann/json.hpp>

#include "kernel.hpp"
#include "netlab.hpp"
#include "netns.hpp"
#include "owned.hpp"
#include "process.hpp"
#include "unique.hpp"

namespace {

constexpr const char* kReady = "Hit Ctrl-C to end.";

std::string object(const char* name) { return std::string(BPF_OBJECT_DIR) + "/" + name + ".o"; }

const nlohmann::json& map_named(const nlohmann::json& doc, const std::string& name) {
    for (const auto& m : doc.at("maps"))
        if (m.at("name") == name) return m;
    throw std::runtime_error("no map " + name + " in " + doc.dump());
}

// A u32 key as the tool prints its raw bytes.
nlohmann::json little_endian_bytes(std::uint32_t value) {
    nlohmann::json bytes = nlohmann::json::array();
    for (int i = 0; i < 4; ++i) {
        char text[5];
        std::snprintf(text, sizeof(text), "0x%02x", (value >> (8 * i)) & 0xffu);
        bytes.push_back(text);
    }
    return bytes;
}

nlohmann::json last_json(const std::string& out) {
    auto all = test::lines(out);
    if (all.empty()) throw std::runtime_error("no output");
    return nlohmann::json::parse(all.back());
}

// True once the last complete line of `out` shows `n` packets in both slots (XDP, tc) of
// net_count's udp_discard_packets.
bool both_slots_counted(const std::string& out, int n) {
    const auto end = out.rfind('\n');
    if (end == std::string::npos) return false;
    try {
        const auto entries = map_named(last_json(out.substr(0, end + 1)), "udp_discard_packets").at("entries");
        return entries.size() == 2 && entries[0].at("formatted").at("value") == n &&
               entries[1].at("formatted").at("value") == n;
    } catch (const std::exception&) {
        return false;
    }
}

// Every program, map and link the tool held is gone. Only its own: other test runs load
// and free objects meanwhile, so a diff of the kernel's global id sets would flake.
void expect_own_objects_gone(const test::BpfIds& held) {
    EXPECT_FALSE(held.programs.empty()) << "never saw the tool's programs";
    const auto left = test::still_in_kernel(held);
    EXPECT_TRUE(left.empty()) << "left in the kernel: " << test::describe(left);
}

TEST(RunCommand, SeedsCounterCountsExactlyPerUser) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(0);
    test::Process tool({test::tool_path(), "run", object("counter"), "--json", "--interval", "0.2"});
    test::BpfObjectWatch watch(tool.pid());
    ASSERT_TRUE(tool.wait_for_stderr(kReady)) << "no start";
    watch.sample();  // ready: it holds its objects now
    ASSERT_TRUE(test::exec_as(uid, 7));
    tool.signal(SIGINT);
    auto result = tool.finish();
    watch.stop();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.err.find("attached count_execs to tracepoint/syscalls/sys_enter_execve"), std::string::npos)
        << result.err;
    auto counts = map_named(last_json(result.out), "exec_count");
    EXPECT_EQ(counts.at("type"), "hash");
    int found = 0;
    for (const auto& e : counts.at("entries")) {
        if (e.at("formatted").at("key") == uid) {
            EXPECT_EQ(e.at("formatted").at("value"), 7) << e.dump();
            EXPECT_EQ(e.at("key"), little_endian_bytes(uid));
            ++found;
        }
    }
    EXPECT_EQ(found, 1) << counts.dump();
    expect_own_objects_gone(watch.seen());
}

TEST(RunCommand, TextOutputShowsEachMapWithTypedEntries) {
    REQUIRE_KERNEL();
    test::Process tool({test::tool_path(), "run", object("counter"), "--interval", "0.2"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    const unsigned uid = test::test_uid(1);
    ASSERT_TRUE(test::exec_as(uid, 2));
    tool.signal(SIGTERM);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("exec_count (hash, "), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("  " + std::to_string(uid) + "  2\n"), std::string::npos) << result.out;
}

TEST(RunCommand, XdpAndTcProgramsCountPacketsOnAnInterface) {
    REQUIRE_KERNEL();
    test::VethPair net;
    const int n = 25;
    test::Process tool({test::tool_path(), "run", object("net_count"), "--iface", net.host_interface(), "--json",
                        "--interval", "0.2"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady)) << "no start";
    ASSERT_TRUE(net.send_udp_from_peer(n, 9));
    // The receiving side counts them in its own time: wait until a print shows them all.
    EXPECT_TRUE(tool.wait_for_stdout([&](const std::string& out) { return both_slots_counted(out, n); },
                                     std::chrono::seconds(10)))
        << "the packets were not all counted";
    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.err.find("attached xdp_count to xdp (native) on " + net.host_interface()), std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("attached tc_count to tcx ingress on " + net.host_interface()), std::string::npos)
        << result.err;
    auto packets = map_named(last_json(result.out), "udp_discard_packets").at("entries");
    ASSERT_EQ(packets.size(), 2u);
    EXPECT_EQ(packets[0].at("formatted").at("value"), n) << "XDP";
    EXPECT_EQ(packets[1].at("formatted").at("value"), n) << "tc";
    // Detached on exit, and no qdisc was ever made (tcx links need none).
    EXPECT_NE(std::system(("tc qdisc show dev " + net.host_interface() + " | grep -q clsact").c_str()), 0);
}

// A killed `run` cannot clean up after itself: its XDP and tc programs are attached
// through links that the kernel detaches when the process's fds close.
TEST(RunCommand, KilledRunLeavesNothingOnTheInterface) {
    REQUIRE_KERNEL();
    test::NetLab lab;
    test::Process tool({test::tool_path(), "run", object("net_count"), "--iface", lab.host_interface(), "--interval", "5"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady)) << "no start";
    ASSERT_TRUE(lab.anything_attached());
    tool.signal(SIGKILL);
    EXPECT_EQ(tool.finish().signal, SIGKILL);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (lab.anything_attached() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(lab.anything_attached()) << "an XDP program, tcx program or clsact qdisc outlived SIGKILL";
}

TEST(RunCommand, XdpWithoutAnInterfaceFailsCleanly) {
    REQUIRE_KERNEL();
    test::Process tool({test::tool_path(), "run", object("net_count"), "--duration", "1"});
    test::BpfObjectWatch watch(tool.pid());
    auto result = tool.finish();
    watch.stop();
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.err.find("program 'xdp_count' (SEC(\"xdp\")) needs a network interface (--iface)"),
              std::string::npos)
        << result.err;
    // What the watch saw of it before it failed (it may see nothing: the failure is quick).
    const auto left = test::still_in_kernel(watch.seen());
    EXPECT_TRUE(left.empty()) << "left in the kernel: " << test::describe(left);
}

TEST(RunCommand, PinKeepsMapsAndTheNextRunReusesThem) {
    REQUIRE_KERNEL();
    const std::string dir = test::unique_name("/sys/fs/bpf/ebpf-run-test-");
    const unsigned uid = test::test_uid(2);
    struct Cleanup {
        std::string dir;
        ~Cleanup() { std::filesystem::remove_all(dir); }
    } cleanup{dir};
    for (int round = 1; round <= 2; ++round) {
        test::Process tool({test::tool_path(), "run", object("counter"), "--pin", dir, "--json", "--interval", "5"});
        ASSERT_TRUE(tool.wait_for_stderr(kReady));
        ASSERT_TRUE(test::exec_as(uid, 3));
        tool.signal(SIGINT);
        auto result = tool.finish();
        ASSERT_EQ(result.exit_code, 0) << result.err;
        ASSERT_TRUE(std::filesystem::exists(dir + "/exec_count"));
        int count = -1;
        auto doc = last_json(result.out);
        for (const auto& e : map_named(doc, "exec_count").at("entries"))
            if (e.at("formatted").at("key").get<unsigned>() == uid) count = e.at("formatted").at("value").get<int>();
        EXPECT_EQ(count, 3 * round) << "round " << round << " did not reuse the pinned map";
    }
}

// The libc that this test itself runs on: the uprobe goes on its getppid().
std::string libc_path() {
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) {
        auto slash = line.find('/');
        if (slash != std::string::npos && line.find("/libc.so") != std::string::npos) return line.substr(slash);
    }
    return "/lib/x86_64-linux-gnu/libc.so.6";
}

TEST(RunCommand, UprobeOnAFunctionOfABinaryCountsExactly) {
    REQUIRE_KERNEL();
    const int n = 33;
    const std::string libc = libc_path();
    test::Process tool({test::tool_path(), "run", object("uprobe_count"), "--binary", libc, "--json", "--interval", "5"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady)) << "no start";
    EXPECT_TRUE(tool.wait_for_stderr("attached count_getppid to uprobe " + libc + ":getppid", std::chrono::seconds(1)));
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_NAME, "ebpf-uprobe-t");
        for (int i = 0; i < n; ++i) getppid();
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    // Counted per process: only the child's entry is this test's.
    int found = 0;
    const auto doc = last_json(result.out);
    for (const auto& e : map_named(doc, "getppid_calls").at("entries")) {
        if (e.at("formatted").at("key") == child) {
            EXPECT_EQ(e.at("formatted").at("value"), n) << e.dump();
            ++found;
        }
    }
    EXPECT_EQ(found, 1) << "child " << child << ": " << result.out;
}

TEST(RunCommand, UprobeWithoutABinaryFailsCleanly) {
    REQUIRE_KERNEL();
    auto result = test::run({test::tool_path(), "run", object("uprobe_count"), "--duration", "1"});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_EQ(result.err, "ebpf-tool: program 'count_getppid' (SEC(\"uprobe/getppid\")) needs a binary (--binary) "
                          "for its uprobe\n");
}

TEST(RunCommand, LegacyMapsGetTheirBtfStyleDefinitions) {
    REQUIRE_KERNEL();
    auto result = test::run({test::tool_path(), "run", object("legacy_maps")});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_EQ(test::lines(result.err).front().rfind("ebpf-tool: object '", 0), 0u) << result.err;
    EXPECT_NE(result.err.find("legacy way (SEC(\"maps\")"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("struct {\n    __uint(type, BPF_MAP_TYPE_HASH);\n    __uint(max_entries, 1024);\n"
                              "    __type(key, __u32);\n    __type(value, __u64);\n} legacy_counts SEC(\".maps\");"),
              std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("__uint(value_size, 16);\n} legacy_names SEC(\".maps\");"), std::string::npos)
        << result.err;
}

TEST(RunCommand, BadInputIsOneLine) {
    auto missing = test::run({test::tool_path(), "run", "/nonexistent.bpf.o"});
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_EQ(test::lines(missing.err).size(), 1u) << missing.err;
    // Files that are not BPF objects say which they are not (libbpf says "4001" for both).
    const std::string text = "/tmp/ebpf-tool-not-elf-" + std::to_string(getpid());
    std::ofstream(text) << "not an object\n";
    auto not_elf = test::run({test::tool_path(), "run", text});
    EXPECT_EQ(not_elf.exit_code, 1);
    EXPECT_EQ(not_elf.err, "ebpf-tool: open '" + text + "': not an ELF file\n");
    std::filesystem::remove(text);
    auto not_bpf = test::run({test::tool_path(), "run", test::tool_path()});  // an ELF executable for x86
    EXPECT_EQ(not_bpf.exit_code, 1);
    EXPECT_EQ(not_bpf.err, "ebpf-tool: open '" + test::tool_path() +
                               "': not a BPF object (an ELF file, but not a relocatable object for BPF)\n");
    auto iface = test::run({test::tool_path(), "run", object("counter"), "--iface", "nosuchif0"});
    EXPECT_EQ(iface.exit_code, 2);
    EXPECT_EQ(iface.err, "ebpf-tool: --iface nosuchif0: no such network interface\n");
}

}  // namespace
