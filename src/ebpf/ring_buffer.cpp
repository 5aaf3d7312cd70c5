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

namespace ebpf {

// Why not libbpf's ring_buffer: its loop calls a C callback per record, and wrapped, that
// callback had to call ours (a second indirect call, the bookkeeping for stops, and a
// try/catch to carry exceptions over libbpf's C frames). Reading a full ring that way ran
// at 0.54-0.87x the speed of libbpf's loop with a trivial callback (0.5-3 ns more per
// record; bench/events_throughput.cpp). The ring's layout is a small, stable kernel ABI
// (Documentation/bpf/ringbuf.rst), so the reader walks it itself: one loop per ring that
// calls the std::function directly, where a stop or an exception needs no translation.

namespace {

int timeout_ms(std::chrono::milliseconds timeout) {
    if (timeout.count() < 0) return -1;
    return timeout.count() > INT_MAX ? INT_MAX : static_cast<int>(timeout.count());
}

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

struct RingBufferReader::State {
    // One added ring buffer, mapped as the kernel lays it out: a consumer page we write,
    // then (read-only) a producer page and the data area, mapped twice in a row so that a
    // record that wraps around the end is still contiguous.
    struct Source {
        std::string name;
        // The reader's own reference: the map outlives the caller's handle.
        Fd fd;
        Callback callback;  // empty for a pull-style ring
        Mapping consumer;
        Mapping producer;
        std::uint64_t mask = 0;  // data size - 1 (a power of two)

        Source(const Map& map, Callback cb)
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

    // Set by the first add(): a reader is read one way only, so every record has exactly
    // one place to go.
    enum class Style { none, callbacks, pull };
    Style style = Style::none;

    std::vector<Source> sources;
    Fd epoll;  // one entry per source, its index as the data
    std::vector<epoll_event> ready;

    // "ring buffer 'events'" or "ring buffers 'events', 'audit'".
    std::string describe() const {
        std::string names;
        for (const auto& s : sources) names += (names.empty() ? "'" : ", '") + s.name + "'";
        return (sources.size() == 1 ? "ring buffer " : "ring buffers ") + names;
    }

    // Refuses a call of the other style, so that no record is handed to nobody.
    void require(Style wanted, const char* operation) const {
        if (style == Style::none || style == wanted) return;
        throw Error::make(errc::misuse,
                          std::string("RingBufferReader: ") + operation + ": " + describe() +
                              (style == Style::pull ? " added without a callback: read with read() or read_as()"
                                                    : " added with callbacks: read with poll() or consume()"));
    }

    void add(const Map& ringbuf, Callback callback) {
        detail::check_binding(ringbuf.info(), {BPF_MAP_TYPE_RINGBUF}, 0, 0);  // a ring has no key or value size
        const Style wanted = callback ? Style::callbacks : Style::pull;
        if (style != Style::none && style != wanted)
            throw Error::make(errc::misuse,
                              ringbuf.describe() + ": RingBufferReader: add " +
                                  (callback ? "with a callback: the reader's rings were added without one (pull style)"
                                            : "without a callback: the reader's rings were added with callbacks") +
                                  "; use a reader for each style");
        if (!epoll) {
            epoll = Fd(::epoll_create1(EPOLL_CLOEXEC));
            if (!epoll) throw Error::sys(errno, ringbuf.describe() + ": ring buffer: epoll_create1");
        }
        Source source(ringbuf, std::move(callback));
        // Make room first: once the ring is in the epoll set, storing it must not fail.
        sources.reserve(sources.size() + 1);
        ready.reserve(sources.size() + 1);
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = sources.size();
        if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, source.fd.get(), &event))
            throw Error::sys(errno, ringbuf.describe() + ": ring buffer add");
        sources.push_back(std::move(source));
        ready.resize(sources.size());
        style = wanted;
    }

    // Waits up to `timeout`, then consumes the rings that have records with
    // `consume(source)` (false: stop there). EINTR is no error: the caller's loop decides.
    template <class Consume>
    void wait_and_consume(std::chrono::milliseconds timeout, Consume consume, const char* operation) {
        const int n = ::epoll_wait(epoll.get(), ready.data(), static_cast<int>(ready.size()), timeout_ms(timeout));
        if (n < 0) {
            if (errno == EINTR) return;
            throw Error::sys(errno, describe() + ": " + operation);
        }
        for (int i = 0; i < n; ++i)
            if (!consume(sources[ready[static_cast<std::size_t>(i)].data.u64])) return;
    }

    // Callback style: each ring's records go to its own callback.
    static bool consume_to_callback(Source& source, std::size_t& delivered) {
        auto deliver = [&](std::span<const std::byte> record) {
            ++delivered;
            return source.callback(record) == 0;
        };
        return source.consume(deliver);
    }
};

RingBufferReader::RingBufferReader() : state_(std::make_unique<State>()) {}
RingBufferReader::~RingBufferReader() = default;
RingBufferReader::RingBufferReader(RingBufferReader&&) noexcept = default;
RingBufferReader& RingBufferReader::operator=(RingBufferReader&&) noexcept = default;

RingBufferReader::State& RingBufferReader::state() const {
    if (!state_) throw Error::make(errc::misuse, "RingBufferReader: used after being moved from");
    return *state_;
}

std::size_t RingBufferReader::size() const noexcept {
    return state_ ? state_->sources.size() : 0;
}

void RingBufferReader::add(const Map& ringbuf, Callback callback) {
    if (!callback)
        throw Error::make(errc::bad_value, ringbuf.describe() + ": RingBufferReader: add: the callback is empty");
    state().add(ringbuf, std::move(callback));
}

void RingBufferReader::add(const Map& ringbuf) {
    state().add(ringbuf, nullptr);
}

std::size_t RingBufferReader::poll(std::chrono::milliseconds timeout) {
    State& s = state();
    if (s.sources.empty()) throw Error::make(errc::misuse, "RingBufferReader: poll: no ring buffer added");
    s.require(State::Style::callbacks, "poll");
    std::size_t delivered = 0;
    s.wait_and_consume(
        timeout, [&](State::Source& source) { return State::consume_to_callback(source, delivered); }, "poll");
    return delivered;
}

std::size_t RingBufferReader::consume() {
    State& s = state();
    if (s.sources.empty()) return 0;
    s.require(State::Style::callbacks, "consume");
    std::size_t delivered = 0;
    for (auto& source : s.sources)
        if (!State::consume_to_callback(source, delivered)) break;
    return delivered;
}

std::size_t RingBufferReader::read(std::vector<Record>& out, std::chrono::milliseconds timeout, std::size_t max) {
    return pull(
        [](void* context, std::span<const std::byte> record) {
            static_cast<std::vector<Record>*>(context)->emplace_back(record.begin(), record.end());
        },
        &out, timeout, max);
}

std::size_t RingBufferReader::pull(Sink sink, void* context, std::chrono::milliseconds timeout, std::size_t max) {
    State& s = state();
    if (s.sources.empty()) throw Error::make(errc::misuse, "RingBufferReader: read: no ring buffer added");
    s.require(State::Style::pull, "read");
    if (max == 0) return 0;
    std::size_t delivered = 0;
    auto deliver = [&](std::span<const std::byte> record) {
        ++delivered;
        sink(context, record);
        return delivered < max;
    };
    // A stop at `max` leaves the rest in the ring, and a ring's epoll readiness is level
    // triggered (data available), so the next call finds it without waiting.
    s.wait_and_consume(
        timeout, [&](State::Source& source) { return source.consume(deliver); }, "read");
    return delivered;
}

int RingBufferReader::epoll_fd() const {
    const State& s = state();
    if (s.sources.empty()) throw Error::make(errc::misuse, "RingBufferReader: epoll_fd: no ring buffer added yet");
    return s.epoll.get();
}

}  // namespace ebpf
