// Pattern: event streaming through a ring buffer. The BPF program sends one record per
// event, and user space receives them in order with ebpf::RingBufferReader, waiting in
// poll() rather than scanning a map.
//
// The example runs /bin/true three times, with a different argument each time, and prints
// the execve() record of each child as it arrives; then it checks that exactly those
// three records came, in order, with the right contents.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "ebpf/object.hpp"
#include "ebpf/ring_buffer.hpp"
#include "event_stream.h"
#include "event_stream.skel.h"
#include "example.hpp"

EBPF_SKELETON(event_stream_bpf);

namespace {

using example::check;
using namespace std::chrono_literals;

// Starts /bin/true with one argument; returns its PID.
pid_t spawn_true(const std::string& arg) {
    // The program reads execve's strings with bpf_probe_read_user, which cannot fault a
    // page in. A literal would sit in a file-backed page the child has not touched yet
    // (fork does not copy those mappings), so the path is passed from the heap, whose
    // pages the child shares with the parent, present.
    const std::string path = "/bin/true";
    const pid_t pid = ::fork();
    if (pid < 0) throw ebpf::Error::sys(errno, "fork");
    if (pid == 0) {
        const char* argv[] = {path.c_str(), arg.c_str(), nullptr};
        ::execv(argv[0], const_cast<char* const*>(argv));
        ::_exit(127);
    }
    return pid;
}

bool exited_0(pid_t pid) {
    int status = 0;
    return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool run() {
    auto skel = ebpf::Skeleton<event_stream_bpf>::open();
    skel->rodata->parent_tgid = static_cast<std::uint32_t>(::getpid());
    skel.load();

    std::vector<exec_event> received;
    ebpf::RingBufferReader reader;
    reader.add(ebpf::Map::from_libbpf(skel->maps.events), [&](std::span<const std::byte> record) {
        const auto e = ebpf::record_as<exec_event>(record);
        const auto since_first = received.empty() ? 0 : e.time_ns - received.front().time_ns;
        fmt::print("  event {}: pid {} (child of {}), comm \"{}\": execve(\"{}\", argv[1]=\"{}\")  +{:.3f} ms\n",
                   received.size(), e.pid, e.ppid, e.comm, e.filename, e.arg1, static_cast<double>(since_first) / 1e6);
        received.push_back(e);
        return 0;
    });
    skel.attach();

    fmt::print("Streaming the execve() calls of PID {}'s children through a ring buffer.\n", ::getpid());
    const std::vector<std::string> args{"one", "two", "three"};
    std::vector<pid_t> children;
    bool children_ok = true;
    for (const auto& arg : args) {
        children.push_back(spawn_true(arg));
        // The record is committed at the execve() itself: wait for it while the child runs.
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        while (received.size() < children.size() && std::chrono::steady_clock::now() < deadline) reader.poll(100ms);
        children_ok &= exited_0(children.back());
    }
    const std::size_t late = reader.consume();  // nothing else may come
    fmt::print("\n");

    bool ok = check(children_ok, "each child ran /bin/true and exited 0");
    ok &= check(received.size() == args.size() && late == 0,
                fmt::format("{} records for {} execs, no more, no fewer", received.size() + late, args.size()));
    bool contents = received.size() == args.size();
    for (std::size_t i = 0; contents && i < args.size(); ++i) {
        const auto& e = received[i];
        contents = e.pid == static_cast<std::uint32_t>(children[i]) &&
                   e.ppid == static_cast<std::uint32_t>(::getpid()) && std::string(e.filename) == "/bin/true" &&
                   std::string(e.arg1) == args[i] && (i == 0 || e.time_ns >= received[i - 1].time_ns);
    }
    ok &= check(contents, "in exec order, each with its child's PID, path and argument");
    ok &= check(skel->bss->lost == 0, "no record lost to a full ring");
    return ok;
}

}  // namespace

int main() { return example::run("event_stream", /*need_tracefs=*/true, run); }
