// `ebpf-tool execs` against the real kernel: exact counts per UID under concurrent load.
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "kernel.hpp"
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

TEST(ExecsCommand, CountsExactlyTheExecsOfAUserUnderConcurrentLoad) {
    REQUIRE_KERNEL();
    const uid_t uid = test::test_uid(0);
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
    auto a = pos("UID " + std::to_string(a_uid) + ": 3 execs"), b = pos("UID " + std::to_string(b_uid) + ": 2 execs"),
         c = pos("UID 65534 (nobody): 1 execs");
    ASSERT_LT(a, static_cast<long>(last.size())) << result.out;
    ASSERT_LT(b, static_cast<long>(last.size())) << result.out;
    ASSERT_LT(c, static_cast<long>(last.size())) << result.out;
    // Sorted by UID: nobody (65534) comes before the test's own (far larger) UIDs.
    EXPECT_LT(c, a);
    EXPECT_LT(a, b);
}

TEST(ExecsCommand, StopsAfterCountIntervalsAndCleansUp) {
    REQUIRE_KERNEL();
    auto programs_before = test::loaded_program_ids();
    auto maps_before = test::loaded_map_ids();
    auto result = test::run({test::tool_path(), "execs", "--json", "--interval", "0.1", "--count", "3"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto out = test::lines(result.out);
    ASSERT_EQ(out.size(), 3u) << result.out;
    for (const auto& line : out) EXPECT_TRUE(nlohmann::json::accept(line)) << line;
    EXPECT_TRUE(test::programs_left_beyond(programs_before).empty()) << "a program stayed loaded";
    EXPECT_TRUE(test::maps_left_beyond(maps_before).empty()) << "a map stayed in the kernel";
}

TEST(ExecsCommand, SigintLeavesNothingInTheKernel) {
    REQUIRE_KERNEL();
    auto programs_before = test::loaded_program_ids();
    test::Process tool({test::tool_path(), "execs"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    EXPECT_GT(test::loaded_program_ids().size(), programs_before.size()) << "the tool attached nothing";
    tool.signal(SIGINT);
    auto result = tool.finish();
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_FALSE(result.out.empty()) << "no final print on SIGINT";
    EXPECT_TRUE(test::programs_left_beyond(programs_before).empty()) << "a program stayed loaded";
}

}  // namespace
