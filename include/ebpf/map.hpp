// The untyped core of every map handle: an owned map fd plus the kernel's description of
// the map. Typed handles (hash_map.hpp, array.hpp, percpu.hpp …) are thin templates over
// it, so the syscalls, the error messages and the sharp edges live in one place.
#pragma once

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "ebpf/error.hpp"
#include "ebpf/fd.hpp"

struct bpf_map;

namespace ebpf {

// What the kernel says about a map (BPF_OBJ_GET_INFO_BY_FD).
struct MapInfo {
    std::uint32_t id = 0;
    std::string name;
    bpf_map_type type = BPF_MAP_TYPE_UNSPEC;
    std::uint32_t key_size = 0;
    std::uint32_t value_size = 0;
    std::uint32_t max_entries = 0;
    std::uint32_t flags = 0;
    std::uint64_t map_extra = 0;
    std::uint32_t btf_id = 0;
    std::uint32_t btf_key_type_id = 0;
    std::uint32_t btf_value_type_id = 0;
    std::uint32_t btf_vmlinux_value_type_id = 0;

    // The kernel's name for the type, as bpftool prints it ("hash", "percpu_array" …).
    std::string type_name() const;
};

// The kernel's name for a map type ("lru_percpu_hash"), and back.
std::string map_type_name(bpf_map_type type);
std::optional<bpf_map_type> map_type_from_name(std::string_view name);

// True for the types whose values are one slot per possible CPU.
bool is_percpu(bpf_map_type type) noexcept;
// Bytes between two CPUs' values in a per-CPU map's value buffer: the kernel puts each
// CPU's value at an 8-byte boundary. The one place this rule is written.
constexpr std::size_t percpu_value_stride(std::size_t value_size) noexcept {
    return (value_size + 7) / 8 * 8;
}

// Everything needed to create a map at run time, and to check that an existing map
// (a pin being reused) is the same map.
struct MapSpec {
    bpf_map_type type = BPF_MAP_TYPE_HASH;
    std::string name;
    std::uint32_t key_size = 0;
    std::uint32_t value_size = 0;
    std::uint32_t max_entries = 0;
    std::uint32_t flags = 0;
    std::uint64_t map_extra = 0;   // bloom filter: number of hash functions
    int inner_map_fd = -1;         // map-of-maps: a template inner map
    std::optional<int> numa_node;  // with BPF_F_NUMA_NODE
    int btf_fd = -1;               // optional BTF describing key and value
    std::uint32_t btf_key_type_id = 0;
    std::uint32_t btf_value_type_id = 0;
    std::uint32_t btf_vmlinux_value_type_id = 0;

    // The fields every map has; the rest keep their defaults.
    static MapSpec make(bpf_map_type type, std::string name, std::uint32_t key_size, std::uint32_t value_size,
                        std::uint32_t max_entries, std::uint32_t flags = 0) {
        MapSpec spec;
        spec.type = type;
        spec.name = std::move(name);
        spec.key_size = key_size;
        spec.value_size = value_size;
        spec.max_entries = max_entries;
        spec.flags = flags;
        return spec;
    }

    // Every field in which `info` differs from this spec, as "key_size: 4 != 8" (spec
    // first, map second); empty when compatible. Checks type, key size, value size,
    // max_entries and flags.
    std::vector<std::string> incompatibilities(const MapInfo& info) const;
    // The same, joined for a message ("key_size: 4 != 8, max_entries: 10 != 20"); empty
    // when compatible.
    std::string incompatibilities_text(const MapInfo& info) const;
};

// BPF_ANY / BPF_NOEXIST / BPF_EXIST, optionally with BPF_F_LOCK.
enum class UpdateFlags : std::uint64_t {
    any = BPF_ANY,
    no_exist = BPF_NOEXIST,  // create only: errc::key_exists when present
    exist = BPF_EXIST,       // replace only: errc::key_not_found when missing
    lock = BPF_F_LOCK,       // with a bpf_spin_lock in the value
};
constexpr UpdateFlags operator|(UpdateFlags a, UpdateFlags b) {
    return static_cast<UpdateFlags>(static_cast<std::uint64_t>(a) | static_cast<std::uint64_t>(b));
}

// How a walk over a map ended. A walk is bounded: it never loops forever or repeats a
// key, even while other processes delete keys under it.
// [[nodiscard]]: a walk that stopped at its bound must not pass for a whole map.
struct [[nodiscard]] WalkResult {
    std::size_t entries = 0;  // entries delivered
    bool complete = true;     // false: stopped at the bound before the end of the map
    bool batched = true;      // false: BPF_MAP_LOOKUP_BATCH unsupported, get_next_key used
};

class Map {
public:
    // Adopts `fd` and reads the map's info from the kernel.
    explicit Map(Fd fd);

    [[nodiscard]] static Map open_by_id(std::uint32_t id);
    // A pinned map. A pinned program or link is refused by kind: Error "'PATH' is a
    // program, not a map".
    [[nodiscard]] static Map open_pinned(const std::string& path);
    // The same, with a read-only fd (BPF_F_RDONLY): lookups and walks work, every write
    // fails in the kernel — for readers that must not change the map (`serve`).
    [[nodiscard]] static Map open_pinned_read_only(const std::string& path);
    // Opens a pin only if it is the map `expected` describes (type, key size, value size,
    // max_entries, flags); otherwise throws Error naming every field that differs.
    [[nodiscard]] static Map open_pinned(const std::string& path, const MapSpec& expected);
    // The one map in the kernel with this name (names are cut to 15 characters by the
    // kernel, and so is `name` before comparing). Throws when none or several match.
    [[nodiscard]] static Map open_by_name(std::string_view name);
    // A libbpf map of a loaded object; the handle holds its own reference (a dup).
    [[nodiscard]] static Map from_libbpf(const ::bpf_map* map);
    [[nodiscard]] static Map create(const MapSpec& spec);

    // Every map in the kernel, by id (maps that vanish while listed are skipped).
    [[nodiscard]] static std::vector<MapInfo> list();

    const MapInfo& info() const noexcept { return info_; }
    const std::string& name() const noexcept { return info_.name; }
    bpf_map_type type() const noexcept { return info_.type; }
    int fd() const noexcept { return fd_.get(); }
    // Re-reads the info (frozen state and ids do not change; this is for the name).
    void refresh_info();

    // Bytes one value takes in user space: value_size, or for per-CPU maps
    // round_up(value_size, 8) × possible CPUs.
    std::size_t value_buffer_size() const noexcept { return value_buffer_size_; }
    // Bytes between two CPUs' values in that buffer (percpu_value_stride); value_size for
    // maps that are not per-CPU.
    std::size_t value_stride() const noexcept {
        return is_percpu(info_.type) ? percpu_value_stride(info_.value_size) : info_.value_size;
    }

    // Raw operations on buffers of key_size / value_buffer_size() bytes.
    // lookup: false when the key is missing (not an error).
    // The success paths of lookup and update are inline: one call between the caller and
    // the syscall (each extra call measured 5–7 ns here); failures go out of line.
    bool lookup(const void* key, void* value, std::uint64_t flags = 0) const {
        int ret = bpf_map_lookup_elem_flags(fd(), key, value, flags);
        return ret == 0 || lookup_failed(ret);
    }
    // Failures: errc::key_exists (no_exist), key_not_found (exist), map_full (E2BIG from
    // a hash), out_of_range (an index past an array's end), not_supported, permission.
    void update(const void* key, const void* value, UpdateFlags flags = UpdateFlags::any) {
        int ret = bpf_map_update_elem(fd(), key, value, static_cast<std::uint64_t>(flags));
        if (ret) update_failed(ret, key);
    }
    // false when the key was missing.
    bool erase(const void* key);
    // false at the end of the map. `key` null: the first key.
    bool next_key(const void* key, void* next) const;
    // Lookup and delete in one step (hash maps); false when the key was missing.
    bool take(const void* key, void* value);
    // Keyless maps. push: queue, stack, bloom filter (errc::map_full when full); pop: queue,
    // stack (false when empty); peek: queue, stack, or a bloom filter test (false when
    // empty / not in the filter). On any other map type: errc::wrong_type.
    void push(const void* value, UpdateFlags flags = UpdateFlags::any);
    bool pop(void* value);
    bool peek(void* value) const;

    // Pins at `path`, which must be on bpffs in a directory nobody else can rename or
    // replace (pin.hpp: owned by root or the caller, not others-writable unless sticky).
    void pin(const std::string& path) const;
    static void unpin(const std::string& path);
    // After freeze, user space can no longer write the map (BPF programs still can).
    void freeze();

    // Walks every entry: `visit(keys, values, n)` receives chunks of n entries, keys with a
    // stride of key_size and values with a stride of value_buffer_size(). Uses
    // BPF_MAP_LOOKUP_BATCH (growing the batch when a hash bucket does not fit, ENOSPC)
    // and falls back to a bounded, de-duplicated get_next_key walk.
    using ChunkVisitor = std::function<void(const std::byte* keys, const std::byte* values, std::size_t n)>;
    WalkResult walk(const ChunkVisitor& visit, std::size_t batch_size = 4096) const;

    // Batch update/delete: `n` keys (and values) laid out back to back. Atomic per
    // element, not as a whole; returns how many the kernel processed before an error.
    std::size_t update_batch(const void* keys, const void* values, std::size_t n, UpdateFlags flags = UpdateFlags::any);
    std::size_t erase_batch(const void* keys, std::size_t n);
    // Reads and removes every entry (BPF_MAP_LOOKUP_AND_DELETE_BATCH where supported).
    WalkResult drain(const ChunkVisitor& visit, std::size_t batch_size = 4096);

    // The get_next_key walk on its own, one entry per chunk: for map types without batch
    // lookups (walk() falls back to it by itself). Remembers delivered keys, so a key
    // deleted under it (which makes the kernel restart from the first key) causes no
    // repeats, and stops after 2 × max_entries + 16 steps with complete = false.
    WalkResult walk_by_next_key(const ChunkVisitor& visit) const;

    // "map 'name'" for messages.
    std::string describe() const;

private:
    // bpf_map_lookup_batch or bpf_map_lookup_and_delete_batch.
    using BatchCall = int (*)(int fd, void* in_batch, void* out_batch, void* keys, void* values, std::uint32_t* count,
                              const bpf_map_batch_opts* opts);
    // The batched loop walk() and drain() share; nullopt when the kernel has no batch
    // support for this map (the caller falls back to get_next_key).
    std::optional<WalkResult> batched(BatchCall call, const char* operation, const ChunkVisitor& visit,
                                      std::size_t batch_size) const;
    // false for a missing key; throws for any other failure.
    [[gnu::cold]] bool lookup_failed(int ret) const;
    [[noreturn, gnu::cold]] void update_failed(int ret, const void* key) const;
    // Throws the Error for a failed `operation`, or wrong_type before the syscall.
    [[noreturn, gnu::cold]] void failed(std::string_view operation, int err, const void* key = nullptr) const;
    // Compacts a batch to the keys not yet in `seen`; returns how many remain.
    std::size_t drop_repeats(std::byte* keys, std::byte* values, std::size_t n,
                             std::unordered_set<std::string>& seen) const;

    Fd fd_;
    MapInfo info_;
    std::size_t value_buffer_size_ = 0;
};

// Reads a map's info from a map fd.
MapInfo map_info(int fd);

namespace detail {
// The Error a map operation that failed with `err` throws: the one translation from the
// kernel's errno to errc and text ("map 'h' is full (8 of 8 entries; E2BIG)"). `key`,
// when given, names an array index. Public so that tests can check every errno of every
// operation, including those the kernel does not produce on demand.
Error map_error(const MapInfo& info, std::string_view operation, int err, const void* key = nullptr);
}  // namespace detail

}  // namespace ebpf
