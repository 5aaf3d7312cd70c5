// `ebpf-tool execs` against the real kernel: exact counts per UID under concurrent load.
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <thread>

#include "kernel.hpp"
#include "owned.hpp"
#include "process.hpp"
#include "unique.hpp"

namespace {

constexpr const char* kReady = "Hit Ctrl-C to end.";

void exec_as(uid_t uid, int n) { ASSERT_TRUE(test::exec_as(uid, n)) << "the exec loop as uid " << uid << " failed"; }

// Root execs in the background, so the test UID's count must not absorb anyone else's.
class Noise {
public:
    Noise() : thread_([this] {
        while (!stop_) {
            test::run({"/bin/true"});
            ++runs_;
        }
    }) {}
    ~Noise() {
        stop_ = true;
        thread_.join();
    }
    int runs() const { return runs_; }

private:
    std::atomic<bool> stop_{false};
    std::atomic<int> runs_{0};
    std::thread thread_;
};

nlohmann::json last_json(const std::string& out) {
    auto all = test::lines(out);
    EXPECT_FALSE(all.empty());
    return all.empty() ? nlohmann::json() : nlohmann::json::parse(all.back());
}

std::uint64_t count_for(const nlohmann::json& doc, uid_t uid) {
    for (const auto& u : doc.at("users"))
        if (u.at("uid").get<uid_t>() == uid) return u.at("count").get<std::uint64_t>();
    return 0;
}

// Both ways the program counts: a UID below 65,536 in the array the tool reads as memory,
// a larger one in the hash.
class ExecsCounting : public ::testing::TestWithParam<bool> {};

TEST_P(ExecsCounting, CountsExactlyTheExecsOfAUserUnderConcurrentLoad) {
    REQUIRE_KERNEL();
    std::optional<test::SmallTestUid> small;
    if (GetParam()) small.emplace();
    const uid_t uid = small ? small->get() : test::test_uid(0);
    const int n = 37;
    test::Process tool({test::tool_path(), "execs", "--json", "--interval", "0.2"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    {
        Noise noise;
        exec_as(uid, n);
        while (noise.runs() < 5) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto doc = last_json(result.out);
    EXPECT_EQ(count_for(doc, uid), static_cast<std::uint64_t>(n)) << doc.dump();
    EXPECT_GE(count_for(doc, 0), 5u) << "root's background execs were not counted: " << doc.dump();
    EXPECT_EQ(doc.at("dropped").get<std::uint64_t>(), 0u);
    EXPECT_TRUE(doc.at("time").is_string());
}

INSTANTIATE_TEST_SUITE_P(UidRanges, ExecsCounting, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& param) {
                             return param.param ? "SmallUidInTheArray" : "LargeUidInTheHash";
                         });

TEST(ExecsCommand, TextOutputHasTheSeedsFormSortedByUid) {
    REQUIRE_KERNEL();
    test::Process tool({test::tool_path(), "execs", "--interval", "0.2"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    const uid_t a_uid = test::test_uid(2), b_uid = test::test_uid(3);
    exec_as(a_uid, 3);
    exec_as(b_uid, 2);
    exec_as(65534, 1);  // nobody: has a name in the passwd database
    tool.signal(SIGTERM);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto out = test::lines(result.out);
    // The last interval: from its time header to the end.
    std::size_t header = out.size();
    while (header > 0 && out[header - 1].rfind("UID ", 0) == 0) --header;
    ASSERT_GT(header, 0u);
    EXPECT_TRUE(out[header - 1].size() == 8 && out[header - 1][2] == ':') << out[header - 1];
    std::vector<std::string> last(out.begin() + static_cast<long>(header), out.end());
    auto pos = [&](const std::string& line) { return std::find(last.begin(), last.end(), line) - last.begin(); };
    // Other processes may run as nobody meanwhile (privilege tests drop to it): its count is
    // at least ours, the test UIDs' are exact.
    auto c = std::find_if(last.begin(), last.end(),
                          [](const std::string& line) {
                              return std::regex_match(line, std::regex(R"(UID 65534 \(nobody\): [1-9][0-9]* execs)"));
                          }) -
             last.begin();
    auto a = pos("UID " + std::to_string(a_uid) + ": 3 execs"), b = pos("UID " + std::to_string(b_uid) + ": 2 execs");
    ASSERT_LT(a, static_cast<long>(last.size())) << result.out;
    ASSERT_LT(b, static_cast<long>(last.size())) << result.out;
    ASSERT_LT(c, static_cast<long>(last.size())) << result.out;
    // Sorted by UID: nobody (65534) comes before the test's own (far larger) UIDs.
    EXPECT_LT(c, a);
    EXPECT_LT(a, b);
}

// Every program, map and link the tool held is gone. Only its own: other test runs load
// and free objects meanwhile, so a diff of the kernel's global id sets would flake.
void expect_own_objects_gone(const test::BpfIds& held) {
    EXPECT_FALSE(held.programs.empty()) << "never saw the tool's programs";
    EXPECT_FALSE(held.maps.empty()) << "never saw the tool's maps";
    const auto left = test::still_in_kernel(held);
    EXPECT_TRUE(left.empty()) << "left in the kernel: " << test::describe(left);
}

TEST(ExecsCommand, StopsAfterCountIntervalsAndCleansUp) {
    REQUIRE_KERNEL();
    test::Process tool({test::tool_path(), "execs", "--json", "--interval", "0.3", "--count", "3"});
    test::BpfObjectWatch watch(tool.pid());
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    watch.sample();  // ready: it holds its objects now
    auto result = tool.finish();
    watch.stop();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto out = test::lines(result.out);
    ASSERT_EQ(out.size(), 3u) << result.out;
    for (const auto& line : out) EXPECT_TRUE(nlohmann::json::accept(line)) << line;
    expect_own_objects_gone(watch.seen());
}

TEST(ExecsCommand, SigintLeavesNothingInTheKernel) {
    REQUIRE_KERNEL();
    test::Process tool({test::tool_path(), "execs"});
    test::BpfObjectWatch watch(tool.pid());
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    EXPECT_FALSE(watch.sample().programs.empty()) << "the tool attached nothing";
    tool.signal(SIGINT);
    auto result = tool.finish();
    watch.stop();
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_FALSE(result.out.empty()) << "no final print on SIGINT";
    expect_own_objects_gone(watch.seen());
}

}  // namespace
