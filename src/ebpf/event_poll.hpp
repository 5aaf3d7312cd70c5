// The epoll core every event reader waits on (ring_buffer.cpp, perf_buffer.cpp): one
// instance per reader, each watched fd tagged with the index of its buffer, and one wait
// loop with the same timeout, signal and stop rules for every transport. Internal.
#pragma once

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "ebpf/error.hpp"
#include "ebpf/fd.hpp"

namespace ebpf::detail {

class EventPoll {
public:
    // An epoll instance of the reader's own.
    void create(const std::string& context) {
        owned_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
        if (!owned_) throw Error::sys(errno, context + ": epoll_create1");
        fd_ = owned_.get();
    }
    // One owned elsewhere that lives as long as the reader (libbpf's perf buffer's).
    void borrow(int fd) noexcept { fd_ = fd; }

    int fd() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }

    // Makes room for one more watched fd first: a caller that stores the buffer after
    // watch() succeeded must not fail.
    void reserve(std::size_t watched) { ready_.reserve(watched); }

    // Watches `fd` (modify: re-points an fd already in a borrowed set) so that its wake-ups
    // name `index`.
    void watch(int fd, std::uint64_t index, bool modify, const std::string& context) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = index;
        if (::epoll_ctl(fd_, modify ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event)) throw Error::sys(errno, context);
        ready_.resize(std::max<std::size_t>(ready_.size(), index + 1));
    }

    // Waits until `consume(index)` of the woken buffers has delivered something
    // (`delivered()` > 0), the timeout passes (negative: never; 0: one look, no wait), or a
    // signal arrives (EINTR: not an error, the caller's loop decides). `consume` returns
    // false to stop there, leaving the other woken buffers for the next call; wait() then
    // returns false. A wake-up can find its buffer already read (by a consume() after a
    // caller's own poll, say): then it waits again, for what is left of the timeout.
    template <class Consume, class Delivered, class Describe>
    bool wait(std::chrono::milliseconds timeout, Consume&& consume, Delivered&& delivered, Describe&& describe) {
        using Clock = std::chrono::steady_clock;
        // At most what epoll_wait can take (which also keeps `deadline` from overflowing).
        const auto wait = std::min(timeout, std::chrono::milliseconds(INT_MAX));
        const auto deadline = timeout.count() > 0 ? Clock::now() + wait : Clock::time_point{};
        int ms = timeout.count() > 0 ? static_cast<int>(wait.count()) : timeout.count() == 0 ? 0 : -1;
        for (bool first = true;; first = false) {
            if (!first && ms > 0) {
                // Rounded up: a wait must not end a fraction of a millisecond early and spin.
                const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
                ms = static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
            }
            const int n = ::epoll_wait(fd_, ready_.data(), static_cast<int>(ready_.size()), ms);
            if (n < 0) {
                if (errno == EINTR) return true;
                throw Error::sys(errno, describe());
            }
            for (int i = 0; i < n; ++i)
                if (!consume(ready_[static_cast<std::size_t>(i)].data.u64)) return false;
            if (delivered() || ms == 0) return true;
        }
    }

private:
    Fd owned_;
    int fd_ = -1;
    std::vector<epoll_event> ready_;
};

}  // namespace ebpf::detail
