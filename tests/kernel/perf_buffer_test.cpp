// PerfBufferReader against real perf buffers, fed by `ebpf-tool events`' own program
// (bpf/events.bpf.c, perf transport): every exec by a test UID becomes one sample on the
// CPU it ran on. Children pinned to CPUs make the execs, so every count per CPU is exact.
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ebpf/array.hpp"
#include "ebpf/object.hpp"
#include "ebpf/percpu.hpp"
#include "ebpf/perf_buffer.hpp"
#include "ebpf/system.hpp"
#include "events.h"
#include "events.skel.h"
#include "kernel.hpp"
#include "signals.hpp"
#include "unique.hpp"

EBPF_SKELETON(events_bpf);

namespace {

using namespace std::chrono_literals;
using Skel = ebpf::Skeleton<events_bpf>;
using Record = ebpf::PerfBufferReader::Record;

// Loaded with the perf transport and attached, sending the execs of `uid` only.
Skel load_and_attach(unsigned uid) {
    ebpf::system::prepare(/*need_tracefs=*/true);
    auto skel = Skel::open();
    skel->rodata->use_ringbuf = false;
    skel.load();
    ebpf::Array<events_config>::from_libbpf(skel->maps.events_config).set(0, events_config{1, uid, 0, 0});
    skel.attach();
    return skel;
}

ebpf::Map perf_map(const Skel& skel) {
    return ebpf::Map::from_libbpf(skel->maps.events_perf);
}

std::uint64_t dropped_in_kernel(const Skel& skel) {
    return ebpf::PerCpuArray<std::uint64_t>::from_libbpf(skel->maps.events_dropped)
        .lookup_sum(EVENTS_DROP_OUTPUT)
        .value();
}

// The CPUs this test may run on (and so pin children to).
std::vector<int> usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set)) throw std::runtime_error("sched_getaffinity failed");
    std::vector<int> cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    return cpus;
}

// Forks a child pinned to `cpu` that becomes `uid` and runs `/bin/true perf-test <cpu> <i>`
// for i in [0, n), one after another (each exec, pinned too, samples on `cpu`).
pid_t start_execs_on(int cpu, unsigned uid, int n) {
    const pid_t child = ::fork();
    if (child != 0) return child;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof(set), &set) || ::setgroups(0, nullptr) || ::setgid(uid) || ::setuid(uid))
        ::_exit(100);
    for (int i = 0; i < n; ++i) {
        const pid_t p = ::fork();
        if (p == 0) {
            std::string cpu_arg = std::to_string(cpu), index = std::to_string(i);
            char* argv[] = {const_cast<char*>("/bin/true"), const_cast<char*>("perf-test"), cpu_arg.data(),
                            index.data(), nullptr};
            ::execv(argv[0], argv);
            ::_exit(101);
        }
        int status = 0;
        if (p < 0 || ::waitpid(p, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ::_exit(102);
    }
    ::_exit(0);
}

bool finished_ok(pid_t child) {
    int status = 0;
    return child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// n execs on each CPU of `cpus`, all CPUs at once.
bool execs_on(const std::vector<int>& cpus, unsigned uid, int n) {
    std::vector<pid_t> children;
    for (int cpu : cpus) children.push_back(start_execs_on(cpu, uid, n));
    bool ok = true;
    for (pid_t child : children) ok &= finished_ok(child);
    return ok;
}

// A sample as the test reads it: the event, and its argument strings split.
struct Exec {
    exec_event event{};
    std::vector<std::string> args;
};

Exec parse(std::span<const std::byte> sample) {
    Exec e;
    if (sample.size() < EXEC_EVENT_HEADER_SIZE) throw std::runtime_error("sample shorter than an event header");
    std::memcpy(&e.event, sample.data(), std::min(sample.size(), sizeof(e.event)));
    const std::size_t used = std::min<std::size_t>(e.event.args_size, sizeof(e.event.args));
    for (std::size_t at = 0; at < used;) {
        const std::size_t len = ::strnlen(e.event.args + at, used - at);
        e.args.emplace_back(e.event.args + at, len);
        at += len + 1;
    }
    return e;
}

// The kernel keeps perf samples 8-byte aligned: `size` bytes of the program's come with
// padding up to size + 4 being a multiple of 8.
std::size_t padded(std::size_t size) {
    return (size + 4 + 7) / 8 * 8 - 4;
}

// Checks that `samples` (cpu, bytes) are exactly n execs per CPU of `cpus`, each CPU's in
// order, each on the CPU its child was pinned to, with the right contents.
void expect_execs_per_cpu(const std::vector<std::pair<int, std::vector<std::byte>>>& samples,
                          const std::vector<int>& cpus, unsigned uid, int n) {
    std::map<int, int> next;
    for (int cpu : cpus) next[cpu] = 0;
    for (const auto& [cpu, bytes] : samples) {
        ASSERT_TRUE(next.contains(cpu)) << "a sample from CPU " << cpu;
        const Exec e = parse(bytes);
        EXPECT_EQ(bytes.size(), padded(EXEC_EVENT_HEADER_SIZE + e.event.args_size));
        EXPECT_EQ(e.event.uid, uid);
        EXPECT_EQ(e.event.retval, 0);
        EXPECT_STREQ(e.event.filename, "/bin/true");
        EXPECT_STREQ(e.event.comm, "true");
        // Sent on the CPU the exec ran on, in the order that CPU ran them.
        EXPECT_EQ(e.args,
                  (std::vector<std::string>{"/bin/true", "perf-test", std::to_string(cpu), std::to_string(next[cpu])}));
        ++next[cpu];
    }
    for (int cpu : cpus) EXPECT_EQ(next[cpu], n) << "samples from CPU " << cpu;
}

// Reads until `want` samples arrived or five seconds passed.
std::vector<Record> read_until(ebpf::PerfBufferReader& reader, std::size_t want) {
    std::vector<Record> out;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (out.size() < want && std::chrono::steady_clock::now() < deadline) reader.read(out, 100ms);
    return out;
}

TEST(PerfBuffer, CallbackStyleDeliversEverySamplePerCpuInOrder) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(0);
    const int n = 12;
    const auto cpus = usable_cpus();
    auto skel = load_and_attach(uid);
    std::vector<std::pair<int, std::vector<std::byte>>> samples;
    std::uint64_t lost_calls = 0;
    ebpf::PerfBufferReader reader(
        perf_map(skel), 16,
        [&](int cpu, std::span<const std::byte> sample) {
            samples.emplace_back(cpu, std::vector(sample.begin(), sample.end()));
        },
        [&](int, std::uint64_t) { ++lost_calls; });

    ASSERT_TRUE(execs_on(cpus, uid, n));
    const std::size_t want = cpus.size() * n;
    std::size_t delivered = 0;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (delivered < want && std::chrono::steady_clock::now() < deadline) delivered += reader.poll(100ms);
    EXPECT_EQ(delivered, want);
    EXPECT_EQ(reader.poll(50ms), 0u) << "more samples than execs";
    ASSERT_EQ(samples.size(), want);
    expect_execs_per_cpu(samples, cpus, uid, n);
    EXPECT_EQ(lost_calls, 0u);
    EXPECT_EQ(reader.lost(), 0u);
    EXPECT_EQ(dropped_in_kernel(skel), 0u);
}

TEST(PerfBuffer, PullStyleReturnsCopiesWithTheirCpu) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(1);
    const int n = 12;
    const auto cpus = usable_cpus();
    auto skel = load_and_attach(uid);
    ebpf::PerfBufferReader reader(perf_map(skel), 16);

    ASSERT_TRUE(execs_on(cpus, uid, n));
    auto records = read_until(reader, cpus.size() * n);
    std::vector<Record> more;
    EXPECT_EQ(reader.read(more, 50ms), 0u) << "more samples than execs";
    std::vector<std::pair<int, std::vector<std::byte>>> samples;
    for (auto& r : records) samples.emplace_back(r.cpu, std::move(r.data));
    ASSERT_EQ(samples.size(), cpus.size() * n);
    expect_execs_per_cpu(samples, cpus, uid, n);
    EXPECT_EQ(reader.lost(), 0u);
}

// A one-page ring per CPU and a reader that does not read while the execs run: most
// samples cannot be sent. Each one is delivered or reported lost — exactly — once the
// CPU writes again (the kernel puts the loss report before that next sample).
TEST(PerfBuffer, LostSamplesUnderOverflowAddUpExactly) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(2);
    const int n = 60;
    const int cpu = usable_cpus().front();
    auto skel = load_and_attach(uid);
    std::vector<std::pair<int, std::uint64_t>> reports;
    std::size_t delivered = 0;  // counted by the callback
    ebpf::PerfBufferReader reader(
        perf_map(skel), 1, [&](int, std::span<const std::byte>) { ++delivered; },
        [&](int from, std::uint64_t lost) { reports.emplace_back(from, lost); });

    ASSERT_TRUE(execs_on({cpu}, uid, n));  // the reader is stalled meanwhile
    EXPECT_EQ(reader.consume(), delivered);
    EXPECT_GT(delivered, 0u);
    EXPECT_LT(delivered, std::size_t{n}) << "the ring never overflowed: the test proved nothing";
    const std::uint64_t dropped = dropped_in_kernel(skel);
    EXPECT_EQ(delivered + dropped, std::uint64_t{n});
    // Not reported yet: the kernel has had no room to write the report since.
    EXPECT_EQ(reader.lost(), 0u);

    // One more exec on that CPU brings the report, then its own sample.
    ASSERT_TRUE(execs_on({cpu}, uid, 1));
    EXPECT_EQ(reader.poll(2s), 1u);
    EXPECT_EQ(reader.lost(), dropped);
    EXPECT_EQ(delivered + reader.lost(), std::uint64_t{n + 1});
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0], (std::pair<int, std::uint64_t>{cpu, dropped}));
    for (std::size_t c = 0; c < reader.lost_per_cpu().size(); ++c)
        EXPECT_EQ(reader.lost_per_cpu()[c], static_cast<int>(c) == cpu ? dropped : 0u) << "CPU " << c;
}

// The same accounting in the pull style.
TEST(PerfBuffer, PullStyleCountsLostSamplesToo) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(3);
    const int n = 60;
    const int cpu = usable_cpus().back();
    auto skel = load_and_attach(uid);
    ebpf::PerfBufferReader reader(perf_map(skel), 1);

    ASSERT_TRUE(execs_on({cpu}, uid, n));
    ASSERT_TRUE(execs_on({cpu}, uid, 1));  // lands where the reader has made no room: lost too
    std::vector<Record> out;
    reader.read(out, 0ms);
    ASSERT_TRUE(execs_on({cpu}, uid, 1));  // brings the report
    EXPECT_EQ(reader.read(out, 2s), 1u);
    EXPECT_GT(reader.lost(), 0u);
    EXPECT_EQ(out.size() + reader.lost(), std::uint64_t{n + 2});
    EXPECT_EQ(reader.lost(), dropped_in_kernel(skel));
    EXPECT_EQ(reader.lost_per_cpu().at(static_cast<std::size_t>(cpu)), reader.lost());
    // The last sample is the last exec: index 0 of the final run.
    EXPECT_EQ(parse(out.back().data).args.back(), "0");
    for (const auto& r : out) EXPECT_EQ(r.cpu, cpu);
}

// A one-page ring read as it fills: samples of ~370 bytes go around its end many times,
// and those split by the end must arrive whole.
TEST(PerfBuffer, SamplesThatWrapAroundTheRingEndArriveWhole) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(9);
    const int cpu = usable_cpus().front();
    auto skel = load_and_attach(uid);
    ebpf::PerfBufferReader reader(perf_map(skel), 1);
    std::vector<std::pair<int, std::vector<std::byte>>> samples;
    constexpr int batches = 12, per_batch = 5;  // 5 samples fit in a page with room to spare
    for (int b = 0; b < batches; ++b) {
        const pid_t child = start_execs_on(cpu, uid, per_batch);
        ASSERT_TRUE(finished_ok(child));
        std::vector<Record> out;
        EXPECT_EQ(reader.read(out, 0ms), std::size_t{per_batch}) << "batch " << b;
        for (auto& r : out) samples.emplace_back(r.cpu, std::move(r.data));
    }
    EXPECT_EQ(reader.lost(), 0u);
    // Each batch numbers its execs from 0: check them batch by batch.
    for (int b = 0; b < batches; ++b) {
        std::vector<std::pair<int, std::vector<std::byte>>> batch(samples.begin() + b * per_batch,
                                                                  samples.begin() + (b + 1) * per_batch);
        expect_execs_per_cpu(batch, {cpu}, uid, per_batch);
    }
}

TEST(PerfBuffer, ReadTakesAtMostMaxAndTheRestComesNextWithoutWaiting) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(4);
    const int n = 6;
    const auto cpus = usable_cpus();
    auto skel = load_and_attach(uid);
    ebpf::PerfBufferReader reader(perf_map(skel), 16);
    ASSERT_TRUE(execs_on(cpus, uid, n));
    const std::size_t total = cpus.size() * n;

    std::vector<Record> out;
    EXPECT_EQ(reader.read(out, 1s, 4), 4u);
    EXPECT_EQ(reader.read(out, 1s, 0), 0u);
    // The rings' wake-ups were spent by the first read: the rest must still come at once,
    // one at a time.
    const auto start = std::chrono::steady_clock::now();
    while (out.size() < total) ASSERT_EQ(reader.read(out, 10s, 1), 1u);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_EQ(reader.read(out, 20ms), 0u);

    std::vector<std::pair<int, std::vector<std::byte>>> samples;
    for (auto& r : out) samples.emplace_back(r.cpu, std::move(r.data));
    expect_execs_per_cpu(samples, cpus, uid, n);
}

TEST(PerfBuffer, ReadAsCopiesSamplesIntoATypeOnlyWhenLongEnough) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(5);
    const int cpu = usable_cpus().front();
    auto skel = load_and_attach(uid);
    ebpf::PerfBufferReader reader(perf_map(skel), 16);
    ASSERT_TRUE(execs_on({cpu}, uid, 5));

    // The fixed head of an event: a prefix of every sample.
    struct Head {
        std::uint64_t ts_ns;
        std::uint32_t pid, ppid, uid;
        std::int32_t retval;
    };
    auto heads = reader.read_as<Head>(1s, 2);
    ASSERT_EQ(heads.size(), 2u);
    EXPECT_LE(heads[0].ts_ns, heads[1].ts_ns);
    for (const auto& h : heads) {
        EXPECT_EQ(h.uid, uid);
        EXPECT_EQ(h.retval, 0);
    }
    // A whole exec_event is longer than any sample (only the used part of args is sent).
    std::vector<exec_event> whole;
    try {
        reader.read_as(whole, 1s);
        FAIL() << "a short sample was read as a longer type";
    } catch (const ebpf::Error& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind("perf buffer sample of ", 0), 0u) << message;
        EXPECT_NE(message.find(" bytes is shorter than the " + std::to_string(sizeof(exec_event)) +
                               "-byte type it is read as"),
                  std::string::npos)
            << message;
    }
    EXPECT_TRUE(whole.empty());
    // The sample that did not fit is consumed; the other two are still there.
    std::vector<Head> rest;
    EXPECT_EQ(reader.read_as(rest, 1s), 2u);
    for (const auto& h : rest) EXPECT_GE(h.ts_ns, heads[1].ts_ns);
}

TEST(PerfBuffer, AnExceptionFromTheCallbackStopsThePollAndTheRestStays) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(6);
    const int cpu = usable_cpus().front();
    auto skel = load_and_attach(uid);
    std::vector<std::string> seen;
    ebpf::PerfBufferReader reader(perf_map(skel), 16, [&](int, std::span<const std::byte> sample) {
        seen.push_back(parse(sample).args.back());
        if (seen.size() == 3) throw std::runtime_error("callback failed on sample 2");
    });
    ASSERT_TRUE(execs_on({cpu}, uid, 10));
    try {
        reader.poll(1s);
        FAIL() << "the callback's exception was lost";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "callback failed on sample 2");
    }
    EXPECT_EQ(seen.size(), 3u);
    EXPECT_EQ(reader.poll(1s), 7u);
    ASSERT_EQ(seen.size(), 10u);
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], std::to_string(i));
}

TEST(PerfBuffer, EpollFdServesACallersOwnEventLoop) {
    REQUIRE_KERNEL();
    const unsigned uid = test::test_uid(7);
    auto skel = load_and_attach(uid);
    ebpf::PerfBufferReader reader(perf_map(skel), 16);
    const int fd = reader.epoll_fd();
    ASSERT_GE(fd, 0);
    epoll_event event{};
    EXPECT_EQ(::epoll_wait(fd, &event, 1, 0), 0) << "readable with no sample";
    ASSERT_TRUE(execs_on({usable_cpus().front()}, uid, 3));
    EXPECT_EQ(::epoll_wait(fd, &event, 1, 1000), 1) << "not readable after 3 samples";
    // The caller's wait took the wake-up: a zero timeout reads every ring regardless.
    std::vector<Record> out;
    EXPECT_EQ(reader.read(out, 0ms), 3u);
    EXPECT_EQ(reader.read(out, 0ms), 0u);
}

TEST(PerfBuffer, WaitsTimeOutAndASignalEndsThemWithNoSamples) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach(test::test_uid(10));
    ebpf::PerfBufferReader pull(perf_map(skel), 16);
    std::vector<Record> out;
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(pull.read(out, 100ms), 0u);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);

    ebpf::PerfBufferReader push(perf_map(skel), 16, [](int, std::span<const std::byte>) {});
    auto [got, waited] = test::interrupted_by_signal(200ms, [&] { return push.poll(10s); });
    EXPECT_EQ(got, 0u);
    EXPECT_LT(waited, 5s) << "the signal did not end the wait";
}

TEST(PerfBuffer, RefusesWrongMapsArgumentsAndTheOtherStyle) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach(test::test_uid(8));
    auto no_op = [](int, std::span<const std::byte>) {};
    try {
        ebpf::PerfBufferReader bad(ebpf::Map::from_libbpf(skel->maps.events_ring), 16);
        FAIL() << "a ring buffer was accepted as a perf event array";
    } catch (const ebpf::Error& e) {
        EXPECT_STREQ(e.what(), "map 'events_ring': PerfBufferReader needs a perf_event_array map, but it is ringbuf");
    }
    try {
        ebpf::PerfBufferReader bad(perf_map(skel), 3, no_op);
        FAIL() << "3 pages per CPU were accepted";
    } catch (const ebpf::Error& e) {
        EXPECT_STREQ(e.what(), "map 'events_perf': perf buffer pages per CPU must be a power of two, not 3");
    }
    EXPECT_THROW(ebpf::PerfBufferReader(perf_map(skel), 16, ebpf::PerfBufferReader::Callback{}), ebpf::Error);

    std::vector<Record> out;
    ebpf::PerfBufferReader push(perf_map(skel), 16, no_op);
    try {
        push.read(out, 1ms);
        FAIL() << "a callback reader was read";
    } catch (const ebpf::Error& e) {
        EXPECT_STREQ(
            e.what(),
            "perf buffer 'events_perf': read: the reader has a sample callback: read with poll() or consume()");
    }
    ebpf::PerfBufferReader pull(perf_map(skel), 16);
    try {
        pull.poll(1ms);
        FAIL() << "a pull reader was polled";
    } catch (const ebpf::Error& e) {
        EXPECT_STREQ(
            e.what(),
            "perf buffer 'events_perf': poll: the reader has no sample callback: read with read() or read_as()");
    }
    EXPECT_THROW(pull.consume(), ebpf::Error);

    ebpf::PerfBufferReader moved = std::move(pull);
    EXPECT_EQ(moved.read(out, 0ms), 0u);
    EXPECT_THROW(pull.read(out, 0ms), ebpf::Error);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    EXPECT_EQ(pull.lost(), 0u);                      // NOLINT(bugprone-use-after-move)
}

}  // namespace
