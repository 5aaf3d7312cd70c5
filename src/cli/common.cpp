#include "common.hpp"

#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <ostream>
#include <string_view>
#include <vector>

#include "ebpf/error.hpp"
#include "ebpf/system.hpp"

namespace ebpf_tool {

namespace {
sigset_t stop_set() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    // The terminal went away: stop as for SIGTERM (the final print may then fail, but
    // everything is still detached).
    sigaddset(&set, SIGHUP);
    // Blocked, a write to a closed pipe fails with EPIPE instead of killing the process
    // mid-print, and the pending SIGPIPE ends the next wait like SIGTERM would.
    sigaddset(&set, SIGPIPE);
    return set;
}
}  // namespace

StopSignals::StopSignals() {
    sigset_t set = stop_set();
    sigprocmask(SIG_BLOCK, &set, &previous_mask_);
    fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd_ < 0) {
        const int error = errno;
        sigprocmask(SIG_SETMASK, &previous_mask_, nullptr);
        throw ebpf::Error::sys(error, "signalfd");
    }
}

StopSignals::~StopSignals() {
    // The command has stopped and detached by now. A stop signal that came after its last
    // wait (a second Ctrl-C, or the SIGPIPE of a final print into a closed pipe) is taken
    // here: unblocked, it would kill the process on its way to exit 0.
    signalfd_siginfo info{};
    while (read(fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
    }
    close(fd_);
    sigprocmask(SIG_SETMASK, &previous_mask_, nullptr);
}

bool StopSignals::wait(std::chrono::nanoseconds timeout) {
    if (stopped_) return true;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        signalfd_siginfo info{};
        if (read(fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) return stopped_ = true;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now() +
                                                                          std::chrono::microseconds(999));
        if (left.count() <= 0) return false;
        pollfd pfd{fd_, POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(std::min<long long>(left.count(), 1'000'000))) < 0 && errno != EINTR)
            return false;
    }
}

IntervalLoop::IntervalLoop(StopSignals& signals, std::chrono::nanoseconds interval,
                           std::optional<std::chrono::nanoseconds> duration, std::optional<std::uint64_t> count)
    : signals_(signals), interval_(interval), count_(count), start_(std::chrono::steady_clock::now()) {
    if (duration) deadline_ = start_ + *duration;
    next_tick_ = start_;
}

bool IntervalLoop::next() {
    next_tick_ += interval_;
    auto wake = next_tick_;
    if (deadline_ && *deadline_ < wake) wake = *deadline_;
    signals_.wait(wake - std::chrono::steady_clock::now());
    ++ticks_;
    if (signals_.stopped()) return false;
    if (count_ && ticks_ >= *count_) return false;
    if (deadline_ && std::chrono::steady_clock::now() >= *deadline_) return false;
    return true;
}

double IntervalLoop::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

namespace {
std::string check_interval(const std::string& text) {
    std::size_t used = 0;
    try {
        double v = std::stod(text, &used);
        if (used == text.size() && std::isfinite(v) && v >= kMinInterval && v <= 1e7) return {};
    } catch (const std::exception&) {
    }
    return "must be a number of seconds >= 0.01 (10 ms), not '" + text + "'";
}

std::string check_number(const std::string& text, bool integer, bool allow_zero) {
    const char* what =
        integer ? (allow_zero ? "a whole number >= 0" : "a whole number > 0") : "a number of seconds > 0";
    std::size_t used = 0;
    try {
        if (integer) {
            if (text.empty() || text[0] == '-' || text[0] == '+')
                return "must be " + std::string(what) + ", not '" + text + "'";
            unsigned long long v = std::stoull(text, &used);
            if (used == text.size() && (allow_zero || v > 0) && v <= 0xffffffffULL) return {};
        } else {
            double v = std::stod(text, &used);
            if (used == text.size() && std::isfinite(v) && v > 0 && v <= 1e7) return {};
        }
    } catch (const std::exception&) {
    }
    return "must be " + std::string(what) + ", not '" + text + "'";
}
}  // namespace

const CLI::Validator kPositiveSeconds([](std::string& text) { return check_number(text, false, false); }, "SECONDS>0",
                                      "positive seconds");
const CLI::Validator kIntervalSeconds([](std::string& text) { return check_interval(text); }, "SECONDS>=0.01",
                                      "interval seconds");
const CLI::Validator kPositiveInteger([](std::string& text) { return check_number(text, true, false); }, "N>0",
                                      "positive integer");
const CLI::Validator kNonNegativeInteger([](std::string& text) { return check_number(text, true, true); }, "N>=0",
                                         "non-negative integer");

std::chrono::nanoseconds seconds(double s) {
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(s * 1e9)));
}

std::optional<std::string> user_name(std::uint32_t uid) {
    passwd pw{};
    passwd* result = nullptr;
    std::vector<char> buffer(4096);
    if (getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &result) != 0 || !result) return std::nullopt;
    return std::string(result->pw_name);
}

static std::string format_time(const char* format, bool utc) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    if (utc)
        gmtime_r(&now, &tm);
    else
        localtime_r(&now, &tm);
    char buffer[64];
    std::strftime(buffer, sizeof(buffer), format, &tm);
    return buffer;
}

std::string clock_time() {
    return format_time("%H:%M:%S", false);
}
std::string iso_time() {
    return format_time("%Y-%m-%dT%H:%M:%SZ", true);
}

void prepare_kernel(const GlobalOptions& global, bool need_tracefs) {
    prepare_kernel(global, ebpf::system::Needs{.bpf = true, .perfmon = true, .tracefs = need_tracefs});
}

void prepare_kernel(const GlobalOptions& global, const ebpf::system::Needs& needs) {
    ebpf::system::set_libbpf_logging(global.verbose);
    ebpf::system::prepare(needs);
}

}  // namespace ebpf_tool
