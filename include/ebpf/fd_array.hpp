// Maps whose values are references to other kernel objects, given from user space as
// file descriptors: programs (tail calls), perf events, cgroups, sockets, AF_XDP sockets
// and inner maps. Reading such a map from user space returns an id or a socket cookie,
// not the fd, and several types cannot be read from user space at all (the handle then
// throws errc::not_supported, from the kernel's EOPNOTSUPP).
#pragma once

#include <optional>

#include "ebpf/error.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

namespace detail {
// The user-space value of an fd-valued map is a u32 fd (or, where the kernel accepts
// a u64 value, a u64 holding it); lookups return a u32 id or a u64 cookie.
std::uint64_t read_fd_slot(const Map& map, const void* key, bool& found);
MapSpec fd_map_spec(bpf_map_type type, std::string name, std::uint32_t key_size, std::uint32_t value_size,
                    std::uint32_t max_entries, std::uint32_t flags, int inner_map_fd = -1);
void check_fd_binding(const MapInfo& info, bpf_map_type type, std::size_t key_size);
}  // namespace detail

// Stores the object behind `fd` (a program, a map, a socket, a perf event, a cgroup…) as
// the value of `key` in an fd-valued map of any key and value size (4: a u32 fd; 8, where
// the kernel takes a u64): the raw form of the handles' set(), for code that knows the
// map's type only at run time (`ebpf-tool map update`). The map takes its own reference.
void update_fd(Map& map, const void* key, int fd, UpdateFlags flags = UpdateFlags::any);

// index → fd, for the array-shaped types.
template <bpf_map_type Type>
class FdArray : public TypedHandle<FdArray<Type>> {
    using Base = TypedHandle<FdArray<Type>>;

public:
    explicit FdArray(Map map) : Base(std::move(map)) {
        detail::check_fd_binding(this->info(), Type, sizeof(std::uint32_t));
    }

    // value_size 4 (an fd) or, for sockmap and reuseport_sockarray, 8 (reads then give
    // the socket cookie). Map-of-maps need create_of_maps() with a template inner map.
    [[nodiscard]] static FdArray create(std::string name, std::uint32_t max_entries, std::uint32_t value_size = 4,
                                        std::uint32_t flags = 0) {
        return FdArray(Map::create(
            detail::fd_map_spec(Type, std::move(name), sizeof(std::uint32_t), value_size, max_entries, flags)));
    }
    // Array of maps whose every inner map is shaped like `inner_template`.
    [[nodiscard]] static FdArray create_of_maps(std::string name, std::uint32_t max_entries, const Map& inner_template,
                                                std::uint32_t flags = 0) requires(Type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
        return FdArray(Map::create(detail::fd_map_spec(Type, std::move(name), sizeof(std::uint32_t), 4, max_entries,
                                                       flags, inner_template.fd())));
    }

    std::uint32_t size() const noexcept { return this->info().max_entries; }

    // Stores the object behind `fd` at `index` (the map takes its own reference).
    void update(std::uint32_t index, int fd, UpdateFlags flags = UpdateFlags::any) {
        update_fd(this->map_, &index, fd, flags);
    }
    void update(std::uint32_t index, const Map& inner,
                UpdateFlags flags = UpdateFlags::any) requires(Type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
        update(index, inner.fd(), flags);
    }
    bool erase(std::uint32_t index) { return this->map_.erase(&index); }

    // Prog array: the program id; map-of-maps: the inner map id; sockmap (8-byte values)
    // and reuseport_sockarray: the socket cookie. nullopt for an empty slot.
    std::optional<std::uint64_t> lookup(std::uint32_t index) const {
        bool found = false;
        std::uint64_t v = detail::read_fd_slot(this->map_, &index, found);
        return found ? std::optional(v) : std::nullopt;
    }
};

// K → fd, for the hash-shaped types.
template <MapData K, bpf_map_type Type>
class FdHash : public TypedHandle<FdHash<K, Type>> {
    using Base = TypedHandle<FdHash<K, Type>>;

public:
    explicit FdHash(Map map) : Base(std::move(map)) { detail::check_fd_binding(this->info(), Type, sizeof(K)); }
    [[nodiscard]] static FdHash create(std::string name, std::uint32_t max_entries, std::uint32_t value_size = 4,
                                       std::uint32_t flags = 0) requires(Type != BPF_MAP_TYPE_HASH_OF_MAPS) {
        return FdHash(
            Map::create(detail::fd_map_spec(Type, std::move(name), sizeof(K), value_size, max_entries, flags)));
    }
    [[nodiscard]] static FdHash create_of_maps(std::string name, std::uint32_t max_entries, const Map& inner_template,
                                               std::uint32_t flags = 0) requires(Type == BPF_MAP_TYPE_HASH_OF_MAPS) {
        return FdHash(Map::create(
            detail::fd_map_spec(Type, std::move(name), sizeof(K), 4, max_entries, flags, inner_template.fd())));
    }

    void update(const K& key, int fd, UpdateFlags flags = UpdateFlags::any) { update_fd(this->map_, &key, fd, flags); }
    void update(const K& key, const Map& inner,
                UpdateFlags flags = UpdateFlags::any) requires(Type == BPF_MAP_TYPE_HASH_OF_MAPS) {
        update(key, inner.fd(), flags);
    }
    bool erase(const K& key) { return this->map_.erase(&key); }
    std::optional<std::uint64_t> lookup(const K& key) const {
        bool found = false;
        std::uint64_t v = detail::read_fd_slot(this->map_, &key, found);
        return found ? std::optional(v) : std::nullopt;
    }
    // Walked with get_next_key: the values of these types are not readable in batches.
    Listing<K> keys() const {
        Listing<K> out;
        out.result = this->map_.walk_by_next_key([&](const std::byte* keys, const std::byte*, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) out.items.push_back(load_as<K>(keys + i * sizeof(K)));
        });
        return out;
    }
};

// Tail calls: bpf_tail_call(ctx, &progs, index) jumps to the program stored at index.
using ProgArray = FdArray<BPF_MAP_TYPE_PROG_ARRAY>;
// Per-CPU perf event fds for bpf_perf_event_output (read with a perf buffer reader).
using PerfEventArray = FdArray<BPF_MAP_TYPE_PERF_EVENT_ARRAY>;
// cgroup directory fds for bpf_current_task_under_cgroup / bpf_skb_under_cgroup.
using CgroupArray = FdArray<BPF_MAP_TYPE_CGROUP_ARRAY>;
// Connected TCP/UDP sockets for sk_msg/sk_skb redirection.
using SockMap = FdArray<BPF_MAP_TYPE_SOCKMAP>;
// AF_XDP sockets, bound to a queue, for bpf_redirect_map from XDP.
using XskMap = FdArray<BPF_MAP_TYPE_XSKMAP>;
// SO_REUSEPORT sockets for sk_reuseport programs' bpf_sk_select_reuseport.
using ReuseportSockArray = FdArray<BPF_MAP_TYPE_REUSEPORT_SOCKARRAY>;
// Inner maps by index; a BPF program looks up the outer map, then the inner one.
using ArrayOfMaps = FdArray<BPF_MAP_TYPE_ARRAY_OF_MAPS>;

template <MapData K>
using SockHash = FdHash<K, BPF_MAP_TYPE_SOCKHASH>;
template <MapData K>
using HashOfMaps = FdHash<K, BPF_MAP_TYPE_HASH_OF_MAPS>;

}  // namespace ebpf
