// `ebpf-tool run OBJ.bpf.o`: the user-space half of any libbpf-style object in one
// command — open, load, attach every program by its section, and print every map of the
// object, BTF-formatted, every interval until --duration or Ctrl-C.
#include <fmt/format.h>
#include <net/if.h>
#include <sys/stat.h>

#include <iostream>

#include "commands.hpp"
#include "ebpf/attach.hpp"
#include "ebpf/object.hpp"
#include "ebpf/pin.hpp"
#include "ebpf/system.hpp"
#include "map_format.hpp"

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
};

// Maps worth printing: state, not transport or configuration.
bool printable(const ebpf::MapInfo& info, const ::bpf_map* map) {
    std::string name = bpf_map__name(map);
    if (name.find(".rodata") != std::string::npos || name.find(".kconfig") != std::string::npos) return false;
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

void print_maps(const std::vector<Shown>& maps, bool json, const GlobalOptions& global) {
    std::string out;
    if (json) {
        out = "{\"time\":" + json_string(iso_time()) + ",\"maps\":[";
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

void run_object(const RunOptions& options, const GlobalOptions& global) {
    ebpf::AttachTargets targets;
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

    // Opening parses the file only; what loading and attaching will need is known from the
    // programs, and checked before anything reaches the kernel.
    ebpf::system::set_libbpf_logging(global.verbose);
    auto object = ebpf::Object::open_file(options.object);
    prepare_kernel(global, needs_of(object));
    std::string pin_dir;
    if (!options.pin_dir.empty()) pin_dir = ebpf::pins::make_trusted_dir(options.pin_dir);
    StopSignals signals;

    if (!pin_dir.empty()) object.reuse_pinned_maps(pin_dir);
    object.load();
    if (!pin_dir.empty()) object.pin_maps(pin_dir);

    std::vector<ebpf::Attachment> attachments;
    for (const ebpf::Program& program : object.programs()) {
        auto a = ebpf::attach_by_section(program.get(), targets);
        if (a.attached())
            std::cerr << fmt::format("attached {} to {}\n", program.name(), a.where);
        else
            std::cerr << fmt::format("not attached: {}: {}\n", program.name(), a.skipped_because);
        attachments.push_back(std::move(a));
    }

    std::vector<Shown> maps;
    for (::bpf_map* m : object.maps()) {
        auto handle = ebpf::Map::from_libbpf(m);
        if (!printable(handle.info(), m)) continue;
        EntryFormatter format(handle.info());
        maps.push_back({bpf_map__name(m), std::move(handle), std::move(format)});
    }
    std::cerr << "Running " << options.object << "... Hit Ctrl-C to end." << std::endl;

    IntervalLoop loop(signals, seconds(options.interval),
                      options.duration ? std::optional(seconds(*options.duration)) : std::nullopt, options.count);
    for (;;) {
        bool more = loop.next();
        print_maps(maps, options.json || global.json, global);
        if (!more) break;
    }
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
    cmd->add_flag("--json", options->json, "One JSON object per interval");
    cmd->callback([options, &global] { run_object(*options, global); });
}

}  // namespace ebpf_tool
