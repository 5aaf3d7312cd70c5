#include "ebpf/object.hpp"

#include "ebpf/attach.hpp"
#include "ebpf/verifier.hpp"

#include <bpf/bpf.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ebpf {

void Link::reset() noexcept {
    if (link_) bpf_link__destroy(std::exchange(link_, nullptr));
}

Link Link::attach(::bpf_program* program) {
    errno = 0;
    ::bpf_link* link = bpf_program__attach(program);
    if (!link) {
        throw_error(libbpf_errno(-errno), std::string("program '") + bpf_program__name(program) + "': attach to " +
                                          bpf_program__section_name(program));
    }
    return Link(link);
}

std::uint64_t program_recursion_misses(const ::bpf_program* program) {
    bpf_prog_info info{};
    std::uint32_t len = sizeof(info);
    if (int ret = bpf_obj_get_info_by_fd(bpf_program__fd(program), &info, &len); ret)
        throw_error(libbpf_errno(ret), std::string("program '") + bpf_program__name(program) + "': get info");
    return info.recursion_misses;
}

Object Object::open_file(const std::string& path) {
    if (::access(path.c_str(), R_OK) != 0) throw_error(errno, "object '" + path + "': open");
    // libbpf 1.0 dropped SEC("maps") definitions and only says so in its log: name each
    // map and show what to write instead.
    if (auto legacy = legacy_map_definitions(path); !legacy.empty()) {
        std::string text = "object '" + path + "' defines maps the legacy way (SEC(\"maps\"), struct bpf_map_def), "
                           "which libbpf 1.0 and later do not load; define them with BTF instead:";
        for (const auto& def : legacy) text += "\n\n" + btf_style_definition(def);
        throw Error::with_message(EINVAL, text);
    }
    errno = 0;
    ::bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
    if (!obj) {
        const int err = libbpf_errno(-errno);
        // libbpf cannot read BTF-defined maps without BTF and says only "No such file or
        // directory": name what is missing and how to get it.
        auto sections = elf_section_names(path);
        if (!sections.empty() && std::find(sections.begin(), sections.end(), ".BTF") == sections.end())
            throw Error::with_message(err, "object '" + path + "' has no BTF (no .BTF section): compile it with -g "
                                           "(clang -g -O2 -target bpf -c …)");
        throw_error(err, "object '" + path + "': open");
    }
    return Object(obj);
}

Object Object::open_memory(std::span<const std::byte> bytes, const std::string& name) {
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name.c_str());
    errno = 0;
    ::bpf_object* obj = bpf_object__open_mem(bytes.data(), bytes.size(), &opts);
    if (!obj) throw_error(libbpf_errno(-errno), "object '" + name + "': open");
    return Object(obj);
}

Object::~Object() = default;

std::string Object::name() const { return bpf_object__name(obj_.get()); }

void Object::load() { load_object(obj_.get(), name()); }

MapSpec spec_of(const ::bpf_map* map) {
    MapSpec spec;
    spec.type = bpf_map__type(map);
    spec.name = bpf_map__name(map);
    spec.key_size = bpf_map__key_size(map);
    spec.value_size = bpf_map__value_size(map);
    spec.max_entries = bpf_map__max_entries(map);
    spec.flags = bpf_map__map_flags(map);
    spec.map_extra = bpf_map__map_extra(map);
    return spec;
}

void Object::reuse_pinned_maps(const std::string& dir) {
    for (::bpf_map* map : maps()) {
        if (bpf_map__is_internal(map)) continue;  // .data/.rodata/.bss belong to this object only
        std::string path = dir + "/" + bpf_map__name(map);
        if (::access(path.c_str(), F_OK) != 0) continue;
        MapSpec spec = spec_of(map);
        Map pinned = Map::open_pinned(path);
        if (auto diffs = spec.incompatibilities_text(pinned.info()); !diffs.empty())
            throw Error("object '" + name() + "': map '" + spec.name + "' cannot reuse the pin at " + path +
                        " (object != pinned): " + diffs);
        if (int ret = bpf_map__reuse_fd(map, pinned.fd()); ret)
            throw_error(libbpf_errno(ret), "object '" + name() + "': map '" + spec.name + "': reuse " + path);
    }
}

void Object::pin_maps(const std::string& dir) {
    for (::bpf_map* map : maps()) {
        if (bpf_map__is_internal(map)) continue;
        std::string path = dir + "/" + bpf_map__name(map);
        if (::access(path.c_str(), F_OK) == 0) continue;
        if (int ret = bpf_map__pin(map, path.c_str()); ret)
            throw_error(libbpf_errno(ret), "object '" + name() + "': map '" + bpf_map__name(map) + "': pin at " + path);
    }
}

std::vector<Link> Object::attach_all() {
    std::vector<Link> links;
    ::bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, obj_.get()) {
        if (!bpf_program__autoload(prog)) continue;
        links.push_back(Link::attach(prog));
    }
    return links;
}

::bpf_program* Object::program(std::string_view name_) const {
    std::string wanted(name_);
    ::bpf_program* prog = bpf_object__find_program_by_name(obj_.get(), wanted.c_str());
    if (!prog) throw Error(ENOENT, "object '" + name() + "': no program named '" + wanted + "'");
    return prog;
}

::bpf_map* Object::libbpf_map(std::string_view name_) const {
    std::string wanted(name_);
    ::bpf_map* map = bpf_object__find_map_by_name(obj_.get(), wanted.c_str());
    if (!map) throw Error(ENOENT, "object '" + name() + "': no map named '" + wanted + "'");
    return map;
}

std::vector<::bpf_map*> Object::maps() const {
    std::vector<::bpf_map*> out;
    ::bpf_map* map = nullptr;
    bpf_object__for_each_map(map, obj_.get()) out.push_back(map);
    return out;
}

std::vector<::bpf_program*> Object::programs() const {
    std::vector<::bpf_program*> out;
    ::bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, obj_.get()) out.push_back(prog);
    return out;
}

}  // namespace ebpf
