// `run`'s global variables (--set, and .bss/.data by name each interval) and the kernel
// features a program's section needs.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ebpf/error.hpp"
#include "ebpf/fd.hpp"
#include "map_format.hpp"
#include "run_parts.hpp"

namespace ebpf_tool::run {

std::optional<ebpf::Btf> object_btf(::bpf_object* object) {
    const ::btf* b = bpf_object__btf(object);
    if (!b) return std::nullopt;
    std::uint32_t size = 0;
    const void* data = btf__raw_data(b, &size);
    if (!data) return std::nullopt;
    ::btf* copy = btf__new(data, size);
    if (!copy) return std::nullopt;
    return ebpf::Btf(copy);
}

namespace {

bool starts_with(const std::string& s, std::string_view prefix) {
    return s.rfind(prefix, 0) == 0;
}

// The section an internal map holds: libbpf names it "<object prefix><section>", e.g.
// "counter.rodata" for .rodata, or the section alone for custom ones (".data.cfg").
std::string section_of(const ::bpf_map* map) {
    std::string name = bpf_map__name(map);
    auto dot = name.find('.');
    return dot == std::string::npos ? name : name.substr(dot);
}

bool is_char_array(const ::btf* b, std::uint32_t type_id) {
    int id = btf__resolve_type(b, type_id);
    if (id < 0) return false;
    const btf_type* t = btf__type_by_id(b, static_cast<std::uint32_t>(id));
    if (!t || !btf_is_array(t)) return false;
    int elem = btf__resolve_type(b, btf_array(t)->type);
    const btf_type* e = elem < 0 ? nullptr : btf__type_by_id(b, static_cast<std::uint32_t>(elem));
    return e && btf_is_int(e) && e->size == 1;
}

}  // namespace

Globals::Globals(::bpf_object* object, const ebpf::Btf* btf) : btf_(btf) {
    if (!btf) return;
    std::map<std::string, ::bpf_map*> sections;
    ::bpf_map* map = nullptr;
    bpf_object__for_each_map(map, object) {
        if (bpf_map__is_internal(map)) sections[section_of(map)] = map;
    }
    const ::btf* b = btf->get();
    for (std::uint32_t id = 1; id < btf__type_cnt(b); ++id) {
        const btf_type* t = btf__type_by_id(b, id);
        if (!btf_is_datasec(t)) continue;
        std::string section = btf__name_by_offset(b, t->name_off);
        auto found = sections.find(section);
        if (found == sections.end()) continue;  // .kconfig, .ksyms: not ours to show or set
        const btf_var_secinfo* vars = btf_var_secinfos(t);
        for (std::uint16_t i = 0; i < btf_vlen(t); ++i) {
            const btf_type* var = btf__type_by_id(b, vars[i].type);
            if (!var || !btf_is_var(var)) continue;
            // A pointer means nothing to user space; such globals only keep a type's BTF
            // in the object (struct event *unused __attribute__((unused));).
            int resolved = btf__resolve_type(b, var->type);
            if (resolved > 0 && btf_is_ptr(btf__type_by_id(b, static_cast<std::uint32_t>(resolved)))) continue;
            Variable v{btf__name_by_offset(b, var->name_off),
                       section,
                       found->second,
                       vars[i].offset,
                       vars[i].size,
                       var->type,
                       nullptr};
            try {
                auto format = std::make_shared<ebpf::BtfFormatter>(*btf, var->type);
                if (format->size() == v.size) v.format = std::move(format);
            } catch (const ebpf::Error&) {
                // A type without a layout we can format: shown as bytes.
            }
            variables_.push_back(std::move(v));
        }
    }
}

void Globals::set(const std::string& assignment) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--set " + assignment + ": must be NAME=VALUE");
    const std::string name = assignment.substr(0, eq), text = assignment.substr(eq + 1);
    if (!btf_)
        throw UsageError("--set " + name + ": the object has no BTF to find its variables by: compile it with -g");
    const Variable* var = nullptr;
    std::string known;
    for (const auto& v : variables_) {
        if (v.name == name) var = &v;
        known += (known.empty() ? "" : ", ") + v.name;
    }
    if (!var)
        throw UsageError("--set " + name + ": the object has no global variable '" + name + "' (" +
                         (known.empty() ? "it has none" : "its variables: " + known) + ")");
    // A char array takes the text as it is; other types take JSON (42, "NAME", {...}), and
    // a bare word that is not JSON is a string (an enum name).
    nlohmann::json value;
    if (is_char_array(btf_->get(), var->type_id)) {
        value = text;
    } else {
        value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (value.is_discarded()) value = text;
    }
    std::vector<std::byte> bytes;
    try {
        bytes = ebpf::btf_parse(*btf_, var->type_id, value);
    } catch (const ebpf::Error& e) {
        throw UsageError("--set " + assignment + ": " + e.what() + " (" + btf_->type_name(var->type_id) + " " + name +
                         ")");
    }
    if (bytes.size() != var->size)
        throw UsageError(fmt::format("--set {}: {} bytes for a {}-byte variable", assignment, bytes.size(), var->size));
    std::size_t size = 0;
    const void* initial = bpf_map__initial_value(var->map, &size);
    if (!initial || var->offset + var->size > size)
        throw ebpf::Error::make(ebpf::errc::not_supported,
                                "--set " + name + ": the initial value of " + var->section + " is not available");
    std::vector<std::byte> data(static_cast<const std::byte*>(initial), static_cast<const std::byte*>(initial) + size);
    std::memcpy(data.data() + var->offset, bytes.data(), bytes.size());
    if (int ret = bpf_map__set_initial_value(var->map, data.data(), data.size()); ret)
        throw ebpf::Error::sys(ebpf::libbpf_errno(ret), "--set " + name + ": set the initial value of " + var->section);
}

bool Globals::shown(const Variable& v) const {
    // .rodata is what --set gave (or the compiled-in value): constant, not worth a line
    // each interval.
    return starts_with(v.section, ".bss") || starts_with(v.section, ".data");
}

bool Globals::showable() const {
    for (const auto& v : variables_)
        if (shown(v)) return true;
    return false;
}

std::vector<std::byte> Globals::read(const Variable& v, std::map<::bpf_map*, std::vector<std::byte>>& cache) const {
    auto it = cache.find(v.map);
    if (it == cache.end()) {
        std::vector<std::byte> value(bpf_map__value_size(v.map));
        std::uint32_t key = 0;
        if (bpf_map_lookup_elem(bpf_map__fd(v.map), &key, value.data()) != 0)
            throw ebpf::Error::sys(errno, "map '" + std::string(bpf_map__name(v.map)) + "': lookup");
        it = cache.emplace(v.map, std::move(value)).first;
    }
    const auto& value = it->second;
    if (v.offset + v.size > value.size()) return {};
    return {value.begin() + v.offset, value.begin() + v.offset + v.size};
}

std::string Globals::text() const {
    std::map<::bpf_map*, std::vector<std::byte>> cache;
    std::string out;
    for (const auto& v : variables_) {
        if (!shown(v)) continue;
        auto bytes = read(v, cache);
        out += "  " + v.name + " = ";
        if (v.format && bytes.size() == v.format->size())
            v.format->append(out, bytes, ebpf::Style::text);
        else
            append_hex_text(out, bytes);
        out += '\n';
    }
    return out;
}

std::string Globals::json() const {
    std::map<::bpf_map*, std::vector<std::byte>> cache;
    std::string out = "{";
    bool first = true;
    for (const auto& v : variables_) {
        if (!shown(v)) continue;
        auto bytes = read(v, cache);
        out += (first ? "" : ",") + nlohmann::json(v.name).dump() + ":";
        first = false;
        if (v.format && bytes.size() == v.format->size())
            v.format->append(out, bytes, ebpf::Style::json);
        else
            append_hex_json(out, bytes);
    }
    return out + "}";
}

namespace {

bool exists(const char* path) {
    return ::access(path, F_OK) == 0;
}

// Whether the kernel can load and attach an fentry program: load a two-instruction one
// on bpf_fentry_test1 (which only BPF_PROG_TEST_RUN calls) and attach it, once.
std::optional<std::string> trampolines_missing() {
    static const std::optional<std::string> answer = []() -> std::optional<std::string> {
        ::btf* vmlinux = btf__load_vmlinux_btf();
        if (!vmlinux) return "this kernel has no BTF (/sys/kernel/btf/vmlinux), which fentry/fexit programs need";
        int id = btf__find_by_name_kind(vmlinux, "bpf_fentry_test1", BTF_KIND_FUNC);
        btf__free(vmlinux);
        if (id < 0) return std::nullopt;  // cannot tell: let the load and attach speak
        bpf_insn insns[2] = {};
        insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r0 = 0
        insns[1].code = BPF_JMP | BPF_EXIT;
        LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY,
                    .attach_btf_id = static_cast<std::uint32_t>(id));
        ebpf::Fd prog(bpf_prog_load(BPF_PROG_TYPE_TRACING, "fentry_probe", "GPL", insns, 2, &opts));
        if (!prog)
            return fmt::format("this kernel cannot load fentry/fexit programs (BPF trampolines: {})",
                               std::strerror(errno));
        ebpf::Fd link(bpf_link_create(prog.get(), 0, BPF_TRACE_FENTRY, nullptr));
        if (!link)
            return fmt::format("this kernel cannot attach fentry/fexit programs (BPF trampolines: {})",
                               std::strerror(errno));
        return std::nullopt;
    }();
    return answer;
}

}  // namespace

std::optional<std::string> missing_kernel_feature(const std::string& section) {
    auto kind = section.substr(0, section.find('/'));
    if (kind == "kprobe" || kind == "kretprobe" || kind == "ksyscall" || kind == "kretsyscall" ||
        kind == "kprobe.multi" || kind == "kretprobe.multi") {
        // libbpf attaches kprobes through the kprobe PMU, or tracefs' kprobe_events on old kernels.
        if (exists("/sys/bus/event_source/devices/kprobe/type") || exists("/sys/kernel/tracing/kprobe_events") ||
            exists("/sys/kernel/debug/tracing/kprobe_events"))
            return std::nullopt;
        return "this kernel has no kprobes (built without CONFIG_KPROBES: no kprobe PMU, no kprobe_events)";
    }
    if (kind == "fentry" || kind == "fexit" || kind == "fmod_ret" || kind == "fentry.s" || kind == "fexit.s" ||
        kind == "fmod_ret.s")
        return trampolines_missing();
    return std::nullopt;
}

}  // namespace ebpf_tool::run
