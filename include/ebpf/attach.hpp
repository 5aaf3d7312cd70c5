// Attaching any program of an object by its section, the way `ebpf-tool run` does:
// tracepoints and raw tracepoints by name, uprobes to a binary, XDP and tc to a network
// interface. Every attachment is RAII: destroying it detaches the program (and removes a
// tc qdisc it created).
#pragma once

#include <bpf/libbpf.h>

#include <optional>
#include <string>
#include <variant>

#include "ebpf/object.hpp"

namespace ebpf {

// A tc filter; detaches on destruction, and removes the clsact qdisc if it made it.
class TcAttachment {
public:
    TcAttachment(int ifindex, bpf_tc_attach_point point, int prog_fd);
    TcAttachment(TcAttachment&& other) noexcept;
    TcAttachment& operator=(TcAttachment&&) = delete;
    TcAttachment(const TcAttachment&) = delete;
    ~TcAttachment();

private:
    int ifindex_ = 0;
    bpf_tc_attach_point point_ = BPF_TC_INGRESS;
    std::uint32_t handle_ = 0, priority_ = 0;
    bool created_qdisc_ = false;
    bool active_ = false;
};

struct AttachTargets {
    std::string binary;  // uprobes whose section names no binary: SEC("uprobe/FUNC")
    int ifindex = 0;     // XDP and tc programs
};

// What attach_by_section() did with one program.
struct Attachment {
    std::variant<std::monostate, Link, TcAttachment> handle;  // monostate: not attached
    std::string where;                                        // "tracepoint syscalls/sys_enter_execve", "xdp on eth0"
    std::string skipped_because;                              // why it was left unattached, if it was
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
