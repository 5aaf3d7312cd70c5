#include "ebpf/map.hpp"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
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
    // Newer than the UAPI headers this builds against (Debian 12: 6.1), not than the kernel.
    TypeName{static_cast<bpf_map_type>(32), "cgrp_storage"},
    TypeName{static_cast<bpf_map_type>(33), "arena"},
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

std::string MapInfo::type_name() const {
    return map_type_name(type);
}

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
        if (cpus <= 0) throw Error::sys(cpus, "possible CPUs: read /sys/devices/system/cpu/possible");
        return static_cast<unsigned>(cpus);
    }();
    return n;
}

std::vector<std::string> MapSpec::incompatibilities(const MapInfo& info) const {
    std::vector<std::string> out;
    auto differ = [&](const char* field, auto want, auto have) {
        if (want != have)
            out.push_back(std::string(field) + ": " + std::to_string(want) + " != " + std::to_string(have));
    };
    if (type != info.type) out.push_back("type: " + map_type_name(type) + " != " + map_type_name(info.type));
    differ("key_size", key_size, info.key_size);
    differ("value_size", value_size, info.value_size);
    differ("max_entries", max_entries, info.max_entries);
    // The kernel adds BPF_F_RDONLY_PROG to every devmap it creates (dev_map_init_map), so a
    // pinned devmap never shows the flags its definition asked for: compare without it, as
    // cilium/ebpf's MapSpec.Compatible does.
    std::uint32_t have_flags = info.flags;
    std::uint32_t want_flags = flags;
    if (type == BPF_MAP_TYPE_DEVMAP || type == BPF_MAP_TYPE_DEVMAP_HASH) {
        have_flags &= ~std::uint32_t{BPF_F_RDONLY_PROG};
        want_flags &= ~std::uint32_t{BPF_F_RDONLY_PROG};
    }
    differ("flags", want_flags, have_flags);
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
    if (int ret = bpf_obj_get_info_by_fd(fd, &raw, &len); ret)
        throw Error::sys(libbpf_errno(ret), "map fd " + std::to_string(fd) + ": get info");
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
    if (copy < 0) throw Error::sys(errno, "dup fd " + std::to_string(fd));
    return Fd(copy);
}

Map::Map(Fd fd) : fd_(std::move(fd)), info_(map_info(fd_.get())) {
    value_buffer_size_ = is_percpu(info_.type) ? value_stride() * possible_cpus() : info_.value_size;
}

void Map::refresh_info() {
    info_ = map_info(fd_.get());
}

std::string Map::describe() const {
    return "map '" + info_.name + "'";
}

Map Map::open_by_id(std::uint32_t id) {
    int fd = bpf_map_get_fd_by_id(id);
    if (fd < 0) {
        int err = libbpf_errno(fd);
        if (err == ENOENT) throw Error::make(errc::not_found, "map id " + std::to_string(id) + ": no such map", err);
        throw Error::sys(err, "map id " + std::to_string(id) + ": open");
    }
    return Map(Fd(fd));
}

namespace {
Map open_pin(const std::string& path, std::uint32_t file_flags) {
    LIBBPF_OPTS(bpf_obj_get_opts, opts);
    opts.file_flags = file_flags;
    int fd = bpf_obj_get_opts(path.c_str(), &opts);
    if (fd < 0) {
        int err = libbpf_errno(fd);
        if (err == ENOENT) throw Error::make(errc::not_found, "pinned map '" + path + "': no such pin", err);
        // The kernel opens programs and links only read-write (EINVAL otherwise): find out
        // what the pin is, to name it, with an fd that is closed at once.
        if (err == EINVAL && file_flags != 0)
            if (int any = bpf_obj_get(path.c_str()); any >= 0) {
                Fd probe(any);
                if (auto kind = object_kind(probe.get()); kind != ObjectKind::map)
                    throw Error::make(errc::wrong_type,
                                      "'" + path + "' is " + std::string(object_kind_text(kind)) + ", not a map");
            }
        throw Error::sys(err, "pinned map '" + path + "': open");
    }
    Fd owned(fd);
    // bpf_obj_get opens pinned programs and links too, and their info read as map info
    // looks like a map (a tracepoint program's type is percpu_hash's number): ask the
    // kernel what the fd is before reading any info.
    if (auto kind = object_kind(owned.get()); kind != ObjectKind::map)
        throw Error::make(errc::wrong_type, "'" + path + "' is " + std::string(object_kind_text(kind)) + ", not a map");
    return Map(std::move(owned));
}
}  // namespace

Map Map::open_pinned(const std::string& path) {
    return open_pin(path, 0);
}

Map Map::open_pinned_read_only(const std::string& path) {
    return open_pin(path, BPF_F_RDONLY);
}

Map Map::open_pinned(const std::string& path, const MapSpec& expected) {
    Map map = open_pinned(path);
    if (auto diffs = expected.incompatibilities_text(map.info()); !diffs.empty())
        throw Error::make(errc::incompatible,
                          "pinned map '" + path + "' does not match (expected != pinned): " + diffs);
    return map;
}

Map Map::open_by_name(std::string_view name) {
    std::string wanted(name.substr(0, BPF_OBJ_NAME_LEN - 1));
    std::vector<std::uint32_t> ids;
    for (const auto& info : list())
        if (info.name == wanted) ids.push_back(info.id);
    if (ids.empty()) throw Error::make(errc::not_found, "map name '" + wanted + "': no such map");
    if (ids.size() > 1) {
        std::string list_text;
        for (auto id : ids) list_text += (list_text.empty() ? "" : ", ") + std::to_string(id);
        throw Error::make(errc::ambiguous,
                          "map name '" + wanted + "' is ambiguous: maps " + list_text + " have it (select by id)");
    }
    return open_by_id(ids.front());
}

Map Map::from_libbpf(const ::bpf_map* map) {
    int fd = bpf_map__fd(map);
    if (fd < 0) throw Error::make(errc::misuse, std::string("map '") + bpf_map__name(map) + "': not loaded", EBADF);
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
        throw Error::sys(libbpf_errno(fd), "map '" + spec.name + "': create " + map_type_name(spec.type) + " (key " +
                                               std::to_string(spec.key_size) + ", value " +
                                               std::to_string(spec.value_size) + ", entries " +
                                               std::to_string(spec.max_entries) + ")");
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
            throw Error::sys(err, "list maps: get next id");
        }
        int fd = bpf_map_get_fd_by_id(id);
        if (fd < 0) {
            if (libbpf_errno(fd) == ENOENT) continue;  // freed while we listed
            throw Error::sys(libbpf_errno(fd), "list maps: open map id " + std::to_string(id));
        }
        Fd owned(fd);
        out.push_back(map_info(owned.get()));
    }
    return out;
}

namespace {

// The keyless map types, and which of push / pop / peek each takes.
bool takes(bpf_map_type type, std::string_view operation) {
    switch (type) {
        case BPF_MAP_TYPE_QUEUE:
        case BPF_MAP_TYPE_STACK:
            return true;
        case BPF_MAP_TYPE_BLOOM_FILTER:
            return operation != "pop";
        default:
            return false;
    }
}

// Types whose keys are u32 indexes below max_entries (E2BIG on update means "past the end").
bool indexed(bpf_map_type type) {
    switch (type) {
        case BPF_MAP_TYPE_ARRAY:
        case BPF_MAP_TYPE_PERCPU_ARRAY:
        case BPF_MAP_TYPE_PROG_ARRAY:
        case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
        case BPF_MAP_TYPE_CGROUP_ARRAY:
        case BPF_MAP_TYPE_ARRAY_OF_MAPS:
        case BPF_MAP_TYPE_DEVMAP:
        case BPF_MAP_TYPE_CPUMAP:
        case BPF_MAP_TYPE_XSKMAP:
        case BPF_MAP_TYPE_SOCKMAP:
        case BPF_MAP_TYPE_REUSEPORT_SOCKARRAY:
            return true;
        default:
            return false;
    }
}

std::string with_article(const std::string& word) {
    // As the names are read aloud: "an array", "an lru_hash" (el-ar-you), "an sk_storage",
    // but "a user_ringbuf", "a hash".
    std::string_view w(word);
    bool vowel_sound = (!w.empty() && std::string_view("aeio").find(w[0]) != std::string_view::npos) ||
                       w.starts_with("lru") || w.starts_with("lpm") || w.starts_with("sk_") || w.starts_with("xsk");
    return (vowel_sound ? "an " : "a ") + word;
}

}  // namespace

namespace detail {

Error map_error(const MapInfo& info, std::string_view operation, int err, const void* key) {
    err = std::abs(err);
    const std::string map = "map '" + info.name + "'";
    const std::string context = map + ": " + std::string(operation);
    const std::string type = map_type_name(info.type);
    if ((operation == "push" || operation == "pop" || operation == "peek") && !takes(info.type, operation)) {
        const char* needs = operation == "pop" ? "a queue or stack" : "a queue, stack or bloom_filter";
        return Error::make(
            errc::wrong_type,
            map + " is " + with_article(type) + ": " + std::string(operation) + " needs " + needs + " map", err);
    }
    const bool writes = operation.starts_with("update") || operation == "push";
    switch (err) {
        case E2BIG:
            if (!writes) break;
            if (indexed(info.type) && key && info.key_size == sizeof(std::uint32_t)) {
                std::uint32_t index;
                std::memcpy(&index, key, sizeof(index));
                return Error::make(errc::out_of_range,
                                   type + " '" + info.name + "': index " + std::to_string(index) + " out of range (" +
                                       std::to_string(info.max_entries) + " entries; E2BIG)",
                                   err);
            }
            return Error::make(errc::map_full,
                               map + " is full (" + std::to_string(info.max_entries) + " of " +
                                   std::to_string(info.max_entries) + " entries; E2BIG)",
                               err);
        case EEXIST:
            if (writes) return Error::make(errc::key_exists, context + ": key exists (EEXIST)", err);
            break;
        case ENOENT:
            return Error::make(errc::key_not_found, context + ": key not found (ENOENT)", err);
        case EOPNOTSUPP:  // == ENOTSUP on Linux
        case 524:         // the kernel's ENOTSUPP
            return Error::make(errc::not_supported,
                               context + ": not supported by " + with_article(type) + " map (" + errno_name(err) + ")",
                               err);
        case EPERM:
        case EACCES:
            return Error::make(errc::permission, context + ": not permitted (" + errno_name(err) + ")", err);
        default:
            break;
    }
    // Not translated: the errno's own words, as every other system failure says them.
    return Error::sys(err, context);
}

}  // namespace detail

void Map::failed(std::string_view operation, int err, const void* key) const {
    throw detail::map_error(info_, operation, err, key);
}

bool Map::lookup_failed(int ret) const {
    int err = libbpf_errno(ret);
    if (err == ENOENT) return false;
    failed("lookup", err);
}

void Map::update_failed(int ret, const void* key) const {
    failed("update", libbpf_errno(ret), key);
}

bool Map::erase(const void* key) {
    int ret = bpf_map_delete_elem(fd(), key);
    if (ret == 0) return true;
    int err = libbpf_errno(ret);
    if (err == ENOENT) return false;
    failed("delete", err, key);
}

bool Map::next_key(const void* key, void* next) const {
    int ret = bpf_map_get_next_key(fd(), key, next);
    if (ret == 0) return true;
    int err = libbpf_errno(ret);
    if (err == ENOENT) return false;
    failed("get next key", err, key);
}

bool Map::take(const void* key, void* value) {
    int ret = bpf_map_lookup_and_delete_elem(fd(), key, value);
    if (ret == 0) return true;
    int err = libbpf_errno(ret);
    if (err == ENOENT) return false;
    failed("take", err, key);
}

void Map::push(const void* value, UpdateFlags flags) {
    // A null key on a keyed map reads as "Bad address" from the kernel: say what is wrong.
    if (!takes(type(), "push")) failed("push", 0);
    int ret = bpf_map_update_elem(fd(), nullptr, value, static_cast<std::uint64_t>(flags));
    if (ret) failed("push", libbpf_errno(ret));
}

bool Map::pop(void* value) {
    if (!takes(type(), "pop")) failed("pop", 0);
    int ret = bpf_map_lookup_and_delete_elem(fd(), nullptr, value);
    if (ret == 0) return true;
    int err = libbpf_errno(ret);
    if (err == ENOENT) return false;
    failed("pop", err);
}

bool Map::peek(void* value) const {
    if (!takes(type(), "peek")) failed("peek", 0);
    int ret = bpf_map_lookup_elem(fd(), nullptr, value);
    if (ret == 0) return true;
    int err = libbpf_errno(ret);
    if (err == ENOENT) return false;
    failed("peek", err);
}

void Map::pin(const std::string& path) const {
    // On bpffs, in a directory nobody else can rename or replace (checked before pinning).
    const std::string checked = pins::new_pin_path(path);
    int ret = bpf_obj_pin(fd(), checked.c_str());
    if (ret) throw Error::sys(libbpf_errno(ret), describe() + ": pin at '" + path + "'");
}

void Map::unpin(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st)) throw Error::sys(errno, "unpin '" + path + "'");
    if (!system::is_on_bpffs(path)) throw Error::make(errc::bad_value, "unpin '" + path + "': not on a bpf filesystem");
    // Map::unpin removes map pins only: a program or link pinned there stays, named.
    Fd pinned(bpf_obj_get(path.c_str()));
    if (!pinned) throw Error::sys(errno, "unpin '" + path + "'");
    if (auto kind = object_kind(pinned.get()); kind != ObjectKind::map)
        throw Error::make(errc::wrong_type, "'" + path + "' is " + std::string(object_kind_text(kind)) + ", not a map");
    if (::unlink(path.c_str())) throw Error::sys(errno, "unpin '" + path + "'");
}

void Map::freeze() {
    int ret = bpf_map_freeze(fd());
    if (ret) failed("freeze", libbpf_errno(ret));
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

bool batch_unsupported(int err) {
    return err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP || err == 524 /* ENOTSUPP */;
}

std::size_t step_bound(const MapInfo& info) {
    return 2 * static_cast<std::size_t>(std::max<std::uint32_t>(info.max_entries, 1)) + 16;
}
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
            failed(operation, err);
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
        throw Error::make(errc::bad_value,
                          describe() + ": update batch: the kernel accepts only UpdateFlags::any or lock for batches");
    auto count = static_cast<std::uint32_t>(n);
    LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = static_cast<std::uint64_t>(flags));
    int ret = bpf_map_update_batch(fd(), keys, values, &count, &opts);
    if (ret)
        failed("update batch (" + std::to_string(count) + " of " + std::to_string(n) + " done)", libbpf_errno(ret));
    return count;
}

std::size_t Map::erase_batch(const void* keys, std::size_t n) {
    auto count = static_cast<std::uint32_t>(n);
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int ret = bpf_map_delete_batch(fd(), keys, &count, &opts);
    if (ret)
        failed("delete batch (" + std::to_string(count) + " of " + std::to_string(n) + " done)", libbpf_errno(ret));
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
    const auto& info = map.info();
    throw Error::make(errc::out_of_range, info.type_name() + " '" + info.name + "': index " + std::to_string(index) +
                                              " out of range (" + std::to_string(info.max_entries) + " entries)");
}

void throw_key_not_found(const Map& map, std::string_view operation) {
    throw Error::make(errc::key_not_found, map.describe() + ": " + std::string(operation) + ": key not found");
}

std::string_view handle_name(bpf_map_type type) noexcept {
    switch (type) {
        case BPF_MAP_TYPE_HASH:
            return "HashMap";
        case BPF_MAP_TYPE_LRU_HASH:
            return "LruHashMap";
        case BPF_MAP_TYPE_PERCPU_HASH:
            return "PerCpuHashMap";
        case BPF_MAP_TYPE_LRU_PERCPU_HASH:
            return "LruPerCpuHashMap";
        case BPF_MAP_TYPE_ARRAY:
            return "Array";
        case BPF_MAP_TYPE_PERCPU_ARRAY:
            return "PerCpuArray";
        case BPF_MAP_TYPE_LPM_TRIE:
            return "LpmTrie";
        case BPF_MAP_TYPE_QUEUE:
            return "Queue";
        case BPF_MAP_TYPE_STACK:
            return "Stack";
        case BPF_MAP_TYPE_BLOOM_FILTER:
            return "BloomFilter";
        case BPF_MAP_TYPE_PROG_ARRAY:
            return "ProgArray";
        case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
            return "PerfEventArray";
        case BPF_MAP_TYPE_CGROUP_ARRAY:
            return "CgroupArray";
        case BPF_MAP_TYPE_SOCKMAP:
            return "SockMap";
        case BPF_MAP_TYPE_SOCKHASH:
            return "SockHash";
        case BPF_MAP_TYPE_XSKMAP:
            return "XskMap";
        case BPF_MAP_TYPE_REUSEPORT_SOCKARRAY:
            return "ReuseportSockArray";
        case BPF_MAP_TYPE_ARRAY_OF_MAPS:
            return "ArrayOfMaps";
        case BPF_MAP_TYPE_HASH_OF_MAPS:
            return "HashOfMaps";
        case BPF_MAP_TYPE_DEVMAP:
            return "DevMap";
        case BPF_MAP_TYPE_DEVMAP_HASH:
            return "DevMapHash";
        case BPF_MAP_TYPE_CPUMAP:
            return "CpuMap";
        case BPF_MAP_TYPE_SK_STORAGE:
            return "SocketStorage";
        case BPF_MAP_TYPE_TASK_STORAGE:
            return "TaskStorage";
        case BPF_MAP_TYPE_INODE_STORAGE:
            return "InodeStorage";
        case BPF_MAP_TYPE_CGROUP_STORAGE:
            return "CgroupStorage";
        case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
            return "PerCpuCgroupStorage";
        case BPF_MAP_TYPE_STACK_TRACE:
            return "StackTraceMap";
        case BPF_MAP_TYPE_RINGBUF:
            return "RingBufferReader";
        case BPF_MAP_TYPE_USER_RINGBUF:
            return "UserRingBufferWriter";
        case BPF_MAP_TYPE_STRUCT_OPS:
            return "StructOpsMap";
        default:
            return "Map";
    }
}

void check_type(const MapInfo& info, std::initializer_list<bpf_map_type> accepted, std::string_view handle) {
    if (std::find(accepted.begin(), accepted.end(), info.type) != accepted.end()) return;
    std::string names;
    for (auto t : accepted) names += (names.empty() ? "" : " or ") + map_type_name(t);
    throw Error::make(errc::wrong_type, std::string(handle) + " needs " + with_article(names) + " map, '" + info.name +
                                            "' is " + with_article(map_type_name(info.type)));
}

void check_binding(const MapInfo& info, std::initializer_list<bpf_map_type> accepted, std::size_t key_size,
                   std::size_t value_size) {
    const std::string handle(handle_name(*accepted.begin()));
    const std::string name = "'" + info.name + "'";
    check_type(info, accepted, handle);
    auto sizes = [&](const char* what, std::size_t want, std::size_t have) {
        if (want != have)
            throw Error::make(errc::size_mismatch, handle + " needs " + std::to_string(want) + "-byte " + what + ", " +
                                                       name + " has " + std::to_string(have) + "-byte " + what);
    };
    sizes("keys", key_size, info.key_size);
    sizes("values", value_size, info.value_size);
}

}  // namespace detail

}  // namespace ebpf
