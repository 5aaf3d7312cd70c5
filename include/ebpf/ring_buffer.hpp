// Ring buffers (BPF_MAP_TYPE_RINGBUF): the way a BPF program streams variable-size events
// to user space, in order, through memory shared by every CPU. This is the reading side.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ebpf/error.hpp"
#include "ebpf/map.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

// Reads records from one or more ring buffers, which share one epoll instance: one
// wait covers all of them, and epoll_fd() plugs them into a caller's event loop.
// Records of one ring buffer arrive in the order the BPF programs reserved them (one still
// being written holds back those after it).
//
// Two styles; a reader uses one, chosen by its first add():
//
//   callback (push)   add(map, callback) for each ring, then poll()/consume(): each record
//                     is handed to its ring's callback in place, without a copy. The
//                     fastest way, and the one that tells several rings apart.
//   pull              add(map) without a callback, then read()/read_as<T>(): records come
//                     back as copies, in a vector, up to a maximum per call. No callback
//                     to write, records outlive the call; for several rings, their records
//                     come interleaved (one ring's records stay in order), so rings that
//                     must be told apart need a reader each, or callbacks.
//
// Mixing the styles in one reader is refused (Error), as is polling a pull reader or
// reading a callback reader. A call takes the records committed when it reaches a ring,
// not those committed while it runs, so a flood cannot keep one call from returning.
// Callbacks run on the thread calling poll() or consume(); one thread at a time may use a
// reader. An exception thrown by a callback (or by read_as on a short record) ends that
// call and reaches its caller; the record that threw counts as consumed, the rest wait
// for the next call.
//
// The reader maps the rings itself (no libbpf ring_buffer): see ring_buffer.cpp for why.
class RingBufferReader {
public:
    // Called for each record; return 0 to go on, non-zero to stop the current
    // poll/consume. `record` points into the ring and is valid during the call only.
    using Callback = std::function<int(std::span<const std::byte> record)>;
    // A record copied out of the ring (pull style).
    using Record = std::vector<std::byte>;

    RingBufferReader();
    ~RingBufferReader();
    RingBufferReader(RingBufferReader&&) noexcept;
    RingBufferReader& operator=(RingBufferReader&&) noexcept;
    RingBufferReader(const RingBufferReader&) = delete;
    RingBufferReader& operator=(const RingBufferReader&) = delete;

    // Adds a ring buffer and the callback for its records (callback style). Throws Error
    // when `ringbuf` is not a BPF_MAP_TYPE_RINGBUF map, or when the reader is a pull
    // reader. The reader keeps its own reference to the map.
    void add(const Map& ringbuf, Callback callback);
    // Adds a ring buffer whose records read() and read_as() return (pull style). Throws
    // Error for another map type, or when the reader already has callbacks.
    void add(const Map& ringbuf);

    // Callback style. Waits up to `timeout` for records (a negative timeout waits
    // forever), then consumes what is there. Returns the records consumed; 0 when none
    // came in time or a signal interrupted the wait (EINTR is not an error: the caller's
    // loop decides what next). Throws Error when no ring buffer has been added, or on a
    // pull reader.
    std::size_t poll(std::chrono::milliseconds timeout);

    // Callback style. Consumes every record available now, without waiting; returns how
    // many (0 when no ring buffer has been added).
    std::size_t consume();

    // Pull style. Waits up to `timeout` as poll() does (0: take what is there, without
    // waiting), then appends copies of up to `max` records to `out` and returns how many
    // it appended. Records beyond `max` stay in the ring for the next call, which finds
    // them without waiting. Throws Error when no ring buffer has been added, or on a
    // callback reader.
    std::size_t read(std::vector<Record>& out, std::chrono::milliseconds timeout, std::size_t max = SIZE_MAX);

    // Pull style, typed: as read(), each record copied into a T (see record_as). A record
    // shorter than T means the two sides disagree on the layout: it throws Error and is
    // consumed; the records before it in this call are already in `out`.
    template <MapData T>
    std::size_t read_as(std::vector<T>& out, std::chrono::milliseconds timeout, std::size_t max = SIZE_MAX);
    // The same, returning a new vector (on a short record, the call's records go with the
    // exception).
    template <MapData T>
    std::vector<T> read_as(std::chrono::milliseconds timeout, std::size_t max = SIZE_MAX);

    // The epoll instance behind poll() and read(): readable when a ring buffer has
    // records. For a caller's own event loop, which then calls consume() or read() with a
    // zero timeout. Valid after the first add(); owned by the reader (do not close it).
    int epoll_fd() const;

    // Ring buffers added so far.
    std::size_t size() const noexcept;

private:
    struct State;
    State& state() const;

    // What pull-style reads do with each record: the untyped core of read() and read_as().
    using Sink = void (*)(void* context, std::span<const std::byte> record);
    std::size_t pull(Sink sink, void* context, std::chrono::milliseconds timeout, std::size_t max);

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

template <MapData T>
std::size_t RingBufferReader::read_as(std::vector<T>& out, std::chrono::milliseconds timeout, std::size_t max) {
    return pull(
        [](void* context, std::span<const std::byte> record) {
            static_cast<std::vector<T>*>(context)->push_back(record_as<T>(record));
        },
        &out, timeout, max);
}

template <MapData T>
std::vector<T> RingBufferReader::read_as(std::chrono::milliseconds timeout, std::size_t max) {
    std::vector<T> out;
    read_as(out, timeout, max);
    return out;
}

}  // namespace ebpf
