// Test support: interrupting a blocking call with a signal, to check that a reader's wait
// ends on EINTR with no error (as a Ctrl-C handled elsewhere would interrupt it).
#pragma once

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <thread>

namespace test {

// Calls `wait()` while another thread sends this thread SIGUSR1 (with a no-op handler, so
// the blocking call returns EINTR) after `delay`. Returns what `wait` returned and how
// long it took.
template <class Wait>
auto interrupted_by_signal(std::chrono::milliseconds delay, Wait wait) {
    struct sigaction action {};
    action.sa_handler = [](int) {};
    struct sigaction old {};
    ::sigaction(SIGUSR1, &action, &old);
    const pthread_t self = ::pthread_self();
    std::thread interrupter([self, delay] {
        std::this_thread::sleep_for(delay);
        ::pthread_kill(self, SIGUSR1);
    });
    auto start = std::chrono::steady_clock::now();
    auto result = wait();
    auto waited = std::chrono::steady_clock::now() - start;
    interrupter.join();
    ::sigaction(SIGUSR1, &old, nullptr);
    return std::pair{result, waited};
}

}  // namespace test
