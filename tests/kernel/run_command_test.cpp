// `ebpf-tool run` on objects compiled by plain clang: the seeds' exec counter with exact
// counts, XDP and tc on a veth of a test network namespace, pins kept and reused, and the
// legacy-maps explanation.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "kernel.hpp"
#include "netns.hpp"
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

TEST(RunCommand, SeedsCounterCountsExactlyPerUser) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(0);
    auto before = test::loaded_program_ids();
    test::Process tool({test::tool_path(), "run", object("counter"), "--json", "--interval", "0.2"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady)) << "no start";
    ASSERT_TRUE(test::exec_as(uid, 7));
    tool.signal(SIGINT);
    auto result = tool.finish();
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
    EXPECT_TRUE(test::programs_left_beyond(before).empty()) << "a program stayed loaded";
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
    usleep(200'000);
    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.err.find("attached xdp_count to xdp on " + net.host_interface()), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("attached tc_count to tc ingress on " + net.host_interface()), std::string::npos)
        << result.err;
    auto packets = map_named(last_json(result.out), "udp_discard_packets").at("entries");
    ASSERT_EQ(packets.size(), 2u);
    EXPECT_EQ(packets[0].at("formatted").at("value"), n) << "XDP";
    EXPECT_EQ(packets[1].at("formatted").at("value"), n) << "tc";
    // Detached on exit: the qdisc the tool made is gone.
    EXPECT_NE(std::system(("tc qdisc show dev " + net.host_interface() + " | grep -q clsact").c_str()), 0);
}

TEST(RunCommand, XdpWithoutAnInterfaceFailsCleanly) {
    REQUIRE_KERNEL();
    auto before = test::loaded_program_ids();
    auto result = test::run({test::tool_path(), "run", object("net_count"), "--duration", "1"});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.err.find("program 'xdp_count' (SEC(\"xdp\")) needs a network interface (--iface)"),
              std::string::npos)
        << result.err;
    EXPECT_TRUE(test::programs_left_beyond(before).empty()) << "a program stayed loaded";
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
    auto calls = map_named(last_json(result.out), "getppid_calls").at("entries");
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].at("formatted").at("value"), n);
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
    auto iface = test::run({test::tool_path(), "run", object("counter"), "--iface", "nosuchif0"});
    EXPECT_EQ(iface.exit_code, 2);
    EXPECT_EQ(iface.err, "ebpf-tool: --iface nosuchif0: no such network interface\n");
}

}  // namespace
