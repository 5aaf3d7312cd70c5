// Start-up and memory of whole processes, in one run: ebpf-tool's stats, execs, events and
// map dump against the tools a user would run instead — syscount -d 1, execsnoop
// (libbpf-tools), bpftrace one-liners doing the same jobs, and bpftool map dump.
//
// "First count": the time from launching a tool (just before fork) until the first known
// event that the tool counts. The bench makes numbered marker events from the moment of
// launch — one syscall every millisecond, or one exec every 4 ms — and records when each
// was made; afterwards it reads what the tool reported. A tool counts every marker made
// after its program is attached and none before, so the first marker it counts is the
// first one made after attaching: its time is the tool's first count (an upper bound on
// the attach time, at most one marker interval above it). Syscall markers are
// sched_rr_get_interval(0) calls, which nothing else on the machine makes (the tool's
// count must not exceed the markers made, or the round is retried); exec markers are
// /bin/true runs by a UID of their own with the marker's number as argument.
// For the tools that end by themselves (stats -d 1, syscount -d 1, bpftrace with an
// exit after 1 s, and the dumps), markers run for 1 s at most: within the tool's
// counting window whenever it attached. The others run until SIGINT, sent 1.5 s after
// launch (after the last marker), so every marker made after attaching is counted.
// Peak RSS: ru_maxrss of the child from wait4. Wall: launch to exit, for the tools that
// end by themselves.
//
// usage: startup EBPF_TOOL BENCHMARKS.md [ROUNDS] [BEFORE_TOOL]   (needs root)
//   BEFORE_TOOL, optional: another ebpf-tool binary measured beside EBPF_TOOL (stats only),
//   for before/after numbers from one run.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench_report.hpp"
#include "ebpf/map.hpp"
#include "ebpf/system.hpp"

namespace {

using bench::median;

double now_s() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void sleep_until(double t) {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(t);
    ts.tv_nsec = static_cast<long>((t - static_cast<double>(ts.tv_sec)) * 1e9);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

constexpr double kSyscallSpacing = 0.001;
constexpr double kExecSpacing = 0.004;
constexpr double kTimedWindow = 1.0;  // markers for tools that end by themselves
constexpr double kUntilSignal = 1.5;  // SIGINT this long after launch, for the others
constexpr int kMaxMarkers = 2048;
constexpr const char* kMarkerWord = "ebpf-startup-";
constexpr int kDumpRuns = 20;

enum class Markers { syscalls, execs, none };
// What the tool's output says about the markers: the first marker counted (by number),
// or only how many were counted (the last ones made, since markers stop before the tool).
struct Seen {
    std::optional<int> first;   // lowest marker number reported
    std::optional<long> count;  // or: how many markers counted
};

struct Contender {
    std::string job;   // "stats", "execs", "events", "map dump"
    std::string name;  // as shown in the table
    std::vector<std::string> argv;
    Markers markers;
    bool ends_by_itself;
    bool ours;
    // Reads the tool's stdout after it ended.
    std::function<Seen(const std::string& out)> parse;
    // Another job this peer competes in (execsnoop: events, and execs too).
    std::string also_for = {};
};

struct Sample {
    double first_count = -1;  // s; < 0: no marker counted
    double wall = -1;         // s; tools that end by themselves
    double rss_mib = 0;
};

// The marker runner for execs: a child of its own, running as `uid`, that runs /bin/true
// ebpf-startup-N every kExecSpacing from `start` while `run` is set, recording each launch
// time, then sets `idle`. Killed by the bench at its end.
struct ExecShared {
    std::atomic<int> run{0};
    std::atomic<int> idle{1};
    std::atomic<int> made{0};
    std::atomic<double> start{0};
    double times[kMaxMarkers];
};

[[noreturn]] void exec_runner(ExecShared* shared, uid_t uid) {
    if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid)) _exit(3);
    for (;;) {
        while (!shared->run.load()) usleep(200);
        const double start = shared->start.load();
        for (int i = 0; shared->run.load() && i < kMaxMarkers; ++i) {
            sleep_until(start + i * kExecSpacing);
            if (!shared->run.load()) break;
            std::string arg = kMarkerWord + std::to_string(i);
            shared->times[i] = now_s();
            const char* args[] = {"true", arg.c_str(), nullptr};
            pid_t child = -1;
            if (posix_spawn(&child, "/bin/true", nullptr, nullptr, const_cast<char* const*>(args), environ) == 0)
                waitpid(child, nullptr, 0);
            shared->made.store(i + 1);
        }
        while (shared->run.load()) usleep(200);
        shared->idle.store(1);
    }
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// One run of `c`. Returns nullopt when the run must be retried (someone else made a
// marker syscall: the tool counted more than were made).
std::optional<Sample> run_once(const Contender& c, ExecShared* execs, const std::string& out_path) {
    std::vector<double> syscall_times;
    syscall_times.reserve(kMaxMarkers);
    const double t0 = now_s();
    pid_t child = fork();
    if (child == 0) {
        int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int null = open("/dev/null", O_WRONLY);
        dup2(out, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        std::vector<char*> args;
        for (const auto& a : c.argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    // The exit is seen the moment it happens (poll on a pidfd), not at the next tick of a
    // polling loop: a 64-entry dump takes about as long as one such tick.
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
    if (pidfd < 0) {
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
        throw std::runtime_error("pidfd_open: " + std::string(strerror(errno)));
    }
    struct PidFd {
        int fd;
        ~PidFd() { close(fd); }
    } pidfd_guard{pidfd};
    const double window = c.ends_by_itself ? kTimedWindow : kUntilSignal;
    int status = 0;
    rusage usage{};
    double t_exit = -1;
    auto reaped = [&](int flags) {
        pid_t r = wait4(child, &status, flags, &usage);
        if (r == child) t_exit = now_s();
        return r == child;
    };
    if (c.markers == Markers::syscalls) {
        for (int i = 0; i < kMaxMarkers; ++i) {
            const double at = t0 + i * kSyscallSpacing;
            if (at - t0 >= window) break;
            sleep_until(at);
            timespec ts{};
            syscall_times.push_back(now_s());
            syscall(SYS_sched_rr_get_interval, 0, &ts);
            if (c.ends_by_itself && reaped(WNOHANG)) break;
        }
    } else if (c.markers == Markers::execs) {
        execs->made.store(0);
        execs->idle.store(0);
        execs->start.store(t0);
        execs->run.store(1);
        const double stop = t0 + window - 0.05;
        while (now_s() < stop && t_exit < 0) {
            usleep(2000);
            if (c.ends_by_itself) reaped(WNOHANG);
        }
        execs->run.store(0);
        for (int i = 0; i < 1000 && !execs->idle.load(); ++i) usleep(1000);
        usleep(20000);  // the last marker's exec is delivered to the tool
    }
    if (!c.ends_by_itself) {
        sleep_until(t0 + window);
        kill(child, SIGINT);
    }
    // A tool that hangs is killed; its run then fails below.
    for (double deadline = now_s() + 30; t_exit < 0 && now_s() < deadline;) {
        pollfd exited{pidfd, POLLIN, 0};
        ::poll(&exited, 1, static_cast<int>((deadline - now_s()) * 1000) + 1);
        reaped(WNOHANG);
    }
    if (t_exit < 0) {
        kill(child, SIGKILL);
        reaped(0);
        throw std::runtime_error(c.name + ": did not end within 30 s");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error(fmt::format("{}: exit status {:#x}", c.name, status));

    Sample s;
    s.rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
    if (c.ends_by_itself) s.wall = t_exit - t0;
    const std::string out = read_file(out_path);
    if (c.markers == Markers::none) {
        Seen seen = c.parse(out);
        if (!seen.count) throw std::runtime_error(c.name + ": unexpected output");
        s.first_count = s.wall;  // the dump is whole when the tool ends
        return s;
    }
    std::vector<double> times;
    if (c.markers == Markers::syscalls) {
        times = syscall_times;
    } else {
        int made = std::min(execs->made.load(), kMaxMarkers);
        times.assign(execs->times, execs->times + made);
    }
    Seen seen = c.parse(out);
    const long made = static_cast<long>(times.size());
    int first = -1;
    if (seen.first) {
        first = *seen.first;
    } else if (seen.count && *seen.count > 0) {
        if (*seen.count > made) return std::nullopt;  // someone else's marker syscalls
        first = static_cast<int>(made - *seen.count);
    }
    if (first >= 0 && first < made) s.first_count = times[static_cast<std::size_t>(first)] - t0;
    return s;
}

// Parsers of each tool's output.
std::optional<long> number_after(const std::string& out, const std::regex& re) {
    std::smatch m;
    if (std::regex_search(out, m, re)) return std::stol(m[1]);
    return std::nullopt;
}

Seen count_of(const std::string& out, const std::regex& re) {
    Seen s;
    s.count = number_after(out, re).value_or(0);
    return s;
}

Seen lowest_marker(const std::string& out) {
    Seen s;
    static const std::regex re(std::string(kMarkerWord) + "([0-9]+)");
    for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator(); ++it) {
        int n = std::stoi((*it)[1]);
        if (!s.first || n < *s.first) s.first = n;
    }
    return s;
}

// The small map every dump reads: 64 u32 → u64 entries, described by BTF.
ebpf::Map make_small_map() {
    std::unique_ptr<btf, decltype(&btf__free)> types(btf__new_empty(), &btf__free);
    int u32 = btf__add_int(types.get(), "__u32", 4, 0);
    int u64 = btf__add_int(types.get(), "__u64", 8, 0);
    if (btf__load_into_kernel(types.get())) throw std::runtime_error("load BTF");
    ebpf::MapSpec spec = ebpf::MapSpec::make(BPF_MAP_TYPE_HASH, "bench_startup", 4, 8, 64);
    spec.btf_fd = btf__fd(types.get());
    spec.btf_key_type_id = static_cast<std::uint32_t>(u32);
    spec.btf_value_type_id = static_cast<std::uint32_t>(u64);
    ebpf::Map map = ebpf::Map::create(spec);
    for (std::uint32_t k = 0; k < 64; ++k) {
        std::uint64_t v = k * 1000ull;
        map.update(&k, &v);
    }
    return map;
}

std::string ms(double s) {
    return s < 0 ? "—" : fmt::format("{:.1f}", s * 1000);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: startup EBPF_TOOL BENCHMARKS.md [ROUNDS] [BEFORE_TOOL]\n";
        return 2;
    }
    const std::string tool = argv[1], report = argv[2];
    const int rounds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 5;
    const std::string before = argc > 4 ? argv[4] : "";
    const std::string out_path = fmt::format("/tmp/ebpf-bench-startup-{}.out", getpid());
    const std::string pin = ebpf::system::ensure_bpffs() + fmt::format("/ebpf-bench-startup-{}", getpid());
    // A UID no one else uses, for the exec markers (the tools filter or count by it).
    const uid_t uid = 61000 + static_cast<uid_t>(getpid() % 4000);
    auto* shared = static_cast<ExecShared*>(
        mmap(nullptr, sizeof(ExecShared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    new (shared) ExecShared;
    pid_t runner = fork();
    if (runner == 0) exec_runner(shared, uid);
    struct Cleanup {
        std::string pin, out;
        ExecShared* shared;
        pid_t runner;
        ~Cleanup() {
            std::filesystem::remove(pin);
            std::filesystem::remove(out);
            kill(runner, SIGKILL);
            waitpid(runner, nullptr, 0);
        }
    } cleanup{pin, out_path, shared, runner};

    try {
        ebpf::system::require_privileges();
        ebpf::system::set_libbpf_logging(false);
        auto map = make_small_map();
        map.pin(pin);

        const std::string u = std::to_string(uid);
        const std::regex ours_rr(R"((?:^|\n)sched_rr_get_interval +([0-9]+))");
        const std::regex bt_rr(R"(@\[)" + std::to_string(SYS_sched_rr_get_interval) + R"(\]: ([0-9]+))");
        const std::regex ours_uid("UID " + u + R"((?: \([^)]*\))?: ([0-9]+) execs)");
        const std::regex bt_uid(R"(@\[)" + u + R"(\]: ([0-9]+))");
        const std::regex found(R"(Found ([0-9]+) element)");
        // Every entry, checked: "Found 64 elements", or (bpftool with BTF prints no such
        // line) 64 "key" fields.
        auto dump_parse = [&](const std::string& out) {
            Seen s;
            long keys = 0;
            for (std::size_t at = out.find("\"key\""); at != std::string::npos; at = out.find("\"key\"", at + 1))
                ++keys;
            if (number_after(out, found) == 64 || keys == 64) s.count = 64;
            return s;
        };

        std::vector<Contender> all = {
            {"stats",
             "`ebpf-tool stats --duration 1`",
             {tool, "stats", "--duration", "1", "-T", "0"},
             Markers::syscalls,
             true,
             true,
             [&](const std::string& o) { return count_of(o, ours_rr); }},
            {"stats",
             "`syscount -d 1` (libbpf-tools)",
             {"/usr/sbin/syscount", "-d", "1", "-T", "500"},
             Markers::syscalls,
             true,
             false,
             [&](const std::string& o) { return count_of(o, ours_rr); }},
            {"stats",
             "bpftrace: `@[args->id] = count()` on raw_syscalls:sys_enter, exit after 1 s",
             {"/usr/bin/bpftrace", "-e",
              "tracepoint:raw_syscalls:sys_enter { @[args->id] = count(); } interval:s:1 { exit(); }"},
             Markers::syscalls,
             true,
             false,
             [&](const std::string& o) { return count_of(o, bt_rr); }},
            {"execs",
             "`ebpf-tool execs`",
             {tool, "execs"},
             Markers::execs,
             false,
             true,
             [&](const std::string& o) {
                 // The last print (at SIGINT) holds the whole count.
                 Seen s;
                 s.count = 0;
                 for (auto it = std::sregex_iterator(o.begin(), o.end(), ours_uid); it != std::sregex_iterator(); ++it)
                     s.count = std::stol((*it)[1]);
                 return s;
             }},
            {"execs",
             "bpftrace: `@[uid] = count()` on sys_enter_execve[at]",
             {"/usr/bin/bpftrace", "-e",
              "tracepoint:syscalls:sys_enter_execve,tracepoint:syscalls:sys_enter_execveat { @[uid] = count(); }"},
             Markers::execs,
             false,
             false,
             [&](const std::string& o) { return count_of(o, bt_uid); }},
            {"events",
             "`ebpf-tool events -u UID`",
             {tool, "events", "-u", u},
             Markers::execs,
             false,
             true,
             lowest_marker},
            {"events",
             "`execsnoop -u UID` (libbpf-tools)",
             {"/usr/sbin/execsnoop", "-u", u},
             Markers::execs,
             false,
             false,
             lowest_marker,
             "execs"},
            {"events",
             "bpftrace: `printf` + `join(args->argv)` on sys_enter_execve[at], `uid == UID`",
             {"/usr/bin/bpftrace", "-e",
              "tracepoint:syscalls:sys_enter_execve,tracepoint:syscalls:sys_enter_execveat /uid == " + u +
                  "/ { printf(\"%d %d \", uid, pid); join(args->argv); }"},
             Markers::execs,
             false,
             false,
             lowest_marker},
            {"map dump",
             "`ebpf-tool map dump` (64 entries)",
             {tool, "map", "dump", "pinned", pin},
             Markers::none,
             true,
             true,
             dump_parse},
            {"map dump",
             "`bpftool map dump` (64 entries)",
             {"/usr/sbin/bpftool", "map", "dump", "pinned", pin},
             Markers::none,
             true,
             false,
             dump_parse},
        };
        if (!before.empty())
            all.insert(all.begin() + 1, {"stats",
                                         "`ebpf-tool stats --duration 1`, before (BEFORE_TOOL)",
                                         {before, "stats", "--duration", "1", "-T", "0"},
                                         Markers::syscalls,
                                         true,
                                         false,
                                         [&](const std::string& o) { return count_of(o, ours_rr); }});

        std::map<std::string, std::vector<Sample>> samples;
        for (int r = 0; r < rounds; ++r) {
            // Each round in another order, so that no tool always follows the same one.
            std::vector<std::size_t> order(all.size());
            for (std::size_t i = 0; i < order.size(); ++i)
                order[i] = (i + static_cast<std::size_t>(r) * 3) % all.size();
            for (std::size_t i : order) {
                const Contender& c = all[i];
                // A dump of 64 entries takes milliseconds, where one preemption on a busy
                // machine weighs as much as the dump: kDumpRuns of them per round.
                for (int run = 0; run < (c.markers == Markers::none ? kDumpRuns : 1); ++run) {
                    std::optional<Sample> s;
                    for (int attempt = 0; attempt < 3 && !s; ++attempt) s = run_once(c, shared, out_path);
                    if (!s) throw std::runtime_error(c.name + ": marker syscalls from elsewhere, 3 times");
                    if (c.markers != Markers::none && s->first_count < 0)
                        throw std::runtime_error(c.name + ": counted none of the markers");
                    samples[c.name].push_back(*s);
                    if (run == 0)
                        std::cerr << fmt::format(
                            "round {} {:<70} first count {:>5} ms  wall {:>5} ms  peak RSS {:.1f} MiB\n", r + 1, c.name,
                            ms(s->first_count), ms(s->wall), s->rss_mib);
                }
            }
        }

        struct Row {
            double first, wall, rss;
        };
        auto row = [&](const Contender& c) {
            std::vector<double> f, w, m;
            for (const auto& s : samples[c.name]) {
                f.push_back(s.first_count);
                w.push_back(s.wall);
                m.push_back(s.rss_mib);
            }
            return Row{median(f), c.ends_by_itself ? median(w) : -1, median(m)};
        };
        std::string md = "## Start-up and peak memory: whole processes\n\n";
        md += bench::machine_line() +
              fmt::format(
                  ". {} rounds, medians; each round runs every tool once ({} times for the dumps), in a rotating "
                  "order. **First count**: "
                  "time from launch (just before fork) until the first marker event the tool counts — markers "
                  "are made from the moment of launch, numbered and timed: a `sched_rr_get_interval` syscall "
                  "every {:.0f} ms (stats), or an exec of `/bin/true ebpf-startup-N` by a UID of its own every "
                  "{:.0f} ms (execs, events); the first marker a tool counts is the first made after its program "
                  "was attached, so this is the attach time to within one marker interval. For `map dump`, "
                  "first count is the whole dump: launch to exit. **Wall**: launch to exit, for the tools that "
                  "end by themselves (the others are stopped with SIGINT 1.5 s after launch). **Peak RSS**: "
                  "the child's `ru_maxrss` from `wait4`. The machine is shared with other jobs: absolute "
                  "times move between runs; comparisons hold within this run.\n\n",
                  rounds, kDumpRuns, kSyscallSpacing * 1000, kExecSpacing * 1000);
        md += "| job | tool | first count (ms) | wall (ms) | peak RSS (MiB) |\n|---|---|---:|---:|---:|\n";
        std::map<std::string, Row> ours;
        std::map<std::string, std::pair<std::string, Row>> best_first, best_rss;
        for (const auto& c : all) {
            Row r = row(c);
            md += fmt::format("| {} | {} | {} | {} | {:.1f} |\n", c.job, c.ours ? "**" + c.name + "**" : c.name,
                              ms(r.first), ms(r.wall), r.rss);
            if (c.ours) {
                ours[c.job] = r;
            } else if (c.name.find("before") == std::string::npos) {
                for (const std::string& job : {c.job, c.also_for}) {
                    if (job.empty()) continue;
                    if (!best_first.count(job) || r.first < best_first[job].second.first) best_first[job] = {c.name, r};
                    if (!best_rss.count(job) || r.rss < best_rss[job].second.rss) best_rss[job] = {c.name, r};
                }
            }
        }
        md +=
            "\n| job | ours: first count | fastest peer | × that peer | ours: peak RSS | leanest peer | × that peer |\n"
            "|---|---:|---|---:|---:|---|---:|\n";
        bool faster = true;
        for (const auto& [job, r] : ours) {
            const auto& [fname, f] = best_first[job];
            const auto& [mname, m] = best_rss[job];
            faster = faster && r.first < f.first;
            md += fmt::format("| {} | {} ms | {} ({} ms) | {:.2f} | {:.1f} MiB | {} ({:.1f} MiB) | {:.2f} |\n", job,
                              ms(r.first), fname, ms(f.first), r.first / f.first, r.rss, mname, m.rss, r.rss / m.rss);
            bench::summary_row("`" + job + "`: launch to first count", ms(r.first) + " ms",
                               fname + " " + ms(f.first) + " ms", r.first / f.first, "sooner than every peer (< 1×)",
                               r.first < f.first);
        }
        const double stats_rss = ours["stats"].rss;
        md += fmt::format(
            "\nGoals: a first count sooner than every peer's, in every job ({}); peak RSS of `ebpf-tool "
            "stats --duration 1` ≤ 12 MiB (now {:.1f} MiB: {}).\n",
            faster ? "met" : "missed", stats_rss, stats_rss <= 12.0 ? "met" : "missed");
        bench::summary_row("`stats --duration 1`: peak RSS", fmt::format("{:.1f} MiB", stats_rss),
                           fmt::format("{} {:.1f} MiB", best_rss["stats"].first, best_rss["stats"].second.rss),
                           stats_rss / best_rss["stats"].second.rss, "≤ 12 MiB", stats_rss <= 12.0);
        bench::write_section(report, "startup", md);
        std::cout << md;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "startup: " << e.what() << '\n';
        return 1;
    }
}
