#include "ebpf/ring_buffer.hpp"

#include <linux/bpf.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <utility>
#include <vector>

#include "ebpf/fd.hpp"
#include "event_poll.hpp"

namespace ebpf {

// Why not libbpf's ring_buffer: its loop calls a C callback per record, and wrapped, that
// callback had to call ours (a second indirect call, the bookkeeping for stops, and a
// try/catch to carry exceptions over libbpf's C frames). Reading a full ring that way ran
// at 0.54-0.87x the speed of libbpf's loop with a trivial callback (0.5-3 ns more per
// record; bench/events_throughput.cpp). The ring's layout is a small, stable kernel ABI
// (Documentation/bpf/ringbuf.rst), so the reader walks it itself: one loop per ring that
// calls the std::function directly, where a stop or an exception needs no translation.

namespace {

std::size_t page_size() {
    static const auto size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return size;
}

// A shared mapping of a ring buffer map, unmapped once.
class Mapping {
public:
    Mapping(int fd, std::size_t length, int protection, std::size_t offset, const std::string& context)
        : length_(length) {
        void* at = ::mmap(nullptr, length, protection, MAP_SHARED, fd, static_cast<off_t>(offset));
        if (at == MAP_FAILED) throw Error::sys(errno, context);
        at_ = static_cast<std::byte*>(at);
    }
    Mapping(Mapping&& other) noexcept
        : at_(std::exchange(other.at_, nullptr)), length_(std::exchange(other.length_, 0)) {}
    Mapping& operator=(Mapping&&) = delete;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() {
        if (at_) ::munmap(at_, length_);
    }
    std::byte* get() const noexcept { return at_; }

private:
    std::byte* at_ = nullptr;
    std::size_t length_ = 0;
};

template <class T>
T load_acquire(const std::byte* at) {
    // The producer page and the data are mapped read-only; an atomic load does not write.
    return std::atomic_ref<T>(*reinterpret_cast<T*>(const_cast<std::byte*>(at))).load(std::memory_order_acquire);
}

}  // namespace

namespace detail {

struct RingState {
    // One added ring buffer, mapped as the kernel lays it out: a consumer page we write,
    // then (read-only) a producer page and the data area, mapped twice in a row so that a
    // record that wraps around the end is still contiguous.
    struct Source {
        std::string name;
        // The reader's own reference: the map outlives the caller's handle.
        Fd fd;
        EventCallback callback;  // empty in a puller
        Mapping consumer;
        Mapping producer;
        std::uint64_t mask = 0;  // data size - 1 (a power of two)

        Source(const Map& map, EventCallback cb)
            : name(map.name()),
              fd(Fd::duplicate(map.fd())),
              callback(std::move(cb)),
              consumer(fd.get(), page_size(), PROT_READ | PROT_WRITE, 0, map.describe() + ": ring buffer mmap"),
              producer(fd.get(), page_size() + 2 * std::size_t{map.info().max_entries}, PROT_READ, page_size(),
                       map.describe() + ": ring buffer mmap"),
              mask(map.info().max_entries - 1) {}

        // Consumes the records committed when it starts, in order, handing each to
        // `deliver` (false: stop after this record). A record still being written holds
        // back those after it; a discarded one is skipped. Returns false on a stop.
        template <class Deliver>
        bool consume(Deliver& deliver) {
            std::atomic_ref<std::uint64_t> consumer_pos(*reinterpret_cast<std::uint64_t*>(consumer.get()));
            const std::byte* data = producer.get() + page_size();
            std::uint64_t pos = consumer_pos.load(std::memory_order_relaxed);  // only we write it
            const std::uint64_t end = load_acquire<std::uint64_t>(producer.get());
            while (pos < end) {
                const std::byte* header = data + (pos & mask);
                const std::uint32_t len = load_acquire<std::uint32_t>(header);
                if (len & BPF_RINGBUF_BUSY_BIT) break;
                const std::uint32_t size = len & ~std::uint32_t{BPF_RINGBUF_DISCARD_BIT};
                const std::uint64_t next = pos + ((size + BPF_RINGBUF_HDR_SZ + 7) & ~std::uint64_t{7});
                bool go_on = true;
                if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
                    try {
                        go_on = deliver(std::span(header + BPF_RINGBUF_HDR_SZ, size));
                    } catch (...) {
                        consumer_pos.store(next, std::memory_order_release);  // the record that threw is consumed
                        throw;
                    }
                }
                // Per record, as libbpf does: the space goes back to the producers at once.
                pos = next;
                consumer_pos.store(pos, std::memory_order_release);
                if (!go_on) return false;
            }
            return true;
        }
    };

    const char* type;  // "RingBufferReader" or "RingBufferPuller", for messages
    std::vector<Source> sources;
    EventPoll poll;  // one entry per source, its index as the data

    explicit RingState(const char* type_name) : type(type_name) {}

    // "ring buffer 'events'" or "ring buffers 'events', 'audit'".
    std::string describe() const {
        std::string names;
        for (const auto& s : sources) names += (names.empty() ? "'" : ", '") + s.name + "'";
        return (sources.size() == 1 ? "ring buffer " : "ring buffers ") + names;
    }

    void add(const Map& ringbuf, EventCallback callback) {
        detail::check_type(ringbuf.info(), {BPF_MAP_TYPE_RINGBUF}, type);
        if (!poll.valid()) poll.create(ringbuf.describe() + ": ring buffer");
        Source source(ringbuf, std::move(callback));
        // Make room first: once the ring is in the epoll set, storing it must not fail.
        sources.reserve(sources.size() + 1);
        poll.reserve(sources.size() + 1);
        poll.watch(source.fd.get(), sources.size(), false, ringbuf.describe() + ": ring buffer add");
        sources.push_back(std::move(source));
    }

    // Waits up to `timeout`, then consumes the rings that have records with `deliver`.
    template <class Deliver>
    void wait_and_consume(std::chrono::milliseconds timeout, Deliver& deliver, const std::size_t& delivered,
                          const char* operation) {
        poll.wait(
            timeout, [&](std::uint64_t index) { return sources[index].consume(deliver); }, [&] { return delivered; },
            [&] { return describe() + ": " + operation; });
    }
};

}  // namespace detail

namespace {

// Push: each ring's records go to its own callback.
bool consume_to_callback(detail::RingState::Source& source, std::size_t& delivered) {
    auto deliver = [&](std::span<const std::byte> record) {
        ++delivered;
        return source.callback(record, -1) == 0;
    };
    return source.consume(deliver);
}

template <class State>
State& checked(const std::unique_ptr<State>& state, const char* type) {
    if (!state) throw Error::make(errc::misuse, std::string(type) + ": used after being moved from");
    return *state;
}

}  // namespace

// ---- RingBufferReader (push) ------------------------------------------------------------

RingBufferReader::RingBufferReader() : state_(std::make_unique<detail::RingState>("RingBufferReader")) {}
RingBufferReader::~RingBufferReader() = default;
RingBufferReader::RingBufferReader(RingBufferReader&&) noexcept = default;
RingBufferReader& RingBufferReader::operator=(RingBufferReader&&) noexcept = default;

detail::RingState& RingBufferReader::state() const {
    return checked(state_, "RingBufferReader");
}

std::size_t RingBufferReader::size() const noexcept {
    return state_ ? state_->sources.size() : 0;
}

void RingBufferReader::add(const Map& ringbuf, EventCallback callback) {
    if (!callback)
        throw Error::make(errc::bad_value, ringbuf.describe() + ": RingBufferReader: add: the callback is empty");
    state().add(ringbuf, std::move(callback));
}

std::size_t RingBufferReader::poll(std::chrono::milliseconds timeout) {
    detail::RingState& s = state();
    if (s.sources.empty()) throw Error::make(errc::misuse, "RingBufferReader: poll: no ring buffer added");
    std::size_t delivered = 0;
    s.poll.wait(
        timeout, [&](std::uint64_t index) { return consume_to_callback(s.sources[index], delivered); },
        [&] { return delivered; }, [&] { return s.describe() + ": poll"; });
    return delivered;
}

std::size_t RingBufferReader::consume() {
    detail::RingState& s = state();
    std::size_t delivered = 0;
    for (auto& source : s.sources)
        if (!consume_to_callback(source, delivered)) break;
    return delivered;
}

int RingBufferReader::epoll_fd() const {
    const detail::RingState& s = state();
    if (s.sources.empty()) throw Error::make(errc::misuse, "RingBufferReader: epoll_fd: no ring buffer added yet");
    return s.poll.fd();
}

// ---- RingBufferPuller (pull) ------------------------------------------------------------

RingBufferPuller::RingBufferPuller() : state_(std::make_unique<detail::RingState>("RingBufferPuller")) {}
RingBufferPuller::~RingBufferPuller() = default;
RingBufferPuller::RingBufferPuller(RingBufferPuller&&) noexcept = default;
RingBufferPuller& RingBufferPuller::operator=(RingBufferPuller&&) noexcept = default;

detail::RingState& RingBufferPuller::state() const {
    return checked(state_, "RingBufferPuller");
}

std::size_t RingBufferPuller::size() const noexcept {
    return state_ ? state_->sources.size() : 0;
}

void RingBufferPuller::add(const Map& ringbuf) {
    state().add(ringbuf, nullptr);
}

std::size_t RingBufferPuller::pull(detail::PullSink sink, void* context, std::chrono::milliseconds timeout,
                                   std::size_t max) {
    detail::RingState& s = state();
    if (s.sources.empty()) throw Error::make(errc::misuse, "RingBufferPuller: read: no ring buffer added");
    if (max == 0) return 0;
    std::size_t delivered = 0;
    auto deliver = [&](std::span<const std::byte> record) {
        ++delivered;
        sink(context, record, -1);
        return delivered < max;
    };
    // A stop at `max` leaves the rest in the ring, and a ring's epoll readiness is level
    // triggered (data available), so the next call finds it without waiting.
    s.wait_and_consume(timeout, deliver, delivered, "read");
    return delivered;
}

int RingBufferPuller::epoll_fd() const {
    const detail::RingState& s = state();
    if (s.sources.empty()) throw Error::make(errc::misuse, "RingBufferPuller: epoll_fd: no ring buffer added yet");
    return s.poll.fd();
}

}  // namespace ebpf
