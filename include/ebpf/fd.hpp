// An owned file descriptor: closed exactly once, movable, never copied, and never
// converted to int implicitly (a silent conversion is how fds get closed twice).
#pragma once

#include <unistd.h>

#include <utility>

namespace ebpf {

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }
    // A second, independent descriptor for the same kernel object (close-on-exec).
    [[nodiscard]] Fd dup() const { return duplicate(fd_); }
    // A new descriptor for the object behind a descriptor someone else owns.
    [[nodiscard]] static Fd duplicate(int fd);

private:
    int fd_ = -1;
};

}  // namespace ebpf
