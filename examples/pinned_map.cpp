// Pattern: pinning a map, and re-opening it from another process.
//
// A pin is a file on bpffs (/sys/fs/bpf) that holds a reference to a map: the map then
// outlives the program that filled it and the process that loaded it, and any process
// can open it by path. Here three processes take turns:
//   loader  loads a program that counts its getppid() calls, makes 42, pins the map, exits;
//   reader  opens the pin as HashMap<u32, u64>, reads the loader's count, adds an entry;
//   parent  reads both entries through the pin, then unpins, and the map is gone.
// The pin is removed on every path out of the parent, also after a failure.
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "ebpf/fd.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/object.hpp"
#include "example.hpp"
#include "pinned_map.skel.h"

EBPF_SKELETON(pinned_map_bpf);

namespace {

using example::check;
using namespace std::chrono_literals;
using CallsByPid = ebpf::HashMap<std::uint32_t, std::uint64_t>;

constexpr std::uint64_t kLoaderCalls = 42;
constexpr std::uint64_t kReaderValue = 7;

// Removes the pin when the parent leaves its scope, however it leaves: a pin outlives
// every process, so a failed run must not leave one behind. Forked children share the
// object but never remove the pin (they end with _exit, and the owner is checked).
class PinGuard {
public:
    explicit PinGuard(std::string path) : path_(std::move(path)), owner_(::getpid()) {}
    PinGuard(const PinGuard&) = delete;
    PinGuard& operator=(const PinGuard&) = delete;
    ~PinGuard() {
        if (::getpid() != owner_ || ::access(path_.c_str(), F_OK) != 0) return;
        try {
            ebpf::Map::unpin(path_);
        } catch (const std::exception& e) {
            fmt::print(stderr, "pinned_map: could not remove the pin: {}\n", e.what());
        }
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    pid_t owner_;
};

// What the loader tells the parent through a pipe.
struct LoaderReport {
    std::uint32_t pid = 0;
    std::uint32_t map_id = 0;
    std::uint32_t prog_id = 0;
};

// Runs `body` in a child process; true when it returned 0. The child never returns
// into the parent's code: exceptions become a message and exit status 1.
bool in_child(const char* role, const std::function<int()>& body) {
    std::fflush(stdout);  // or the child would print the parent's buffered output again
    const pid_t pid = ::fork();
    if (pid < 0) throw ebpf::Error::sys(errno, "fork");
    if (pid == 0) {
        int status = 1;
        try {
            status = body();
        } catch (const std::exception& e) {
            fmt::print(stderr, "[{} {}] error: {}\n", role, ::getpid(), e.what());
        }
        std::fflush(stdout);
        ::_exit(status);
    }
    int status = 0;
    return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int loader(const std::string& path, int report_fd) {
    auto skel = ebpf::Skeleton<pinned_map_bpf>::open();
    skel->rodata->target_tgid = static_cast<std::uint32_t>(::getpid());
    skel.load();
    skel.attach();
    for (std::uint64_t i = 0; i < kLoaderCalls; ++i) ::syscall(SYS_getppid);

    auto calls = CallsByPid::from_libbpf(skel->maps.calls_by_pid);
    calls.pin(path);
    bpf_prog_info info{};
    std::uint32_t len = sizeof(info);
    if (int err = bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.count_getppid), &info, &len); err)
        throw ebpf::Error::sys(err, "program 'count_getppid': get info");
    const LoaderReport report{static_cast<std::uint32_t>(::getpid()), calls.info().id, info.id};
    if (::write(report_fd, &report, sizeof(report)) != sizeof(report))
        throw ebpf::Error::sys(errno, "report to parent");
    fmt::print("[loader {}] loaded program id {}, called getppid() {} times, pinned map '{}' (id {}); exits\n",
               ::getpid(), info.id, kLoaderCalls, calls.info().name, calls.info().id);
    return 0;  // the skeleton goes: program detached and unloaded; the pin keeps the map
}

int reader(const std::string& path, std::uint32_t loader_pid) {
    // Nothing inherited: this process has no descriptor of the map until it opens the pin.
    auto calls = CallsByPid::open_pinned(path);
    const auto loader_calls = calls.lookup(loader_pid);
    fmt::print("[reader {}] opened the pin as HashMap<u32, u64>: map id {}, calls of PID {} = {}\n", ::getpid(),
               calls.info().id, loader_pid, loader_calls ? std::to_string(*loader_calls) : "(none)");
    calls.update(static_cast<std::uint32_t>(::getpid()), kReaderValue);
    fmt::print("[reader {}] added {{{}: {}}}; exits\n", ::getpid(), ::getpid(), kReaderValue);
    return loader_calls == kLoaderCalls ? 0 : 1;
}

// Waits up to ten seconds for `open` to fail with ENOENT: the kernel frees objects
// shortly after their last reference goes (later on a busy machine).
bool gone(const std::function<void()>& open) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
        try {
            open();
        } catch (const ebpf::Error& e) {
            if (e.code() == ebpf::errc::not_found) return true;
            throw;
        }
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
}

bool run() {
    PinGuard pin(fmt::format("/sys/fs/bpf/ebpf_tool_example_pinned_{}", ::getpid()));
    fmt::print("Pin path: {}\n", pin.path());

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw ebpf::Error::sys(errno, "pipe");
    ebpf::Fd report_read(fds[0]), report_write(fds[1]);
    bool ok = check(in_child("loader", [&] { return loader(pin.path(), report_write.get()); }),
                    "the loader pinned the map and exited");
    report_write.reset();
    LoaderReport report;
    if (::read(report_read.get(), &report, sizeof(report)) != sizeof(report))
        return check(false, "the loader reported its map and program ids");

    // The loader is gone, and with it its program: only the pin holds the map.
    const bool prog_gone = gone([&] {
        ebpf::Fd prog(bpf_prog_get_fd_by_id(report.prog_id));
        if (!prog) throw ebpf::Error::sys(errno, "program id " + std::to_string(report.prog_id));
    });
    ok &= check(prog_gone, fmt::format("program id {} was unloaded when the loader exited", report.prog_id));

    ok &= check(in_child("reader", [&] { return reader(pin.path(), report.pid); }),
                "a second process read the loader's count through the pin");

    {
        auto calls = CallsByPid::open_pinned(pin.path());
        fmt::print("[parent] the map (id {}) through the pin, after both processes exited:\n", calls.info().id);
        auto entries = calls.entries();
        for (auto [pid, n] : entries) fmt::print("  PID {}: {}\n", pid, n);
        ok &= check(calls.info().id == report.map_id, "every process opened the same map (same id)");
        ok &= check(entries.size() == 2 && calls.lookup(report.pid) == kLoaderCalls,
                    fmt::format("the loader's {} calls survived it", kLoaderCalls));
    }  // the parent's own descriptor is closed here: only the pin is left

    ebpf::Map::unpin(pin.path());
    fmt::print("[parent] unpinned {}\n", pin.path());
    ok &= check(gone([&] { (void)ebpf::Map::open_by_id(report.map_id); }),
                fmt::format("map id {} is gone with its last reference", report.map_id));
    ok &= check(::access(pin.path().c_str(), F_OK) != 0, "no pin left behind");
    return ok;
}

}  // namespace

int main() { return example::run("pinned_map", /*need_tracefs=*/true, run); }
