// Pattern: a configuration table. User space writes an Array that the BPF program reads
// on every run, and the program's behaviour changes at once, without a reload.
//
// The same loaded program goes through three configurations; in each, this process and a
// child process call getppid() a known number of times, and the count must match what the
// configuration lets through.
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>

#include "config_table.h"
#include "config_table.skel.h"
#include "ebpf/array.hpp"
#include "ebpf/fd.hpp"
#include "ebpf/object.hpp"
#include "example.hpp"

EBPF_SKELETON(config_table_bpf);

namespace {

using example::check;

void call_getppid(int n) {
    for (int i = 0; i < n; ++i) ::syscall(SYS_getppid);
}

// A child that waits until the parent has written the configuration (it needs the
// child's PID), then calls getppid() `n` times and exits.
class Child {
public:
    explicit Child(int n) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw ebpf::Error::sys(errno, "pipe");
        ebpf::Fd read_end(fds[0]);
        go_ = ebpf::Fd(fds[1]);
        pid_ = ::fork();
        if (pid_ < 0) throw ebpf::Error::sys(errno, "fork");
        if (pid_ == 0) {
            char byte = 0;
            if (::read(read_end.get(), &byte, 1) != 1) ::_exit(2);
            call_getppid(n);
            ::_exit(0);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) finish();
    }
    pid_t pid() const { return pid_; }
    // Waits for the child; true when it exited 0. Without go() first, the child reads EOF
    // and exits without calling (that is the destructor's path when something failed).
    bool finish() {
        go_.reset();
        int status = 0;
        const bool reaped = ::waitpid(std::exchange(pid_, -1), &status, 0) > 0;
        return reaped && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    void go() {
        const char byte = 1;
        if (::write(go_.get(), &byte, 1) != 1) throw ebpf::Error::sys(errno, "write to child");
    }

private:
    ebpf::Fd go_;
    pid_t pid_ = -1;
};

bool run() {
    auto skel = ebpf::Skeleton<config_table_bpf>::open();
    skel.load();
    auto settings = ebpf::Array<counter_config>::from_libbpf(skel->maps.settings);
    auto counted = ebpf::Array<std::uint64_t>::from_libbpf(skel->maps.counted);
    skel.attach();

    const auto self = static_cast<std::uint32_t>(::getpid());
    constexpr int kOwnCalls = 100, kChildCalls = 40;
    fmt::print("The program counts getppid() calls, but only as settings[0] says.\n");
    fmt::print("In each step this process (PID {}) calls getppid() {} times and a child {} times.\n\n", self,
               kOwnCalls, kChildCalls);
    fmt::print("{:<34} {:>8} {:>9}\n", "settings[0] (written by user space)", "counted", "expected");

    bool counts_ok = true, children_ok = true;
    // Which of the two callers each configuration lets through.
    enum class Counts { nothing, this_process, the_child };
    for (Counts expect : {Counts::nothing, Counts::this_process, Counts::the_child}) {
        Child child(kChildCalls);
        counter_config cfg{};
        cfg.enabled = expect != Counts::nothing;
        cfg.pid = expect == Counts::the_child ? static_cast<std::uint32_t>(child.pid()) : self;
        settings.update(0, cfg);  // takes effect on the program's next run
        counted.update(0, 0);

        call_getppid(kOwnCalls);
        child.go();
        children_ok &= child.finish();

        const std::uint64_t want = expect == Counts::this_process ? kOwnCalls
                                   : expect == Counts::the_child  ? kChildCalls
                                                                  : 0;
        const std::uint64_t got = counted.get(0);
        const char* who = expect == Counts::the_child ? " (child)" : expect == Counts::this_process ? " (self)" : "";
        fmt::print("{:<34} {:>8} {:>9}\n", fmt::format("{{enabled={}, pid={}{}}}", cfg.enabled, cfg.pid, who), got,
                   want);
        counts_ok &= got == want;
    }
    fmt::print("\n");
    bool ok = check(children_ok, "every child made its calls and exited 0");
    ok &= check(counts_ok, "each configuration counted exactly the calls it lets through, with no reload");
    return ok;
}

}  // namespace

int main() { return example::run("config_table", /*need_tracefs=*/true, run); }
