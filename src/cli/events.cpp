// `ebpf-tool events`: exec events streamed from the kernel, one line each (execsnoop's
// view), over a ring buffer or a perf buffer. Nothing is lost silently: at exit one
// summary line counts what was received, dropped in the kernel and lost in perf buffers.
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "commands.hpp"
#include "ebpf/array.hpp"
#include "ebpf/object.hpp"
#include "ebpf/percpu.hpp"
#include "ebpf/perf_buffer.hpp"
#include "ebpf/ring_buffer.hpp"
#include "events.h"
#include "events.skel.h"

EBPF_SKELETON(events_bpf);

namespace ebpf_tool {

namespace {

struct EventsOptions {
    std::string transport = "ringbuf";
    std::optional<std::uint32_t> uid;
    std::optional<std::uint32_t> pid;
    std::optional<double> duration;
    std::optional<std::uint64_t> count;
    std::uint64_t buffer_size = 256 * 1024;
    std::optional<std::uint64_t> wakeup_bytes;  // default: half the ring
    std::optional<std::uint32_t> latency_ms;    // default: kDefaultLatencyMs (ring buffer)
    bool json = false;
};

struct Decoded {
    std::string filename;
    std::vector<std::string> args;  // argv[1..]
};

Decoded decode_args(const exec_event& e, std::size_t received_size) {
    Decoded d;
    d.filename.assign(e.filename, strnlen(e.filename, sizeof(e.filename)));
    std::size_t size = std::min<std::size_t>({e.args_size, sizeof(e.args), received_size - EXEC_EVENT_HEADER_SIZE});
    // argv[0], argv[1], … NUL-separated; argv[0] is the caller's name for the program.
    for (std::size_t pos = 0, i = 0; pos < size; ++i) {
        std::size_t len = strnlen(e.args + pos, size - pos);
        if (i > 0) d.args.emplace_back(e.args + pos, len);
        pos += len + 1;
    }
    return d;
}

std::string shell_word(const std::string& s) {
    if (!s.empty() && s.find_first_of(" \t\n\"'\\$") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

class Printer {
public:
    Printer(const EventsOptions& options, const GlobalOptions& global)
        : json_(options.json || global.json), global_(global) {
        if (!json_)
            std::cout << fmt::format("{:<8} {:<7} {:<16} {:<7} {:<7} {:>4} {}\n", "TIME", "UID", "PCOMM", "PID", "PPID",
                                     "RET", "ARGS");
    }
    void print(std::span<const std::byte> record) {
        exec_event e{};
        std::memcpy(&e, record.data(), std::min(record.size(), sizeof(e)));
        if (record.size() < EXEC_EVENT_HEADER_SIZE)
            throw ebpf::Error::make(ebpf::errc::corrupt, "events: a record shorter than an event header");
        auto d = decode_args(e, record.size());
        std::string comm(e.comm, strnlen(e.comm, sizeof(e.comm)));
        if (json_) {
            nlohmann::ordered_json doc{{"time", iso_time()}, {"ts_ns", e.ts_ns},
                                       {"pid", e.pid},       {"ppid", e.ppid},
                                       {"uid", e.uid},       {"comm", comm},
                                       {"retval", e.retval}, {"filename", d.filename},
                                       {"args", d.args},     {"args_truncated", e.args_truncated != 0}};
            line_.clear();
            JsonWriter(line_, global_.pretty).document(doc);
        } else {
            std::string args = shell_word(d.filename);
            for (const auto& a : d.args) args += " " + shell_word(a);
            if (e.args_truncated) args += " ...";
            line_ = fmt::format("{:<8} {:<7} {:<16} {:<7} {:<7} {:>4} {}", clock_time(), e.uid, comm, e.pid, e.ppid,
                                e.retval, args);
        }
        line_ += '\n';
        std::cout << line_;
        ++received_;
    }
    std::uint64_t received() const noexcept { return received_; }

private:
    bool json_;
    const GlobalOptions& global_;
    std::string line_;
    std::uint64_t received_ = 0;
};

void check_buffer_size(std::uint64_t bytes) {
    const std::uint64_t page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
    if (bytes < page || (bytes & (bytes - 1)) != 0 || bytes > (1ULL << 30))
        throw UsageError(fmt::format("--buffer-size {}: must be a power of two from {} to 1 GiB", bytes, page));
}

// An event reaches the output within this long (ring buffer); the reader is woken at most
// once per this long while events stream, and at once by the first event after a pause.
constexpr std::uint32_t kDefaultLatencyMs = 10;
constexpr std::uint32_t kMaxLatencyMs = 10000;
constexpr int kIdlePollMs = 1000;

void run_events(const EventsOptions& options, const GlobalOptions& global) {
    if (options.transport != "ringbuf" && options.transport != "perfbuf")
        throw UsageError("--transport " + options.transport + ": must be ringbuf or perfbuf");
    check_buffer_size(options.buffer_size);
    const bool ring = options.transport == "ringbuf";
    if (options.wakeup_bytes && !ring) throw UsageError("--wakeup-bytes works with --transport ringbuf only");
    if (options.latency_ms && !ring)
        throw UsageError("--latency works with --transport ringbuf only (a perf buffer wakes its reader per event)");
    const std::uint32_t latency_ms = ring ? options.latency_ms.value_or(kDefaultLatencyMs) : 0;
    if (latency_ms > kMaxLatencyMs)
        throw UsageError(fmt::format("--latency {}: must be at most {} ms", latency_ms, kMaxLatencyMs));
    if (options.wakeup_bytes && latency_ms == 0)
        throw UsageError("--wakeup-bytes needs a --latency above 0 (with --latency 0 every event wakes the reader)");
    const std::uint64_t wakeup_bytes = latency_ms ? options.wakeup_bytes.value_or(options.buffer_size / 2) : 0;
    if (wakeup_bytes == 0 && latency_ms) throw UsageError("--wakeup-bytes must be above 0");
    if (wakeup_bytes >= options.buffer_size)
        throw UsageError(
            fmt::format("--wakeup-bytes {} must be below --buffer-size {}", wakeup_bytes, options.buffer_size));

    prepare_kernel(global, /*need_tracefs=*/true);
    StopSignals signals;

    auto skel = ebpf::Skeleton<events_bpf>::open();
    skel->rodata->use_ringbuf = ring;
    skel->rodata->wakeup_bytes = wakeup_bytes;
    skel->rodata->wakeup_interval_ns = std::uint64_t{latency_ms} * 1'000'000;
    // The unused transport keeps its smallest size.
    bpf_map__set_max_entries(skel->maps.events_ring, ring ? static_cast<std::uint32_t>(options.buffer_size)
                                                          : static_cast<std::uint32_t>(sysconf(_SC_PAGESIZE)));
    skel.load();

    events_config config{};
    if (options.uid) {
        config.filter_uid = 1;
        config.uid = *options.uid;
    }
    if (options.pid) {
        config.filter_pid = 1;
        config.pid = *options.pid;
    }
    ebpf::Array<events_config>::from_libbpf(skel->maps.events_config).update(0, config);
    auto dropped = ebpf::PerCpuArray<std::uint64_t>::from_libbpf(skel->maps.events_dropped);

    Printer printer(options, global);
    bool count_reached = false;
    auto on_record = [&](std::span<const std::byte> record) {
        if (count_reached) return 1;
        printer.print(record);
        if (options.count && printer.received() >= *options.count) count_reached = true;
        return count_reached ? 1 : 0;
    };
    // Both transports' push readers have the same shape: one loop serves either.
    auto stream = [&](auto& reader) {
        // Attached in this order, detached in reverse: the sched_process_exec and exit
        // programs are in place before any exec is recorded at entry.
        std::vector<ebpf::Link> links;
        for (::bpf_program* program :
             {skel->progs.on_exec_done, skel->progs.on_execve_exit, skel->progs.on_execveat_exit,
              skel->progs.on_execve_enter, skel->progs.on_execveat_enter})
            links.push_back(ebpf::Link::attach(program));
        std::cerr << "Tracing execs via " << (ring ? "ring buffer" : "perf buffer") << "... Hit Ctrl-C to end."
                  << std::endl;

        auto start = std::chrono::steady_clock::now();
        std::optional<std::chrono::steady_clock::time_point> deadline;
        if (options.duration) deadline = start + seconds(*options.duration);
        // With batched wakeups (bpf/events.bpf.c) an event may be sent without one: the
        // reader then drains every latency_ms for two intervals after the last wakeup the
        // program recorded, which covers every event it sent without a wakeup. Otherwise,
        // and after those, it sleeps until woken (draining each kIdlePollMs regardless).
        const volatile __u64* last_wakeup_ns = &skel->bss->last_wakeup_ns;
        auto poll_ms = [&]() -> int {
            if (latency_ms == 0) return kIdlePollMs;
            timespec now{};
            ::clock_gettime(CLOCK_MONOTONIC, &now);
            const std::uint64_t now_ns =
                static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000 + static_cast<std::uint64_t>(now.tv_nsec);
            return now_ns < *last_wakeup_ns + 2 * std::uint64_t{latency_ms} * 1'000'000 ? static_cast<int>(latency_ms)
                                                                                        : kIdlePollMs;
        };
        while (!count_reached && !signals.stopped()) {
            int timeout = poll_ms();
            if (deadline) {
                auto left =
                    std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
                if (left.count() <= 0) break;
                timeout = static_cast<int>(std::min<long long>(left.count() + 1, timeout));
            }
            pollfd fds[2] = {{signals.fd(), POLLIN, 0}, {reader.epoll_fd(), POLLIN, 0}};
            int ready = ::poll(fds, 2, timeout);
            if (ready < 0 && errno != EINTR) throw ebpf::Error::sys(errno, "events: poll");
            if (fds[0].revents & POLLIN) signals.wait(std::chrono::nanoseconds::zero());
            reader.consume();  // woken or not: a timer's drain finds what came without a wakeup
            std::cout.flush();
        }
        // Detach first, then drain what is already in the buffers: those events count.
        while (!links.empty()) links.pop_back();
        if (!count_reached) reader.consume();
        std::cout.flush();
        if constexpr (requires { reader.lost(); })
            return reader.lost();
        else
            return std::uint64_t{0};
    };
    std::uint64_t lost = 0;
    if (ring) {
        ebpf::RingBufferReader reader;
        reader.add(ebpf::Map::from_libbpf(skel->maps.events_ring), on_record);
        lost = stream(reader);
    } else {
        ebpf::PerfBufferReader reader(ebpf::Map::from_libbpf(skel->maps.events_perf),
                                      options.buffer_size / sysconf(_SC_PAGESIZE), on_record);
        lost = stream(reader);
    }

    auto drops = dropped.sums();
    std::cerr << fmt::format(
        "events: received {}, dropped in the kernel {} (buffer full {}, in-flight table full {}), "
        "lost in perf buffers {}\n",
        printer.received(), drops.at(EVENTS_DROP_OUTPUT) + drops.at(EVENTS_DROP_INFLIGHT), drops.at(EVENTS_DROP_OUTPUT),
        drops.at(EVENTS_DROP_INFLIGHT), lost);
}

}  // namespace

void add_events_command(CLI::App& app, const GlobalOptions& global) {
    auto options = std::make_shared<EventsOptions>();
    auto* cmd =
        app.add_subcommand("events", "Stream exec events (execve, execveat) over a ring buffer or a perf buffer");
    cmd->add_option("-t,--transport", options->transport, "ringbuf or perfbuf")->capture_default_str();
    cmd->add_option("-u,--uid", options->uid, "Only execs by this UID")->check(kNonNegativeInteger);
    cmd->add_option("-p,--pid", options->pid, "Only execs by this process")->check(kPositiveInteger);
    cmd->add_option("-d,--duration", options->duration, "Seconds to trace (default: until Ctrl-C)")
        ->check(kPositiveSeconds);
    cmd->add_option("-c,--count", options->count, "Stop after N events")->check(kPositiveInteger);
    cmd->add_option("-b,--buffer-size", options->buffer_size,
                    "Ring buffer bytes, or perf buffer bytes per CPU (power of two)")
        ->check(kPositiveInteger)
        ->capture_default_str();
    cmd->add_option("--latency", options->latency_ms,
                    fmt::format("Ring buffer: show each event within MS ms, waking the reader at most once per MS "
                                "while events stream (default {}; 0: wake it for every event)",
                                kDefaultLatencyMs))
        ->check(kNonNegativeInteger);
    cmd->add_option("--wakeup-bytes", options->wakeup_bytes,
                    "Ring buffer: also wake the reader when this many bytes wait (default: half the buffer)")
        ->check(kNonNegativeInteger);
    cmd->add_flag("--json", options->json, "One JSON object per line");
    cmd->callback([options, &global] { run_events(*options, global); });
}

}  // namespace ebpf_tool
