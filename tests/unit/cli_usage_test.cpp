// Bad input never reaches the kernel: one line on stderr, nothing on stdout, exit 2.
#include <gtest/gtest.h>

#include "kernel.hpp"
#include "process.hpp"

namespace {

struct UsageCase {
    std::vector<std::string> args;
    std::string message;  // a part of the one line expected on stderr
};

class CliUsage : public ::testing::TestWithParam<UsageCase> {};

TEST_P(CliUsage, FailsWithOneLineAndExitCode2) {
    std::vector<std::string> argv{test::tool_path()};
    argv.insert(argv.end(), GetParam().args.begin(), GetParam().args.end());
    auto result = test::run(argv);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
    auto err = test::lines(result.err);
    ASSERT_EQ(err.size(), 1u) << result.err;
    EXPECT_EQ(err[0].rfind("ebpf-tool: ", 0), 0u) << err[0];
    EXPECT_NE(err[0].find(GetParam().message), std::string::npos) << err[0];
}

INSTANTIATE_TEST_SUITE_P(
    BadInput, CliUsage,
    ::testing::Values(UsageCase{{}, "subcommand is required"},
                      UsageCase{{"frobnicate"}, "unknown command 'frobnicate'"},
                      UsageCase{{"stats", "--bogus"}, "--bogus"},
                      UsageCase{{"stats", "--duration", "abc"}, "--duration: must be a number of seconds > 0, not 'abc'"},
                      UsageCase{{"stats", "--duration", "-1"}, "not '-1'"},
                      UsageCase{{"stats", "--duration", "0"}, "not '0'"},
                      UsageCase{{"stats", "--duration", "inf"}, "not 'inf'"},
                      UsageCase{{"stats", "--interval", "0"}, "--interval"},
                      UsageCase{{"stats", "--top", "-3"}, "--top: must be a whole number >= 0"},
                      UsageCase{{"stats", "--top", "ten"}, "--top"},
                      UsageCase{{"stats", "--pid", "0"}, "--pid: must be a whole number > 0"},
                      UsageCase{{"stats", "--pid", "12x"}, "--pid"},
                      UsageCase{{"stats", "--pid", "4194304000"}, "--pid"},
                      UsageCase{{"stats", "--pid", "999999999"}, "--pid 999999999: no such process"},
                      UsageCase{{"stats", "--duration", "1", "--interval", "2"}, "longer than --duration"},
                      UsageCase{{"stats", "extra"}, "extra"},
                      UsageCase{{"execs", "--interval", "0"}, "--interval"},
                      UsageCase{{"execs", "--interval", "x"}, "--interval"},
                      // Intervals below 10 ms busy-looped (21,081 tables in 0.5 s).
                      UsageCase{{"stats", "-i", "1e-12"}, "--interval: must be a number of seconds >= 0.01 (10 ms)"},
                      UsageCase{{"execs", "-i", "1e-10"}, "--interval: must be a number of seconds >= 0.01 (10 ms)"},
                      UsageCase{{"execs", "-i", "0.009"}, "not '0.009'"},
                      UsageCase{{"run", "x.o", "-i", "0.001"}, "--interval: must be a number of seconds >= 0.01"},
                      UsageCase{{"execs", "--count", "0"}, "--count: must be a whole number > 0"},
                      UsageCase{{"execs", "--count", "-5"}, "--count"},
                      UsageCase{{"events", "--transport", "pipe"}, "--transport pipe: must be ringbuf or perfbuf"},
                      UsageCase{{"events", "--buffer-size", "5000"}, "--buffer-size 5000: must be a power of two"},
                      UsageCase{{"events", "--buffer-size", "0"}, "--buffer-size"},
                      UsageCase{{"events", "--uid", "-1"}, "--uid"},
                      UsageCase{{"events", "-t", "perfbuf", "--wakeup-bytes", "64"}, "ringbuf only"},
                      UsageCase{{"events", "--wakeup-bytes", "300000"}, "must be below --buffer-size"},
                      UsageCase{{"events", "-t", "perfbuf", "--latency", "5"}, "--latency works with --transport ringbuf only"},
                      UsageCase{{"events", "--latency", "20000"}, "--latency 20000: must be at most 10000 ms"},
                      UsageCase{{"events", "--latency", "0", "--wakeup-bytes", "64"}, "--wakeup-bytes needs a --latency above 0"}),
    [](const ::testing::TestParamInfo<UsageCase>& param) { return "case" + std::to_string(param.index); });

TEST(Cli, HelpAndVersionExitZero) {
    auto help = test::run({test::tool_path(), "--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("execs"), std::string::npos);
    EXPECT_NE(help.out.find("stats"), std::string::npos);
    auto version = test::run({test::tool_path(), "--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_EQ(version.out.rfind("ebpf-tool ", 0), 0u);
}

}  // namespace
