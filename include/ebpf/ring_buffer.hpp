// Ring buffers (BPF_MAP_TYPE_RINGBUF): the way a BPF program streams variable-size events
// to user space, in order, through memory shared by every CPU. This is the reading side,
// in the two shapes every event transport has (event_reader.hpp): RingBufferReader
// (push: callbacks) and RingBufferPuller (pull: read()/read_as<T>()).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ebpf/error.hpp"
#include "ebpf/event_reader.hpp"
#include "ebpf/map.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

namespace detail {
struct RingState;  // ring_buffer.cpp
}  // namespace detail

// Reads records from one or more ring buffers, which share one epoll instance: one wait
// covers all of them, and epoll_fd() plugs them into a caller's event loop. Records of one
// ring buffer arrive in the order the BPF programs reserved them (one still being written
// holds back those after it).
//
// Push: add(map, callback) for each ring, then poll()/consume(): each record is handed to
// its ring's callback in place (cpu -1: a ring does not say), without a copy. The fastest
// way, and the one that tells several rings apart.
//
// A call takes the records committed when it reaches a ring, not those committed while
// it runs, so a flood cannot keep one call from returning. Callbacks run on the thread
// calling poll() or consume(); one thread at a time may use a reader. An exception thrown
// by a callback ends that call and reaches its caller; the record that threw counts as
// consumed, the rest wait for the next call.
//
// The reader maps the rings itself (no libbpf ring_buffer): see ring_buffer.cpp for why.
class RingBufferReader {
public:
    using Callback = EventCallback;

    RingBufferReader();
    ~RingBufferReader();
    RingBufferReader(RingBufferReader&&) noexcept;
    RingBufferReader& operator=(RingBufferReader&&) noexcept;
    RingBufferReader(const RingBufferReader&) = delete;
    RingBufferReader& operator=(const RingBufferReader&) = delete;

    // Adds a ring buffer and the callback for its records. Throws Error when `ringbuf` is
    // not a BPF_MAP_TYPE_RINGBUF map or the callback is empty. The reader keeps its own
    // reference to the map.
    void add(const Map& ringbuf, EventCallback callback);

    // Waits up to `timeout` for records (negative: forever), then consumes what is there.
    // Returns the records consumed; 0 when none came in time or a signal interrupted the
    // wait. Throws Error when no ring buffer has been added.
    std::size_t poll(std::chrono::milliseconds timeout);
    // Consumes every record available now, without waiting; returns how many (0 when no
    // ring buffer has been added).
    std::size_t consume();

    // Readable when a ring buffer has records; for a caller's own event loop, which then
    // calls consume(). Valid after the first add(); owned by the reader (do not close it).
    int epoll_fd() const;
    // Ring buffers added so far.
    std::size_t size() const noexcept;

private:
    detail::RingState& state() const;
    std::unique_ptr<detail::RingState> state_;
};

// Pull: add(map) for each ring, then read()/read_as<T>() (detail::PullApi): records come
// back as copies, up to a maximum per call. For several rings, their records come
// interleaved (one ring's records stay in order): rings that must be told apart need a
// puller each, or a RingBufferReader. The same waiting, ordering and exception rules as
// RingBufferReader; read_as on a short record throws Error and consumes it.
class RingBufferPuller : public detail::PullApi<RingBufferPuller> {
public:
    RingBufferPuller();
    ~RingBufferPuller();
    RingBufferPuller(RingBufferPuller&&) noexcept;
    RingBufferPuller& operator=(RingBufferPuller&&) noexcept;
    RingBufferPuller(const RingBufferPuller&) = delete;
    RingBufferPuller& operator=(const RingBufferPuller&) = delete;

    // Adds a ring buffer. Throws Error for another map type.
    void add(const Map& ringbuf);

    // As RingBufferReader's: for a caller's loop, which then reads with a zero timeout.
    int epoll_fd() const;
    std::size_t size() const noexcept;

private:
    friend class detail::PullApi<RingBufferPuller>;
    // Throws Error when no ring buffer has been added.
    std::size_t pull(detail::PullSink sink, void* context, std::chrono::milliseconds timeout, std::size_t max);

    detail::RingState& state() const;
    std::unique_ptr<detail::RingState> state_;
};

}  // namespace ebpf
