// Test support: names and numbers for everything a test makes that other processes can
// see. Eight engineers and CI run kernel tests on one machine at the same time, so a
// fixed UID, namespace, interface, address or pin path would let two runs count each
// other's events or delete each other's objects. Each is derived from this process's pid,
// which no other live process has.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <stdexcept>

#include <string>
#include <string_view>

namespace test {

// How many test UIDs one process may use: slots [0, kUidSlots).
inline constexpr unsigned kUidSlots = 64;

// A UID that only this process uses, for exec_as() and --uid filters: slot `slot` of a
// block chosen by pid. Above every real account (system and the usual subuid ranges
// start lower) and below 2^31 even with the largest pid_max (2^22), so it prints and
// parses as a plain positive number everywhere.
inline unsigned test_uid(unsigned slot) {
    return 1'000'000'000u + static_cast<unsigned>(::getpid()) * kUidSlots + slot % kUidSlots;
}

// `prefix` followed by this process's pid: for netns names, interface names (keep
// prefix + 7 digits within 15 characters), pin directories and cgroups.
inline std::string unique_name(std::string_view prefix) {
    return std::string(prefix) + std::to_string(::getpid());
}

// For the few kernel-wide names a test cannot choose per process (a struct_ops TCP
// congestion control is registered under the name its object fixes): an exclusive lock
// on /run/lock/ebpf-tool-test-NAME.lock, held for the object's lifetime, so concurrent
// runs take turns instead of colliding.
class NameLock {
public:
    explicit NameLock(std::string_view name) {
        const std::string path = "/run/lock/ebpf-tool-test-" + std::string(name) + ".lock";
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + path);
    }
    ~NameLock() {
        if (fd_ >= 0) ::close(fd_);
    }
    NameLock(const NameLock&) = delete;
    NameLock& operator=(const NameLock&) = delete;

private:
    int fd_ = -1;
};

// A UID below 65,536 for this process alone, for what counts small UIDs apart from large
// ones (execs' array): in 60000–61023, which Debian allocates globally but creates only on
// demand (Debian policy 9.2.2), below systemd's dynamic users (61184–). Chosen by pid, and
// held under a NameLock, so two concurrent runs that land on the same one take turns.
class SmallTestUid {
public:
    SmallTestUid()
        : uid_(60000u + static_cast<unsigned>(::getpid()) % 1024u), lock_("small-uid-" + std::to_string(uid_)) {}
    unsigned get() const noexcept { return uid_; }

private:
    unsigned uid_;
    NameLock lock_;
};

}  // namespace test
