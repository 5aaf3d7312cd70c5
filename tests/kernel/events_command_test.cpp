// `ebpf-tool events` against the real kernel, on both transports: exact delivery in
// order with the right fields, exact accounting under overflow, clean exit.
#include <bpf/bpf.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "ebpf/fd.hpp"
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

// What the tool's events program last recorded as a reader wakeup (its .bss global
// last_wakeup_ns), read through the map the tool holds.
std::optional<std::uint64_t> last_wakeup_of(pid_t tool) {
    for (std::uint32_t id : test::bpf_ids_of(tool).maps) {
        ebpf::Fd fd(bpf_map_get_fd_by_id(id));
        if (!fd) continue;
        bpf_map_info info{};
        std::uint32_t len = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) continue;
        const std::string name = info.name;
        if (name.size() < 4 || name.substr(name.size() - 4) != ".bss" || info.value_size != sizeof(std::uint64_t))
            continue;
        std::uint32_t key = 0;
        std::uint64_t value = 0;
        if (bpf_map_lookup_elem(fd.get(), &key, &value) == 0) return value;
    }
    return std::nullopt;
}

// The ring buffer's batched wakeups (--latency, default 10 ms): an event wakes the reader
// only when none has for the latency, and every other one is delivered by the reader's
// timer drain — all of them, in order, before any signal (the drain at exit would hide a
// timer that never fires). The kernel's record of the last wakeup must be exactly the one
// the rule gives for these events' own timestamps. --latency 0: the kernel's default, every
// event may wake the reader, and the program records no wakeup of its own.
class EventsLatency : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(EventsLatency, EveryEventArrivesAndOnlyTheRuleWakesTheReader) {
    REQUIRE_KERNEL();
    const std::uint64_t latency_ms = GetParam();
    const unsigned uid = test::test_uid(latency_ms ? 3 : 5);
    const int n = 25;
    test::Process tool({test::tool_path(), "events", "--uid", std::to_string(uid), "--latency",
                        std::to_string(latency_ms), "--json"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    ASSERT_TRUE(test::exec_as(uid, n));
    EXPECT_TRUE(
        tool.wait_for_stdout([&](const std::string& out) { return line_count(out) >= static_cast<std::size_t>(n); },
                             std::chrono::seconds(20)))
        << "the events did not arrive before the signal";
    const auto last_wakeup = last_wakeup_of(tool.pid());
    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto out = test::lines(result.out);
    ASSERT_EQ(out.size(), static_cast<std::size_t>(n)) << result.out;
    std::uint64_t expected_last = 0;
    int wakeups = 0;
    for (int i = 0; i < n; ++i) {
        auto e = nlohmann::json::parse(out[static_cast<std::size_t>(i)]);
        EXPECT_EQ(e.at("args")[1], std::to_string(i));
        const auto ts = e.at("ts_ns").get<std::uint64_t>();
        if (latency_ms && ts - expected_last >= latency_ms * 1'000'000) {
            expected_last = ts;
            ++wakeups;
        }
    }
    ASSERT_TRUE(last_wakeup) << "found no .bss map in the tool";
    EXPECT_EQ(*last_wakeup, expected_last);
    if (latency_ms) {
        EXPECT_LT(wakeups, n) << "every event woke the reader: nothing was batched";
    }
    EXPECT_EQ(summary_of(result.err).dropped, 0u);
}

// 2 s: a burst of 25 execs is one wakeup; 0: per event, as the kernel does by default.
INSTANTIATE_TEST_SUITE_P(Latencies, EventsLatency, ::testing::Values(2000, 0));

}  // namespace
