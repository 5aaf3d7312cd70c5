#include "ebpf/perf_buffer.hpp"

#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <exception>
#include <fstream>
#include <utility>

#include "event_poll.hpp"

namespace ebpf {

// libbpf opens the rings: one perf event per CPU, mmap'ed, stored in the map. Reading them
// is done here, over the mapping libbpf exposes for that (perf_buffer__buffer), because
// libbpf's loop cannot do what this reader needs: its sample callback cannot stop, so a
// read of at most `max` samples, or a callback that threw, would have to take (and drop,
// or hold back) the rest of every woken ring; and each sample went through two C
// callbacks before reaching ours: full rings were read at 0.7-0.8x the speed of libbpf
// with a trivial callback (bench/events_throughput.cpp).

namespace {

// The CPUs online now ("0-3,6" in sysfs), as libbpf would open rings on when not told.
std::vector<int> online_cpus() {
    std::ifstream in("/sys/devices/system/cpu/online");
    std::string text;
    std::getline(in, text);
    std::vector<int> cpus;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t used = 0;
        const int first = std::stoi(text.substr(at), &used);
        at += used;
        int last = first;
        if (at < text.size() && text[at] == '-') {
            last = std::stoi(text.substr(at + 1), &used);
            at += used + 1;
        }
        for (int cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
        if (at >= text.size() || text[at] != ',') break;
        ++at;
    }
    if (cpus.empty()) throw Error::make(errc::system, "perf buffer: no online CPU in /sys/devices/system/cpu/online");
    return cpus;
}

}  // namespace

namespace detail {

struct PerfState {
    std::string name;
    EventCallback on_sample;  // empty in a puller
    PerfBufferReader::LostCallback on_lost;
    std::vector<std::uint64_t> lost;

    struct Free {
        void operator()(::perf_buffer* pb) const noexcept { perf_buffer__free(pb); }
    };
    std::unique_ptr<::perf_buffer, Free> buffer;

    // One CPU's ring, as mapped by libbpf: the perf header page, then the data.
    struct Ring {
        int cpu = -1;
        perf_event_mmap_page* header = nullptr;
        const std::byte* data = nullptr;
        std::uint64_t size = 0;  // a power of two
        // A record that wraps around the end of the ring is copied here to be whole.
        std::vector<std::byte> wrapped;
    };
    std::vector<Ring> rings;
    // libbpf's wait set, each ring's entry re-pointed at the ring's index: a wake-up names
    // the ring to read. (libbpf's own entries point at its internal per-CPU structs; it
    // never waits on them here. A second epoll set would double every wake-up's work.)
    EventPoll poll;
    // Rings a stopped call may have left unread. The kernel reports a perf ring's
    // wake-up to one poll only, so epoll would not report them again: the next call reads
    // every ring first. Also where that sweep starts, so a small `max` starves no CPU.
    bool sweep_first = false;
    std::size_t next_ring = 0;

    void open(const Map& map, std::size_t pages_per_cpu, const char* type);

    std::string context(const char* operation) const { return "perf buffer '" + name + "': " + operation; }

    // The records of PERF_SAMPLE_RAW events (the only sample type the rings are opened
    // with) and of lost-sample reports, as the kernel lays them out.
    struct RawSample {
        perf_event_header header;
        std::uint32_t size;  // `size` bytes follow
    };
    struct LostRecord {
        perf_event_header header;
        std::uint64_t id;
        std::uint64_t lost;
    };

    // Reads the records `ring` holds when it starts, handing samples to `deliver(bytes,
    // cpu)` (false: stop after this one). Returns false on a stop. The tail moves past
    // every record handed out, also when `deliver` throws.
    template <class Deliver>
    bool consume(Ring& ring, Deliver& deliver) {
        std::atomic_ref<__u64> head_ref(ring.header->data_head), tail_ref(ring.header->data_tail);
        const std::uint64_t head = head_ref.load(std::memory_order_acquire);
        std::uint64_t tail = tail_ref.load(std::memory_order_relaxed);  // only we write it
        // Copied out of `ring`: the callback could change any memory as far as the
        // compiler knows, and would make every record reload them.
        const std::byte* const data = ring.data;
        const std::uint64_t size = ring.size;
        const int cpu = ring.cpu;
        bool go_on = true;
        try {
            while (go_on && tail < head) {
                const std::uint64_t offset = tail & (size - 1);
                const std::byte* record = data + offset;
                perf_event_header header;  // 8 bytes at an 8-byte boundary: never split
                std::memcpy(&header, record, sizeof(header));
                if (header.size < sizeof(header) || header.size > size)
                    throw Error::make(errc::corrupt,
                                      context("read") + ": a corrupt record on CPU " + std::to_string(cpu));
                if (offset + header.size > size) {
                    ring.wrapped.resize(header.size);
                    const std::size_t first = size - offset;
                    std::memcpy(ring.wrapped.data(), record, first);
                    std::memcpy(ring.wrapped.data() + first, data, header.size - first);
                    record = ring.wrapped.data();
                }
                tail += header.size;
                if (header.type == PERF_RECORD_SAMPLE) {
                    std::uint32_t raw_size;
                    std::memcpy(&raw_size, record + offsetof(RawSample, size), sizeof(raw_size));
                    go_on = deliver(std::span(record + sizeof(RawSample), raw_size), cpu);
                } else if (header.type == PERF_RECORD_LOST) {
                    LostRecord report;
                    std::memcpy(&report, record, sizeof(report));
                    if (static_cast<std::size_t>(cpu) < lost.size()) lost[static_cast<std::size_t>(cpu)] += report.lost;
                    if (on_lost) on_lost(cpu, report.lost);
                }
                // Nothing else is sent to rings opened for samples only.
            }
        } catch (...) {
            tail_ref.store(tail, std::memory_order_release);
            throw;
        }
        // Once per batch, as libbpf does: the kernel reuses the space from here on.
        tail_ref.store(tail, std::memory_order_release);
        return go_on;
    }

    // Reads every ring, starting after the one the last sweep started at.
    template <class Deliver>
    bool sweep(Deliver& deliver) {
        sweep_first = false;
        const std::size_t start = next_ring;
        next_ring = (next_ring + 1) % rings.size();
        for (std::size_t i = 0; i < rings.size(); ++i)
            if (!consume(rings[(start + i) % rings.size()], deliver)) return false;
        return true;
    }

    // Waits until `deliver` has seen a sample (`delivered` > 0), the timeout passes, or a
    // signal arrives; reads the rings that woke. A zero timeout reads every ring.
    template <class Deliver>
    void wait_and_consume(std::chrono::milliseconds timeout, Deliver& deliver, const std::size_t& delivered,
                          const char* operation) {
        try {
            if (timeout.count() == 0 || sweep_first) {
                if (!sweep(deliver)) sweep_first = true;
                if (delivered || sweep_first || timeout.count() == 0) return;
            }
            // A stop leaves the other woken rings, and this one, possibly holding more.
            if (!poll.wait(
                    timeout, [&](std::uint64_t index) { return consume(rings[index], deliver); },
                    [&] { return delivered; }, [&] { return context(operation); }))
                sweep_first = true;
        } catch (...) {
            sweep_first = true;
            throw;
        }
    }
};

}  // namespace detail

void detail::PerfState::open(const Map& map, std::size_t pages_per_cpu, const char* type) {
    detail::check_type(map.info(), {BPF_MAP_TYPE_PERF_EVENT_ARRAY}, type);
    if (pages_per_cpu == 0 || (pages_per_cpu & (pages_per_cpu - 1)) != 0)
        throw Error::make(errc::bad_value, map.describe() + ": perf buffer pages per CPU must be a power of two, not " +
                                               std::to_string(pages_per_cpu));
    name = map.name();
    lost.assign(possible_cpus(), 0);

    // A ring per online CPU that has a slot in the map, keyed by its CPU: named here, so
    // that each ring's CPU is known.
    std::vector<int> cpus;
    for (int cpu : online_cpus())
        if (static_cast<std::uint32_t>(cpu) < map.info().max_entries) cpus.push_back(cpu);
    if (cpus.empty())
        throw Error::make(errc::out_of_range, map.describe() + ": perf buffer: the map has no slot for any online CPU");
    // What perf_buffer__new asks for: BPF output as raw samples, a wake-up per sample.
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_BPF_OUTPUT;
    attr.sample_type = PERF_SAMPLE_RAW;
    attr.sample_period = 1;
    attr.wakeup_events = 1;
    perf_buffer_raw_opts opts{};
    opts.sz = sizeof(opts);
    opts.cpu_cnt = static_cast<int>(cpus.size());
    opts.cpus = cpus.data();
    opts.map_keys = cpus.data();
    errno = 0;
    // No event callback: libbpf never reads these rings.
    ::perf_buffer* pb = perf_buffer__new_raw(map.fd(), pages_per_cpu, &attr, nullptr, nullptr, &opts);
    if (!pb) throw Error::sys(libbpf_errno(0), map.describe() + ": open perf buffer");
    buffer.reset(pb);

    poll.borrow(perf_buffer__epoll_fd(pb));
    rings.resize(cpus.size());
    for (std::size_t i = 0; i < rings.size(); ++i) {
        Ring& ring = rings[i];
        ring.cpu = cpus[i];
        void* base = nullptr;
        std::size_t data_size = 0;
        if (int err = perf_buffer__buffer(pb, static_cast<int>(i), &base, &data_size); err)
            throw Error::sys(err, map.describe() + ": perf buffer: ring of CPU " + std::to_string(ring.cpu));
        ring.header = static_cast<perf_event_mmap_page*>(base);
        ring.data = static_cast<const std::byte*>(base) + static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        ring.size = data_size;
        const int fd = perf_buffer__buffer_fd(pb, i);
        if (fd < 0) throw Error::sys(fd, map.describe() + ": perf buffer: ring fd");
        poll.watch(fd, i, true, map.describe() + ": perf buffer: epoll_ctl");
    }
}

namespace {

template <class State>
State& checked(const std::unique_ptr<State>& state, const char* type) {
    if (!state) throw Error::make(errc::misuse, std::string(type) + ": used after being moved from");
    return *state;
}

std::uint64_t total(const std::vector<std::uint64_t>& lost) {
    std::uint64_t sum = 0;
    for (auto n : lost) sum += n;
    return sum;
}

const std::vector<std::uint64_t> kNone;

}  // namespace

// ---- PerfBufferReader (push) ------------------------------------------------------------

PerfBufferReader::PerfBufferReader(const Map& perf_event_array, std::size_t pages_per_cpu, EventCallback on_sample,
                                   LostCallback on_lost)
    : state_(std::make_unique<detail::PerfState>()) {
    // Before opening: the rings would already be in the map.
    if (!on_sample)
        throw Error::make(errc::bad_value,
                          perf_event_array.describe() + ": PerfBufferReader: the sample callback is empty");
    state_->on_sample = std::move(on_sample);
    state_->on_lost = std::move(on_lost);
    state_->open(perf_event_array, pages_per_cpu, "PerfBufferReader");
}

PerfBufferReader::~PerfBufferReader() = default;
PerfBufferReader::PerfBufferReader(PerfBufferReader&&) noexcept = default;
PerfBufferReader& PerfBufferReader::operator=(PerfBufferReader&&) noexcept = default;

detail::PerfState& PerfBufferReader::state() const {
    return checked(state_, "PerfBufferReader");
}

std::size_t PerfBufferReader::poll(std::chrono::milliseconds timeout) {
    detail::PerfState& s = state();
    std::size_t delivered = 0;
    auto deliver = [&](std::span<const std::byte> sample, int cpu) {
        ++delivered;
        return s.on_sample(sample, cpu) == 0;
    };
    s.wait_and_consume(timeout, deliver, delivered, "poll");
    return delivered;
}

std::size_t PerfBufferReader::consume() {
    return poll(std::chrono::milliseconds::zero());
}

int PerfBufferReader::epoll_fd() const {
    return state().poll.fd();
}

std::uint64_t PerfBufferReader::lost() const noexcept {
    return state_ ? total(state_->lost) : 0;
}

const std::vector<std::uint64_t>& PerfBufferReader::lost_per_cpu() const noexcept {
    return state_ ? state_->lost : kNone;
}

// ---- PerfBufferPuller (pull) ------------------------------------------------------------

PerfBufferPuller::PerfBufferPuller(const Map& perf_event_array, std::size_t pages_per_cpu)
    : state_(std::make_unique<detail::PerfState>()) {
    state_->open(perf_event_array, pages_per_cpu, "PerfBufferPuller");
}

PerfBufferPuller::~PerfBufferPuller() = default;
PerfBufferPuller::PerfBufferPuller(PerfBufferPuller&&) noexcept = default;
PerfBufferPuller& PerfBufferPuller::operator=(PerfBufferPuller&&) noexcept = default;

detail::PerfState& PerfBufferPuller::state() const {
    return checked(state_, "PerfBufferPuller");
}

std::size_t PerfBufferPuller::pull(detail::PullSink sink, void* context, std::chrono::milliseconds timeout,
                                   std::size_t max) {
    detail::PerfState& s = state();
    if (max == 0) return 0;
    std::size_t delivered = 0;
    auto deliver = [&](std::span<const std::byte> sample, int cpu) {
        ++delivered;
        sink(context, sample, cpu);
        return delivered < max;
    };
    s.wait_and_consume(timeout, deliver, delivered, "read");
    return delivered;
}

int PerfBufferPuller::epoll_fd() const {
    return state().poll.fd();
}

std::uint64_t PerfBufferPuller::lost() const noexcept {
    return state_ ? total(state_->lost) : 0;
}

const std::vector<std::uint64_t>& PerfBufferPuller::lost_per_cpu() const noexcept {
    return state_ ? state_->lost : kNone;
}

}  // namespace ebpf
