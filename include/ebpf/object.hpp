// BPF objects: a compiled .bpf.o (from a file, from memory, or embedded by a libbpf
// skeleton), its programs and its maps; and links, which keep a program attached for as
// long as they live. Everything here is RAII: when the owner goes, the kernel is clean.
#pragma once

#include <bpf/libbpf.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ebpf/error.hpp"
#include "ebpf/fd.hpp"
#include "ebpf/map.hpp"
#include "ebpf/verifier.hpp"

namespace ebpf {

// What the kernel says about a link (BPF_OBJ_GET_INFO_BY_FD on a link fd).
struct LinkInfo {
    std::uint32_t id = 0;
    bpf_link_type type = BPF_LINK_TYPE_UNSPEC;
    std::uint32_t program_id = 0;
};

// A program attachment: the program runs for as long as the Link lives (or its pin does).
// Made by Program::attach() / Link::attach(), by any bpf_program__attach_*() call (adopt
// the bpf_link*), or from a raw link fd (bpf_link_create, e.g. tcx or netkit, adopt the Fd).
// [[nodiscard]]: a Link dropped on the floor detaches at once, and 0 programs run.
class [[nodiscard]] Link {
public:
    Link() = default;
    // Adopts a libbpf link; bpf_link__destroy when this handle goes.
    explicit Link(::bpf_link* link) noexcept : link_(link) {}
    // Adopts a link fd made with bpf_link_create(); closed when this handle goes.
    explicit Link(Fd fd) noexcept : fd_(std::move(fd)) {}
    Link(Link&& other) noexcept
        : link_(std::exchange(other.link_, nullptr)),
          fd_(std::move(other.fd_)),
          pin_path_(std::move(other.pin_path_)) {}
    Link& operator=(Link&& other) noexcept {
        if (this != &other) {
            reset();
            link_ = std::exchange(other.link_, nullptr);
            fd_ = std::move(other.fd_);
            pin_path_ = std::move(other.pin_path_);
        }
        return *this;
    }
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;
    ~Link() { reset(); }

    // Attaches by the program's section name (tracepoint/…, raw_tp/…, …).
    static Link attach(::bpf_program* program);
    // A pinned link (this process's or another's). detach() removes the pin.
    static Link open_pinned(const std::string& path);

    explicit operator bool() const noexcept { return link_ != nullptr || static_cast<bool>(fd_); }
    // The link's fd; -1 for an empty handle.
    int fd() const noexcept;
    // The libbpf link, or nullptr for a link adopted from an fd or opened from a pin.
    ::bpf_link* get() const noexcept { return link_; }
    [[nodiscard]] LinkInfo info() const;

    // Pins the link at `path` (on bpffs): the attachment then outlives this handle and the
    // process, until the pin is removed (unpin(), detach(), or rm).
    void pin(const std::string& path);
    // Removes the pin this handle made or was opened from; the link stays while the handle lives.
    void unpin();
    // Where this handle pinned the link, or was opened from; empty when not pinned.
    const std::string& pin_path() const noexcept { return pin_path_; }
    // Ends the attachment now: removes this handle's pin (a pin keeps the link attached),
    // then releases the link. A pin made elsewhere, or another fd for it, still keeps it.
    void detach();
    // Releases this handle's reference without touching a pin: a pinned link stays attached.
    void reset() noexcept;

private:
    ::bpf_link* link_ = nullptr;
    Fd fd_;
    std::string pin_path_;
};

// A program of an Object: a view, valid while the Object lives (the Object owns it).
class Program {
public:
    explicit Program(::bpf_program* program) noexcept : program_(program) {}

    std::string name() const;
    // The ELF section it was defined in: "tracepoint/syscalls/sys_enter_execve", "xdp", …
    std::string section() const;
    bpf_prog_type type() const noexcept;
    // The kernel's name for the type ("tracepoint", "xdp", …).
    std::string type_name() const;
    bpf_attach_type expected_attach_type() const noexcept;
    // Before load: whether Object::load() loads it (and attach_all() attaches it).
    bool autoload() const noexcept;
    void set_autoload(bool on);
    // After load: the program's fd (owned by the Object; -1 when not loaded) and kernel id.
    int fd() const noexcept;
    std::uint32_t id() const;

    // Attaches by section name (libbpf's auto-attach); the program runs while the Link lives.
    [[nodiscard]] Link attach() const { return Link::attach(program_); }
    // Runs the kernel skipped because the program was already running on that CPU.
    std::uint64_t recursion_misses() const;

    ::bpf_program* get() const noexcept { return program_; }

private:
    ::bpf_program* program_;
};

// Runs of a loaded program that the kernel skipped because the program was already
// running on that CPU (bpf_prog_info.recursion_misses, kernel 5.12+): events not seen.
std::uint64_t program_recursion_misses(const ::bpf_program* program);

// A libbpf object that this handle owns (bpf_object__close on destruction).
class [[nodiscard]] Object {
public:
    static Object open_file(const std::string& path);
    // `bytes` must outlive the call only (libbpf copies them).
    static Object open_memory(std::span<const std::byte> bytes, const std::string& name);

    Object(Object&&) noexcept = default;
    Object& operator=(Object&&) noexcept = default;
    ~Object();

    // Throws VerifierError (the verdict and the instructions before it; log() has the
    // whole log) when the verifier rejects a program, Error for any other failure.
    void load();
    // Before load: every map of the object that has a pin named after it in `dir` reuses
    // that pinned map instead of creating a new one — after checking that the pin is the
    // same map (type, key size, value size, max_entries, flags). A mismatch throws Error
    // naming the map, each field that differs and both values. `dir` must be a trusted pin
    // directory (pin.hpp: the caller's, writable by nobody else, no symlinks in it), and a
    // pin of another kind (a program, a link) is refused by name.
    void reuse_pinned_maps(const std::string& dir);
    // After load: pins every map at dir/NAME (maps already pinned there are left as is),
    // in a trusted pin directory only.
    void pin_maps(const std::string& dir);
    // Attaches every program whose autoload is on, by its section name; the programs run
    // while the returned links live (ignoring the result detaches them at once).
    [[nodiscard("the programs are detached when the links go")]] std::vector<Link> attach_all();

    ::bpf_object* get() const noexcept { return obj_.get(); }
    std::string name() const;
    // A program by its function name; throws when the object has none by that name.
    Program program(std::string_view name) const;
    ::bpf_map* libbpf_map(std::string_view name) const;
    // A map of the loaded object as a handle of type H (HashMap<K,V>, Map, …): the map
    // type and both sizes are checked, and the handle holds its own reference.
    template <class H = Map>
    H map(std::string_view name) const {
        if constexpr (std::is_same_v<H, Map>)
            return Map::from_libbpf(libbpf_map(name));
        else
            return H::from_libbpf(libbpf_map(name));
    }
    std::vector<::bpf_map*> maps() const;
    // Every program, in the object's order.
    std::vector<Program> programs() const;

private:
    struct Close {
        void operator()(::bpf_object* obj) const noexcept { bpf_object__close(obj); }
    };
    explicit Object(::bpf_object* obj) : obj_(obj) {}
    std::unique_ptr<::bpf_object, Close> obj_;
};

// What the object will create for `map` (before load): type, sizes, entries, flags.
MapSpec spec_of(const ::bpf_map* map);

// Binds a bpftool-generated skeleton type to its functions. Use EBPF_SKELETON(name_bpf)
// once, at namespace scope, after including name.skel.h.
template <class Skel>
struct SkeletonTraits;

#define EBPF_SKELETON(skel)                                                                            \
    template <>                                                                                        \
    struct ebpf::SkeletonTraits<skel> {                                                                \
        static constexpr const char* name = #skel;                                                     \
        static skel* open(const struct bpf_object_open_opts* opts) { return skel##__open_opts(opts); } \
        static int load(skel* s) { return skel##__load(s); }                                           \
        static int attach(skel* s) { return skel##__attach(s); }                                       \
        static void destroy(skel* s) { skel##__destroy(s); }                                           \
    }

// Owns a skeleton: open → (set rodata, choose programs) → load → attach, and on
// destruction every link is detached and every program and map released.
template <class Skel>
class [[nodiscard]] Skeleton {
    using Traits = SkeletonTraits<Skel>;

public:
    static Skeleton open() {
        errno = 0;
        Skel* s = Traits::open(nullptr);
        if (!s) throw Error::sys(errno ? errno : EINVAL, std::string("object '") + Traits::name + "': open");
        return Skeleton(s);
    }
    // Throws VerifierError when the verifier rejects a program (as Object::load does).
    void load() {
        load_object(skel_->obj, Traits::name, [this] { return Traits::load(skel_.get()); });
    }
    // Attaches every program whose autoload is on.
    void attach() {
        if (int err = Traits::attach(skel_.get()); err)
            throw Error::sys(err, std::string("object '") + Traits::name + "': attach");
    }

    Skel* operator->() const noexcept { return skel_.get(); }
    Skel* get() const noexcept { return skel_.get(); }

private:
    struct Destroy {
        void operator()(Skel* s) const noexcept { Traits::destroy(s); }
    };
    explicit Skeleton(Skel* s) : skel_(s) {}
    std::unique_ptr<Skel, Destroy> skel_;
};

}  // namespace ebpf
