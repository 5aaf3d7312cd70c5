#include "ebpf/object.hpp"

#include "ebpf/attach.hpp"
#include "ebpf/pin.hpp"
#include "ebpf/verifier.hpp"

#include <bpf/bpf.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>

namespace ebpf {

void Link::reset() noexcept {
    if (link_) bpf_link__destroy(std::exchange(link_, nullptr));
    fd_.reset();
    pin_path_.clear();
}

int Link::fd() const noexcept {
    return link_ ? bpf_link__fd(link_) : fd_.get();
}

Link Link::attach(::bpf_program* program) {
    errno = 0;
    ::bpf_link* link = bpf_program__attach(program);
    if (!link) {
        throw Error::sys(libbpf_errno(-errno), std::string("program '") + bpf_program__name(program) + "': attach to " +
                                                   bpf_program__section_name(program));
    }
    return Link(link);
}

Link Link::open_pinned(const std::string& path) {
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) throw Error::sys(libbpf_errno(fd), "link pin " + path + ": open");
    Link link{Fd(fd)};
    // bpf_obj_get opens any pinned object, and get-info answers for maps and programs too
    // (in their own layouts): only the fd's inode tells a link apart.
    char target[64] = {};
    std::string self = "/proc/self/fd/" + std::to_string(link.fd());
    ssize_t n = ::readlink(self.c_str(), target, sizeof(target) - 1);
    if (n < 0 || std::string_view(target, static_cast<std::size_t>(n)) != "anon_inode:bpf-link")
        throw Error::make(errc::not_an_object,
                          "link pin " + path + ": not a BPF link (" + (n < 0 ? "unknown" : target) + ")", EINVAL);
    link.pin_path_ = path;
    return link;
}

LinkInfo Link::info() const {
    if (!*this) throw Error::make(errc::misuse, "link: info of an empty link handle", EBADF);
    bpf_link_info raw{};
    std::uint32_t len = sizeof(raw);
    if (int ret = bpf_obj_get_info_by_fd(fd(), &raw, &len); ret) throw Error::sys(libbpf_errno(ret), "link: get info");
    return LinkInfo{raw.id, static_cast<bpf_link_type>(raw.type), raw.prog_id};
}

void Link::pin(const std::string& path) {
    if (!*this) throw Error::make(errc::misuse, "link: pin an empty link handle at " + path, EBADF);
    if (!pin_path_.empty())
        throw Error::make(errc::misuse, "link: pin at " + path + ": already pinned at " + pin_path_, EEXIST);
    if (int ret = bpf_obj_pin(fd(), path.c_str()); ret) throw Error::sys(libbpf_errno(ret), "link: pin at " + path);
    pin_path_ = path;
}

void Link::unpin() {
    if (pin_path_.empty()) return;
    if (::unlink(pin_path_.c_str()) != 0 && errno != ENOENT) throw Error::sys(errno, "link: unpin " + pin_path_);
    pin_path_.clear();
}

void Link::detach() {
    unpin();
    reset();
}

std::string Program::name() const {
    return bpf_program__name(program_);
}
std::string Program::section() const {
    return bpf_program__section_name(program_);
}
bpf_prog_type Program::type() const noexcept {
    return bpf_program__type(program_);
}
std::string Program::type_name() const {
    const char* name = libbpf_bpf_prog_type_str(type());
    return name ? name : "type " + std::to_string(static_cast<int>(type()));
}
bpf_attach_type Program::expected_attach_type() const noexcept {
    return bpf_program__expected_attach_type(program_);
}
bool Program::autoload() const noexcept {
    return bpf_program__autoload(program_);
}
void Program::set_autoload(bool on) {
    if (int ret = bpf_program__set_autoload(program_, on); ret)
        throw Error::sys(libbpf_errno(ret), "program '" + name() + "': set autoload (only before load)");
}
int Program::fd() const noexcept {
    int fd = bpf_program__fd(program_);  // -ENOENT (libbpf 1.x) before load
    return fd < 0 ? -1 : fd;
}
std::uint32_t Program::id() const {
    bpf_prog_info info{};
    std::uint32_t len = sizeof(info);
    if (int ret = bpf_obj_get_info_by_fd(fd(), &info, &len); ret)
        throw Error::sys(libbpf_errno(ret), "program '" + name() + "': get info (loaded?)");
    return info.id;
}
std::uint64_t Program::recursion_misses() const {
    return program_recursion_misses(program_);
}

std::uint64_t program_recursion_misses(const ::bpf_program* program) {
    bpf_prog_info info{};
    std::uint32_t len = sizeof(info);
    if (int ret = bpf_obj_get_info_by_fd(bpf_program__fd(program), &info, &len); ret)
        throw Error::sys(libbpf_errno(ret), std::string("program '") + bpf_program__name(program) + "': get info");
    return info.recursion_misses;
}

namespace {

// libbpf says LIBBPF_ERRNO__FORMAT both for a file that is not ELF at all and for an ELF
// file that is not a BPF object: look at the magic to tell the user which.
[[noreturn]] void open_failed(int err, const std::string& path, std::span<const std::byte> head) {
    if (err == LIBBPF_ERRNO__FORMAT || err == LIBBPF_ERRNO__LIBELF) {
        static constexpr unsigned char elf_magic[] = {0x7f, 'E', 'L', 'F'};
        bool elf = head.size() >= sizeof(elf_magic) && std::memcmp(head.data(), elf_magic, sizeof(elf_magic)) == 0;
        throw Error::make(
            errc::not_an_object,
            "open '" + path + "': " +
                (elf ? "not a BPF object (an ELF file, but not a relocatable object for BPF)" : "not an ELF file"),
            err);
    }
    throw Error::sys(err, "open '" + path + "'");
}

// An ELF file for the BPF machine (EM_BPF, 247: e_machine at offset 18, little-endian).
bool is_bpf_elf(std::span<const std::byte> head) {
    static constexpr unsigned char elf_magic[] = {0x7f, 'E', 'L', 'F'};
    return head.size() >= 20 && std::memcmp(head.data(), elf_magic, sizeof(elf_magic)) == 0 &&
           std::to_integer<unsigned>(head[18]) == 247 && std::to_integer<unsigned>(head[19]) == 0;
}

std::vector<std::byte> file_head(const std::string& path) {
    std::vector<std::byte> head(20);
    std::ifstream file(path, std::ios::binary);
    file.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(std::max<std::streamsize>(file.gcount(), 0)));
    return head;
}

}  // namespace

Object Object::open_file(const std::string& path) {
    if (::access(path.c_str(), R_OK) != 0) throw Error::sys(errno, "open '" + path + "'");
    // A FIFO or a device would block open() or feed libbpf an endless stream: refuse it here.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw Error::sys(errno, "open '" + path + "'");
    if (!S_ISREG(st.st_mode)) throw Error::make(errc::bad_value, "open '" + path + "': not a regular file");
    // libbpf 1.0 dropped SEC("maps") definitions and only says so in its log: name each
    // map and show what to write instead.
    if (auto legacy = legacy_map_definitions(path); !legacy.empty()) {
        std::string text = "object '" + path +
                           "' defines maps the legacy way (SEC(\"maps\"), struct bpf_map_def), "
                           "which libbpf 1.0 and later do not load; define them with BTF instead:";
        for (const auto& def : legacy) text += "\n\n" + btf_style_definition(def);
        throw Error::make(errc::not_supported, text);
    }
    errno = 0;
    ::bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
    if (!obj) {
        const int err = libbpf_errno(-errno);
        // libbpf cannot read BTF-defined maps without BTF and says only "No such file or
        // directory": name what is missing and how to get it.
        const auto head = file_head(path);
        auto sections = is_bpf_elf(head) ? elf_section_names(path) : std::vector<std::string>{};
        if (!sections.empty() && std::find(sections.begin(), sections.end(), ".BTF") == sections.end())
            throw Error::make(errc::not_supported,
                              "object '" + path +
                                  "' has no BTF (no .BTF section): compile it with -g "
                                  "(clang -g -O2 -target bpf -c …)",
                              err);
        open_failed(err, path, head);
    }
    return Object(obj);
}

Object Object::open_memory(std::span<const std::byte> bytes, const std::string& name) {
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name.c_str());
    errno = 0;
    ::bpf_object* obj = bpf_object__open_mem(bytes.data(), bytes.size(), &opts);
    if (!obj) open_failed(libbpf_errno(-errno), name, bytes);
    return Object(obj);
}

Object::~Object() = default;

std::string Object::name() const {
    return bpf_object__name(obj_.get());
}

void Object::load() {
    load_object(obj_.get(), name());
}

MapSpec spec_of(const ::bpf_map* map) {
    MapSpec spec;
    spec.type = bpf_map__type(map);
    spec.name = bpf_map__name(map);
    spec.key_size = bpf_map__key_size(map);
    spec.value_size = bpf_map__value_size(map);
    spec.max_entries = bpf_map__max_entries(map);
    // A perf_event_array defined without max_entries gets one slot per possible CPU when
    // libbpf creates it: that is the size a pin made from this object has.
    if (spec.type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && spec.max_entries == 0) {
        if (int cpus = libbpf_num_possible_cpus(); cpus > 0) spec.max_entries = static_cast<std::uint32_t>(cpus);
    }
    spec.flags = bpf_map__map_flags(map);
    spec.map_extra = bpf_map__map_extra(map);
    return spec;
}

void Object::reuse_pinned_maps(const std::string& dir) {
    // Only pins from a directory that nobody but the caller can write (pin.hpp).
    const std::string trusted = pins::trusted_dir(dir);
    for (::bpf_map* map : maps()) {
        if (bpf_map__is_internal(map)) continue;  // .data/.rodata/.bss belong to this object only
        std::string path = trusted + "/" + bpf_map__name(map);
        if (!pins::pin_present(path)) continue;
        MapSpec spec = spec_of(map);
        Map pinned = Map::open_pinned(path);
        if (auto diffs = spec.incompatibilities_text(pinned.info()); !diffs.empty())
            throw Error::make(errc::incompatible, "object '" + name() + "': map '" + spec.name +
                                                      "' cannot reuse the pin at " + path +
                                                      " (object != pinned): " + diffs);
        if (int ret = bpf_map__reuse_fd(map, pinned.fd()); ret)
            throw Error::sys(libbpf_errno(ret), "object '" + name() + "': map '" + spec.name + "': reuse " + path);
    }
}

void Object::pin_maps(const std::string& dir) {
    const std::string trusted = pins::trusted_dir(dir);
    for (::bpf_map* map : maps()) {
        if (bpf_map__is_internal(map)) continue;
        std::string path = trusted + "/" + bpf_map__name(map);
        if (pins::pin_present(path)) continue;
        if (int ret = bpf_map__pin(map, path.c_str()); ret)
            throw Error::sys(libbpf_errno(ret),
                             "object '" + name() + "': map '" + bpf_map__name(map) + "': pin at " + path);
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

Program Object::program(std::string_view name_) const {
    std::string wanted(name_);
    ::bpf_program* prog = bpf_object__find_program_by_name(obj_.get(), wanted.c_str());
    if (!prog) throw Error::make(errc::not_found, "object '" + name() + "': no program named '" + wanted + "'");
    return Program(prog);
}

::bpf_map* Object::libbpf_map(std::string_view name_) const {
    std::string wanted(name_);
    ::bpf_map* map = bpf_object__find_map_by_name(obj_.get(), wanted.c_str());
    if (!map) throw Error::make(errc::not_found, "object '" + name() + "': no map named '" + wanted + "'");
    return map;
}

std::vector<::bpf_map*> Object::maps() const {
    std::vector<::bpf_map*> out;
    ::bpf_map* map = nullptr;
    bpf_object__for_each_map(map, obj_.get()) out.push_back(map);
    return out;
}

std::vector<Program> Object::programs() const {
    std::vector<Program> out;
    ::bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, obj_.get()) out.emplace_back(prog);
    return out;
}

}  // namespace ebpf
