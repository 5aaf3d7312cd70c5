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
#include "ebpf/map.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

// Two styles, chosen by the constructor:
//
//   callback (push)   PerfBufferReader(map, pages, on_sample[, on_lost]), then
//                     poll()/consume(): each sample is handed to on_sample in place, with
//                     its CPU, without a copy.
//   pull              PerfBufferReader(map, pages), then read()/read_as<T>(): samples
//                     come back as copies (with their CPU for read()), up to a maximum
//                     per call.
//
// Polling a pull reader or reading a callback reader is refused (Error). Losses are
// counted in both styles (lost(), lost_per_cpu()). The kernel reports a CPU's losses with
// the next sample that fits in that CPU's ring, so after an overflow they show up once
// that CPU has written again: delivered + lost equals produced only from then on.
//
// A sample is the program's bytes followed by up to 7 bytes of padding (the kernel keeps
// samples 8-byte aligned): its size is the program's size rounded so that size + 4 is a
// multiple of 8.
//
// A call takes the samples written when it reaches a ring, not those written while it
// runs. One thread at a time may use a reader. An exception thrown by a callback (or by
// read_as on a short sample) ends that call and reaches its caller; the sample that threw
// counts as consumed, the rest stay in the rings for the next call.
class PerfBufferReader {
public:
    // Called for each sample with the CPU it came from; `sample` is valid during the call.
    using Callback = std::function<void(int cpu, std::span<const std::byte> sample)>;
    // Called when the kernel reports samples lost on a CPU (the ring was full).
    using LostCallback = std::function<void(int cpu, std::uint64_t lost)>;
    // A sample copied out of its CPU's ring (pull style).
    struct Record {
        int cpu = -1;
        std::vector<std::byte> data;
    };

    // Opens one ring of `pages_per_cpu` pages (a power of two) per online CPU and stores
    // their perf event fds in `perf_event_array`: callback style. Throws Error for another
    // map type, a page count that is not a power of two, or an empty on_sample.
    PerfBufferReader(const Map& perf_event_array, std::size_t pages_per_cpu, Callback on_sample,
                     LostCallback on_lost = {});
    // The same rings, read with read()/read_as() (pull style).
    PerfBufferReader(const Map& perf_event_array, std::size_t pages_per_cpu);
    ~PerfBufferReader();
    PerfBufferReader(PerfBufferReader&&) noexcept;
    PerfBufferReader& operator=(PerfBufferReader&&) noexcept;
    PerfBufferReader(const PerfBufferReader&) = delete;
    PerfBufferReader& operator=(const PerfBufferReader&) = delete;

    // Callback style. Waits up to `timeout` (negative: forever; 0: not at all) until a
    // sample is delivered, then consumes what the woken rings hold. Returns the samples
    // delivered: 0 when the timeout passed or a signal interrupted the wait (EINTR is not
    // an error).
    std::size_t poll(std::chrono::milliseconds timeout);
    // Callback style. Consumes every CPU's ring without waiting; returns the samples.
    std::size_t consume();

    // Pull style. Waits as poll() does, then appends copies of up to `max` samples to
    // `out` and returns how many it appended. Samples beyond `max` stay in their rings and
    // the next call takes them first, without waiting. A zero timeout reads every CPU's
    // ring as it is now.
    std::size_t read(std::vector<Record>& out, std::chrono::milliseconds timeout, std::size_t max = SIZE_MAX);

    // Pull style, typed: as read(), each sample copied into a T (the CPU is not kept: read()
    // has it). A sample shorter than T means the two sides disagree on the layout: it
    // throws Error and is consumed; the samples before it in this call are already in `out`.
    template <MapData T>
    std::size_t read_as(std::vector<T>& out, std::chrono::milliseconds timeout, std::size_t max = SIZE_MAX);
    // The same, returning a new vector (on a short sample, the call's samples go with the
    // exception).
    template <MapData T>
    std::vector<T> read_as(std::chrono::milliseconds timeout, std::size_t max = SIZE_MAX);

    // Readable when a CPU's ring was written; for a caller's own event loop, which then
    // calls consume() or read() with a zero timeout (the kernel reports each wake-up of a
    // ring once: after the caller's poll saw it, a waiting read() would not). Owned by the
    // reader (do not close it).
    int epoll_fd() const;

    // Samples the kernel reported lost so far, in total and per CPU.
    std::uint64_t lost() const noexcept;
    const std::vector<std::uint64_t>& lost_per_cpu() const noexcept;

private:
    struct State;
    State& state() const;

    // What pull-style reads do with each sample: the untyped core of read() and read_as().
    using Sink = void (*)(void* context, int cpu, std::span<const std::byte> sample);
    std::size_t pull(Sink sink, void* context, std::chrono::milliseconds timeout, std::size_t max);
    [[noreturn]] static void throw_short_sample(std::size_t size, std::size_t type_size);

    std::unique_ptr<State> state_;
};

template <MapData T>
std::size_t PerfBufferReader::read_as(std::vector<T>& out, std::chrono::milliseconds timeout, std::size_t max) {
    return pull(
        [](void* context, int, std::span<const std::byte> sample) {
            if (sample.size() < sizeof(T)) throw_short_sample(sample.size(), sizeof(T));
            static_cast<std::vector<T>*>(context)->push_back(load_as<T>(sample.data()));
        },
        &out, timeout, max);
}

template <MapData T>
std::vector<T> PerfBufferReader::read_as(std::chrono::milliseconds timeout, std::size_t max) {
    std::vector<T> out;
    read_as(out, timeout, max);
    return out;
}

}  // namespace ebpf
