// Perf buffers: the older event transport, one ring per CPU fed through a
// BPF_MAP_TYPE_PERF_EVENT_ARRAY by bpf_perf_event_output(). Events of one CPU arrive in
// order; across CPUs they do not. When a CPU's ring is full the kernel drops the sample
// and later reports how many it lost: this reader counts those per CPU.
#pragma once

#include <bpf/libbpf.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "ebpf/error.hpp"
#include "ebpf/map.hpp"

namespace ebpf {

class PerfBufferReader {
public:
    // Called for each sample with the CPU it came from; `sample` is valid during the call.
    using Callback = std::function<void(int cpu, std::span<const std::byte> sample)>;
    // Called when the kernel reports samples lost on a CPU (the ring was full).
    using LostCallback = std::function<void(int cpu, std::uint64_t lost)>;

    // Opens one ring of `pages_per_cpu` pages (a power of two) per CPU and stores their
    // perf event fds in `perf_event_array`. Throws Error for another map type or a page
    // count that is not a power of two.
    PerfBufferReader(const Map& perf_event_array, std::size_t pages_per_cpu, Callback on_sample,
                     LostCallback on_lost = {});
    ~PerfBufferReader();
    PerfBufferReader(PerfBufferReader&&) noexcept;
    PerfBufferReader& operator=(PerfBufferReader&&) noexcept;
    PerfBufferReader(const PerfBufferReader&) = delete;
    PerfBufferReader& operator=(const PerfBufferReader&) = delete;

    // Waits up to `timeout` (negative: forever) and consumes what is there; returns the
    // samples delivered. EINTR is not an error (returns what was delivered).
    std::size_t poll(std::chrono::milliseconds timeout);
    // Consumes every ring without waiting.
    std::size_t consume();
    // Readable when any CPU's ring has data; for a caller's own event loop.
    int epoll_fd() const;

    // Samples the kernel reported lost so far, in total and per CPU.
    std::uint64_t lost() const noexcept;
    const std::vector<std::uint64_t>& lost_per_cpu() const noexcept;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace ebpf
