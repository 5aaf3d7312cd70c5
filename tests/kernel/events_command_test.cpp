// `ebpf-tool events` against the real kernel, on both transports: exact delivery in
// order with the right fields, exact accounting under overflow, clean exit.
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "kernel.hpp"
#include "process.hpp"
#include "unique.hpp"

namespace {

constexpr const char* kReady = "Hit Ctrl-C to end.";

struct Summary {
    std::uint64_t received = 0, dropped = 0, lost = 0;
};

Summary summary_of(const std::string& err) {
    std::smatch m;
    std::regex re(R"(events: received (\d+), dropped in the kernel (\d+) .*lost in perf buffers (\d+))");
    if (!std::regex_search(err, m, re)) {
        ADD_FAILURE() << "no summary line in: " << err;
        return {};
    }
    return {std::stoull(m[1]), std::stoull(m[2]), std::stoull(m[3])};
}

class EventsCommand : public ::testing::TestWithParam<std::string> {};

TEST_P(EventsCommand, DeliversEveryExecOfAUserInOrderWithItsFields) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(0);
    const int n = 40;
    test::Process tool({test::tool_path(), "events", "--transport", GetParam(), "--uid", std::to_string(uid), "--json"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    ASSERT_TRUE(test::exec_as(uid, n));
    test::exec_as(test::test_uid(10), 3);  // another user: filtered out in the kernel
    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto out = test::lines(result.out);
    ASSERT_EQ(out.size(), static_cast<std::size_t>(n)) << result.out;
    std::uint64_t previous_ts = 0;
    for (int i = 0; i < n; ++i) {
        auto e = nlohmann::json::parse(out[static_cast<std::size_t>(i)]);
        EXPECT_EQ(e.at("uid"), uid);
        EXPECT_EQ(e.at("filename"), "/bin/true");
        EXPECT_EQ(e.at("args"), (nlohmann::json{"ebpf-test", std::to_string(i)})) << "out of order at " << i;
        EXPECT_EQ(e.at("comm"), "true");
        EXPECT_EQ(e.at("retval"), 0);
        EXPECT_GT(e.at("pid").get<int>(), 0);
        EXPECT_GT(e.at("ppid").get<int>(), 0);
        EXPECT_NE(e.at("pid"), e.at("ppid"));
        EXPECT_GE(e.at("ts_ns").get<std::uint64_t>(), previous_ts);
        previous_ts = e.at("ts_ns").get<std::uint64_t>();
    }
    auto s = summary_of(result.err);
    EXPECT_EQ(s.received, static_cast<std::uint64_t>(n));
    EXPECT_EQ(s.dropped, 0u);
    EXPECT_EQ(s.lost, 0u);
}

// A stalled consumer (SIGSTOP) and the smallest buffer: events must overflow, and every
// one of them is either received or counted as dropped — exactly.
TEST_P(EventsCommand, OverflowIsCountedExactly) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(1);
    const int n = 300;
    test::Process tool({test::tool_path(), "events", "--transport", GetParam(), "--uid", std::to_string(uid),
                        "--buffer-size", "4096", "--json"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    tool.signal(SIGSTOP);
    ASSERT_TRUE(test::exec_as(uid, n));
    tool.signal(SIGCONT);
    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto s = summary_of(result.err);
    EXPECT_EQ(test::lines(result.out).size(), s.received);
    EXPECT_EQ(s.received + s.dropped, static_cast<std::uint64_t>(n)) << result.err;
    EXPECT_GT(s.dropped, 0u) << "the buffer never overflowed: the test proved nothing";
    EXPECT_GT(s.received, 0u);
    EXPECT_LE(s.lost, s.dropped);
}

TEST_P(EventsCommand, StopsAfterCountAndLeavesNothingLoaded) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(2);
    auto before = test::loaded_program_ids();
    test::Process tool(
        {test::tool_path(), "events", "--transport", GetParam(), "--uid", std::to_string(uid), "--count", "5"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    ASSERT_TRUE(test::exec_as(uid, 8));
    auto result = tool.finish(std::chrono::seconds(20));
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto out = test::lines(result.out);
    ASSERT_EQ(out.size(), 6u) << result.out;  // header + 5 events
    EXPECT_EQ(out[0].substr(0, 4), "TIME");
    EXPECT_NE(out[1].find("/bin/true ebpf-test 0"), std::string::npos) << out[1];
    EXPECT_TRUE(test::programs_left_beyond(before).empty()) << "a program stayed loaded";
}

TEST_P(EventsCommand, ExecveatIsAnExecToo) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(4);
    test::Process tool({test::tool_path(), "events", "--transport", GetParam(), "--uid", std::to_string(uid), "--json"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    ASSERT_TRUE(test::exec_as(uid, 4, /*use_execveat=*/true));
    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto out = test::lines(result.out);
    ASSERT_EQ(out.size(), 4u) << result.out;
    for (int i = 0; i < 4; ++i) {
        auto e = nlohmann::json::parse(out[static_cast<std::size_t>(i)]);
        EXPECT_EQ(e.at("filename"), "/bin/true");
        EXPECT_EQ(e.at("args"), (nlohmann::json{"ebpf-test", std::to_string(i)}));
    }
}

INSTANTIATE_TEST_SUITE_P(Transports, EventsCommand, ::testing::Values("ringbuf", "perfbuf"));

// Throughput mode: no wake-up per event; the reader drains on a timer and at exit, and
// still gets every event, in order.
TEST(EventsCommandThroughput, WithoutPerEventWakeupsEveryEventStillArrives) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(3);
    const int n = 25;
    test::Process tool({test::tool_path(), "events", "--uid", std::to_string(uid), "--wakeup-bytes", "65536", "--json"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    ASSERT_TRUE(test::exec_as(uid, n));
    usleep(300'000);  // past the reader's 100 ms drain timer
    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto out = test::lines(result.out);
    ASSERT_EQ(out.size(), static_cast<std::size_t>(n)) << result.out;
    for (int i = 0; i < n; ++i)
        EXPECT_EQ(nlohmann::json::parse(out[static_cast<std::size_t>(i)]).at("args")[1], std::to_string(i));
    EXPECT_EQ(summary_of(result.err).dropped, 0u);
}

}  // namespace
