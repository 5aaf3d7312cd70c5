#include "ebpf/ring_buffer.hpp"

#include <bpf/libbpf.h>

#include <cerrno>
#include <climits>
#include <exception>
#include <utility>
#include <vector>

#include "ebpf/fd.hpp"

namespace ebpf {

namespace {

// What a callback returns to libbpf to make it stop. libbpf 1.1 stops only on a negative
// return (and passes it up as the poll's result); whether this was a stop or a real error
// is told by State::stopped, never by the value.
constexpr int kStop = -ECANCELED;

int timeout_ms(std::chrono::milliseconds timeout) {
    if (timeout.count() < 0) return -1;
    return timeout.count() > INT_MAX ? INT_MAX : static_cast<int>(timeout.count());
}

}  // namespace

struct RingBufferReader::State {
    // One added ring buffer. libbpf keeps a pointer to it as the callback's ctx, so it
    // lives on the heap and never moves, whatever happens to the vector or the reader.
    struct Source {
        State* state = nullptr;
        std::string name;
        // The reader's own reference: the map, and its epoll registration, outlive the
        // caller's handle.
        Fd fd;
        Callback callback;
    };
    struct Free {
        void operator()(::ring_buffer* rb) const noexcept { ring_buffer__free(rb); }
    };

    // Declared before `ring`, so destroyed after it: libbpf must be done with the
    // sources (and their fds) before they go.
    std::vector<std::unique_ptr<Source>> sources;
    std::unique_ptr<::ring_buffer, Free> ring;

    // Per call: records delivered, and how the callbacks ended it.
    std::size_t delivered = 0;
    bool stopped = false;
    std::exception_ptr failure;

    static int on_record(void* ctx, void* data, std::size_t size) {
        auto* source = static_cast<Source*>(ctx);
        State& state = *source->state;
        // libbpf has already moved past this record: it is consumed whatever we return.
        ++state.delivered;
        try {
            if (source->callback(std::span(static_cast<const std::byte*>(data), size)) == 0) return 0;
            state.stopped = true;
        } catch (...) {
            state.failure = std::current_exception();
        }
        return kStop;
    }

    // "ring buffer 'events'" or "ring buffers 'events', 'audit'".
    std::string describe() const {
        std::string names;
        for (const auto& s : sources) names += (names.empty() ? "'" : ", '") + s->name + "'";
        return (sources.size() == 1 ? "ring buffer " : "ring buffers ") + names;
    }

    void begin() {
        delivered = 0;
        stopped = false;
        failure = nullptr;
    }

    // The records this call consumed, or the callback's exception, or the libbpf error.
    // libbpf's own count is not used: a stop or an error discards it (and it saturates at
    // INT_MAX), while ours counts every record handed to a callback.
    std::size_t finish(int ret, const char* operation) {
        if (failure) std::rethrow_exception(std::exchange(failure, nullptr));
        if (ret >= 0 || stopped) return delivered;
        if (ret == -EINTR) return delivered;
        throw_error(ret, describe() + ": " + operation);
    }
};

RingBufferReader::RingBufferReader() : state_(std::make_unique<State>()) {}
RingBufferReader::~RingBufferReader() = default;
RingBufferReader::RingBufferReader(RingBufferReader&&) noexcept = default;
RingBufferReader& RingBufferReader::operator=(RingBufferReader&&) noexcept = default;

RingBufferReader::State& RingBufferReader::state() const {
    if (!state_) throw Error("RingBufferReader: used after being moved from");
    return *state_;
}

std::size_t RingBufferReader::size() const noexcept { return state_ ? state_->sources.size() : 0; }

void RingBufferReader::add(const Map& ringbuf, Callback callback) {
    State& s = state();
    // libbpf would also refuse, but only with EINVAL and a log line: say what is wrong.
    if (ringbuf.type() != BPF_MAP_TYPE_RINGBUF)
        throw Error(ringbuf.describe() + ": RingBufferReader needs a ringbuf map, but it is " +
                    map_type_name(ringbuf.type()));
    if (!callback) throw Error(ringbuf.describe() + ": RingBufferReader: add: the callback is empty");

    auto source = std::make_unique<State::Source>();
    source->state = &s;
    source->name = ringbuf.name();
    source->fd = Fd::duplicate(ringbuf.fd());
    source->callback = std::move(callback);
    // Make room first: once libbpf holds the pointer, storing it must not fail.
    s.sources.reserve(s.sources.size() + 1);

    const std::string context = ringbuf.describe() + ": ring buffer add";
    if (!s.ring) {
        // libbpf has no empty ring_buffer: the first map creates it.
        errno = 0;
        ::ring_buffer* rb = ring_buffer__new(source->fd.get(), &State::on_record, source.get(), nullptr);
        if (!rb) throw_error(errno ? errno : EINVAL, context);
        s.ring.reset(rb);
    } else if (int ret = ring_buffer__add(s.ring.get(), source->fd.get(), &State::on_record, source.get()); ret) {
        throw_error(ret, context);
    }
    s.sources.push_back(std::move(source));
}

std::size_t RingBufferReader::poll(std::chrono::milliseconds timeout) {
    State& s = state();
    if (!s.ring) throw Error("RingBufferReader: poll: no ring buffer added");
    s.begin();
    int ret = ring_buffer__poll(s.ring.get(), timeout_ms(timeout));
    return s.finish(ret, "poll");
}

std::size_t RingBufferReader::consume() {
    State& s = state();
    if (!s.ring) return 0;
    s.begin();
    int ret = ring_buffer__consume(s.ring.get());
    return s.finish(ret, "consume");
}

int RingBufferReader::epoll_fd() const {
    const State& s = state();
    if (!s.ring) throw Error("RingBufferReader: epoll_fd: no ring buffer added yet");
    return ring_buffer__epoll_fd(s.ring.get());
}

}  // namespace ebpf
