#include "ebpf/perf_buffer.hpp"

#include <cerrno>
#include <climits>
#include <exception>

#include "ebpf/typed.hpp"

namespace ebpf {

struct PerfBufferReader::State {
    std::string name;
    Callback on_sample;
    LostCallback on_lost;
    std::vector<std::uint64_t> lost;
    std::size_t delivered = 0;
    std::exception_ptr failure;

    struct Free {
        void operator()(::perf_buffer* pb) const noexcept { perf_buffer__free(pb); }
    };
    std::unique_ptr<::perf_buffer, Free> buffer;

    // libbpf calls these from C: exceptions are kept and rethrown by poll()/consume().
    static void sample(void* ctx, int cpu, void* data, std::uint32_t size) {
        auto* s = static_cast<State*>(ctx);
        ++s->delivered;
        if (s->failure) return;
        try {
            s->on_sample(cpu, std::span(static_cast<const std::byte*>(data), size));
        } catch (...) {
            s->failure = std::current_exception();
        }
    }
    static void lost_samples(void* ctx, int cpu, unsigned long long count) {
        auto* s = static_cast<State*>(ctx);
        if (cpu >= 0 && static_cast<std::size_t>(cpu) < s->lost.size()) s->lost[static_cast<std::size_t>(cpu)] += count;
        if (!s->on_lost || s->failure) return;
        try {
            s->on_lost(cpu, count);
        } catch (...) {
            s->failure = std::current_exception();
        }
    }

    std::size_t finish(int ret, const char* operation) {
        if (failure) std::rethrow_exception(std::exchange(failure, nullptr));
        if (ret < 0 && ret != -EINTR) throw_error(ret, "perf buffer '" + name + "': " + operation);
        return std::exchange(delivered, 0);
    }
};

PerfBufferReader::PerfBufferReader(const Map& perf_event_array, std::size_t pages_per_cpu, Callback on_sample,
                                   LostCallback on_lost)
    : state_(std::make_unique<State>()) {
    if (perf_event_array.type() != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
        throw Error(perf_event_array.describe() + ": PerfBufferReader needs a perf_event_array map, but it is " +
                    map_type_name(perf_event_array.type()));
    if (pages_per_cpu == 0 || (pages_per_cpu & (pages_per_cpu - 1)) != 0)
        throw Error(perf_event_array.describe() + ": perf buffer pages per CPU must be a power of two, not " +
                    std::to_string(pages_per_cpu));
    if (!on_sample) throw Error(perf_event_array.describe() + ": PerfBufferReader: the sample callback is empty");
    state_->name = perf_event_array.name();
    state_->on_sample = std::move(on_sample);
    state_->on_lost = std::move(on_lost);
    state_->lost.assign(possible_cpus(), 0);
    errno = 0;
    ::perf_buffer* pb = perf_buffer__new(perf_event_array.fd(), pages_per_cpu, &State::sample, &State::lost_samples,
                                         state_.get(), nullptr);
    if (!pb) throw_error(errno ? errno : EINVAL, perf_event_array.describe() + ": open perf buffer");
    state_->buffer.reset(pb);
}

PerfBufferReader::~PerfBufferReader() = default;
PerfBufferReader::PerfBufferReader(PerfBufferReader&&) noexcept = default;
PerfBufferReader& PerfBufferReader::operator=(PerfBufferReader&&) noexcept = default;

std::size_t PerfBufferReader::poll(std::chrono::milliseconds timeout) {
    int ms = timeout.count() < 0 ? -1 : static_cast<int>(std::min<long long>(timeout.count(), INT_MAX));
    return state_->finish(perf_buffer__poll(state_->buffer.get(), ms), "poll");
}

std::size_t PerfBufferReader::consume() { return state_->finish(perf_buffer__consume(state_->buffer.get()), "consume"); }

int PerfBufferReader::epoll_fd() const { return perf_buffer__epoll_fd(state_->buffer.get()); }

std::uint64_t PerfBufferReader::lost() const noexcept {
    std::uint64_t total = 0;
    for (auto n : state_->lost) total += n;
    return total;
}

const std::vector<std::uint64_t>& PerfBufferReader::lost_per_cpu() const noexcept { return state_->lost; }

}  // namespace ebpf
