// `ebpf-tool run OBJ.bpf.o`: the user-space half of any libbpf-style object in one
// command — open, set its globals (--set), load (explaining a verifier's refusal), attach
// every program by its section (skipping, and saying so, those the kernel cannot run),
// stream its ring buffer and perf buffer records as they come, and print its maps and
// variables every interval until --duration, --count or Ctrl-C.
#include <fmt/format.h>
#include <net/if.h>
#include <poll.h>
#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <map>

#include "commands.hpp"
#include "ebpf/attach.hpp"
#include "ebpf/object.hpp"
#include "ebpf/pin.hpp"
#include "ebpf/system.hpp"
#include "ebpf/verifier.hpp"
#include "map_format.hpp"
#include "run_parts.hpp"

namespace ebpf_tool {

namespace {

struct RunOptions {
    std::string object;
    double interval = 1.0;
    std::optional<double> duration;
    std::optional<std::uint64_t> count;
    std::string pin_dir;
    std::string binary;
    std::string iface;
    bool json = false;
    std::vector<std::string> set;
    std::vector<std::string> event_types;
    std::string verifier_log;
    bool strict = false;
};

// Maps worth printing: state, not transport or configuration.
bool printable(const ebpf::MapInfo& info, const ::bpf_map* map) {
    // Global variables (.bss, .data, .rodata, .kconfig) are shown by name, not as maps.
    if (bpf_map__is_internal(map)) return false;
    // Local storage of cgroups (newer than the UAPI headers the switch knows): no walks.
    if (info.type_name() == "cgrp_storage") return false;
    switch (info.type) {
        case BPF_MAP_TYPE_RINGBUF:
        case BPF_MAP_TYPE_USER_RINGBUF:
        case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
        case BPF_MAP_TYPE_XSKMAP:        // slots user space cannot read (EOPNOTSUPP)
        case BPF_MAP_TYPE_CGROUP_ARRAY:
        case BPF_MAP_TYPE_QUEUE:
        case BPF_MAP_TYPE_STACK:
        case BPF_MAP_TYPE_BLOOM_FILTER:
        case BPF_MAP_TYPE_STRUCT_OPS:
        case BPF_MAP_TYPE_CGROUP_STORAGE:
        case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
        case BPF_MAP_TYPE_SK_STORAGE:
        case BPF_MAP_TYPE_TASK_STORAGE:
        case BPF_MAP_TYPE_INODE_STORAGE:
            return false;
        default:
            return true;
    }
}

// The privileges loading and attaching `object`'s programs take (the kernel's own split:
// tracing programs need CAP_PERFMON, networking ones CAP_NET_ADMIN; tracepoints are
// found by their ids in tracefs).
ebpf::system::Needs needs_of(const ebpf::Object& object) {
    ebpf::system::Needs needs{.bpf = true};
    for (const ebpf::Program& program : object.programs()) {
        if (!program.autoload()) continue;
        switch (program.type()) {
            case BPF_PROG_TYPE_TRACEPOINT:
                needs.tracefs = true;
                needs.perfmon = true;
                break;
            case BPF_PROG_TYPE_KPROBE:
            case BPF_PROG_TYPE_PERF_EVENT:
            case BPF_PROG_TYPE_RAW_TRACEPOINT:
            case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
            case BPF_PROG_TYPE_TRACING:
            case BPF_PROG_TYPE_LSM:
            case BPF_PROG_TYPE_STRUCT_OPS:
                needs.perfmon = true;
                break;
            case BPF_PROG_TYPE_SCHED_CLS:
            case BPF_PROG_TYPE_SCHED_ACT:
            case BPF_PROG_TYPE_XDP:
            case BPF_PROG_TYPE_LWT_IN:
            case BPF_PROG_TYPE_LWT_OUT:
            case BPF_PROG_TYPE_LWT_XMIT:
            case BPF_PROG_TYPE_LWT_SEG6LOCAL:
            case BPF_PROG_TYPE_SK_SKB:
            case BPF_PROG_TYPE_SK_MSG:
            case BPF_PROG_TYPE_FLOW_DISSECTOR:
            case BPF_PROG_TYPE_CGROUP_DEVICE:
            case BPF_PROG_TYPE_CGROUP_SOCK:
            case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
            case BPF_PROG_TYPE_CGROUP_SOCKOPT:
            case BPF_PROG_TYPE_CGROUP_SYSCTL:
            case BPF_PROG_TYPE_SOCK_OPS:
                needs.net_admin = true;
                break;
            default:
                break;
        }
    }
    return needs;
}

struct Shown {
    std::string name;  // as the object names it (.bss and .data included)
    ebpf::Map map;
    EntryFormatter format;
};

void print_maps(const std::vector<Shown>& maps, const run::Globals& globals, bool json, const GlobalOptions& global) {
    std::string out;
    if (json) {
        out = "{\"time\":" + json_string(iso_time());
        if (globals.showable()) out += ",\"variables\":" + globals.json();
        out += ",\"maps\":[";
        for (std::size_t m = 0; m < maps.size(); ++m) {
            const auto& s = maps[m];
            out += (m ? "," : "") + fmt::format("{{\"name\":{},\"type\":{},\"entries\":[", json_string(s.name),
                                                json_string(s.map.info().type_name()));
            bool first = true;
            static_cast<void>(s.map.walk([&](const std::byte* keys, const std::byte* values, std::size_t n) {
                for (std::size_t i = 0; i < n; ++i) {
                    if (!first) out += ',';
                    first = false;
                    s.format.append_json(out, {keys + i * s.map.info().key_size, s.map.info().key_size},
                                         {values + i * s.map.value_buffer_size(), s.map.value_buffer_size()});
                }
            }));
            out += "]}";
        }
        out += "]}";
        std::string shown;
        JsonWriter(shown, global.pretty).write(out);
        out = std::move(shown) + '\n';
    } else {
        out = clock_time() + "\n";
        if (globals.showable()) out += "variables\n" + globals.text();
        for (const auto& s : maps) {
            std::string body;
            std::size_t width = 0;
            std::vector<std::pair<std::vector<std::byte>, std::vector<std::byte>>> rows;
            auto result = s.map.walk([&](const std::byte* keys, const std::byte* values, std::size_t n) {
                for (std::size_t i = 0; i < n; ++i) {
                    const std::byte* k = keys + i * s.map.info().key_size;
                    const std::byte* v = values + i * s.map.value_buffer_size();
                    rows.emplace_back(std::vector<std::byte>(k, k + s.map.info().key_size),
                                      std::vector<std::byte>(v, v + s.map.value_buffer_size()));
                    width = std::max(width, s.format.key_text(rows.back().first).size());
                }
            });
            for (const auto& [k, v] : rows) {
                body += "  ";
                s.format.append_text(body, k, v, width);
            }
            out += fmt::format("{} ({}, {} entr{}{})\n", s.name, s.map.info().type_name(), result.entries,
                               result.entries == 1 ? "y" : "ies", result.complete ? "" : ", walk incomplete");
            out += body;
        }
    }
    std::cout << out << std::flush;
}

void check_targets(const RunOptions& options, ebpf::AttachTargets& targets) {
    targets.binary = options.binary;
    if (!options.iface.empty()) {
        targets.ifindex = static_cast<int>(if_nametoindex(options.iface.c_str()));
        if (!targets.ifindex) throw UsageError("--iface " + options.iface + ": no such network interface");
    }
    if (!options.binary.empty() && ::access(options.binary.c_str(), R_OK) != 0)
        throw UsageError("--binary " + options.binary + ": cannot read it");
    // A FIFO would block open() (with the stop signals already blocked): refuse anything
    // but a regular file before opening it.
    struct stat st {};
    if (::stat(options.object.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw UsageError("run: '" + options.object + "' is not a regular file (a BPF object file is)");
}

std::string describe(::bpf_program* program) {
    return fmt::format("{} (SEC(\"{}\"))", bpf_program__name(program), bpf_program__section_name(program));
}

// Programs whose section needs a kernel feature this kernel lacks are not loaded (their
// load could fail the whole object): the reason for each, by program. --strict refuses.
std::map<::bpf_program*, std::string> leave_out_unsupported(ebpf::Object& object, bool strict) {
    std::map<::bpf_program*, std::string> skipped;
    for (const ebpf::Program& handle : object.programs()) {
        ::bpf_program* program = handle.get();
        if (!bpf_program__autoload(program)) continue;
        auto missing = run::missing_kernel_feature(bpf_program__section_name(program));
        if (!missing) continue;
        if (strict)
            throw ebpf::Error::make(ebpf::errc::not_supported,
                                   "program " + describe(program) + ": " + *missing + " (--strict: nothing was loaded)",
                                   EOPNOTSUPP);
        bpf_program__set_autoload(program, false);
        skipped[program] = *missing;
    }
    return skipped;
}

void load(ebpf::Object& object, const RunOptions& options, const GlobalOptions& global) {
    try {
        object.load();
    } catch (const ebpf::VerifierError& e) {
        std::string where = "ebpf-tool -v run …, or --verifier-log FILE";
        if (!options.verifier_log.empty()) {
            std::ofstream out(options.verifier_log, std::ios::trunc);
            out << e.log();
            if (out.flush()) where = options.verifier_log;
        }
        if (global.verbose) std::cerr << e.log() << (e.log().empty() || e.log().back() == '\n' ? "" : "\n");
        throw ebpf::Error::make(ebpf::errc::rejected, std::string(e.what()) + "\n(the verifier's whole log: " + where + ")",
                                e.errno_value());
    }
}

void run_object(const RunOptions& options, const GlobalOptions& global) {
    const bool json = options.json || global.json;
    ebpf::AttachTargets targets;
    check_targets(options, targets);

    // Opening parses the file only; what loading and attaching will need is known from the
    // programs, and checked before anything reaches the kernel.
    ebpf::system::set_libbpf_logging(global.verbose);
    auto object = ebpf::Object::open_file(options.object);
    prepare_kernel(global, needs_of(object));
    std::string pin_dir;
    if (!options.pin_dir.empty()) pin_dir = ebpf::pins::make_trusted_dir(options.pin_dir);
    StopSignals signals;

    auto btf = run::object_btf(object.get());
    run::Globals globals(object.get(), btf ? &*btf : nullptr);
    for (const auto& assignment : options.set) globals.set(assignment);
    run::EventStreams events(object.get(), btf ? &*btf : nullptr, options.event_types, json, global.pretty);
    auto skipped = leave_out_unsupported(object, options.strict);

    if (!pin_dir.empty()) object.reuse_pinned_maps(pin_dir);
    load(object, options, global);
    if (!pin_dir.empty()) object.pin_maps(pin_dir);

    std::vector<ebpf::Attachment> attachments;
    std::vector<::bpf_program*> loaded;
    for (const ebpf::Program& handle : object.programs()) {
        ::bpf_program* program = handle.get();
        if (auto it = skipped.find(program); it != skipped.end()) {
            std::cerr << fmt::format("skipped {}: {}\n", describe(program), it->second);
            continue;
        }
        if (!bpf_program__autoload(program)) continue;
        loaded.push_back(program);
        auto a = ebpf::attach_by_section(program, targets);
        if (a.attached())
            std::cerr << fmt::format("attached {} to {}\n", handle.name(), a.where);
        else
            std::cerr << fmt::format("not attached: {}: {}\n", handle.name(), a.skipped_because);
        attachments.push_back(std::move(a));
    }

    std::vector<Shown> maps;
    for (::bpf_map* m : object.maps()) {
        auto handle = ebpf::Map::from_libbpf(m);
        if (!printable(handle.info(), m)) continue;
        EntryFormatter format(handle.info());
        maps.push_back({bpf_map__name(m), std::move(handle), std::move(format)});
    }
    const bool tables = !maps.empty() || globals.showable();
    std::vector<pollfd> fds{{signals.fd(), POLLIN, 0}};
    for (int fd : events.start()) fds.push_back({fd, POLLIN, 0});
    std::cerr << "Running " << options.object << "... Hit Ctrl-C to end." << std::endl;

    // Records as they come; maps and variables every interval. One poll waits for both,
    // and for the stop signals.
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto interval = seconds(options.interval);
    auto next_tick = start + interval;
    std::optional<clock::time_point> deadline;
    if (options.duration) deadline = start + seconds(*options.duration);
    std::uint64_t ticks = 0;
    for (;;) {
        auto wake = deadline && *deadline < next_tick ? *deadline : next_tick;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(wake - clock::now() + std::chrono::microseconds(999));
        int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(left.count(), 0, 1'000'000)));
        if (ready < 0 && errno != EINTR) throw ebpf::Error::sys(errno, "run: poll");
        if (fds[0].revents & POLLIN) signals.wait(std::chrono::nanoseconds::zero());
        if (ready > 0) events.consume();
        const auto now = clock::now();
        const bool over = signals.stopped() || (deadline && now >= *deadline);
        if (now >= next_tick || over) {
            ++ticks;
            const bool last = over || (options.count && ticks >= *options.count);
            if (tables) print_maps(maps, globals, json, global);
            if (last) break;
            next_tick += interval;
            if (next_tick < now) next_tick = now + interval;  // a slow print: skip missed ticks
        }
    }
    // Detach first, then take what the programs sent before that: those records count.
    attachments.clear();
    events.consume();
    if (!events.empty()) std::cerr << events.summary();
    std::uint64_t misses = 0;
    for (::bpf_program* program : loaded) misses += ebpf::program_recursion_misses(program);
    if (misses) std::cerr << fmt::format("runs the kernel skipped (program already running on that CPU): {}\n", misses);
    if (!options.pin_dir.empty()) std::cerr << "maps stay pinned in " << options.pin_dir << "\n";
}

}  // namespace

void add_run_command(CLI::App& app, const GlobalOptions& global) {
    auto options = std::make_shared<RunOptions>();
    auto* cmd = app.add_subcommand("run", "Load a BPF object, attach its programs, and print its maps every interval");
    cmd->add_option("object", options->object, "A libbpf-style BPF object (.bpf.o)")->required();
    cmd->add_option("-i,--interval", options->interval, "Seconds between prints")->check(kIntervalSeconds)->capture_default_str();
    cmd->add_option("-d,--duration", options->duration, "Seconds to run (default: until Ctrl-C)")->check(kPositiveSeconds);
    cmd->add_option("-c,--count", options->count, "Stop after N prints")->check(kPositiveInteger);
    cmd->add_option("--pin", options->pin_dir, "Pin the maps in this bpffs directory (reused next time; kept after exit)");
    cmd->add_option("--binary", options->binary, "Binary for SEC(\"uprobe/FUNC\") programs");
    cmd->add_option("--iface", options->iface, "Network interface for XDP and tc programs");
    cmd->add_flag("--json", options->json, "One JSON object per interval, one per event record");
    cmd->add_option("--set", options->set,
                    "NAME=VALUE: set a global variable (.rodata/.data/.bss) before load, typed by BTF (repeatable)");
    cmd->add_option("--event-type", options->event_types,
                    "[MAP=]TYPE: show the records of a ring buffer or perf event array as this BTF type (repeatable)");
    cmd->add_option("--verifier-log", options->verifier_log, "Write the verifier's whole log here when it rejects a program");
    cmd->add_flag("--strict", options->strict, "Refuse to run when a program needs a kernel feature that is missing");
    cmd->callback([options, &global] { run_object(*options, global); });
}

}  // namespace ebpf_tool
