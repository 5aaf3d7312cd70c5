// RingBufferReader against real ring buffers: a tracepoint program turns each getppid()
// and getpgid() of this process into one record, so every count here is exact.
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "../bpf/ring_buffer_test.h"
#include "ebpf/object.hpp"
#include "ebpf/perf_buffer.hpp"
#include "ebpf/ring_buffer.hpp"
#include "ebpf/system.hpp"
#include "kernel.hpp"
#include "owned.hpp"
#include "ring_buffer_test.skel.h"
#include "signals.hpp"

EBPF_SKELETON(ring_buffer_test_bpf);

namespace {

using namespace std::chrono_literals;
using Skel = ebpf::Skeleton<ring_buffer_test_bpf>;

// Loaded and attached, filtered on this process.
Skel load_and_attach() {
    ebpf::system::prepare();
    auto skel = Skel::open();
    skel->rodata->target_tgid = static_cast<__u32>(::getpid());
    skel.load();
    skel.attach();
    return skel;
}

void call_getppid(int n) {
    for (int i = 0; i < n; ++i) ::syscall(SYS_getppid);
}

// getpgid(arg) for a PID that does not exist: the call fails, the tracepoint still fires.
void call_getpgid(long arg) {
    ::syscall(SYS_getpgid, 1'000'000'000L + arg);
}

// Expected record length for call_getpgid(arg): 8 + arg % 17 (see ring_buffer_test.h).
std::size_t tail_len(long arg) {
    return static_cast<std::size_t>((1'000'000'000L + arg) % (RB_TEST_TAIL_MAX + 1));
}

ebpf::Map map_of(const bpf_map* map) {
    return ebpf::Map::from_libbpf(map);
}

// Polls until `want` records arrived in total or two seconds passed.
std::size_t poll_until(ebpf::RingBufferReader& reader, std::size_t want) {
    std::size_t got = 0;
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (got < want && std::chrono::steady_clock::now() < deadline) got += reader.poll(100ms);
    return got;
}

TEST(RingBuffer, DeliversEveryRecordInOrderWithItsContents) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    std::vector<rb_test_event> events;
    ebpf::RingBufferReader reader;
    // The handle is a temporary: the reader must keep its own reference to the map.
    reader.add(map_of(skel->maps.getppid_events), [&](std::span<const std::byte> record) {
        EXPECT_EQ(record.size(), sizeof(rb_test_event));
        events.push_back(ebpf::record_as<rb_test_event>(record));
        return 0;
    });
    EXPECT_EQ(reader.size(), 1u);

    constexpr int n = 250;
    call_getppid(n);
    EXPECT_EQ(poll_until(reader, n), std::size_t{n});
    // Nothing more comes: exactly one record per call.
    EXPECT_EQ(reader.poll(50ms), 0u);

    ASSERT_EQ(events.size(), std::size_t{n});
    const auto tid = static_cast<std::uint32_t>(::gettid());
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(events[i].seq, static_cast<std::uint64_t>(i)) << "record " << i << " out of order";
        EXPECT_EQ(events[i].tgid, static_cast<std::uint32_t>(::getpid()));
        EXPECT_EQ(events[i].tid, tid);
    }
    EXPECT_EQ(skel->bss->dropped, 0u);
}

TEST(RingBuffer, TwoRingBuffersShareOneReader) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    std::vector<std::uint64_t> fixed;
    std::vector<std::vector<std::byte>> variable;
    ebpf::RingBufferReader reader;
    reader.add(map_of(skel->maps.getppid_events), [&](std::span<const std::byte> record) {
        fixed.push_back(ebpf::record_as<rb_test_event>(record).seq);
        return 0;
    });
    reader.add(map_of(skel->maps.getpgid_events), [&](std::span<const std::byte> record) {
        variable.emplace_back(record.begin(), record.end());
        return 0;
    });
    EXPECT_EQ(reader.size(), 2u);

    // Interleaved: 40 getppid, 34 getpgid with every tail length from 0 to 16 twice.
    constexpr int n_ppid = 40, n_pgid = 34;
    for (int i = 0; i < n_pgid; ++i) {
        call_getppid(1);
        call_getpgid(i);
    }
    call_getppid(n_ppid - n_pgid);

    // Everything is committed when the syscalls return: one consume() takes it all.
    EXPECT_EQ(reader.consume(), std::size_t{n_ppid + n_pgid});
    EXPECT_EQ(reader.consume(), 0u);

    ASSERT_EQ(fixed.size(), std::size_t{n_ppid});
    for (int i = 0; i < n_ppid; ++i) EXPECT_EQ(fixed[i], static_cast<std::uint64_t>(i));
    ASSERT_EQ(variable.size(), std::size_t{n_pgid});
    for (int i = 0; i < n_pgid; ++i) {
        const auto& rec = variable[i];
        const std::size_t len = tail_len(i);
        ASSERT_EQ(rec.size(), 8 + len) << "record " << i;
        rb_test_tail tail{};
        std::memcpy(&tail, rec.data(), rec.size());
        EXPECT_EQ(tail.seq, static_cast<std::uint32_t>(i));
        EXPECT_EQ(tail.len, len);
        for (std::size_t b = 0; b < len; ++b) EXPECT_EQ(tail.bytes[b], static_cast<std::uint8_t>(i + b));
    }
    EXPECT_EQ(skel->bss->dropped, 0u);
}

TEST(RingBuffer, TakesEveryCallbackShapeOfTheSharedType) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    // (data, cpu) returning nothing: the perf reader's shape; a ring says cpu -1.
    std::vector<int> cpus;
    ebpf::RingBufferReader reader;
    reader.add(map_of(skel->maps.getppid_events), [&](std::span<const std::byte>, int cpu) { cpus.push_back(cpu); });
    // (data) returning non-zero: stops the call after this record.
    std::size_t pgid_seen = 0;
    reader.add(map_of(skel->maps.getpgid_events), [&](std::span<const std::byte>) { return ++pgid_seen == 2 ? 1 : 0; });
    call_getppid(3);
    EXPECT_EQ(reader.consume(), 3u);
    EXPECT_EQ(cpus, std::vector<int>(3, -1));
    call_getpgid(0);
    call_getpgid(0);
    call_getpgid(0);
    EXPECT_EQ(reader.consume(), 2u) << "a non-zero return did not stop the call";
    EXPECT_EQ(reader.consume(), 1u);
    // An empty std::function is refused, not called.
    ebpf::RingBufferReader other;
    EXPECT_THROW(other.add(map_of(skel->maps.getppid_events), std::function<int(std::span<const std::byte>)>{}),
                 ebpf::Error);
}

TEST(RingBuffer, RejectsAMapThatIsNotARingBuffer) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    ebpf::RingBufferReader reader;
    try {
        reader.add(map_of(skel->maps.not_a_ringbuf), [](std::span<const std::byte>) { return 0; });
        FAIL() << "an array map was accepted as a ring buffer";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::wrong_type);
        EXPECT_STREQ(e.what(), "RingBufferReader needs a ringbuf map, 'not_a_ringbuf' is an array");
    }
    EXPECT_EQ(reader.size(), 0u);

    // A map made at run time is rejected the same way.
    ebpf::MapSpec spec;
    spec.type = BPF_MAP_TYPE_HASH;
    spec.name = "rb_test_hash";
    spec.key_size = spec.value_size = 4;
    spec.max_entries = 1;
    auto hash = ebpf::Map::create(spec);
    EXPECT_THROW(reader.add(hash, [](std::span<const std::byte>) { return 0; }), ebpf::Error);

    // The failure left the reader usable.
    std::size_t seen = 0;
    reader.add(map_of(skel->maps.getppid_events), [&](std::span<const std::byte>) {
        ++seen;
        return 0;
    });
    call_getppid(3);
    EXPECT_EQ(reader.consume(), 3u);
    EXPECT_EQ(seen, 3u);
}

TEST(RingBuffer, NonZeroFromTheCallbackStopsTheCurrentCall) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    std::vector<std::uint64_t> seqs;
    ebpf::RingBufferReader reader;
    reader.add(map_of(skel->maps.getppid_events), [&](std::span<const std::byte> record) {
        seqs.push_back(ebpf::record_as<rb_test_event>(record).seq);
        return seqs.size() == 4 ? 1 : 0;
    });
    call_getppid(10);
    // The record that said stop is consumed and counted; the rest wait for the next call.
    EXPECT_EQ(reader.consume(), 4u);
    EXPECT_EQ(seqs.size(), 4u);
    EXPECT_EQ(reader.poll(1s), 6u);
    ASSERT_EQ(seqs.size(), 10u);
    for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i);
}

TEST(RingBuffer, AnExceptionFromTheCallbackReachesTheCaller) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    std::vector<std::uint64_t> seqs;
    ebpf::RingBufferReader reader;
    reader.add(map_of(skel->maps.getppid_events), [&](std::span<const std::byte> record) {
        seqs.push_back(ebpf::record_as<rb_test_event>(record).seq);
        if (seqs.size() == 3) throw std::runtime_error("callback failed on record 2");
        return 0;
    });
    call_getppid(10);
    try {
        reader.consume();
        FAIL() << "the callback's exception was lost";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "callback failed on record 2");
    }
    // The reader goes on after the record that threw.
    EXPECT_EQ(reader.consume(), 7u);
    ASSERT_EQ(seqs.size(), 10u);
    for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i);
}

TEST(RingBuffer, EpollFdServesACallersOwnEventLoop) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    ebpf::RingBufferReader reader;
    EXPECT_THROW((void)reader.epoll_fd(), ebpf::Error);  // nothing to wait for yet
    std::size_t seen = 0;
    reader.add(map_of(skel->maps.getppid_events), [&](std::span<const std::byte>) {
        ++seen;
        return 0;
    });
    const int fd = reader.epoll_fd();
    ASSERT_GE(fd, 0);

    epoll_event event{};
    EXPECT_EQ(::epoll_wait(fd, &event, 1, 0), 0) << "readable with no record";
    call_getppid(5);
    EXPECT_EQ(::epoll_wait(fd, &event, 1, 1000), 1) << "not readable after 5 records";
    EXPECT_EQ(reader.consume(), 5u);
    EXPECT_EQ(seen, 5u);
    EXPECT_EQ(::epoll_wait(fd, &event, 1, 0), 0) << "still readable after consuming everything";
}

TEST(RingBuffer, PollTimesOutAndTreatsASignalAsNoRecords) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    ebpf::RingBufferReader reader;
    EXPECT_THROW(reader.poll(1ms), ebpf::Error);  // no ring buffer: would wait for nothing
    EXPECT_EQ(reader.consume(), 0u);
    reader.add(map_of(skel->maps.getppid_events), [](std::span<const std::byte>) { return 0; });

    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(reader.poll(100ms), 0u);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);

    // A handled signal interrupts epoll_wait with EINTR: 0 records, no exception.
    auto [got, waited] = test::interrupted_by_signal(200ms, [&] { return reader.poll(10s); });
    EXPECT_EQ(got, 0u);
    EXPECT_LT(waited, 5s) << "the signal did not end the wait";
}

TEST(RingBuffer, AMovedReaderKeepsDeliveringAndTheMovedFromOneSaysSo) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    std::size_t seen = 0;
    ebpf::RingBufferReader first;
    first.add(map_of(skel->maps.getppid_events), [&](std::span<const std::byte>) {
        ++seen;
        return 0;
    });
    ebpf::RingBufferReader second = std::move(first);
    call_getppid(4);
    EXPECT_EQ(second.consume(), 4u);
    EXPECT_EQ(seen, 4u);
    EXPECT_EQ(first.size(), 0u);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    EXPECT_THROW(first.consume(), ebpf::Error);
}

TEST(RingBuffer, ReadsARecordAsATypeOnlyWhenItIsLongEnough) {
    REQUIRE_KERNEL();
    std::array<std::byte, sizeof(rb_test_event)> bytes{};
    bytes[0] = std::byte{7};
    EXPECT_EQ(ebpf::record_as<rb_test_event>(bytes).seq, 7u);
    try {
        (void)ebpf::record_as<rb_test_event>(std::span(bytes).first(8));
        FAIL() << "a short record was read as a longer type";
    } catch (const ebpf::Error& e) {
        EXPECT_STREQ(e.what(), "event of 8 bytes is shorter than the 16-byte type it is read as");
        EXPECT_EQ(e.code(), ebpf::errc::corrupt);
    }
}

// ---- Pull style: add(map) without a callback, then read() / read_as() ----

// Reads until `want` records arrived in total or two seconds passed.
std::vector<ebpf::EventRecord> read_until(ebpf::RingBufferPuller& reader, std::size_t want) {
    std::vector<ebpf::EventRecord> out;
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (out.size() < want && std::chrono::steady_clock::now() < deadline) reader.read(out, 100ms);
    return out;
}

TEST(RingBufferPull, ReadReturnsCopiesOfEveryRecordInOrder) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    ebpf::RingBufferPuller reader;
    reader.add(map_of(skel->maps.getppid_events));
    EXPECT_EQ(reader.size(), 1u);

    constexpr int n = 250;
    call_getppid(n);
    auto records = read_until(reader, n);
    std::vector<ebpf::EventRecord> more;
    EXPECT_EQ(reader.read(more, 50ms), 0u) << "more records than calls";
    EXPECT_TRUE(more.empty());

    // The copies outlive the ring space they came from: the ring has been reused by now.
    ASSERT_EQ(records.size(), std::size_t{n});
    const auto tid = static_cast<std::uint32_t>(::gettid());
    for (int i = 0; i < n; ++i) {
        ASSERT_EQ(records[i].data.size(), sizeof(rb_test_event)) << "record " << i;
        const auto e = ebpf::record_as<rb_test_event>(records[i].data);
        EXPECT_EQ(e.seq, static_cast<std::uint64_t>(i)) << "record " << i << " out of order";
        EXPECT_EQ(e.tgid, static_cast<std::uint32_t>(::getpid()));
        EXPECT_EQ(e.tid, tid);
    }
    EXPECT_EQ(skel->bss->dropped, 0u);
}

TEST(RingBufferPull, ReadAppendsAtMostMaxAndTheRestWaitsInTheRing) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    ebpf::RingBufferPuller reader;
    reader.add(map_of(skel->maps.getppid_events));
    call_getppid(10);

    std::vector<ebpf::EventRecord> out(1);  // appended to, never cleared
    EXPECT_EQ(reader.read(out, 0ms, 4), 4u);
    EXPECT_EQ(out.size(), 5u);
    EXPECT_EQ(reader.read(out, 0ms, 0), 0u);  // max 0 takes nothing
    // What was left is found at once, not after the timeout: the ring stays readable.
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(reader.read(out, 10s, 5), 5u);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_EQ(reader.read(out, 10s), 1u);
    EXPECT_EQ(reader.read(out, 20ms), 0u);

    ASSERT_EQ(out.size(), 11u);
    EXPECT_TRUE(out[0].data.empty());
    for (std::size_t i = 1; i < out.size(); ++i) EXPECT_EQ(ebpf::record_as<rb_test_event>(out[i].data).seq, i - 1);
}

TEST(RingBufferPull, ReadAsCopiesEachRecordIntoAType) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    ebpf::RingBufferPuller reader;
    reader.add(map_of(skel->maps.getppid_events));
    call_getppid(7);

    auto first = reader.read_as<rb_test_event>(1s, 3);
    std::vector<rb_test_event> rest{rb_test_event{99, 0, 0}};
    EXPECT_EQ(reader.read_as(rest, 1s), 4u);
    ASSERT_EQ(first.size(), 3u);
    ASSERT_EQ(rest.size(), 5u);
    EXPECT_EQ(rest[0].seq, 99u);
    for (std::uint64_t i = 0; i < 3; ++i) EXPECT_EQ(first[i].seq, i);
    for (std::uint64_t i = 0; i < 4; ++i) {
        EXPECT_EQ(rest[i + 1].seq, i + 3);
        EXPECT_EQ(rest[i + 1].tgid, static_cast<std::uint32_t>(::getpid()));
    }
    EXPECT_TRUE(reader.read_as<rb_test_event>(20ms).empty());
}

TEST(RingBufferPull, ReadAsRefusesAShortRecordAndKeepsTheOnesBeforeIt) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    ebpf::RingBufferPuller reader;
    reader.add(map_of(skel->maps.getpgid_events));
    // Records of 8 + 12, 8 + 3, 8 + 13 bytes: the middle one is too short for a 16-byte type.
    auto arg_for = [](std::size_t len) {
        long arg = 0;
        while (tail_len(arg) != len) ++arg;
        return arg;
    };
    for (std::size_t len : {12, 3, 13}) call_getpgid(arg_for(len));
    struct Head {
        std::uint32_t seq, len;
        std::uint64_t first_bytes;
    };
    std::vector<Head> out;
    try {
        reader.read_as(out, 1s);
        FAIL() << "an 11-byte record was read as a 16-byte type";
    } catch (const ebpf::Error& e) {
        EXPECT_STREQ(e.what(), "event of 11 bytes is shorter than the 16-byte type it is read as");
    }
    ASSERT_EQ(out.size(), 1u);  // the record before the short one
    EXPECT_EQ(out[0].seq, 0u);
    EXPECT_EQ(out[0].len, 12u);
    // The short record is consumed; the reader goes on with the next.
    EXPECT_EQ(reader.read_as(out, 1s), 1u);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1].seq, 2u);
    EXPECT_EQ(out[1].len, 13u);
}

TEST(RingBufferPull, ReadsSeveralRingsInterleavedEachInOrder) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    ebpf::RingBufferPuller reader;
    reader.add(map_of(skel->maps.getppid_events));
    reader.add(map_of(skel->maps.getpgid_events));
    // The records carry no ring name: told apart here by size, so no getpgid record may
    // have the 16 bytes of a getppid record.
    std::vector<long> args;
    for (long arg = 0; args.size() < 20; ++arg)
        if (8 + tail_len(arg) != sizeof(rb_test_event)) args.push_back(arg);
    for (long arg : args) {
        call_getppid(1);
        call_getpgid(arg);
    }
    std::vector<ebpf::EventRecord> out;
    EXPECT_EQ(reader.read(out, 0ms), 40u);
    std::uint64_t next_ppid = 0;
    std::uint32_t next_pgid = 0;
    for (const auto& [cpu, record] : out) {
        EXPECT_EQ(cpu, -1);
        if (record.size() == sizeof(rb_test_event)) {
            EXPECT_EQ(ebpf::record_as<rb_test_event>(record).seq, next_ppid++);
        } else {
            ASSERT_LT(next_pgid, args.size());
            rb_test_tail tail{};
            ASSERT_LE(record.size(), sizeof(tail));
            std::memcpy(&tail, record.data(), record.size());
            EXPECT_EQ(record.size(), 8 + tail_len(args[next_pgid]));
            EXPECT_EQ(tail.seq, next_pgid++);
        }
    }
    EXPECT_EQ(next_ppid, 20u);
    EXPECT_EQ(next_pgid, 20u);
}

// Push and pull are distinct types: a call of the other shape does not compile (it was
// a run-time Error when one type had both).
template <class R>
concept Pullable = requires(R& r, std::vector<ebpf::EventRecord>& out) {
    r.read(out, 1ms);
    r.template read_as<rb_test_event>(1ms);
};
template <class R>
concept Pushable = requires(R& r) {
    r.poll(1ms);
    r.consume();
};
template <class R>
concept TakesCallbacks = requires(R& r, const ebpf::Map& m) {
    r.add(m, [](std::span<const std::byte>) { return 0; });
};
static_assert(Pushable<ebpf::RingBufferReader> && !Pullable<ebpf::RingBufferReader>);
static_assert(Pullable<ebpf::RingBufferPuller> && !Pushable<ebpf::RingBufferPuller>);
static_assert(TakesCallbacks<ebpf::RingBufferReader> && !TakesCallbacks<ebpf::RingBufferPuller>);
static_assert(Pushable<ebpf::PerfBufferReader> && !Pullable<ebpf::PerfBufferReader>);
static_assert(Pullable<ebpf::PerfBufferPuller> && !Pushable<ebpf::PerfBufferPuller>);

TEST(RingBufferPull, APullerWithoutARingRefusesToWait) {
    REQUIRE_KERNEL();
    ebpf::RingBufferPuller pull;
    std::vector<ebpf::EventRecord> out;
    try {
        pull.read(out, 1ms);
        FAIL() << "a puller without a ring waited";
    } catch (const ebpf::Error& e) {
        EXPECT_STREQ(e.what(), "RingBufferPuller: read: no ring buffer added");
        EXPECT_EQ(e.code(), ebpf::errc::misuse);
    }
    auto skel = load_and_attach();
    try {
        pull.add(map_of(skel->maps.not_a_ringbuf));
        FAIL() << "an array was added";
    } catch (const ebpf::Error& e) {
        EXPECT_STREQ(e.what(), "RingBufferPuller needs a ringbuf map, 'not_a_ringbuf' is an array");
    }
    EXPECT_EQ(pull.size(), 0u);
}

TEST(RingBufferPull, ReadTimesOutServesAnEventLoopAndTreatsASignalAsNoRecords) {
    REQUIRE_KERNEL();
    auto skel = load_and_attach();
    ebpf::RingBufferPuller reader;
    reader.add(map_of(skel->maps.getppid_events));
    std::vector<ebpf::EventRecord> out;

    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(reader.read(out, 100ms), 0u);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);

    epoll_event event{};
    EXPECT_EQ(::epoll_wait(reader.epoll_fd(), &event, 1, 0), 0);
    call_getppid(2);
    EXPECT_EQ(::epoll_wait(reader.epoll_fd(), &event, 1, 1000), 1);
    EXPECT_EQ(reader.read(out, 0ms), 2u);
    EXPECT_EQ(::epoll_wait(reader.epoll_fd(), &event, 1, 0), 0);

    auto [got, waited] = test::interrupted_by_signal(200ms, [&] { return reader.read(out, 10s); });
    EXPECT_EQ(got, 0u);
    EXPECT_LT(waited, 5s) << "the signal did not end the wait";
    EXPECT_EQ(out.size(), 2u);
}

TEST(RingBuffer, LeavesNoProgramOrMapBehind) {
    REQUIRE_KERNEL();
    std::set<std::uint32_t> programs, maps;
    {
        std::optional<Skel> skel(load_and_attach());
        for (const bpf_program* prog : {(*skel)->progs.on_getppid, (*skel)->progs.on_getpgid}) {
            bpf_prog_info info{};
            std::uint32_t len = sizeof(info);
            ASSERT_EQ(bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len), 0);
            programs.insert(info.id);
        }
        ebpf::RingBufferReader reader;
        for (const bpf_map* map : {(*skel)->maps.getppid_events, (*skel)->maps.getpgid_events}) {
            maps.insert(map_of(map).info().id);
            reader.add(map_of(map), [](std::span<const std::byte>) { return 0; });
        }
        call_getppid(2);
        EXPECT_EQ(reader.consume(), 2u);
        // The reader outlives the skeleton: its own references keep the rings valid, and
        // with the programs gone no record arrives.
        skel.reset();
        call_getppid(2);
        EXPECT_EQ(reader.consume(), 0u);
        EXPECT_EQ(reader.poll(10ms), 0u);
    }
    // Only this test's own ids are looked up, one by one: other suites load and free
    // programs meanwhile, so the kernel's global set says nothing about ours. The kernel
    // frees an object shortly after its last reference: still_in_kernel waits for that.
    const test::BpfIds left = test::still_in_kernel({programs, maps, {}});
    EXPECT_TRUE(left.empty()) << "left behind: " << test::describe(left);
}

}  // namespace
