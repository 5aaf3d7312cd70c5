// What every subcommand shares: global options, the usage-error type (exit 2), the
// signal-driven interval loop, and small output helpers.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "json.hpp"
#include "ebpf/system.hpp"

namespace ebpf_tool {

struct GlobalOptions {
    bool json = false;     // -j: JSON output
    bool pretty = false;   // -p: indented JSON (implies -j)
    bool verbose = false;  // libbpf's own log on stderr
};

// Bad input from the user: one line on stderr, exit 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The stop signals — SIGINT, SIGTERM, SIGHUP and SIGPIPE — are blocked for the whole
// process and taken synchronously, so a signal can only end a wait: it never interrupts
// a map read or leaves a print half done, and every command ends the same way for each
// of them (final output, everything detached, exit 0). A write to a closed pipe fails
// with EPIPE and then ends the command at its next wait. Make one before loading or
// attaching anything, so no stop signal can kill the process with something attached.
class StopSignals {
public:
    StopSignals();
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    // Sleeps up to `timeout`; true when a stop signal arrived (then stays true).
    bool wait(std::chrono::nanoseconds timeout);
    bool stopped() const noexcept { return stopped_; }
    // Readable when a stop signal is pending (a signalfd), for poll loops over other fds
    // too; call wait(0) after it polls readable.
    int fd() const noexcept { return fd_; }

private:
    bool stopped_ = false;
    int fd_ = -1;
    sigset_t previous_mask_{};
};

// Ticks every `interval` until `duration` (if any) has passed or a stop signal came.
// next() sleeps until the next tick and returns false when it is the last one.
class IntervalLoop {
public:
    IntervalLoop(StopSignals& signals, std::chrono::nanoseconds interval,
                 std::optional<std::chrono::nanoseconds> duration, std::optional<std::uint64_t> count);
    // Waits for the next tick. Returns true for a tick after which more follow, false for
    // the final one (duration over, count reached, or a signal).
    bool next();
    std::uint64_t ticks() const noexcept { return ticks_; }
    // Seconds since the loop started.
    double elapsed() const;

private:
    StopSignals& signals_;
    std::chrono::nanoseconds interval_;
    std::optional<std::chrono::steady_clock::time_point> deadline_;
    std::optional<std::uint64_t> count_;
    std::chrono::steady_clock::time_point start_, next_tick_;
    std::uint64_t ticks_ = 0;
};

// Option checks with one-line messages: a positive (fractional) number of seconds, and a
// positive whole number.
extern const CLI::Validator kPositiveSeconds;
// An interval between prints: at least kMinInterval, so a tiny value cannot busy-loop.
extern const CLI::Validator kIntervalSeconds;
constexpr double kMinInterval = 0.01;
extern const CLI::Validator kPositiveInteger;
extern const CLI::Validator kNonNegativeInteger;

// Seconds given on the command line (positive, finite) as a duration.
std::chrono::nanoseconds seconds(double s);

// The user's name from the passwd database, or nothing.
std::optional<std::string> user_name(std::uint32_t uid);

// "10:15:01" (local time) and "2026-11-27T10:15:01Z" (UTC, for JSON).
std::string clock_time();
std::string iso_time();


// Loads and prepares: privileges, mounts, memlock, libbpf logging. need_tracefs: CAP_BPF,
// CAP_PERFMON and tracefs access; the second form checks exactly `needs`.
void prepare_kernel(const GlobalOptions& global, bool need_tracefs);
void prepare_kernel(const GlobalOptions& global, const ebpf::system::Needs& needs);

// Nesting depth of the JSON text `text` ([ and { outside strings); the CLI refuses JSON
// deeper than kMaxJsonDepth before parsing it (deep JSON overflows recursive code).
std::size_t json_depth(std::string_view text);
constexpr std::size_t kMaxJsonDepth = 100;

}  // namespace ebpf_tool
