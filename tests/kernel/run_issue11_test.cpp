// `ebpf-tool run` at the three moments a BPF developer meets most (issue 11): the verifier
// says no (the verdict and the instructions before it, in the library's error and on the
// command line), the program streams events (ring and perf buffers, typed by BTF), the
// program is configured (--set before load, .bss/.data by name) — and the clear refusals:
// an object without BTF, programs this kernel cannot run.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "ebpf/object.hpp"
#include "kernel.hpp"
#include "owned.hpp"
#include "process.hpp"
#include "unique.hpp"

namespace {

constexpr const char* kReady = "Hit Ctrl-C to end.";

std::string object(const char* name) {
    return std::string(BPF_OBJECT_DIR) + "/" + name + ".o";
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Runs the tool to its end and says, in `held`, every BPF object it held an fd of: what a
// test checks is gone afterwards (never a diff of the kernel's global sets, which other
// test runs change meanwhile).
test::Result run_holding(const std::vector<std::string>& argv, test::BpfIds& held) {
    test::Process tool(argv);
    test::BpfObjectWatch watch(tool.pid());
    auto result = tool.finish();
    watch.stop();
    held = watch.seen();
    return result;
}

// The CLI's error for an object the verifier rejects: one block of at most 20 lines.
test::Result rejected(const char* name, std::vector<std::string> extra = {}, test::BpfIds* held = nullptr) {
    std::vector<std::string> argv{test::tool_path()};
    bool verbose = !extra.empty() && extra.front() == "-v";
    if (verbose) argv.push_back("-v"), extra.erase(extra.begin());
    argv.insert(argv.end(), {"run", object(name), "--duration", "1"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    test::BpfIds ids;
    auto result = run_holding(argv, ids);
    if (held) *held = ids;
    return result;
}

TEST(RunVerifier, UncheckedLookupShowsVerdictAndSourceLine) {
    REQUIRE_KERNEL();
    test::BpfIds held;
    auto result = rejected("run_unchecked", {}, &held);
    EXPECT_EQ(result.exit_code, 1);
    auto lines = test::lines(result.err);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.front(),
              "ebpf-tool: object 'run_unchecked': program 'count_execs' "
              "(SEC(\"tracepoint/syscalls/sys_enter_execve\")) was rejected by the verifier: "
              "R0 invalid mem access 'map_value_or_null'");
    EXPECT_LE(lines.size(), 20u) << result.err;
    // The instructions that led there, with their source lines, ending at the bad access.
    EXPECT_TRUE(contains(result.err, "call bpf_map_lookup_elem#1")) << result.err;
    EXPECT_TRUE(contains(result.err, "; __sync_fetch_and_add(count, 1); @ run_unchecked.bpf.c:20\n")) << result.err;
    EXPECT_EQ(lines[lines.size() - 2], "  R0 invalid mem access 'map_value_or_null'");
    EXPECT_EQ(lines.back(), "(the verifier's whole log: ebpf-tool -v run …, or --verifier-log FILE)");
    EXPECT_FALSE(contains(result.err, "processed ")) << "the whole log is only for -v";
    const auto left = test::still_in_kernel(held);
    EXPECT_TRUE(left.empty()) << "left in the kernel: " << test::describe(left);
}

TEST(RunVerifier, OutOfBoundsAccessShowsTheRange) {
    REQUIRE_KERNEL();
    auto result = rejected("run_bounds");
    EXPECT_EQ(result.exit_code, 1);
    auto lines = test::lines(result.err);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.front(),
              "ebpf-tool: object 'run_bounds': program 'exec_hist' "
              "(SEC(\"tracepoint/syscalls/sys_enter_execve\")) was rejected by the verifier: "
              "invalid access to map value, value_size=128 off=248 size=8");
    EXPECT_LE(lines.size(), 20u) << result.err;
    EXPECT_TRUE(contains(result.err, "; h->slots[slot]++; @ run_bounds.bpf.c:30\n")) << result.err;
    EXPECT_TRUE(contains(result.err, "max value is outside of the allowed memory range")) << result.err;
}

TEST(RunVerifier, UnboundedLoopIsNamed) {
    REQUIRE_KERNEL();
    auto result = rejected("run_loop");
    EXPECT_EQ(result.exit_code, 1);
    auto lines = test::lines(result.err);
    ASSERT_FALSE(lines.empty());
    EXPECT_TRUE(lines.front().rfind("ebpf-tool: object 'run_loop': program 'wait_ready' "
                                    "(SEC(\"tracepoint/syscalls/sys_enter_execve\")) was rejected by the verifier: "
                                    "infinite loop detected at insn ",
                                    0) == 0)
        << result.err;
    EXPECT_LE(lines.size(), 20u) << result.err;
    EXPECT_TRUE(contains(result.err, "; while (!*(volatile u64 *)flag) @ run_loop.bpf.c:22\n")) << result.err;
}

TEST(RunVerifier, VerboseAndVerifierLogFileGiveTheWholeLog) {
    REQUIRE_KERNEL();
    auto verbose = rejected("run_unchecked", {"-v"});
    EXPECT_EQ(verbose.exit_code, 1);
    EXPECT_TRUE(contains(verbose.err, "\nprocessed ")) << verbose.err;
    EXPECT_TRUE(contains(verbose.err, "0: (85) call bpf_get_current_uid_gid#15")) << verbose.err;

    const std::string file = "/tmp/" + test::unique_name("ebpf-run-verifier-") + ".log";
    auto result = rejected("run_unchecked", {"--verifier-log", file});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_EQ(test::lines(result.err).back(), "(the verifier's whole log: " + file + ")");
    std::ifstream in(file);
    std::stringstream log;
    log << in.rdbuf();
    std::filesystem::remove(file);
    EXPECT_TRUE(contains(log.str(), "R0 invalid mem access 'map_value_or_null'\nprocessed ")) << log.str();
    EXPECT_TRUE(contains(log.str(), "0: (85) call bpf_get_current_uid_gid#15")) << log.str();
}

TEST(RunVerifier, LibraryLoadErrorCarriesTheVerdictAndTheLog) {
    REQUIRE_KERNEL();
    auto obj = ebpf::Object::open_file(object("run_unchecked"));
    try {
        obj.load();
        FAIL() << "the verifier accepted an unchecked lookup";
    } catch (const ebpf::VerifierError& e) {
        EXPECT_EQ(e.program(), "count_execs");
        EXPECT_EQ(e.section(), "tracepoint/syscalls/sys_enter_execve");
        EXPECT_EQ(e.errno_value(), EACCES);
        ASSERT_EQ(e.summary().verdict.size(), 1u);
        EXPECT_EQ(e.summary().verdict.front(), "R0 invalid mem access 'map_value_or_null'");
        ASSERT_FALSE(e.summary().context.empty());
        EXPECT_EQ(e.summary().context.back(), "8: (db) lock *(u64 *)(r0 +0) += r1");
        EXPECT_LE(test::lines(e.what()).size(), 20u);
        EXPECT_TRUE(contains(e.log(), "\nprocessed ")) << e.log();
    }
}

TEST(RunVerifier, SummaryOfALogPicksVerdictAndContext) {
    const std::string log =
        "func#0 @0\n"
        "0: R1=ctx() R10=fp0\n"
        "; int x = 1; @ a.bpf.c:3\n"
        "0: (b7) r1 = 1                        ; R1=1\n"
        ";  @ a.bpf.c:0\n"
        "1: (79) r0 = *(u64 *)(r2 +0)\n"
        "R2 !read_ok\n"
        "processed 2 insns (limit 1000000) max_states_per_insn 0\n";
    auto s = ebpf::summarize_verifier_log(log);
    EXPECT_EQ(s.verdict, std::vector<std::string>{"R2 !read_ok"});
    EXPECT_EQ(s.context,
              (std::vector<std::string>{"; int x = 1; @ a.bpf.c:3", "0: (b7) r1 = 1                        ; R1=1",
                                        "1: (79) r0 = *(u64 *)(r2 +0)"}));
    EXPECT_TRUE(ebpf::summarize_verifier_log("").verdict.empty());
}

TEST(RunRefusals, ObjectWithoutBtfSaysCompileWithG) {
    REQUIRE_KERNEL();
    auto result = test::run({test::tool_path(), "run", object("counter_nobtf"), "--duration", "1"});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_EQ(result.err, "ebpf-tool: object '" + object("counter_nobtf") +
                              "' has no BTF (no .BTF section): compile it with -g (clang -g -O2 -target bpf -c …)\n");
}

bool kprobes_available() {
    return ::access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0 ||
           ::access("/sys/kernel/tracing/kprobe_events", F_OK) == 0 ||
           ::access("/sys/kernel/debug/tracing/kprobe_events", F_OK) == 0;
}

const nlohmann::json& last_json(const std::string& out) {
    static nlohmann::json doc;
    auto all = test::lines(out);
    if (all.empty()) throw std::runtime_error("no output");
    doc = nlohmann::json::parse(all.back());
    return doc;
}

TEST(RunRefusals, ProgramsTheKernelCannotRunAreSkippedAndTheOthersRun) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(40);
    test::Process tool({test::tool_path(), "run", object("run_unsupported"), "--set", "targ_uid=" + std::to_string(uid),
                        "--json", "--interval", "5"});
    test::BpfObjectWatch watch(tool.pid());
    ASSERT_TRUE(tool.wait_for_stderr(kReady)) << "no start";
    watch.sample();  // ready: it holds its objects now
    ASSERT_TRUE(test::exec_as(uid, 4));
    tool.signal(SIGINT);
    auto result = tool.finish();
    watch.stop();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(contains(result.err, "attached tp_exec to tracepoint/syscalls/sys_enter_execve\n")) << result.err;
    const bool kprobes = kprobes_available();
    if (kprobes) {
        EXPECT_TRUE(contains(result.err, "attached kp_exec to kprobe/__x64_sys_execve\n")) << result.err;
    } else {
        EXPECT_TRUE(contains(result.err,
                             "skipped kp_exec (SEC(\"kprobe/__x64_sys_execve\")): this kernel has no "
                             "kprobes (built without CONFIG_KPROBES: no kprobe PMU, no kprobe_events)\n"))
            << result.err;
    }
    const bool fentry = contains(result.err, "attached fe_exec to fentry/__x64_sys_execve\n");
    if (!fentry) {
        EXPECT_TRUE(contains(result.err, "skipped fe_exec (SEC(\"fentry/__x64_sys_execve\")): this kernel cannot "))
            << result.err;
    }
    auto vars = last_json(result.out).at("variables");
    EXPECT_EQ(vars.at("tracepoint_hits"), 4) << vars.dump();
    EXPECT_EQ(vars.at("kprobe_hits"), kprobes ? 4 : 0) << vars.dump();
    EXPECT_EQ(vars.at("fentry_hits"), fentry ? 4 : 0) << vars.dump();
    const auto held = watch.seen();
    EXPECT_FALSE(held.programs.empty()) << "never saw the tool's programs";
    const auto left = test::still_in_kernel(held);
    EXPECT_TRUE(left.empty()) << "left in the kernel: " << test::describe(left);
}

TEST(RunRefusals, StrictRefusesInOneLine) {
    REQUIRE_KERNEL();
    if (kprobes_available()) GTEST_SKIP() << "this kernel has kprobes: nothing to refuse";
    test::BpfIds held;
    auto result =
        run_holding({test::tool_path(), "run", object("run_unsupported"), "--strict", "--duration", "1"}, held);
    EXPECT_EQ(result.exit_code, 1);
    ASSERT_EQ(test::lines(result.err).size(), 1u) << result.err;
    EXPECT_TRUE(contains(result.err, "(--strict: nothing was loaded)\n")) << result.err;
    EXPECT_TRUE(contains(result.err, "this kernel ")) << result.err;
    EXPECT_TRUE(held.programs.empty()) << "--strict loaded " << test::describe(held);
    const auto left = test::still_in_kernel(held);
    EXPECT_TRUE(left.empty()) << "left in the kernel: " << test::describe(left);
}

std::vector<nlohmann::json> events_of(const std::string& out, const std::string& map) {
    std::vector<nlohmann::json> found;
    for (const auto& line : test::lines(out)) {
        auto doc = nlohmann::json::parse(line);
        if (doc.contains("map") && doc.at("map") == map) found.push_back(doc);
    }
    return found;
}

TEST(RunEvents, RingAndPerfRecordsTypedByBtfWithGlobalsSet) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(41);
    const int n = 6;
    test::Process tool({test::tool_path(), "run", object("run_events"), "--set", "targ_uid=" + std::to_string(uid),
                        "--set", "mode=MODE_LOUD", "--set", "label=hello", "--event-type", "event", "--json",
                        "--interval", "5"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady)) << "no start";
    ASSERT_TRUE(test::exec_as(uid, n));
    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    for (const char* map : {"ring", "perf"}) {
        auto events = events_of(result.out, map);
        ASSERT_EQ(events.size(), static_cast<std::size_t>(n)) << map << "\n" << result.out;
        for (const auto& e : events) {
            const auto& ev = e.at("event");
            EXPECT_EQ(ev.at("uid"), uid) << e.dump();
            EXPECT_EQ(ev.at("mode"), "MODE_LOUD") << e.dump();
            EXPECT_EQ(ev.at("label"), "hello") << e.dump();
            EXPECT_GT(ev.at("pid").get<int>(), 0) << e.dump();
            EXPECT_EQ(e.contains("cpu"), std::string(map) == "perf") << e.dump();
        }
    }
    EXPECT_TRUE(contains(result.err, "events: ring buffer 'ring' received 6; perf buffer 'perf' received 6, lost 0\n"))
        << result.err;
    auto vars = last_json(result.out).at("variables");
    EXPECT_EQ(vars, (nlohmann::json{{"matched", n}, {"ring_full", 0}, {"version", 3}})) << vars.dump();
}

// "xx xx xx xx ": a u32 as the tool prints its bytes.
std::string fmt_le(std::uint32_t value) {
    std::string out;
    for (int i = 0; i < 4; ++i) {
        char text[4];
        std::snprintf(text, sizeof(text), "%02x ", (value >> (8 * i)) & 0xffu);
        out += text;
    }
    return out;
}

TEST(RunEvents, TextShowsVariablesByNameAndUntypedRecordsAsHex) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(42);
    // Only the perf buffer's records are typed: the ring buffer's stay bytes.
    test::Process tool({test::tool_path(), "run", object("run_events"), "--set", "targ_uid=" + std::to_string(uid),
                        "--event-type", "perf=struct event", "--interval", "5"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady)) << "no start";
    ASSERT_TRUE(test::exec_as(uid, 2));
    tool.signal(SIGTERM);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    int ring = 0;
    for (const auto& line : test::lines(result.out)) {
        auto at = line.find(" ring: ");
        if (at == std::string::npos) continue;
        ++ring;
        // pid (4 bytes), then the uid little-endian, mode 0 (MODE_QUIET), label "none".
        auto hex = line.substr(at + 7);
        EXPECT_EQ(hex.size(), 36u * 3 - 1) << line;  // sizeof(struct event)
        EXPECT_EQ(hex.substr(12, 24), fmt_le(uid) + "00 00 00 00 ") << line;
        EXPECT_EQ(hex.substr(36, 12), "6e 6f 6e 65 ") << line;
    }
    EXPECT_EQ(ring, 2) << result.out;
    int perf = 0;
    for (const auto& line : test::lines(result.out)) {
        if (line.find(" perf: {.pid = ") == std::string::npos) continue;
        ++perf;
        EXPECT_TRUE(contains(line, ", .uid = " + std::to_string(uid) +
                                       ", .mode = MODE_QUIET, .label = \"none\", .comm = \"tool_tests\"}"))
            << line;
    }
    EXPECT_EQ(perf, 2) << result.out;
    EXPECT_TRUE(contains(result.out, "variables\n  matched = 2\n  ring_full = 0\n  version = 3\n")) << result.out;
    EXPECT_TRUE(contains(result.err, "events: ring buffer 'ring' received 2; perf buffer 'perf' received 2, lost 0\n"))
        << result.err;
}

// A stalled reader (SIGSTOP) and records too big for their buffers: every record the
// program produced is either printed or counted by the program as not sent — exactly —
// and the perf buffer's own loss count is shown at exit.
TEST(RunEvents, OverflowedBuffersAccountForEveryRecord) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(43);
    const int n = 200;
    test::Process tool({test::tool_path(), "run", object("run_overflow"), "--set", "targ_uid=" + std::to_string(uid),
                        "--event-type", "big", "--json", "--interval", "5"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady)) << "no start";
    tool.signal(SIGSTOP);
    ASSERT_TRUE(test::exec_as(uid, n));
    tool.signal(SIGCONT);
    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto ring = events_of(result.out, "ring"), perf = events_of(result.out, "perf");
    auto vars = last_json(result.out).at("variables");
    EXPECT_EQ(vars.at("produced"), n);
    const auto ring_full = vars.at("ring_full").get<std::uint64_t>();
    const auto perf_failed = vars.at("perf_failed").get<std::uint64_t>();
    EXPECT_GT(ring_full, 0u) << "the ring buffer never overflowed: the test proved nothing";
    EXPECT_GT(perf_failed, 0u) << "the perf buffer never overflowed: the test proved nothing";
    EXPECT_EQ(ring.size() + ring_full, static_cast<std::size_t>(n));
    EXPECT_EQ(perf.size() + perf_failed, static_cast<std::size_t>(n));
    for (const auto& e : ring) EXPECT_EQ(e.at("event").at("uid"), uid) << e.dump();
    std::smatch m;
    std::string summary;
    for (const auto& line : test::lines(result.err))
        if (line.rfind("events: ", 0) == 0) summary = line;
    ASSERT_TRUE(std::regex_match(summary, m,
                                 std::regex(R"(events: ring buffer 'ring' received (\d+); perf buffer 'perf' received )"
                                            R"((\d+), lost (\d+))")))
        << result.err;
    EXPECT_EQ(std::stoul(m[1]), ring.size());
    EXPECT_EQ(std::stoul(m[2]), perf.size());
    // The kernel reports a CPU's losses with the next sample that fits there: at most
    // what the program saw fail.
    EXPECT_LE(std::stoul(m[3]), perf_failed);
}

TEST(RunGlobals, BadSetAndEventTypeAreOneLineUsageErrors) {
    REQUIRE_KERNEL();
    test::BpfIds held;
    auto run = [&held](std::vector<std::string> args) {
        std::vector<std::string> argv{test::tool_path(), "run", object("run_events"), "--duration", "1"};
        argv.insert(argv.end(), args.begin(), args.end());
        test::BpfIds ids;
        auto result = run_holding(argv, ids);
        held.merge(ids);
        return result;
    };
    struct Case {
        std::vector<std::string> args;
        std::string err;
    };
    for (const auto& c : std::vector<Case>{
             {{"--set", "nosuch=1"},
              "ebpf-tool: --set nosuch: the object has no global variable 'nosuch' (its variables: "},
             {{"--set", "targ_uid=4294967296"}, "ebpf-tool: --set targ_uid=4294967296: "},
             {{"--set", "mode=MODE_NOPE"}, "ebpf-tool: --set mode=MODE_NOPE: "},
             {{"--set", "label=much-too-long"}, "ebpf-tool: --set label=much-too-long: "},
             {{"--set", "targ_uid"}, "ebpf-tool: --set targ_uid: must be NAME=VALUE\n"},
             {{"--event-type", "nosuch"}, "ebpf-tool: --event-type nosuch: the object's BTF has no type 'nosuch'"},
             {{"--event-type", "other=event"},
              "ebpf-tool: --event-type other=event: no ring buffer or perf event "
              "array named 'other' (the object has: ring, perf)\n"},
         }) {
        auto result = run(c.args);
        EXPECT_EQ(result.exit_code, 2) << c.args.back() << ": " << result.err;
        EXPECT_EQ(test::lines(result.err).size(), 1u) << result.err;
        EXPECT_EQ(result.err.rfind(c.err, 0), 0u) << result.err;
    }
    EXPECT_TRUE(contains(run({"--set", "targ_uid=4294967296"}).err, "does not fit"));
    const auto left = test::still_in_kernel(held);
    EXPECT_TRUE(left.empty()) << "left in the kernel: " << test::describe(left);
}

}  // namespace
