// Perf buffers: the older event transport, one ring per CPU fed through a
// BPF_MAP_TYPE_PERF_EVENT_ARRAY by bpf_perf_event_output(). Samples of one CPU arrive in
// order; across CPUs they do not. When a CPU's ring is full the kernel drops the sample
// and later reports how many it lost: this reader counts those per CPU.
#pragma once

#include <bpf/libbpf.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
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
struct PerfState;  // perf_buffer.cpp
}  // namespace detail

// Both shapes (event_reader.hpp) open one ring of `pages_per_cpu` pages (a power of two)
// per online CPU and store their perf event fds in the perf_event_array map; they throw
// Error for another map type or a page count that is not a power of two.
//
// Losses are counted in both (lost(), lost_per_cpu()). The kernel reports a CPU's losses
// with the next sample that fits in that CPU's ring, so after an overflow they show up
// once that CPU has written again: delivered + lost equals produced only from then on.
//
// A sample is the program's bytes followed by up to 7 bytes of padding (the kernel keeps
// samples 8-byte aligned): its size is the program's size rounded so that size + 4 is a
// multiple of 8.
//
// A call takes the samples written when it reaches a ring, not those written while it
// runs. One thread at a time may use a reader. An exception thrown by a callback (or by
// read_as on a short sample) ends that call and reaches its caller; the sample that threw
// counts as consumed, the rest stay in the rings for the next call.

// Push: each sample is handed to on_sample in place, with its CPU, without a copy.
class PerfBufferReader {
public:
    using Callback = EventCallback;
    // Called when the kernel reports samples lost on a CPU (the ring was full).
    using LostCallback = std::function<void(int cpu, std::uint64_t lost)>;

    // Throws Error also for an empty on_sample.
    PerfBufferReader(const Map& perf_event_array, std::size_t pages_per_cpu, EventCallback on_sample,
                     LostCallback on_lost = {});
    ~PerfBufferReader();
    PerfBufferReader(PerfBufferReader&&) noexcept;
    PerfBufferReader& operator=(PerfBufferReader&&) noexcept;
    PerfBufferReader(const PerfBufferReader&) = delete;
    PerfBufferReader& operator=(const PerfBufferReader&) = delete;

    // Waits up to `timeout` (negative: forever; 0: not at all) until a sample is
    // delivered, then consumes what the woken rings hold. Returns the samples delivered:
    // 0 when the timeout passed or a signal interrupted the wait (EINTR is not an error).
    std::size_t poll(std::chrono::milliseconds timeout);
    // Consumes every CPU's ring without waiting; returns the samples.
    std::size_t consume();

    // Readable when a CPU's ring was written; for a caller's own event loop, which then
    // calls consume() (the kernel reports each wake-up of a ring once: after the caller's
    // poll saw it, a waiting poll() would not). Owned by the reader (do not close it).
    int epoll_fd() const;

    // Samples the kernel reported lost so far, in total and per CPU.
    std::uint64_t lost() const noexcept;
    const std::vector<std::uint64_t>& lost_per_cpu() const noexcept;

private:
    detail::PerfState& state() const;
    std::unique_ptr<detail::PerfState> state_;
};

// Pull: read()/read_as<T>() (detail::PullApi) return copies, with their CPU for read(),
// up to a maximum per call. Samples beyond `max` stay in their rings and the next call
// takes them first, without waiting; a zero timeout reads every CPU's ring as it is now.
class PerfBufferPuller : public detail::PullApi<PerfBufferPuller> {
public:
    PerfBufferPuller(const Map& perf_event_array, std::size_t pages_per_cpu);
    ~PerfBufferPuller();
    PerfBufferPuller(PerfBufferPuller&&) noexcept;
    PerfBufferPuller& operator=(PerfBufferPuller&&) noexcept;
    PerfBufferPuller(const PerfBufferPuller&) = delete;
    PerfBufferPuller& operator=(const PerfBufferPuller&) = delete;

    // As PerfBufferReader's: for a caller's loop, which then reads with a zero timeout.
    int epoll_fd() const;
    std::uint64_t lost() const noexcept;
    const std::vector<std::uint64_t>& lost_per_cpu() const noexcept;

private:
    friend class detail::PullApi<PerfBufferPuller>;
    std::size_t pull(detail::PullSink sink, void* context, std::chrono::milliseconds timeout, std::size_t max);

    detail::PerfState& state() const;
    std::unique_ptr<detail::PerfState> state_;
};

}  // namespace ebpf
