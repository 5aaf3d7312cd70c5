// Attaching any program of an object by its section, the way `ebpf-tool run` does:
// tracepoints and raw tracepoints by name, uprobes to a binary, XDP and tc to a network
// interface (XDP and tcx links). Every attachment is RAII: destroying it detaches the
// program, and the network ones are links that the kernel also detaches when the process
// dies, however it dies.
#pragma once

#include <bpf/libbpf.h>

#include <optional>
#include <string>
#include <variant>

#include "ebpf/fd.hpp"
#include "ebpf/object.hpp"

namespace ebpf {

// How an XDP program runs: in the driver (native) or on the generic skb path.
enum class XdpMode { native, generic };
// Where a tcx program runs on its interface.
enum class TcDirection { ingress, egress };

// A program attached to a network interface through a BPF link (XDP or tcx). The link
// belongs to its file descriptor: closing it detaches the program, and so does the
// kernel when the process ends, however it ends (SIGKILL included). Nothing is left on
// the interface: no qdisc, no filter, no XDP program.
class NetLink {
public:
    NetLink() = default;
    NetLink(Fd link, std::string where) noexcept : link_(std::move(link)), where_(std::move(where)) {}

    explicit operator bool() const noexcept { return static_cast<bool>(link_); }
    int fd() const noexcept { return link_.get(); }
    // "xdp (native) on eth0", "tcx ingress on eth0".
    const std::string& where() const noexcept { return where_; }

private:
    Fd link_;
    std::string where_;
};

// Attaches an XDP program to `ifindex` through a link. With no mode, native where the
// driver supports it and generic otherwise; where() names the mode it got. Throws Error
// (one line: interface, mode and the kernel's reason) when the interface cannot take it,
// e.g. an XDP program that is not ours is already attached there.
[[nodiscard]] NetLink attach_xdp(int prog_fd, int ifindex, std::optional<XdpMode> mode = std::nullopt);

// Attaches a SCHED_CLS program to `ifindex` through a tcx link (kernel 6.6+), after any
// tcx programs already there. Throws Error when the kernel has no tcx or refuses.
[[nodiscard]] NetLink attach_tcx(int prog_fd, int ifindex, TcDirection direction);

// The interface's name, or its index as text when it has none (any more).
std::string interface_name(int ifindex);

struct AttachTargets {
    std::string binary;  // uprobes whose section names no binary: SEC("uprobe/FUNC")
    int ifindex = 0;     // XDP and tc programs
};

// What attach_by_section() did with one program.
struct Attachment {
    std::variant<std::monostate, Link, NetLink> handle;  // monostate: not attached
    std::string where;                                   // "tracepoint syscalls/sys_enter_execve", "tcx ingress on lo"
    std::string skipped_because;                         // why it was left unattached, if it was
    bool attached() const noexcept { return handle.index() != 0; }
};

// Attaches `program` according to its section. Throws Error when attaching fails or
// when a target it needs (a binary, an interface) was not given; returns an unattached
// Attachment, with the reason, for program types this function cannot place (socket
// filters, cgroup programs: they need a target the section does not name).
[[nodiscard]] Attachment attach_by_section(::bpf_program* program, const AttachTargets& targets);

// A legacy map definition (SEC("maps"), struct bpf_map_def) found in an ELF object.
struct LegacyMapDef {
    std::string name;
    std::uint32_t type = 0, key_size = 0, value_size = 0, max_entries = 0, flags = 0;
};
// The legacy definitions in the object file at `path` (empty when it has none). libbpf
// 1.0 no longer loads them; Object::open_file uses this to say what to write instead.
std::vector<LegacyMapDef> legacy_map_definitions(const std::string& path);
// The BTF-style definition equivalent to `def`, as C source.
std::string btf_style_definition(const LegacyMapDef& def);

}  // namespace ebpf
