// The signal matrix: INT, TERM, HUP, PIPE and KILL sent to every long-running command,
// once while it is still starting (its first BPF object exists, it has not said it is
// ready) and once mid-run (ready, with events or packets flowing), plus a stdout that
// closes under it (a broken pipe). After each, the kernel must hold nothing of that
// process: every program, map and link it ever held an fd of is gone, and the test's own
// veth carries exactly what it carried before (no XDP program, tcx program, tc filter or
// clsact qdisc). Only the process's own objects and the test's own interface are looked
// at — never the kernel's global sets, which other test runs change meanwhile.
//
// INT, TERM, HUP and PIPE are stop signals (src/cli/common.hpp): exit 0 with the final
// output. KILL runs no cleanup at all: what it proves is that every attachment is owned
// by an fd (a BPF link), so that the kernel detaches it when the process dies.
//
#include <signal.h>
#include <unistd.h>

#include <functional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "kernel.hpp"
#include "netns.hpp"
#include "owned.hpp"
#include "process.hpp"
#include "unique.hpp"

namespace {

using namespace std::chrono_literals;

constexpr const char* kReady = "Hit Ctrl-C to end.";

std::string object(const char* name) {
    return std::string(BPF_OBJECT_DIR) + "/" + name + ".o";
}

// What a command row needs from its test: a UID of its own and, for --iface, a veth.
struct Env {
    unsigned uid = test::test_uid(0);
    const test::VethPair* net = nullptr;
};

enum class Activity { execs, packets };
enum class Final { stdout_text, events_summary, nothing };
enum class OnInterface { nothing, xdp, tc };

struct Row {
    const char* name;
    std::function<std::vector<std::string>(const Env&)> argv;
    Activity activity;
    Final final_output;
    OnInterface attaches = OnInterface::nothing;
};

const std::vector<Row>& rows() {
    static const std::vector<Row> all{
        {"execs",
         [](const Env&) {
             return std::vector<std::string>{test::tool_path(), "execs", "--interval", "0.2"};
         },
         Activity::execs, Final::stdout_text},
        {"stats",
         [](const Env&) {
             return std::vector<std::string>{test::tool_path(), "stats", "--interval", "0.2"};
         },
         Activity::execs, Final::stdout_text},
        {"events_ringbuf",
         [](const Env& env) {
             return std::vector<std::string>{test::tool_path(), "events", "--transport",
                                             "ringbuf",         "--uid",  std::to_string(env.uid)};
         },
         Activity::execs, Final::events_summary},
        {"events_perfbuf",
         [](const Env& env) {
             return std::vector<std::string>{test::tool_path(), "events", "--transport",
                                             "perfbuf",         "--uid",  std::to_string(env.uid)};
         },
         Activity::execs, Final::events_summary},
        {"run_tracepoint",
         [](const Env&) {
             return std::vector<std::string>{test::tool_path(), "run", object("counter"), "--interval", "0.2"};
         },
         Activity::execs, Final::stdout_text},
        {"run_xdp",
         [](const Env& env) {
             return std::vector<std::string>{
                 test::tool_path(), "run", object("signal_xdp"), "--iface", env.net->host_interface(),
                 "--interval",      "0.2"};
         },
         Activity::packets, Final::stdout_text, OnInterface::xdp},
        {"run_tc",
         [](const Env& env) {
             return std::vector<std::string>{
                 test::tool_path(), "run", object("signal_tc"), "--iface", env.net->host_interface(),
                 "--interval",      "0.2"};
         },
         Activity::packets, Final::stdout_text, OnInterface::tc},
        {"proto_xdp",
         [](const Env& env) {
             return std::vector<std::string>{test::tool_path(),         "proto",      "--iface",
                                             env.net->host_interface(), "--interval", "0.2"};
         },
         Activity::packets, Final::stdout_text, OnInterface::xdp},
        {"proto_tc",
         [](const Env& env) {
             return std::vector<std::string>{test::tool_path(), "proto", "--iface",    env.net->host_interface(),
                                             "--hook",          "tc",    "--interval", "0.2"};
         },
         Activity::packets, Final::stdout_text, OnInterface::tc},
        {"conns_xdp",
         [](const Env& env) {
             return std::vector<std::string>{test::tool_path(),         "conns",      "--iface",
                                             env.net->host_interface(), "--interval", "0.2"};
         },
         Activity::packets, Final::stdout_text, OnInterface::xdp},
        // serve prints nothing on stdout (it answers HTTP); a port of its own (0: any).
        {"serve",
         [](const Env&) {
             return std::vector<std::string>{test::tool_path(), "serve", "--listen", "127.0.0.1:0"};
         },
         Activity::execs, Final::nothing},
        // Both network collectors on tc: proto's prog arrays with conns' LRU table.
        {"serve_tc",
         [](const Env& env) {
             return std::vector<std::string>{test::tool_path(), "serve",       "--listen", "127.0.0.1:0",
                                             "--collect",       "proto,conns", "--iface",  env.net->host_interface(),
                                             "--hook",          "tc"};
         },
         Activity::packets, Final::nothing, OnInterface::tc},
    };
    return all;
}

bool uses_interface(const Row& row) {
    return row.attaches != OnInterface::nothing;
}

void make_activity(const Row& row, const Env& env) {
    if (row.activity == Activity::execs) {
        ASSERT_TRUE(test::exec_as(env.uid, 3));
    } else {
        ASSERT_TRUE(env.net->send_udp_from_peer(5, 9));
    }
}

// Mid-run, the row's program must really be on the interface: otherwise "nothing left
// on it" afterwards would prove nothing.
void expect_attached(const Row& row, const test::InterfaceAttachments& now) {
    if (row.attaches == OnInterface::xdp) {
        EXPECT_FALSE(now.xdp.empty()) << "no XDP program on the veth mid-run";
    }
    if (row.attaches == OnInterface::tc) {
        EXPECT_TRUE(!now.tcx_ingress.empty() || !now.tc_ingress_filters.empty())
            << "no tc program on the veth mid-run: " << test::describe(now);
    }
}

void expect_final_output(const Row& row, const test::Result& result) {
    if (row.final_output == Final::stdout_text) {
        EXPECT_FALSE(result.out.empty()) << "no final print";
    } else if (row.final_output == Final::nothing) {
        EXPECT_TRUE(result.out.empty()) << result.out;
    } else {
        EXPECT_NE(result.err.find("events: received "), std::string::npos) << "no final summary: " << result.err;
    }
}

// Everything the process held is gone from the kernel, and the veth is as it was.
void expect_nothing_left(const test::BpfIds& held, const test::VethPair* net,
                         const test::InterfaceAttachments& before) {
    EXPECT_FALSE(held.programs.empty()) << "the process was never seen holding a program: the test proved nothing";
    const auto left = test::still_in_kernel(held);
    EXPECT_TRUE(left.empty()) << "left in the kernel: " << test::describe(left) << " (it held " << test::describe(held)
                              << ")";
    if (net) {
        const auto after = test::attachments_of(net->host_interface());
        EXPECT_EQ(after, before) << "on " << net->host_interface();
    }
}

enum class When { startup, midrun };
void PrintTo(When when, std::ostream* out) {
    *out << (when == When::startup ? "at start-up" : "mid-run");
}

struct SignalName {
    int number;
    const char* name;
};
const SignalName kSignals[] = {
    {SIGINT, "INT"}, {SIGTERM, "TERM"}, {SIGHUP, "HUP"}, {SIGPIPE, "PIPE"}, {SIGKILL, "KILL"}};

class SignalMatrix : public ::testing::TestWithParam<std::tuple<std::size_t, std::size_t, When>> {};

TEST_P(SignalMatrix, LeavesNothingOfItsOwnInTheKernel) {
    REQUIRE_KERNEL();
    const auto [row_index, signal_index, when] = GetParam();
    const Row& row = rows()[row_index];
    const int sig = kSignals[signal_index].number;

    std::optional<test::VethPair> net;
    if (uses_interface(row)) net.emplace();
    Env env;
    env.net = net ? &*net : nullptr;
    const auto before = net ? test::attachments_of(net->host_interface()) : test::InterfaceAttachments{};
    if (net) {
        ASSERT_TRUE(before.empty()) << "a new veth already carries " << test::describe(before);
    }

    test::Process tool(row.argv(env));
    test::BpfObjectWatch watch(tool.pid());
    if (when == When::startup) {
        // While it starts: its first program is loaded, its attachments are being made.
        ASSERT_TRUE(watch.wait_for_program()) << "the command never loaded a program";
    } else {
        ASSERT_TRUE(tool.wait_for_stderr(kReady)) << "no start";
        ASSERT_FALSE(watch.sample().programs.empty()) << "ready, but holding no program";
        make_activity(row, env);
        if (net) expect_attached(row, test::attachments_of(net->host_interface()));
    }
    tool.signal(sig);
    auto result = tool.finish(30s);
    watch.stop();

    if (sig == SIGKILL) {
        EXPECT_EQ(result.signal, SIGKILL);
    } else {
        EXPECT_EQ(result.signal, 0) << "killed by signal " << result.signal << " instead of stopping";
        EXPECT_EQ(result.exit_code, 0) << result.err;
        expect_final_output(row, result);
    }
    expect_nothing_left(watch.seen(), env.net, before);
}

std::string matrix_name(const ::testing::TestParamInfo<SignalMatrix::ParamType>& info) {
    const auto [row_index, signal_index, when] = info.param;
    return std::string(rows()[row_index].name) + "_" + kSignals[signal_index].name + "_" +
           (when == When::startup ? "AtStartup" : "MidRun");
}

INSTANTIATE_TEST_SUITE_P(EveryCommand, SignalMatrix,
                         ::testing::Combine(::testing::Range<std::size_t>(0, rows().size()),
                                            ::testing::Range<std::size_t>(0, std::size(kSignals)),
                                            ::testing::Values(When::startup, When::midrun)),
                         matrix_name);

// The reader of its output goes away (`ebpf-tool events | head -1`): the next write fails,
// and the command stops as for SIGPIPE — exit 0, not killed, nothing left.
class ClosedStdout : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ClosedStdout, StopsCleanlyAndLeavesNothing) {
    REQUIRE_KERNEL();
    const Row& row = rows()[GetParam()];
    std::optional<test::VethPair> net;
    if (uses_interface(row)) net.emplace();
    Env env;
    env.net = net ? &*net : nullptr;
    const auto before = net ? test::attachments_of(net->host_interface()) : test::InterfaceAttachments{};

    test::Process tool(row.argv(env));
    test::BpfObjectWatch watch(tool.pid());
    ASSERT_TRUE(tool.wait_for_stderr(kReady)) << "no start";
    ASSERT_FALSE(watch.sample().programs.empty()) << "ready, but holding no program";
    tool.close_stdout();
    // Something to print: the interval commands print every 0.2 s anyway; events prints
    // each exec of its UID.
    make_activity(row, env);
    auto result = tool.finish(20s);
    watch.stop();
    EXPECT_EQ(result.signal, 0) << "killed by signal " << result.signal;
    EXPECT_EQ(result.exit_code, 0) << result.err;
    expect_nothing_left(watch.seen(), env.net, before);
}

std::string row_name(const ::testing::TestParamInfo<std::size_t>& param) {
    return rows()[param.param].name;
}

// The rows that write on stdout: a closed stdout changes nothing for serve, which answers HTTP.
std::vector<std::size_t> rows_with_output() {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < rows().size(); ++i)
        if (rows()[i].final_output != Final::nothing) out.push_back(i);
    return out;
}
INSTANTIATE_TEST_SUITE_P(EveryCommand, ClosedStdout, ::testing::ValuesIn(rows_with_output()), row_name);

}  // namespace
