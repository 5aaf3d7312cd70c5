#include "ebpf/map.hpp"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <unordered_set>
#include <utility>

#include "ebpf/error.hpp"
#include "ebpf/pin.hpp"
#include "ebpf/system.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

namespace {

struct TypeName {
    bpf_map_type type;
    const char* name;
};

// The kernel's names, as bpftool spells them.
constexpr std::array kTypeNames{
    TypeName{BPF_MAP_TYPE_UNSPEC, "unspec"},
    TypeName{BPF_MAP_TYPE_HASH, "hash"},
    TypeName{BPF_MAP_TYPE_ARRAY, "array"},
    TypeName{BPF_MAP_TYPE_PROG_ARRAY, "prog_array"},
    TypeName{BPF_MAP_TYPE_PERF_EVENT_ARRAY, "perf_event_array"},
    TypeName{BPF_MAP_TYPE_PERCPU_HASH, "percpu_hash"},
    TypeName{BPF_MAP_TYPE_PERCPU_ARRAY, "percpu_array"},
    TypeName{BPF_MAP_TYPE_STACK_TRACE, "stack_trace"},
    TypeName{BPF_MAP_TYPE_CGROUP_ARRAY, "cgroup_array"},
    TypeName{BPF_MAP_TYPE_LRU_HASH, "lru_hash"},
    TypeName{BPF_MAP_TYPE_LRU_PERCPU_HASH, "lru_percpu_hash"},
    TypeName{BPF_MAP_TYPE_LPM_TRIE, "lpm_trie"},
    TypeName{BPF_MAP_TYPE_ARRAY_OF_MAPS, "array_of_maps"},
    TypeName{BPF_MAP_TYPE_HASH_OF_MAPS, "hash_of_maps"},
    TypeName{BPF_MAP_TYPE_DEVMAP, "devmap"},
    TypeName{BPF_MAP_TYPE_SOCKMAP, "sockmap"},
    TypeName{BPF_MAP_TYPE_CPUMAP, "cpumap"},
    TypeName{BPF_MAP_TYPE_XSKMAP, "xskmap"},
    TypeName{BPF_MAP_TYPE_SOCKHASH, "sockhash"},
    TypeName{BPF_MAP_TYPE_CGROUP_STORAGE, "cgroup_storage"},
    TypeName{BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, "reuseport_sockarray"},
    TypeName{BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, "percpu_cgroup_storage"},
    TypeName{BPF_MAP_TYPE_QUEUE, "queue"},
    TypeName{BPF_MAP_TYPE_STACK, "stack"},
    TypeName{BPF_MAP_TYPE_SK_STORAGE, "sk_storage"},
    TypeName{BPF_MAP_TYPE_DEVMAP_HASH, "devmap_hash"},
    TypeName{BPF_MAP_TYPE_STRUCT_OPS, "struct_ops"},
    TypeName{BPF_MAP_TYPE_RINGBUF, "ringbuf"},
    TypeName{BPF_MAP_TYPE_INODE_STORAGE, "inode_storage"},
    TypeName{BPF_MAP_TYPE_TASK_STORAGE, "task_storage"},
    TypeName{BPF_MAP_TYPE_BLOOM_FILTER, "bloom_filter"},
    TypeName{BPF_MAP_TYPE_USER_RINGBUF, "user_ringbuf"},
};

// Size of the opaque batch cursor: hash maps use a u32 bucket index, arrays a key.
std::size_t batch_cursor_size(const MapInfo& info) {
    return std::max<std::size_t>(info.key_size, sizeof(std::uint64_t));
}

}  // namespace

std::string map_type_name(bpf_map_type type) {
    for (const auto& t : kTypeNames)
        if (t.type == type) return t.name;
    return "type_" + std::to_string(static_cast<unsigned>(type));
}

std::optional<bpf_map_type> map_type_from_name(std::string_view name) {
    for (const auto& t : kTypeNames)
        if (name == t.name && t.type != BPF_MAP_TYPE_UNSPEC) return t.type;
    return std::nullopt;
}

std::string MapInfo::type_name() const { return map_type_name(type); }

bool is_percpu(bpf_map_type type) noexcept {
    switch (type) {
        case BPF_MAP_TYPE_PERCPU_HASH:
        case BPF_MAP_TYPE_PERCPU_ARRAY:
        case BPF_MAP_TYPE_LRU_PERCPU_HASH:
        case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
            return true;
        default:
            return false;
    }
}

unsigned possible_cpus() {
    static const unsigned n = [] {
        int cpus = libbpf_num_possible_cpus();
        if (cpus <= 0) throw_error(cpus, "possible CPUs: read /sys/devices/system/cpu/possible");
        return static_cast<unsigned>(cpus);
    }();
    return n;
}

std::vector<std::string> MapSpec::incompatibilities(const MapInfo& info) const {
    std::vector<std::string> out;
    auto differ = [&](const char* field, auto want, auto have) {
        if (want != have) out.push_back(std::string(field) + ": " + std::to_string(want) + " != " + std::to_string(have));
    };
    if (type != info.type) out.push_back("type: " + map_type_name(type) + " != " + map_type_name(info.type));
    differ("key_size", key_size, info.key_size);
    differ("value_size", value_size, info.value_size);
    differ("max_entries", max_entries, info.max_entries);
    differ("flags", flags, info.flags);
    return out;
}

std::string MapSpec::incompatibilities_text(const MapInfo& info) const {
    std::string text;
    for (const auto& d : incompatibilities(info)) text += (text.empty() ? "" : ", ") + d;
    return text;
}

MapInfo map_info(int fd) {
    bpf_map_info raw{};
    std::uint32_t len = sizeof(raw);
    if (int ret = bpf_obj_get_info_by_fd(fd, &raw, &len); ret) throw_error(libbpf_errno(ret), "map fd " + std::to_string(fd) + ": get info");
    MapInfo info;
    info.id = raw.id;
    info.name = raw.name;
    info.type = static_cast<bpf_map_type>(raw.type);
    info.key_size = raw.key_size;
    info.value_size = raw.value_size;
    info.max_entries = raw.max_entries;
    info.flags = raw.map_flags;
    info.map_extra = raw.map_extra;
    info.btf_id = raw.btf_id;
    info.btf_key_type_id = raw.btf_key_type_id;
    info.btf_value_type_id = raw.btf_value_type_id;
    info.btf_vmlinux_value_type_id = raw.btf_vmlinux_value_type_id;
    return info;
}

Fd Fd::duplicate(int fd) {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) throw_error(errno, "dup fd " + std::to_string(fd));
    return Fd(copy);
}

Map::Map(Fd fd) : fd_(std::move(fd)), info_(map_info(fd_.get())) {
    value_buffer_size_ = is_percpu(info_.type) ? (info_.value_size + 7) / 8 * 8 * possible_cpus() : info_.value_size;
}

void Map::refresh_info() { info_ = map_info(fd_.get()); }

std::string Map::describe() const { return "map '" + info_.name + "'"; }

Map Map::open_by_id(std::uint32_t id) {
    int fd = bpf_map_get_fd_by_id(id);
    if (fd < 0) {
        int err = libbpf_errno(fd);
        throw_error(err, err == ENOENT ? "map id " + std::to_string(id) + ": no such map" : "map id " + std::to_string(id) + ": open");
    }
    return Map(Fd(fd));
}

Map Map::open_pinned(const std::string& path) {
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) throw_error(libbpf_errno(fd), "pinned map '" + path + "': open");
    Fd owned(fd);
    // bpf_obj_get opens pinned programs and links too, and their info read as map info
    // looks like a map (a tracepoint program's type is percpu_hash's number): ask the
    // kernel what the fd is before reading any info.
    if (auto kind = object_kind(owned.get()); kind != ObjectKind::map)
        throw Error("'" + path + "' is " + std::string(object_kind_text(kind)) + ", not a map");
    return Map(std::move(owned));
}

Map Map::open_pinned(const std::string& path, const MapSpec& expected) {
    Map map = open_pinned(path);
    if (auto diffs = expected.incompatibilities_text(map.info()); !diffs.empty())
        throw Error("pinned map '" + path + "' does not match (expected != pinned): " + diffs);
    return map;
}

Map Map::open_by_name(std::string_view name) {
    std::string wanted(name.substr(0, BPF_OBJ_NAME_LEN - 1));
    std::vector<std::uint32_t> ids;
    for (const auto& info : list())
        if (info.name == wanted) ids.push_back(info.id);
    if (ids.empty()) throw Error(ENOENT, "map name '" + wanted + "': no such map");
    if (ids.size() > 1) {
        std::string list_text;
        for (auto id : ids) list_text += (list_text.empty() ? "" : ", ") + std::to_string(id);
        throw Error("map name '" + wanted + "' is ambiguous: maps " + list_text + " have it (select by id)");
    }
    return open_by_id(ids.front());
}

Map Map::from_libbpf(const ::bpf_map* map) {
    int fd = bpf_map__fd(map);
    if (fd < 0) throw Error(EBADF, std::string("map '") + bpf_map__name(map) + "': not loaded");
    return Map(Fd::duplicate(fd));
}

Map Map::create(const MapSpec& spec) {
    LIBBPF_OPTS(bpf_map_create_opts, opts);
    opts.map_flags = spec.flags;
    opts.map_extra = spec.map_extra;
    if (spec.inner_map_fd >= 0) opts.inner_map_fd = static_cast<std::uint32_t>(spec.inner_map_fd);
    if (spec.numa_node) {
        opts.numa_node = static_cast<std::uint32_t>(*spec.numa_node);
        opts.map_flags |= BPF_F_NUMA_NODE;
    }
    if (spec.btf_fd >= 0) {
        opts.btf_fd = static_cast<std::uint32_t>(spec.btf_fd);
        opts.btf_key_type_id = spec.btf_key_type_id;
        opts.btf_value_type_id = spec.btf_value_type_id;
        opts.btf_vmlinux_value_type_id = spec.btf_vmlinux_value_type_id;
    }
    const char* name = spec.name.empty() ? nullptr : spec.name.c_str();
    int fd = bpf_map_create(spec.type, name, spec.key_size, spec.value_size, spec.max_entries, &opts);
    if (fd < 0)
        throw_error(libbpf_errno(fd), "map '" + spec.name + "': create " + map_type_name(spec.type) + " (key " +
                                      std::to_string(spec.key_size) + ", value " + std::to_string(spec.value_size) +
                                      ", entries " + std::to_string(spec.max_entries) + ")");
    return Map(Fd(fd));
}

std::vector<MapInfo> Map::list() {
    std::vector<MapInfo> out;
    std::uint32_t id = 0;
    for (;;) {
        int ret = bpf_map_get_next_id(id, &id);
        if (ret) {
            int err = libbpf_errno(ret);
            if (err == ENOENT) break;
            throw_error(err, "list maps: get next id");
        }
        int fd = bpf_map_get_fd_by_id(id);
        if (fd < 0) {
            if (libbpf_errno(fd) == ENOENT) continue;  // freed while we listed
            throw_error(libbpf_errno(fd), "list maps: open map id " + std::to_string(id));
        }
        Fd owned(fd);
        out.push_back(map_info(owned.get()));
    }
    return out;
}

bool Map::lookup_failed(int ret) const {
    int err = libbpf_errno(ret);
    if (err == ENOENT) return false;
    throw_error(err, describe() + ": lookup");
}

void Map::update_failed(int ret) const { throw_error(libbpf_errno(ret), describe() + ": update"); }

bool Map::erase(const void* key) {
    int ret = bpf_map_delete_elem(fd(), key);
    if (ret == 0) return true;
    int err = libbpf_errno(ret);
    if (err == ENOENT) return false;
    throw_error(err, describe() + ": delete");
}

bool Map::next_key(const void* key, void* next) const {
    int ret = bpf_map_get_next_key(fd(), key, next);
    if (ret == 0) return true;
    int err = libbpf_errno(ret);
    if (err == ENOENT) return false;
    throw_error(err, describe() + ": get next key");
}

bool Map::lookup_and_delete(const void* key, void* value) {
    int ret = bpf_map_lookup_and_delete_elem(fd(), key, value);
    if (ret == 0) return true;
    int err = libbpf_errno(ret);
    if (err == ENOENT) return false;
    throw_error(err, describe() + ": lookup and delete");
}

void Map::push(const void* value, UpdateFlags flags) {
    int ret = bpf_map_update_elem(fd(), nullptr, value, static_cast<std::uint64_t>(flags));
    if (ret) throw_error(libbpf_errno(ret), describe() + ": push");
}

void Map::pin(const std::string& path) const {
    // On bpffs, in a directory nobody else can rename or replace (checked before pinning).
    const std::string checked = pins::new_pin_path(path);
    int ret = bpf_obj_pin(fd(), checked.c_str());
    if (ret) throw_error(libbpf_errno(ret), describe() + ": pin at '" + path + "'");
}

void Map::unpin(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st)) throw_error(errno, "unpin '" + path + "'");
    if (!system::is_on_bpffs(path)) throw Error("unpin '" + path + "': not on a bpf filesystem");
    if (::unlink(path.c_str())) throw_error(errno, "unpin '" + path + "'");
}

void Map::freeze() {
    int ret = bpf_map_freeze(fd());
    if (ret) throw_error(libbpf_errno(ret), describe() + ": freeze");
}

namespace {
// Hash maps batch by bucket and arrays by index: their cursors never revisit an entry.
// Every other type is batched by the kernel's generic get_next_key loop, which restarts
// from the first key when the current one is deleted, so its batches can repeat keys.
bool batch_cursor_is_stable(bpf_map_type type) {
    switch (type) {
        case BPF_MAP_TYPE_HASH:
        case BPF_MAP_TYPE_PERCPU_HASH:
        case BPF_MAP_TYPE_LRU_HASH:
        case BPF_MAP_TYPE_LRU_PERCPU_HASH:
        case BPF_MAP_TYPE_ARRAY:
        case BPF_MAP_TYPE_PERCPU_ARRAY:
            return true;
        default:
            return false;
    }
}

bool batch_unsupported(int err) { return err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP || err == 524 /* ENOTSUPP */; }

std::size_t step_bound(const MapInfo& info) { return 2 * static_cast<std::size_t>(std::max<std::uint32_t>(info.max_entries, 1)) + 16; }
}  // namespace

WalkResult Map::walk(const ChunkVisitor& visit, std::size_t batch_size) const {
    if (auto result = batched(bpf_map_lookup_batch, "lookup batch", visit, batch_size)) return *result;
    return walk_by_next_key(visit);
}

std::optional<WalkResult> Map::batched(BatchCall call, const char* operation, const ChunkVisitor& visit,
                                       std::size_t batch_size) const {
    batch_size = std::clamp<std::size_t>(batch_size, 1, std::max<std::uint32_t>(info_.max_entries, 1));
    std::vector<std::byte> keys(batch_size * info_.key_size);
    std::vector<std::byte> values(batch_size * value_buffer_size_);
    std::vector<std::byte> in_cursor(batch_cursor_size(info_)), out_cursor(in_cursor.size());
    const bool dedupe = !batch_cursor_is_stable(info_.type);
    std::unordered_set<std::string> seen;
    std::size_t steps = 0;
    WalkResult result;
    bool first = true;
    for (;;) {
        auto count = static_cast<std::uint32_t>(batch_size);
        LIBBPF_OPTS(bpf_map_batch_opts, opts);
        int ret = call(fd(), first ? nullptr : in_cursor.data(), out_cursor.data(), keys.data(), values.data(), &count,
                       &opts);
        int err = ret ? libbpf_errno(ret) : 0;
        if (err && err != ENOENT && err != ENOSPC) {
            if (first && batch_unsupported(err)) return std::nullopt;
            throw_error(err, describe() + ": " + operation);
        }
        if (err == ENOSPC && count == 0) {
            // A hash bucket holds more entries than the batch: grow it and retry the
            // same cursor rather than fail (a well-known sharp edge of the batch calls).
            batch_size *= 2;
            keys.resize(batch_size * info_.key_size);
            values.resize(batch_size * value_buffer_size_);
            continue;
        }
        steps += count;
        if (dedupe) count = static_cast<std::uint32_t>(drop_repeats(keys.data(), values.data(), count, seen));
        if (count > 0) {
            visit(keys.data(), values.data(), count);
            result.entries += count;
        }
        if (err == ENOENT) break;  // the end of the map
        if (dedupe && steps > step_bound(info_)) {
            result.complete = false;
            break;
        }
        std::swap(in_cursor, out_cursor);
        first = false;
    }
    return result;
}

std::size_t Map::drop_repeats(std::byte* keys, std::byte* values, std::size_t n,
                              std::unordered_set<std::string>& seen) const {
    const std::size_t ks = info_.key_size, vs = value_buffer_size_;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!seen.emplace(reinterpret_cast<const char*>(keys + i * ks), ks).second) continue;
        if (kept != i) {
            std::memmove(keys + kept * ks, keys + i * ks, ks);
            std::memmove(values + kept * vs, values + i * vs, vs);
        }
        ++kept;
    }
    return kept;
}

WalkResult Map::walk_by_next_key(const ChunkVisitor& visit) const {
    // get_next_key restarts from the first key when the current key has been deleted,
    // so a naive loop can repeat entries or never end. This walk remembers the keys it
    // delivered, skips repeats, and stops after a bounded number of steps.
    WalkResult result;
    result.batched = false;
    const std::size_t key_size = info_.key_size;
    const std::size_t bound = step_bound(info_);
    std::vector<std::byte> key(key_size), next(key_size), value(value_buffer_size_);
    std::unordered_set<std::string> seen;
    bool have_key = false;
    std::size_t steps = 0;
    for (;;) {
        if (++steps > bound) {
            result.complete = false;
            break;
        }
        if (!next_key(have_key ? key.data() : nullptr, next.data())) break;
        std::swap(key, next);
        have_key = true;
        std::string id(reinterpret_cast<const char*>(key.data()), key_size);
        if (seen.contains(id)) continue;
        if (!lookup(key.data(), value.data())) continue;  // deleted under us
        seen.insert(std::move(id));
        visit(key.data(), value.data(), 1);
        ++result.entries;
    }
    return result;
}

std::size_t Map::update_batch(const void* keys, const void* values, std::size_t n, UpdateFlags flags) {
    // The kernel takes no BPF_NOEXIST/BPF_EXIST for batches (EINVAL before any element,
    // with the count left as passed in, which would read as "all done").
    if (static_cast<std::uint64_t>(flags) & ~static_cast<std::uint64_t>(UpdateFlags::lock))
        throw Error(describe() + ": update batch: the kernel accepts only UpdateFlags::any or lock for batches");
    auto count = static_cast<std::uint32_t>(n);
    LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = static_cast<std::uint64_t>(flags));
    int ret = bpf_map_update_batch(fd(), keys, values, &count, &opts);
    if (ret) throw_error(libbpf_errno(ret), describe() + ": update batch (" + std::to_string(count) + " of " + std::to_string(n) + " done)");
    return count;
}

std::size_t Map::erase_batch(const void* keys, std::size_t n) {
    auto count = static_cast<std::uint32_t>(n);
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int ret = bpf_map_delete_batch(fd(), keys, &count, &opts);
    if (ret) throw_error(libbpf_errno(ret), describe() + ": delete batch (" + std::to_string(count) + " of " + std::to_string(n) + " done)");
    return count;
}

WalkResult Map::drain(const ChunkVisitor& visit, std::size_t batch_size) {
    if (auto result = batched(bpf_map_lookup_and_delete_batch, "lookup and delete batch", visit, batch_size))
        return *result;
    // No batch support: walk, then delete what was delivered.
    std::vector<std::byte> delivered;
    WalkResult result = walk_by_next_key([&](const std::byte* k, const std::byte* v, std::size_t n) {
        visit(k, v, n);
        delivered.insert(delivered.end(), k, k + n * info_.key_size);
    });
    for (std::size_t off = 0; off < delivered.size(); off += info_.key_size) erase(delivered.data() + off);
    return result;
}

namespace detail {

void throw_out_of_range(const Map& map, std::uint32_t index) {
    throw Error(ENOENT, map.describe() + ": get index " + std::to_string(index) + " of " +
                            std::to_string(map.info().max_entries));
}

void check_binding(const MapInfo& info, std::initializer_list<bpf_map_type> accepted, std::string_view handle,
                   std::size_t key_size, std::size_t value_size) {
    if (std::find(accepted.begin(), accepted.end(), info.type) == accepted.end()) {
        std::string names;
        for (auto t : accepted) names += (names.empty() ? "" : " or ") + map_type_name(t);
        throw Error("map '" + info.name + "': " + std::string(handle) + " needs a " + names + " map, but it is " +
                    map_type_name(info.type));
    }
    if (info.key_size != key_size)
        throw Error("map '" + info.name + "': key size mismatch: the map's keys are " + std::to_string(info.key_size) +
                    " bytes, the handle's key type is " + std::to_string(key_size));
    if (info.value_size != value_size)
        throw Error("map '" + info.name + "': value size mismatch: the map's values are " +
                    std::to_string(info.value_size) + " bytes, the handle's value type is " + std::to_string(value_size));
}

}  // namespace detail

}  // namespace ebpf
