// Ring buffers (BPF_MAP_TYPE_RINGBUF): the way a BPF program streams variable-size events
// to user space, in order, through memory shared by every CPU. This is the reading side.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "ebpf/error.hpp"
#include "ebpf/map.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

// Reads records from one or more ring buffers, which share one epoll instance: one
// poll() waits for all of them, and epoll_fd() plugs them into a caller's event loop.
// Records of one ring buffer arrive in the order the BPF programs reserved them (one still
// being written holds back those after it).
//
// Callbacks run on the thread calling poll() or consume(); one thread at a time may use a
// reader. An exception thrown by a callback stops that call (it cannot cross libbpf's C
// frames, so it is caught and rethrown from poll()/consume()); the record that threw
// counts as consumed.
class RingBufferReader {
public:
    // Called for each record; return 0 to go on, non-zero to stop the current
    // poll/consume. `record` points into the ring and is valid during the call only.
    using Callback = std::function<int(std::span<const std::byte> record)>;

    RingBufferReader();
    ~RingBufferReader();
    RingBufferReader(RingBufferReader&&) noexcept;
    RingBufferReader& operator=(RingBufferReader&&) noexcept;
    RingBufferReader(const RingBufferReader&) = delete;
    RingBufferReader& operator=(const RingBufferReader&) = delete;

    // Adds a ring buffer and the callback for its records. Throws Error when `ringbuf` is
    // not a BPF_MAP_TYPE_RINGBUF map. The reader keeps its own reference to the map.
    void add(const Map& ringbuf, Callback callback);

    // Waits up to `timeout` for records (a negative timeout waits forever), then consumes
    // what is there. Returns the records consumed; 0 on timeout and when a signal
    // interrupted the wait (EINTR is not an error: the caller's loop decides what next).
    // Throws Error when no ring buffer has been added.
    std::size_t poll(std::chrono::milliseconds timeout);

    // Consumes every record available now, without waiting; returns how many.
    std::size_t consume();

    // The epoll instance behind poll(): readable when a ring buffer has records. For a
    // caller's own event loop, which then calls consume(). Valid after the first add();
    // owned by the reader (do not close it).
    int epoll_fd() const;

    // Ring buffers added so far.
    std::size_t size() const noexcept;

private:
    struct State;
    State& state() const;
    std::unique_ptr<State> state_;
};

// The record as a T, copied out of the ring (records carry no alignment guarantee
// beyond 8 bytes, and the ring space is reused after the callback returns). Throws Error
// when the record is shorter than T, which means the two sides disagree on the layout.
template <MapData T>
T record_as(std::span<const std::byte> record) {
    if (record.size() < sizeof(T))
        throw Error("ring buffer record of " + std::to_string(record.size()) + " bytes is shorter than the " +
                    std::to_string(sizeof(T)) + "-byte type it is read as");
    return load_as<T>(record.data());
}

}  // namespace ebpf
