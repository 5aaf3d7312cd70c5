// `ebpf-tool events` against the real kernel, on both transports: exact delivery in
// order with the right fields, exact accounting under overflow, clean exit.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "kernel.hpp"
#include "owned.hpp"
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

class EventsCommand : public ::testing::TestWithParam<std::string> {
protected:
    // A ring buffer keeps one order for all CPUs; a perf buffer only per CPU (the reader
    // takes each CPU's ring in turn). Where a test expects the execs in order, the perf
    // transport gets them all from one CPU.
    int cpu_for_ordered_execs() const { return GetParam() == "perfbuf" ? test::first_usable_cpu() : -1; }
};

// Lines of stdout so far.
std::size_t line_count(const std::string& out) {
    return static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n'));
}

TEST_P(EventsCommand, DeliversEveryExecOfAUserInOrderWithItsFields) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(0);
    const int n = 40;
    test::Process tool({test::tool_path(), "events", "--transport", GetParam(), "--uid", std::to_string(uid), "--json"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    ASSERT_TRUE(test::exec_as(uid, n, false, cpu_for_ordered_execs()));
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
    test::Process tool(
        {test::tool_path(), "events", "--transport", GetParam(), "--uid", std::to_string(uid), "--count", "5"});
    test::BpfObjectWatch watch(tool.pid());
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    watch.sample();  // ready: it holds its objects now
    ASSERT_TRUE(test::exec_as(uid, 8, false, cpu_for_ordered_execs()));
    auto result = tool.finish(std::chrono::seconds(20));
    watch.stop();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto out = test::lines(result.out);
    ASSERT_EQ(out.size(), 6u) << result.out;  // header + 5 events
    EXPECT_EQ(out[0].substr(0, 4), "TIME");
    EXPECT_NE(out[1].find("/bin/true ebpf-test 0"), std::string::npos) << out[1];
    // Only what this process held: other test runs load programs meanwhile.
    const auto held = watch.seen();
    EXPECT_FALSE(held.programs.empty()) << "never saw the tool's programs";
    const auto left = test::still_in_kernel(held);
    EXPECT_TRUE(left.empty()) << "left in the kernel: " << test::describe(left);
}

TEST_P(EventsCommand, ExecveatIsAnExecToo) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(4);
    test::Process tool({test::tool_path(), "events", "--transport", GetParam(), "--uid", std::to_string(uid), "--json"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    ASSERT_TRUE(test::exec_as(uid, 4, /*use_execveat=*/true, cpu_for_ordered_execs()));
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
    // No wake-up comes: the events arrive by the reader's 100 ms drain timer, before any
    // signal (the drain at exit would hide a timer that never fires).
    EXPECT_TRUE(
        tool.wait_for_stdout([&](const std::string& out) { return line_count(out) >= static_cast<std::size_t>(n); },
                             std::chrono::seconds(10)))
        << "the drain timer delivered nothing";
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
