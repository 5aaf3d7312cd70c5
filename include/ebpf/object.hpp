// BPF objects: a compiled .bpf.o (from a file, from memory, or embedded by a libbpf
// skeleton), its programs and its maps; and links, which keep a program attached for as
// long as they live. Everything here is RAII: when the owner goes, the kernel is clean.
#pragma once

#include <bpf/libbpf.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ebpf/error.hpp"
#include "ebpf/map.hpp"
#include "ebpf/verifier.hpp"

namespace ebpf {

// A program attachment; detaches on destruction.
class Link {
public:
    Link() = default;
    explicit Link(::bpf_link* link) noexcept : link_(link) {}
    Link(Link&& other) noexcept : link_(std::exchange(other.link_, nullptr)) {}
    Link& operator=(Link&& other) noexcept {
        if (this != &other) {
            reset();
            link_ = std::exchange(other.link_, nullptr);
        }
        return *this;
    }
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;
    ~Link() { reset(); }

    // Attaches by the program's section name (tracepoint/…, raw_tp/…, …).
    static Link attach(::bpf_program* program);

    explicit operator bool() const noexcept { return link_ != nullptr; }
    ::bpf_link* get() const noexcept { return link_; }
    void reset() noexcept;

private:
    ::bpf_link* link_ = nullptr;
};

// Runs of a loaded program that the kernel skipped because the program was already
// running on that CPU (bpf_prog_info.recursion_misses, kernel 5.12+): events not seen.
std::uint64_t program_recursion_misses(const ::bpf_program* program);

// A libbpf object that this handle owns (bpf_object__close on destruction).
class Object {
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
    // naming the map, each field that differs and both values.
    void reuse_pinned_maps(const std::string& dir);
    // After load: pins every map at dir/NAME (maps already pinned there are left as is).
    void pin_maps(const std::string& dir);
    // Attaches every program that libbpf can attach from its section name.
    std::vector<Link> attach_all();

    ::bpf_object* get() const noexcept { return obj_.get(); }
    std::string name() const;
    ::bpf_program* program(std::string_view name) const;
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
    std::vector<::bpf_program*> programs() const;

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

#define EBPF_SKELETON(skel)                                                                  \
    template <>                                                                              \
    struct ebpf::SkeletonTraits<skel> {                                                      \
        static constexpr const char* name = #skel;                                           \
        static skel* open(const struct bpf_object_open_opts* opts) { return skel##__open_opts(opts); } \
        static int load(skel* s) { return skel##__load(s); }                               \
        static int attach(skel* s) { return skel##__attach(s); }                            \
        static void destroy(skel* s) { skel##__destroy(s); }                                \
    }

// Owns a skeleton: open → (set rodata, choose programs) → load → attach, and on
// destruction every link is detached and every program and map released.
template <class Skel>
class Skeleton {
    using Traits = SkeletonTraits<Skel>;

public:
    static Skeleton open() {
        errno = 0;
        Skel* s = Traits::open(nullptr);
        if (!s) throw_error(errno ? errno : EINVAL, std::string("object '") + Traits::name + "': open");
        return Skeleton(s);
    }
    // Throws VerifierError when the verifier rejects a program (as Object::load does).
    void load() {
        load_object(skel_->obj, Traits::name, [this] { return Traits::load(skel_.get()); });
    }
    // Attaches every program whose autoload is on.
    void attach() {
        if (int err = Traits::attach(skel_.get()); err)
            throw_error(err, std::string("object '") + Traits::name + "': attach");
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
