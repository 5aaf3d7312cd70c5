#include "ebpf/attach.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <bpf/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "ebpf/error.hpp"
#include "ebpf/fd.hpp"
#include "ebpf/map.hpp"

namespace ebpf {

// libbpf 1.1 predates tcx (kernel 6.6): its headers may lack the attach types, which the
// kernel numbers 46 and 47 for good (UAPI).
constexpr int kTcxIngress = 46;
constexpr int kTcxEgress = 47;
#ifndef XDP_FLAGS_SKB_MODE
#define XDP_FLAGS_SKB_MODE (1U << 1)
#define XDP_FLAGS_DRV_MODE (1U << 2)
#endif

std::string interface_name(int ifindex) {
    char name[IF_NAMESIZE] = {};
    return if_indextoname(static_cast<unsigned>(ifindex), name) ? name : std::to_string(ifindex);
}

namespace {

// One link_create; the fd or -errno.
int link_create(int prog_fd, int ifindex, int attach_type, std::uint32_t flags) {
    LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
    errno = 0;
    int fd = bpf_link_create(prog_fd, ifindex, static_cast<bpf_attach_type>(attach_type), &opts);
    return fd >= 0 ? fd : -libbpf_errno(fd);
}

std::string xdp_refusal(int err, const std::string& iface, const char* mode) {
    std::string why = std::strerror(err);
    if (err == EBUSY || err == EEXIST) why = "another XDP program is already attached there";
    return std::string("xdp (") + mode + ") on " + iface + ": " + why;
}

}  // namespace

namespace {
// The kind of a failed network attachment, by its errno.
errc attach_kind(int errno_value) {
    switch (errno_value) {
        case EPERM:
        case EACCES: return errc::permission;
        case EOPNOTSUPP:
        case EINVAL: return errc::not_supported;
        case ENODEV: return errc::not_found;
        default: return errc::system;
    }
}
}  // namespace

NetLink attach_xdp(int prog_fd, int ifindex, std::optional<XdpMode> mode) {
    const std::string iface = interface_name(ifindex);
    if (!mode || *mode == XdpMode::native) {
        int fd = link_create(prog_fd, ifindex, BPF_XDP, XDP_FLAGS_DRV_MODE);
        if (fd >= 0) return NetLink(Fd(fd), "xdp (native) on " + iface);
        // A driver without XDP says EOPNOTSUPP; anything else (busy, bad program) is not
        // cured by the generic path, so it is reported as it is.
        if (mode || (-fd != EOPNOTSUPP && -fd != EINVAL))
            throw Error::make(attach_kind(-fd), xdp_refusal(-fd, iface, "native"), -fd);
    }
    int fd = link_create(prog_fd, ifindex, BPF_XDP, XDP_FLAGS_SKB_MODE);
    if (fd < 0) throw Error::make(attach_kind(-fd), xdp_refusal(-fd, iface, "generic"), -fd);
    return NetLink(Fd(fd), "xdp (generic) on " + iface);
}

NetLink attach_tcx(int prog_fd, int ifindex, TcDirection direction) {
    const std::string where = std::string("tcx ") + (direction == TcDirection::egress ? "egress" : "ingress") + " on " +
                              interface_name(ifindex);
    int fd = link_create(prog_fd, ifindex, direction == TcDirection::egress ? kTcxEgress : kTcxIngress, 0);
    if (fd < 0) {
        std::string why = std::strerror(-fd);
        if (-fd == EINVAL) why += " (does the kernel have tcx, 6.6 or later?)";
        throw Error::make(attach_kind(-fd), where + ": " + why, -fd);
    }
    return NetLink(Fd(fd), where);
}

namespace {

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

Attachment attach_by_section(::bpf_program* program, const AttachTargets& targets) {
    const std::string section = bpf_program__section_name(program);
    const std::string name = bpf_program__name(program);
    Attachment a;
    auto need = [&](bool have, const char* what) {
        if (!have)
            throw Error::make(errc::bad_value, "program '" + name + "' (SEC(\"" + section + "\")) needs " + what);
    };
    if (starts_with(section, "xdp")) {
        need(targets.ifindex > 0, "a network interface (--iface)");
        auto& link = a.handle.emplace<NetLink>(attach_xdp(bpf_program__fd(program), targets.ifindex));
        a.where = link.where();
        return a;
    }
    if (section == "tc" || starts_with(section, "tc/") || starts_with(section, "classifier")) {
        need(targets.ifindex > 0, "a network interface (--iface)");
        auto direction = section.find("egress") != std::string::npos ? TcDirection::egress : TcDirection::ingress;
        auto& link = a.handle.emplace<NetLink>(attach_tcx(bpf_program__fd(program), targets.ifindex, direction));
        a.where = link.where();
        return a;
    }
    if (starts_with(section, "uprobe/") || starts_with(section, "uretprobe/")) {
        // SEC("uprobe/FUNC"): the function of --binary. (SEC("uprobe//path:func") names
        // its binary and goes through libbpf's own attach below.)
        std::string rest = section.substr(section.find('/') + 1);
        if (!starts_with(rest, "/")) {
            need(!targets.binary.empty(), "a binary (--binary) for its uprobe");
            LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = starts_with(section, "uretprobe"), .func_name = rest.c_str());
            errno = 0;
            ::bpf_link* link = bpf_program__attach_uprobe_opts(program, -1, targets.binary.c_str(), 0, &opts);
            if (!link)
                throw Error::sys(libbpf_errno(0),
                                 "program '" + name + "': attach uprobe to " + targets.binary + ":" + rest);
            a.handle.emplace<Link>(link);
            a.where = section.substr(0, section.find('/')) + " " + targets.binary + ":" + rest;
            return a;
        }
    }
    const bool auto_attachable = starts_with(section, "tracepoint/") || starts_with(section, "tp/") ||
                                 starts_with(section, "raw_tp/") || starts_with(section, "raw_tracepoint/") ||
                                 starts_with(section, "uprobe") || starts_with(section, "uretprobe") ||
                                 starts_with(section, "usdt") || starts_with(section, "kprobe") ||
                                 starts_with(section, "kretprobe") || starts_with(section, "perf_event") ||
                                 starts_with(section, "fentry") || starts_with(section, "fexit") ||
                                 starts_with(section, "tp_btf") || starts_with(section, "lsm") ||
                                 starts_with(section, "iter");
    if (!auto_attachable) {
        a.skipped_because = "ebpf-tool cannot tell where to attach SEC(\"" + section + "\") programs";
        return a;
    }
    a.handle.emplace<Link>(Link::attach(program));
    a.where = section;
    return a;
}

std::vector<LegacyMapDef> legacy_map_definitions(const std::string& path) {
    std::vector<LegacyMapDef> defs;
    if (elf_version(EV_CURRENT) == EV_NONE) return defs;
    // O_NONBLOCK and a regular-file check: a FIFO given as an object must not block here.
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return defs;
    std::unique_ptr<Elf, decltype(&elf_end)> elf(elf_begin(fd.get(), ELF_C_READ, nullptr), &elf_end);
    if (!elf) return defs;
    std::size_t shstrndx = 0;
    if (elf_getshdrstrndx(elf.get(), &shstrndx)) return defs;
    Elf_Scn* maps = nullptr;
    Elf_Scn* symtab = nullptr;
    std::size_t maps_index = 0;
    for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn; scn = elf_nextscn(elf.get(), scn)) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr)) continue;
        const char* name = elf_strptr(elf.get(), shstrndx, shdr.sh_name);
        if (name && std::strcmp(name, "maps") == 0) {
            maps = scn;
            maps_index = elf_ndxscn(scn);
        }
        if (shdr.sh_type == SHT_SYMTAB) symtab = scn;
    }
    if (!maps || !symtab) return defs;
    Elf_Data* map_data = elf_getdata(maps, nullptr);
    Elf_Data* sym_data = elf_getdata(symtab, nullptr);
    GElf_Shdr symtab_hdr;
    if (!map_data || !sym_data || !gelf_getshdr(symtab, &symtab_hdr)) return defs;
    std::size_t count = symtab_hdr.sh_entsize ? symtab_hdr.sh_size / symtab_hdr.sh_entsize : 0;
    for (std::size_t i = 0; i < count; ++i) {
        GElf_Sym sym;
        if (!gelf_getsym(sym_data, static_cast<int>(i), &sym) || sym.st_shndx != maps_index) continue;
        if (GELF_ST_TYPE(sym.st_info) == STT_SECTION) continue;
        const char* name = elf_strptr(elf.get(), symtab_hdr.sh_link, sym.st_name);
        std::uint32_t fields[5] = {};
        // A SHT_NOBITS section has no bytes (d_buf is null): its definitions are all zero.
        std::size_t available =
            map_data->d_buf && sym.st_value < map_data->d_size ? map_data->d_size - sym.st_value : 0;
        if (available)
            std::memcpy(fields, static_cast<const char*>(map_data->d_buf) + sym.st_value,
                        std::min(sizeof(fields), available));
        defs.push_back({name ? name : "?", fields[0], fields[1], fields[2], fields[3], fields[4]});
    }
    return defs;
}

std::string btf_style_definition(const LegacyMapDef& def) {
    auto type = map_type_name(static_cast<bpf_map_type>(def.type));
    std::string upper;
    for (char c : type) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto sized = [](std::uint32_t size) -> std::string {
        switch (size) {
            case 1: return "__u8";
            case 2: return "__u16";
            case 4: return "__u32";
            case 8: return "__u64";
            default: return "char[" + std::to_string(size) + "]";
        }
    };
    std::string out = "struct {\n    __uint(type, BPF_MAP_TYPE_" + upper + ");\n    __uint(max_entries, " +
                      std::to_string(def.max_entries) + ");\n";
    auto field = [&](const char* what, std::uint32_t size) {
        std::string t = sized(size);
        if (t.back() == ']')
            out += "    __uint(" + std::string(what) + "_size, " + std::to_string(size) + ");\n";
        else
            out += "    __type(" + std::string(what) + ", " + t + ");\n";
    };
    if (def.key_size) field("key", def.key_size);
    if (def.value_size) field("value", def.value_size);
    if (def.flags) out += "    __uint(map_flags, " + std::to_string(def.flags) + ");\n";
    out += "} " + def.name + " SEC(\".maps\");";
    return out;
}

}  // namespace ebpf
