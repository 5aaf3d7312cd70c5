// Event transports under load: how many events per second the library's readers
// (RingBufferReader/PerfBufferReader push, RingBufferPuller/PerfBufferPuller pull) consume, against raw libbpf
// consumers (ring_buffer__poll, perf_buffer__poll) with a trivial callback, in the same run; and the producer rate at
// which each transport starts to drop events. Writes its tables into BENCHMARKS.md.
//
// Producers are processes pinned one per CPU, calling getppid(); a tracepoint program
// (events_bench.bpf.c) turns each call of a producer into one 64-byte event and counts,
// per CPU, every event produced and every one that did not fit. Every measurement checks
// received + dropped = produced = calls made, so no number here comes from a run that
// lost track of an event.
//
// usage: events_throughput BENCHMARKS.md   (needs root: it loads programs)
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_report.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/object.hpp"
#include "ebpf/percpu.hpp"
#include "ebpf/perf_buffer.hpp"
#include "ebpf/ring_buffer.hpp"
#include "ebpf/system.hpp"
#include "events_bench.skel.h"

EBPF_SKELETON(events_bench_bpf);

namespace {

using bench::median;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Skel = ebpf::Skeleton<events_bench_bpf>;

constexpr std::size_t kEventSize = 64;  // struct bench_event
// A perf sample carries the event plus padding to keep the ring 8-byte aligned.
constexpr std::size_t kPerfSampleSize = (kEventSize + 4 + 7) / 8 * 8 - 4;
enum Counter : std::uint32_t { kProduced = 0, kDropped = 1 };

// Buffer sizes. Live runs use `ebpf-tool events`' default (256 KiB: the ring, or each
// CPU's perf ring); drain runs hold a whole batch without a drop.
constexpr std::uint32_t kLiveBytes = 256 * 1024;
constexpr std::uint32_t kDrainRingBytes = 16 * 1024 * 1024;
constexpr std::size_t kDrainPerfPages = 2048;  // 8 MiB per CPU
// Per round, split over the producers. Fewer for perf buffers: there every sample wakes
// the (idle) reader, which makes filling 5-20 times slower.
// Under `bench.sh --tiny` (CI's smoke test) every size is cut: it proves the benchmark runs.
const std::uint64_t kDrainRingEvents = bench::tiny() ? 8'000 : 80'000,
                    kDrainPerfEvents = bench::tiny() ? 2'400 : 24'000;

const int kRounds = bench::tiny() ? 1 : 7;               // live rounds
const int kDrainRounds = bench::tiny() ? 1 : 11;         // drain runs are short: more of them
const auto kWindow = bench::tiny() ? 50ms : 200ms;       // a live round's measured window
constexpr auto kWarmUp = 30ms;                           // producers running before it opens
const auto kOnsetWindow = bench::tiny() ? 20ms : 200ms;  // a paced step of the drop-onset search
constexpr double kOnsetStart = 50e3, kOnsetStep = 1.5;   // total events per second

std::size_t page_size() {
    return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

double seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

// ---- producers ------------------------------------------------------------------------

long futex(std::atomic<std::uint32_t>& word, int op, std::uint32_t value) {
    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
    return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op, value, nullptr, nullptr, 0);
}

// Processes pinned one per CPU that call getppid() on command: as fast as they can, or
// paced at a rate, for as long as told or for a number of calls. They share one page with
// the parent; the command word is an odd number while producing, even while idle.
class Producers {
public:
    explicit Producers(const std::vector<int>& cpus) {
        void* page = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED) throw std::runtime_error("mmap failed");
        shared_ = new (page) Shared{};
        for (std::size_t i = 0; i < cpus.size() && i < kMax; ++i) {
            const pid_t pid = ::fork();
            if (pid < 0) throw std::runtime_error("fork failed");
            if (pid == 0) run_child(i, cpus[i]);
            pids_.push_back(pid);
        }
    }
    ~Producers() {
        command(kExit);
        for (pid_t pid : pids_) ::waitpid(pid, nullptr, 0);
        shared_->~Shared();
        ::munmap(shared_, sizeof(Shared));
    }
    Producers(const Producers&) = delete;
    Producers& operator=(const Producers&) = delete;

    const std::vector<pid_t>& pids() const { return pids_; }
    std::size_t size() const { return pids_.size(); }

    // Starts every producer: `rate` calls per second each (0: as fast as it can), up to
    // `budget` calls each (0: until stop()).
    void start(double rate, std::uint64_t budget = 0) {
        shared_->rate = rate;
        shared_->budget = budget;
        command(++sequence_ | 1);
    }
    // Waits until every producer has made its budget of calls.
    void wait_done() const { wait_acks(shared_->command.load()); }
    // Stops them, waits until none will make another call, and returns the calls made.
    std::uint64_t stop() {
        const std::uint32_t producing = shared_->command.load();
        command(++sequence_ & ~1u);
        wait_acks(sequence_);
        std::uint64_t calls = 0;
        for (std::size_t i = 0; i < pids_.size(); ++i)
            if (shared_->acked_run[i].load() == producing) calls += shared_->calls[i].load();
        return calls;
    }

private:
    static constexpr std::size_t kMax = 256;
    static constexpr std::uint32_t kExit = UINT32_MAX - 1;  // even: no producing command
    struct Shared {
        std::atomic<std::uint32_t> command{0};
        double rate = 0;
        std::uint64_t budget = 0;
        std::atomic<std::uint32_t> ack[kMax]{};        // the last command each has obeyed
        std::atomic<std::uint32_t> acked_run[kMax]{};  // the producing command `calls` belongs to
        std::atomic<std::uint64_t> calls[kMax]{};
    };

    void command(std::uint32_t value) {
        shared_->command.store(value);
        futex(shared_->command, FUTEX_WAKE, INT_MAX);
    }
    void wait_acks(std::uint32_t value) const {
        for (std::size_t i = 0; i < pids_.size(); ++i)
            while (shared_->ack[i].load() != value) std::this_thread::sleep_for(50us);
    }

    [[noreturn]] void run_child(std::size_t index, int cpu) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        // Paced producers sleep to the microsecond, not to the default 50 µs slack.
        ::prctl(PR_SET_TIMERSLACK, 1000UL);
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (::sched_setaffinity(0, sizeof(set), &set)) ::_exit(1);
        Shared& s = *shared_;
        std::uint32_t seen = 0;
        for (;;) {
            std::uint32_t cmd;
            while ((cmd = s.command.load()) == seen) futex(s.command, FUTEX_WAIT, seen);
            seen = cmd;
            if (cmd == kExit) ::_exit(0);
            if (cmd & 1) {
                s.calls[index].store(produce(s, cmd));
                s.acked_run[index].store(cmd);
            }
            s.ack[index].store(cmd);
        }
    }

    static std::uint64_t produce(const Shared& s, std::uint32_t cmd) {
        const double rate = s.rate;
        const std::uint64_t budget = s.budget ? s.budget : UINT64_MAX;
        std::uint64_t n = 0;
        if (rate <= 0) {
            for (; n < budget && s.command.load(std::memory_order_relaxed) == cmd; ++n) ::syscall(SYS_getppid);
            return n;
        }
        // Paced: call i is due at start + i / rate. A producer more than 50 µs ahead of its
        // schedule sleeps; calls that are due are made back to back (short bursts, as real
        // event sources have).
        const auto start = Clock::now();
        const double period_ns = 1e9 / rate;
        for (; n < budget && s.command.load(std::memory_order_relaxed) == cmd; ++n) {
            const auto due =
                start + std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(n) * period_ns));
            if (due - Clock::now() > 50us) std::this_thread::sleep_until(due);
            ::syscall(SYS_getppid);
        }
        return n;
    }

    Shared* shared_ = nullptr;
    std::vector<pid_t> pids_;
    std::uint32_t sequence_ = 0;
};

// ---- consumers ------------------------------------------------------------------------

// One way of reading a transport; counts what it receives.
class Consumer {
public:
    virtual ~Consumer() = default;
    // Waits up to `timeout` and reads what is there.
    virtual void poll(std::chrono::milliseconds timeout) = 0;
    // Reads what is there, without waiting.
    virtual void drain() = 0;
    std::uint64_t received = 0;
};

class OursRing final : public Consumer {
public:
    explicit OursRing(const ebpf::Map& ring) {
        reader_.add(ring, [this](std::span<const std::byte>) {
            ++received;
            return 0;
        });
    }
    void poll(std::chrono::milliseconds timeout) override { reader_.poll(timeout); }
    void drain() override { reader_.consume(); }

private:
    ebpf::RingBufferReader reader_;
};

// Checks what the pull style copies: a wrong size would mean a wrong benchmark.
template <class Records, class Size>
void check_sizes(const Records& records, std::size_t want, Size size_of) {
    for (const auto& r : records)
        if (size_of(r) != want) throw std::runtime_error(fmt::format("a record of {} bytes, not {}", size_of(r), want));
}

class OursRingPull final : public Consumer {
public:
    explicit OursRingPull(const ebpf::Map& ring) { reader_.add(ring); }
    void poll(std::chrono::milliseconds timeout) override { take(timeout); }
    void drain() override {
        while (take(0ms)) {
        }
    }

private:
    std::size_t take(std::chrono::milliseconds timeout) {
        batch_.clear();
        const std::size_t n = reader_.read(batch_, timeout);
        check_sizes(batch_, kEventSize, [](const auto& r) { return r.data.size(); });
        received += n;
        return n;
    }
    ebpf::RingBufferPuller reader_;
    std::vector<ebpf::EventRecord> batch_;
};

int timeout_ms(std::chrono::milliseconds timeout) {
    return static_cast<int>(timeout.count());
}

class RawRing final : public Consumer {
public:
    explicit RawRing(const ebpf::Map& ring) : rb_(ring_buffer__new(ring.fd(), &count, &received, nullptr)) {
        if (!rb_) throw std::runtime_error("ring_buffer__new failed");
    }
    void poll(std::chrono::milliseconds timeout) override { ring_buffer__poll(rb_.get(), timeout_ms(timeout)); }
    void drain() override { ring_buffer__consume(rb_.get()); }

private:
    static int count(void* ctx, void*, std::size_t) {
        ++*static_cast<std::uint64_t*>(ctx);
        return 0;
    }
    struct Free {
        void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
    };
    std::unique_ptr<ring_buffer, Free> rb_;
};

class OursPerf final : public Consumer {
public:
    OursPerf(const ebpf::Map& perf, std::size_t pages)
        : reader_(perf, pages, [this](std::span<const std::byte>) { ++received; }) {}
    void poll(std::chrono::milliseconds timeout) override { reader_.poll(timeout); }
    void drain() override { reader_.consume(); }

private:
    ebpf::PerfBufferReader reader_;
};

class OursPerfPull final : public Consumer {
public:
    OursPerfPull(const ebpf::Map& perf, std::size_t pages) : reader_(perf, pages) {}
    void poll(std::chrono::milliseconds timeout) override { take(timeout); }
    void drain() override {
        while (take(0ms)) {
        }
    }

private:
    std::size_t take(std::chrono::milliseconds timeout) {
        batch_.clear();
        const std::size_t n = reader_.read(batch_, timeout);
        check_sizes(batch_, kPerfSampleSize, [](const auto& r) { return r.data.size(); });
        received += n;
        return n;
    }
    ebpf::PerfBufferPuller reader_;
    std::vector<ebpf::EventRecord> batch_;
};

class RawPerf final : public Consumer {
public:
    RawPerf(const ebpf::Map& perf, std::size_t pages)
        : pb_(perf_buffer__new(perf.fd(), pages, &count, nullptr, &received, nullptr)) {
        if (!pb_) throw std::runtime_error("perf_buffer__new failed");
    }
    void poll(std::chrono::milliseconds timeout) override { perf_buffer__poll(pb_.get(), timeout_ms(timeout)); }
    void drain() override { perf_buffer__consume(pb_.get()); }

private:
    static void count(void* ctx, int, void*, std::uint32_t) { ++*static_cast<std::uint64_t*>(ctx); }
    struct Free {
        void operator()(perf_buffer* pb) const { perf_buffer__free(pb); }
    };
    std::unique_ptr<perf_buffer, Free> pb_;
};

enum class Transport { ring, perf };
// `control` is raw again, measured as if it were another reader: how far from 1.000 its
// ratio to raw lands is the noise of the measurement.
enum Reader : std::size_t { kOurs, kRaw, kPull, kControl, kReaderCount };

const char* name_of(Transport t) {
    return t == Transport::ring ? "ring buffer" : "perf buffer";
}

// ---- the kernel side ------------------------------------------------------------------

// A loaded copy of the program with its own maps; `ring_bytes` sizes the ring buffer.
class Bench {
public:
    explicit Bench(std::uint32_t ring_bytes) : skel_(Skel::open()) {
        if (int err = bpf_map__set_max_entries(skel_->maps.ring, ring_bytes))
            throw ebpf::Error::sys(err, "events_bench: ring size");
        skel_.load();
    }
    void add_producers(const std::vector<pid_t>& pids) {
        auto filter = ebpf::HashMap<std::uint32_t, std::uint8_t>::from_libbpf(skel_->maps.producers);
        for (pid_t pid : pids) filter.update(static_cast<std::uint32_t>(pid), 1);
    }
    // The program of `t`, attached while the returned link lives.
    ebpf::Link attach(Transport t) {
        return ebpf::Link::attach(t == Transport::ring ? skel_->progs.emit_ringbuf : skel_->progs.emit_perfbuf);
    }
    std::unique_ptr<Consumer> consumer(Transport t, Reader r, std::size_t perf_pages) const {
        const auto ring = ebpf::Map::from_libbpf(skel_->maps.ring);
        const auto perf = ebpf::Map::from_libbpf(skel_->maps.perf);
        const bool on_ring = t == Transport::ring;
        switch (r) {
            case kOurs:
                if (on_ring) return std::make_unique<OursRing>(ring);
                return std::make_unique<OursPerf>(perf, perf_pages);
            case kPull:
                if (on_ring) return std::make_unique<OursRingPull>(ring);
                return std::make_unique<OursPerfPull>(perf, perf_pages);
            case kRaw:
            case kControl:
            case kReaderCount:
                break;
        }
        if (on_ring) return std::make_unique<RawRing>(ring);
        return std::make_unique<RawPerf>(perf, perf_pages);
    }
    // Produced and dropped so far, summed over CPUs.
    std::pair<std::uint64_t, std::uint64_t> counts() const {
        auto sums = ebpf::PerCpuArray<std::uint64_t>::from_libbpf(skel_->maps.counters).sums();
        return {sums.at(kProduced), sums.at(kDropped)};
    }

private:
    Skel skel_;
};

// CPU time of the calling thread (user and kernel), ns.
double thread_cpu_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// What one run saw, checked against the kernel's counts.
struct Run {
    std::uint64_t produced = 0, dropped = 0, received = 0;
    double seconds = 0;        // producing
    double window_rate = 0;    // received per second in the measured window (live runs)
    double cpu_per_event = 0;  // the consumer thread's CPU time per event in the window, ns
};

// Received + dropped must equal produced, and produced the calls the producers made.
void check_accounting(const Run& run, std::uint64_t calls, const char* what) {
    if (run.received + run.dropped != run.produced || run.produced != calls)
        throw std::runtime_error(fmt::format("{}: received {} + dropped {} != produced {} (calls {})", what,
                                             run.received, run.dropped, run.produced, calls));
}

// Producers at `rate` each (0: flat out) while `c` reads; the rate is measured over
// `window` after a warm-up.
Run live_run(Bench& bench, Producers& producers, Consumer& c, double rate, Clock::duration window) {
    const auto [produced0, dropped0] = bench.counts();
    const std::uint64_t received0 = c.received;
    producers.start(rate);
    const auto started = Clock::now();
    const auto open = started + kWarmUp, close = open + window;
    struct Mark {
        Clock::time_point at;
        std::uint64_t received;
        double cpu_ns;
    };
    std::optional<Mark> opened;
    Clock::time_point now;
    while ((now = Clock::now()) < close) {
        if (!opened && now >= open) opened = Mark{now, c.received, thread_cpu_ns()};
        c.poll(5ms);
    }
    const auto closed = Clock::now();
    const double cpu_at_close = thread_cpu_ns();
    const std::uint64_t at_close = c.received;
    const std::uint64_t calls = producers.stop();
    const double produced_for = seconds(Clock::now() - started);
    c.drain();  // what was still in the buffers: received, outside the window
    c.drain();
    const auto [produced1, dropped1] = bench.counts();
    Run run{produced1 - produced0, dropped1 - dropped0, c.received - received0, produced_for, 0};
    if (opened && at_close > opened->received) {
        const auto events = static_cast<double>(at_close - opened->received);
        run.window_rate = events / seconds(closed - opened->at);
        run.cpu_per_event = (cpu_at_close - opened->cpu_ns) / events;
    }
    check_accounting(run, calls, "live run");
    return run;
}

// Writes twice the last-level cache's worth of memory, so that every drain starts with the
// events in memory: otherwise how much of them a producer's CPU still caches, and which CPU
// the reader shares it with, decide more than the reader does.
void evict_caches() {
    static std::vector<std::uint8_t> junk(64 << 20);
    for (std::size_t i = 0; i < junk.size(); i += 64) ++junk[i];
}

// The producers fill the buffers with `per_producer` events each while nothing reads;
// then `c` reads them all. Returns events per second of reading.
double drain_run(Bench& bench, Producers& producers, Consumer& c, std::uint64_t per_producer) {
    const auto [produced0, dropped0] = bench.counts();
    const std::uint64_t received0 = c.received;
    producers.start(0, per_producer);
    producers.wait_done();
    const std::uint64_t calls = producers.stop();
    const auto [produced1, dropped1] = bench.counts();
    const std::uint64_t produced = produced1 - produced0;
    if (dropped1 != dropped0) throw std::runtime_error("drain run: the buffers overflowed while filling");
    evict_caches();
    const auto start = Clock::now();
    while (c.received - received0 < produced) c.drain();
    const double elapsed = seconds(Clock::now() - start);
    check_accounting(Run{produced, 0, c.received - received0, 0, 0}, calls, "drain run");
    return static_cast<double>(produced) / elapsed;
}

// The producer counts to measure: 1, 2, and every CPU, without repeats.
std::vector<std::size_t> producer_counts(std::size_t cpus) {
    std::vector<std::size_t> out{1};
    if (cpus >= 2) out.push_back(2);
    if (cpus > 2) out.push_back(cpus);
    return out;
}

std::vector<int> online_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set)) throw std::runtime_error("sched_getaffinity failed");
    std::vector<int> cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    return cpus;
}

struct LiveCell {
    Transport transport;
    std::size_t producers;
    std::vector<double> rate[kReaderCount], cpu[kReaderCount], offered;
    std::uint64_t dropped[kReaderCount]{}, produced[kReaderCount]{};
};

struct DrainCell {
    Transport transport;
    std::size_t producers;
    std::vector<double> rate[kReaderCount];
};

struct Onset {
    Transport transport;
    std::size_t producers;
    double clean_target = 0, clean_achieved = 0;  // the last step without a drop
    double target = 0, achieved = 0;              // the first step with one (0: none)
    std::uint64_t dropped = 0, produced = 0;
    bool saturated = false;  // producers could not reach the next target
};

// "1.23 M/s" or "456 k/s".
std::string format_rate(double per_second) {
    if (per_second >= 1e6) return fmt::format("{:.2f} M/s", per_second / 1e6);
    return fmt::format("{:.0f} k/s", per_second / 1e3);
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
    return fmt::format("{:.1f}%", whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
}

// The reader measured `i`-th in round `round`: every reader goes first in turn.
Reader in_turn(int round, std::size_t i) {
    return static_cast<Reader>((static_cast<std::size_t>(round) + i) % kReaderCount);
}

LiveCell measure_live(Bench& bench, Producers& producers, Transport t, std::size_t pages) {
    ebpf::Link link = bench.attach(t);
    LiveCell cell{t, producers.size(), {}, {}, {}, {}, {}};
    for (int round = 0; round < kRounds; ++round) {
        for (std::size_t i = 0; i < kReaderCount; ++i) {
            const Reader r = in_turn(round, i);
            auto c = bench.consumer(t, r, pages);
            const Run run = live_run(bench, producers, *c, 0, kWindow);
            cell.rate[r].push_back(run.window_rate);
            cell.cpu[r].push_back(run.cpu_per_event);
            cell.dropped[r] += run.dropped;
            cell.produced[r] += run.produced;
            if (r == kRaw) cell.offered.push_back(static_cast<double>(run.produced) / run.seconds);
        }
    }
    return cell;
}

DrainCell measure_drain(Bench& bench, Producers& producers, Transport t) {
    ebpf::Link link = bench.attach(t);
    DrainCell cell{t, producers.size(), {}};
    const std::uint64_t events = t == Transport::ring ? kDrainRingEvents : kDrainPerfEvents;
    for (int round = 0; round < kDrainRounds; ++round)
        for (std::size_t i = 0; i < kReaderCount; ++i) {
            const Reader r = in_turn(round, i);
            auto c = bench.consumer(t, r, kDrainPerfPages);
            cell.rate[r].push_back(drain_run(bench, producers, *c, events / producers.size()));
        }
    return cell;
}

// Paced producers at rising total rates, read by our reader, until the kernel counts a
// drop or the producers cannot keep up.
Onset find_onset(Bench& bench, Producers& producers, Transport t, std::size_t pages) {
    ebpf::Link link = bench.attach(t);
    auto c = bench.consumer(t, kOurs, pages);
    Onset onset{t, producers.size()};
    for (double target = kOnsetStart; target < 50e6; target *= kOnsetStep) {
        const Run run = live_run(bench, producers, *c, target / static_cast<double>(producers.size()), kOnsetWindow);
        const double achieved = static_cast<double>(run.produced) / run.seconds;
        if (run.dropped) {
            onset.target = target;
            onset.achieved = achieved;
            onset.dropped = run.dropped;
            onset.produced = run.produced;
            break;
        }
        onset.clean_target = target;
        onset.clean_achieved = achieved;
        if (achieved < 0.8 * target) {
            onset.saturated = true;
            break;
        }
    }
    return onset;
}

// How the lowest ours ÷ raw of a table compares with the goal, given the noise the
// control showed in the same run.
std::string verdict(double lowest, double noise) {
    if (lowest >= 0.95) return fmt::format("{:.3f}: met", lowest);
    if (1 - lowest <= noise) return fmt::format("{:.3f}: below 0.95, but within this run's noise", lowest);
    return fmt::format("{:.3f}: missed", lowest);
}

// The median over rounds of each round's a ÷ b. Every reader runs once per round, back to
// back, so a drift of the shared machine between rounds moves both sides of a ratio.
double paired(const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> ratios;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        if (b[i] > 0) ratios.push_back(a[i] / b[i]);
    return median(ratios);
}

std::string report_markdown(std::size_t cpus, const std::vector<LiveCell>& live_cells,
                            const std::vector<DrainCell>& drain_cells, const std::vector<Onset>& onsets,
                            double elapsed) {
    double lowest_live = 1e9, lowest_drain = 1e9, noise_live = 0, noise_drain = 0;
    std::string md = "## Event transports: consumer throughput\n\n";
    md += bench::machine_line() +
          fmt::format(
              ". Producers: 1, 2 and all CPUs' worth ({} here) of processes, pinned one per CPU, calling "
              "`getppid` in a loop; a `tracepoint/syscalls/sys_enter_getppid` program sends a {}-byte event "
              "for theirs only (tgid filter map) — ring buffer: `bpf_ringbuf_reserve`/`submit`; perf buffer: "
              "`bpf_perf_event_output` — and counts produced and dropped events per CPU. Consumer: this "
              "process's main thread, pinned to the last CPU (a CPU of its own with one producer, shared "
              "with a producer when every CPU has one). **ours** = `RingBufferReader::poll` / "
              "`PerfBufferReader::poll` with a callback; **raw** = libbpf's `ring_buffer__poll` / "
              "`perf_buffer__poll` with a trivial callback; **pull** = `RingBufferPuller::read` / "
              "`PerfBufferPuller::read(out, timeout)`, which copies "
              "each event into its own `std::vector`; **control** = raw again, measured as one more reader: "
              "its distance from 1.000 is the noise of a ratio here. Each run opens its reader fresh; the "
              "readers take turns going first; {} live and {} drain rounds, every reader once per round; rates are "
              "medians over rounds, ratios the median of each round's ratio (paired: a drift of the shared "
              "machine between rounds cancels). "
              "Every run checked received + dropped = produced = `getppid` calls.\n\n",
              cpus, kEventSize, kRounds, kDrainRounds);
    md += fmt::format(
        "**Live** — producers flat out for {} ms (after {} ms warm-up): events received per second "
        "in that window, and the consumer thread's CPU time per event (user + kernel, waits included). "
        "Buffers of {} KiB (the ring; each CPU's perf ring), `ebpf-tool events`' default. *Offered*: "
        "what the producers made during raw's runs; where it exceeds what any reader receives, the "
        "rest was dropped in the kernel.\n\n",
        std::chrono::milliseconds(kWindow).count(), kWarmUp.count(), kLiveBytes / 1024);
    md +=
        "| transport | producers | offered | ours | raw | ours ÷ raw | pull ÷ raw | control ÷ raw | consumer CPU "
        "ns/event (ours / raw / pull) | dropped (ours / raw / pull) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n";
    for (const auto& c : live_cells) {
        const double raw = median(c.rate[kRaw]), ours = paired(c.rate[kOurs], c.rate[kRaw]),
                     pull = paired(c.rate[kPull], c.rate[kRaw]), control = paired(c.rate[kControl], c.rate[kRaw]);
        lowest_live = std::min(lowest_live, ours);
        noise_live = std::max(noise_live, std::abs(control - 1));
        md += fmt::format(
            "| {} | {} | {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.0f} / {:.0f} / {:.0f} | {} / {} / {} |\n",
            name_of(c.transport), c.producers, format_rate(median(c.offered)), format_rate(median(c.rate[kOurs])),
            format_rate(raw), ours, pull, control, median(c.cpu[kOurs]), median(c.cpu[kRaw]), median(c.cpu[kPull]),
            percent(c.dropped[kOurs], c.produced[kOurs]), percent(c.dropped[kRaw], c.produced[kRaw]),
            percent(c.dropped[kPull], c.produced[kPull]));
    }
    md += fmt::format(
        "\n**Drain** — the reading alone: the producers fill the buffers while nothing reads ({} events "
        "in a {} MiB ring buffer; {} in perf buffers of {} MiB per CPU), the caches are flushed (64 MiB "
        "written), then one reader takes them all: events per second of reading.\n\n",
        kDrainRingEvents, kDrainRingBytes >> 20, kDrainPerfEvents, kDrainPerfPages * page_size() >> 20);
    md +=
        "| transport | producers | ours | raw | ours ÷ raw | pull | pull ÷ raw | control ÷ raw |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& c : drain_cells) {
        const double ours = median(c.rate[kOurs]), raw = median(c.rate[kRaw]), pull = median(c.rate[kPull]);
        const double ours_ratio = paired(c.rate[kOurs], c.rate[kRaw]), pull_ratio = paired(c.rate[kPull], c.rate[kRaw]),
                     control_ratio = paired(c.rate[kControl], c.rate[kRaw]);
        lowest_drain = std::min(lowest_drain, ours_ratio);
        noise_drain = std::max(noise_drain, std::abs(control_ratio - 1));
        md +=
            fmt::format("| {} | {} | {} | {} | {:.3f} | {} | {:.3f} | {:.3f} |\n", name_of(c.transport), c.producers,
                        format_rate(ours), format_rate(raw), ours_ratio, format_rate(pull), pull_ratio, control_ratio);
    }
    md += fmt::format(
        "\n**Drop onset** — producers paced at rising total rates (×{} from {:.0f} k/s; each sleeps when "
        "more than 50 µs ahead of its schedule, so events come in short bursts), {} ms per step, read "
        "by ours (callback) with {} KiB buffers: the last step without a drop and the first with one "
        "(counted in the kernel). The search stops without a drop when the producers fall 20% short "
        "of the target.\n\n",
        kOnsetStep, kOnsetStart / 1e3, std::chrono::milliseconds(kOnsetWindow).count(), kLiveBytes / 1024);
    md +=
        "| transport | producers | last rate without drops (achieved) | first rate with drops (achieved) | "
        "dropped there |\n|---|---:|---:|---:|---:|\n";
    for (const auto& o : onsets) {
        const std::string clean =
            o.clean_target ? fmt::format("{} ({})", format_rate(o.clean_target), format_rate(o.clean_achieved)) : "—";
        std::string first = o.saturated ? "none: the producers saturated" : "none";
        std::string dropped = "0";
        if (o.target) {
            first = fmt::format("{} ({})", format_rate(o.target), format_rate(o.achieved));
            dropped = fmt::format("{} of {} ({:.2f}%)", o.dropped, o.produced,
                                  100.0 * static_cast<double>(o.dropped) / static_cast<double>(o.produced));
        }
        md += fmt::format("| {} | {} | {} | {} | {} |\n", name_of(o.transport), o.producers, clean, first, dropped);
    }
    bench::summary_row("event readers, live: lowest ours ÷ raw (throughput: higher is better)",
                       fmt::format("{:.3f}× raw", lowest_live), "libbpf's raw poll", lowest_live, "≥ 0.95× raw",
                       lowest_live >= 0.95);
    bench::summary_row("event readers, drain: lowest ours ÷ raw (throughput: higher is better)",
                       fmt::format("{:.3f}× raw", lowest_drain), "libbpf's raw poll", lowest_drain, "≥ 0.95× raw",
                       lowest_drain >= 0.95);
    md += fmt::format(
        "\nGoal: ours ≥ 0.95× raw. Live, lowest ours ÷ raw {} (control within ±{:.3f}). Drain, lowest "
        "{} (control within ±{:.3f}). The pull style has no goal: copying each event into a vector of "
        "its own is its point. Whole benchmark: {:.0f} s.\n",
        verdict(lowest_live, noise_live), noise_live, verdict(lowest_drain, noise_drain), noise_drain, elapsed);
    return md;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: events_throughput BENCHMARKS.md\n";
        return 2;
    }
    const std::string report = argv[1];
    try {
        const auto began = Clock::now();
        ebpf::system::set_libbpf_logging(false);
        ebpf::system::prepare(/*need_tracefs=*/true);
        const auto cpus = online_cpus();
        // The consumer on the last CPU: with one producer, a CPU of its own; with a producer
        // on every CPU, always sharing the same one (not wherever the scheduler moves it).
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpus.back(), &set);
        if (::sched_setaffinity(0, sizeof(set), &set)) throw std::runtime_error("sched_setaffinity failed");
        const std::size_t live_pages = kLiveBytes / page_size();

        Bench live(kLiveBytes), drain(kDrainRingBytes);
        std::vector<LiveCell> live_cells;
        std::vector<DrainCell> drain_cells;
        std::vector<Onset> onsets;
        for (std::size_t k : producer_counts(cpus.size())) {
            // Producers before any reader: their tgids go into both programs' filters.
            Producers producers(std::vector<int>(cpus.begin(), cpus.begin() + static_cast<long>(k)));
            live.add_producers(producers.pids());
            drain.add_producers(producers.pids());
            for (Transport t : {Transport::ring, Transport::perf}) {
                live_cells.push_back(measure_live(live, producers, t, live_pages));
                drain_cells.push_back(measure_drain(drain, producers, t));
                onsets.push_back(find_onset(live, producers, t, live_pages));
                std::cerr << fmt::format("events_throughput: {} with {} producer(s) done ({:.0f} s)\n", name_of(t), k,
                                         seconds(Clock::now() - began));
            }
        }
        const std::string md =
            report_markdown(cpus.size(), live_cells, drain_cells, onsets, seconds(Clock::now() - began));
        bench::write_section(report, "events-throughput", md);
        std::cout << md;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "events_throughput: " << e.what() << '\n';
        return 1;
    }
}
