// What the event readers share (ring_buffer.hpp, perf_buffer.hpp): the callback of push
// readers, the record of pull readers, and the pull API itself.
//
// Every transport comes as two types:
//
//   push   RingBufferReader, PerfBufferReader: poll()/consume() hand each event to an
//          EventCallback in place, without a copy. The fastest way.
//   pull   RingBufferPuller, PerfBufferPuller: read()/read_as<T>() return copies, up to a
//          maximum per call; no callback to write, events outlive the call.
//
// They are distinct types, so a pull call on a push reader (or the reverse) does not
// compile. Both wait on one epoll instance per reader (epoll_fd(), for a caller's event
// loop), and treat a signal during the wait as "nothing yet" (EINTR is not an error).
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "ebpf/error.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

// An event copied out of its buffer (pull readers): its bytes, and the CPU that wrote it
// for perf buffers (-1 for ring buffers, whose records do not say).
struct EventRecord {
    int cpu = -1;
    std::vector<std::byte> data;
};

// What a push reader calls for each event: `data` points into the buffer and is valid
// during the call only; `cpu` as in EventRecord. Made from any callable taking
// (data, cpu) or (data), returning int (0: go on; non-zero: stop the current poll or
// consume, the rest wait for the next call) or nothing (always go on).
class EventCallback {
public:
    EventCallback() = default;
    EventCallback(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): as std::function
    template <class F>
        requires(!std::same_as<std::remove_cvref_t<F>, EventCallback>) &&
                (std::invocable<F&, std::span<const std::byte>, int> || std::invocable<F&, std::span<const std::byte>>)
    EventCallback(F f) {  // NOLINT(google-explicit-constructor): any callable, as std::function
        if constexpr (std::is_pointer_v<F> || is_function_object<F>::value)
            if (!f) return;  // an empty std::function or a null pointer stays empty
        f_ = [f = std::move(f)](std::span<const std::byte> data, int cpu) mutable -> int {
            if constexpr (std::invocable<F&, std::span<const std::byte>, int>)
                return result(f, data, cpu);
            else
                return result(f, data);
        };
    }

    explicit operator bool() const noexcept { return static_cast<bool>(f_); }
    int operator()(std::span<const std::byte> data, int cpu) const { return f_(data, cpu); }

private:
    template <class F>
    struct is_function_object : std::false_type {};
    template <class R, class... A>
    struct is_function_object<std::function<R(A...)>> : std::true_type {};

    template <class F, class... Args>
    static int result(F& f, Args&&... args) {
        using R = std::invoke_result_t<F&, Args...>;
        static_assert(std::is_void_v<R> || std::same_as<R, int>,
                      "an event callback returns int (0: go on) or nothing");
        if constexpr (std::is_void_v<R>) {
            f(std::forward<Args>(args)...);
            return 0;
        } else {
            return f(std::forward<Args>(args)...);
        }
    }

    std::function<int(std::span<const std::byte>, int)> f_;
};

// The event as a T, copied out (events carry no alignment guarantee beyond 8 bytes, and
// their space is reused once the callback returns). Throws Error when the event is
// shorter than T, which means the two sides disagree on the layout.
template <MapData T>
T record_as(std::span<const std::byte> event);

namespace detail {

[[noreturn]] void throw_short_event(std::size_t size, std::size_t type_size);

// What a pull reader does with each event: the untyped core of read() and read_as().
using PullSink = void (*)(void* context, std::span<const std::byte> data, int cpu);

// The pull API, the same for every transport: Derived provides
// pull(sink, context, timeout, max), which waits as the transport does and hands at most
// `max` events to the sink.
template <class Derived>
class PullApi {
public:
    // Waits up to `timeout` (negative: forever; 0: not at all) for events, then appends
    // copies of up to `max` of them to `out` and returns how many it appended: 0 when none
    // came in time or a signal interrupted the wait. Events beyond `max` stay in the
    // buffer; the next call finds them without waiting.
    std::size_t read(std::vector<EventRecord>& out, std::chrono::milliseconds timeout, std::size_t max = SIZE_MAX) {
        return self().pull(
            [](void* context, std::span<const std::byte> data, int cpu) {
                static_cast<std::vector<EventRecord>*>(context)->push_back(EventRecord{cpu, {data.begin(), data.end()}});
            },
            &out, timeout, max);
    }

    // As read(), each event copied into a T (see record_as). An event shorter than T
    // throws Error and is consumed; the events before it in this call are already in `out`.
    template <MapData T>
    std::size_t read_as(std::vector<T>& out, std::chrono::milliseconds timeout, std::size_t max = SIZE_MAX) {
        return self().pull(
            [](void* context, std::span<const std::byte> data, int) {
                static_cast<std::vector<T>*>(context)->push_back(record_as<T>(data));
            },
            &out, timeout, max);
    }
    // The same, returning a new vector (on a short event, the call's events go with the
    // exception).
    template <MapData T>
    std::vector<T> read_as(std::chrono::milliseconds timeout, std::size_t max = SIZE_MAX) {
        std::vector<T> out;
        read_as(out, timeout, max);
        return out;
    }

private:
    Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace detail

template <MapData T>
T record_as(std::span<const std::byte> event) {
    if (event.size() < sizeof(T)) detail::throw_short_event(event.size(), sizeof(T));
    return load_as<T>(event.data());
}

}  // namespace ebpf
