// `ebpf-tool stats` against the real kernel: a process that makes exactly K calls of a
// syscall is reported with exactly K.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "ebpf/syscalls.hpp"
#include "kernel.hpp"
#include "owned.hpp"
#include "process.hpp"

namespace {

constexpr const char* kReady = "Hit Ctrl-C to end.";

// A child that blocks until released, then calls getppid K times with the raw syscall
// (no libc caching), then exits.
class Worker {
public:
    explicit Worker(int calls) {
        if (pipe(go_)) throw std::runtime_error("pipe");
        pid_ = fork();
        if (pid_ == 0) {
            close(go_[1]);
            char c;
            if (read(go_[0], &c, 1) != 1) _exit(1);
            for (int i = 0; i < calls; ++i) syscall(SYS_getppid);
            _exit(0);
        }
        close(go_[0]);
    }
    ~Worker() {
        if (pid_ > 0 && !reaped_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        close(go_[1]);
    }
    pid_t pid() const { return pid_; }
    void release_and_wait() {
        ASSERT_EQ(write(go_[1], "x", 1), 1);
        int status = 0;
        ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
        reaped_ = true;
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

private:
    int go_[2]{-1, -1};
    pid_t pid_ = -1;
    bool reaped_ = false;
};

const nlohmann::json* find_syscall(const nlohmann::json& doc, const std::string& name) {
    for (const auto& row : doc.at("syscalls"))
        if (row.at("syscall") == name) return &row;
    return nullptr;
}

// Runs `stats --pid` (plus `extra` options) over a worker making exactly `calls` getppid
// calls, stopped with SIGINT once the worker is gone; returns the JSON it printed.
nlohmann::json stats_of_worker(Worker& worker, std::vector<std::string> extra) {
    std::vector<std::string> argv{test::tool_path(), "stats", "--pid", std::to_string(worker.pid()), "--duration",
                                  "60", "--json", "--top", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    test::Process tool(argv);
    EXPECT_TRUE(tool.wait_for_stderr(kReady));
    worker.release_and_wait();
    tool.signal(SIGINT);
    auto result = tool.finish();
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return nlohmann::json::parse(result.out);
}

TEST(StatsCommand, CountsExactlyTheCallsOfOneProcess) {
    REQUIRE_KERNEL();
    const int k = 1234;
    Worker worker(k);
    auto doc = stats_of_worker(worker, {});
    const auto* row = find_syscall(doc, "getppid");
    ASSERT_NE(row, nullptr) << doc.dump();
    EXPECT_EQ(row->at("count").get<int>(), k);
    EXPECT_EQ(row->at("nr").get<int>(), SYS_getppid);
    EXPECT_EQ(doc.at("pid").get<pid_t>(), worker.pid());
    // The worker's other syscalls are real too: the read that released it returned, and
    // exit_group ended it; nothing reported may be a syscall of another process.
    EXPECT_NE(find_syscall(doc, "exit_group"), nullptr) << doc.dump();
    EXPECT_EQ(find_syscall(doc, "bpf"), nullptr) << "the tool's own syscalls leaked into a --pid count";
}

TEST(StatsCommand, PerProcessRowsNameThePidAndComm) {
    REQUIRE_KERNEL();
    const int k = 321;
    Worker worker(k);
    auto doc = stats_of_worker(worker, {"--per-process"});
    const auto* row = find_syscall(doc, "getppid");
    ASSERT_NE(row, nullptr) << doc.dump();
    EXPECT_EQ(row->at("count").get<int>(), k);
    EXPECT_EQ(row->at("pid").get<pid_t>(), worker.pid());
    EXPECT_FALSE(row->at("comm").get<std::string>().empty());
}

TEST(StatsCommand, SystemWideTableIsSortedAndCapped) {
    REQUIRE_KERNEL();
    auto result = test::run({test::tool_path(), "stats", "--duration", "0.5", "--top", "3"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto out = test::lines(result.out);
    ASSERT_GE(out.size(), 2u) << result.out;
    EXPECT_EQ(out[0].substr(0, 7), "SYSCALL");
    EXPECT_NE(out[0].find("COUNT"), std::string::npos);
    ASSERT_LE(out.size(), 4u) << result.out;
    std::uint64_t previous = UINT64_MAX;
    for (std::size_t i = 1; i < out.size(); ++i) {
        auto count = std::stoull(out[i].substr(out[i].find_last_of(' ') + 1));
        EXPECT_LE(count, previous) << result.out;
        previous = count;
        EXPECT_EQ(out[i].find("syscall_"), std::string::npos) << "an unnamed syscall: " << out[i];
    }
}

TEST(StatsCommand, IdleProcessReportsNoData) {
    REQUIRE_KERNEL();
    Worker worker(1);  // blocked in read() before the tool starts: makes no new syscall
    auto result = test::run({test::tool_path(), "stats", "--pid", std::to_string(worker.pid()), "--duration", "0.3"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "(No data collected)\n");
}

TEST(StatsCommand, IntervalModePrintsOneObjectPerInterval) {
    REQUIRE_KERNEL();
    test::Process tool({test::tool_path(), "stats", "--duration", "1", "--interval", "0.25", "--json"});
    test::BpfObjectWatch watch(tool.pid());
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    watch.sample();  // ready: it holds its objects now
    auto result = tool.finish();
    watch.stop();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    // One object per 0.25 s tick. A tick that comes late (a busy machine) covers the time
    // since the previous one, and the ticks missed meanwhile come at once, so the durations
    // always add up to the whole run; only a tool starved past its deadline prints fewer.
    auto out = test::lines(result.out);
    ASSERT_GE(out.size(), 1u) << result.out;
    ASSERT_LE(out.size(), 4u) << result.out;
    double total = 0, longest = 0;
    for (const auto& line : out) {
        auto doc = nlohmann::json::parse(line);
        EXPECT_TRUE(doc.at("time").is_string());
        const double duration = doc.at("duration").get<double>();
        EXPECT_GE(duration, 0.0);
        total += duration;
        longest = std::max(longest, duration);
        EXPECT_TRUE(doc.at("syscalls").is_array());
    }
    EXPECT_GE(total, 0.95) << "the intervals do not cover the 1 s run: " << result.out;
    EXPECT_LE(total, 5.0) << result.out;
    if (out.size() < 4) {
        EXPECT_GT(longest, 0.35) << "fewer objects than intervals, yet no tick came late: " << result.out;
    }
    // Only the tool's own objects: other test runs load programs meanwhile.
    const auto held = watch.seen();
    EXPECT_FALSE(held.programs.empty()) << "never saw the tool's program";
    const auto left = test::still_in_kernel(held);
    EXPECT_TRUE(left.empty()) << "left in the kernel: " << test::describe(left);
}

TEST(StatsCommand, WithoutPrivilegesFailsWithOneLine) {
    REQUIRE_KERNEL();
    auto result = test::run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             "--inh-caps=-all", test::tool_path(), "stats", "--duration", "0.1"});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_EQ(result.err, "ebpf-tool: need CAP_BPF and CAP_PERFMON (or root), missing CAP_BPF, CAP_PERFMON\n");
    EXPECT_TRUE(result.out.empty());
}

}  // namespace

namespace {

TEST(StatsCommand, IntervalWithoutDurationRunsUntilSigint) {
    REQUIRE_KERNEL();
    test::Process tool({test::tool_path(), "stats", "--interval", "0.2", "--json"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady));
    // 12 intervals of 0.2 s: past the 2 s that stats runs for without --interval.
    EXPECT_TRUE(
        tool.wait_for_stdout([](const std::string& out) { return std::count(out.begin(), out.end(), '\n') >= 12; },
                             std::chrono::seconds(20)))
        << "stopped before 12 intervals";
    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto out = test::lines(result.out);
    EXPECT_GE(out.size(), 12u) << result.out;
    for (const auto& line : out) EXPECT_TRUE(nlohmann::json::accept(line)) << line;
}

}  // namespace
