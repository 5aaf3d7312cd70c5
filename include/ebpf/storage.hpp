// Local storage: a value attached to a kernel object and freed with it — a socket, a task
// or an inode (keyed from user space by an fd: a socket fd, a pidfd, a file fd) — and
// cgroup storage, one value per (cgroup, attach type) of a cgroup program. The kernel
// requires BTF for the local-storage types: create() generates it.
#pragma once

#include <linux/bpf.h>

#include <optional>

#include "ebpf/error.hpp"
#include "ebpf/percpu.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

// Creates a socket, task or inode local-storage map (`type`) for values of `value_size`
// bytes, untyped: the kernel requires BTF for these, so it is generated (key: int; value:
// a struct "<name>_value" holding `value_size` bytes). LocalStorage<V>::create uses it;
// so does `ebpf-tool map create`, which knows the value's size only. BPF_F_NO_PREALLOC is
// added to `flags` (the kernel requires it).
[[nodiscard]] Map create_local_storage(bpf_map_type type, const std::string& name, std::uint32_t value_size,
                                       std::uint32_t flags = 0);

template <MapData V, bpf_map_type Type>
class LocalStorage : public TypedHandle<LocalStorage<V, Type>> {
    using Base = TypedHandle<LocalStorage<V, Type>>;

public:
    explicit LocalStorage(Map map) : Base(std::move(map)) {
        detail::check_binding(this->info(), {Type}, sizeof(int), sizeof(V));
    }
    [[nodiscard]] static LocalStorage create(std::string name, std::uint32_t flags = 0) {
        return LocalStorage(create_local_storage(Type, name, sizeof(V), flags));
    }
    // The value attached to the object behind `fd`; nullopt when it has none.
    std::optional<V> lookup(int fd) const {
        V value;
        if (!this->map_.lookup(&fd, &value)) return std::nullopt;
        return value;
    }
    void update(int fd, const V& value, UpdateFlags flags = UpdateFlags::any) { this->map_.update(&fd, &value, flags); }
    bool erase(int fd) { return this->map_.erase(&fd); }
};

// Keyed by a socket fd.
template <MapData V>
using SocketStorage = LocalStorage<V, BPF_MAP_TYPE_SK_STORAGE>;
// Keyed by a pidfd (pidfd_open).
template <MapData V>
using TaskStorage = LocalStorage<V, BPF_MAP_TYPE_TASK_STORAGE>;
// Keyed by an open file's fd.
template <MapData V>
using InodeStorage = LocalStorage<V, BPF_MAP_TYPE_INODE_STORAGE>;

// Cgroup storage: BPF programs reach their cgroup's value with bpf_get_local_storage();
// entries exist only while a program using the map is attached to a cgroup, and user
// space addresses them by (cgroup id, attach type).
struct CgroupStorageKey {
    std::uint64_t cgroup_inode_id = 0;
    std::uint32_t attach_type = 0;
    std::uint32_t padding = 0;
};
static_assert(sizeof(CgroupStorageKey) == sizeof(bpf_cgroup_storage_key));

// Shared and per-CPU cgroup storage: the value type is V, or PerCpu<V> when per-CPU.
template <MapData V, bpf_map_type Type>
class BasicCgroupStorage : public TypedHandle<BasicCgroupStorage<V, Type>> {
    using Base = TypedHandle<BasicCgroupStorage<V, Type>>;
    static constexpr bool per_cpu = Type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;

public:
    using value_type = std::conditional_t<per_cpu, PerCpu<V>, V>;

    explicit BasicCgroupStorage(Map map) : Base(std::move(map)) {
        detail::check_binding(this->info(), {Type}, sizeof(CgroupStorageKey), sizeof(V));
    }
    // Entries appear only when a program using the map is attached to a cgroup.
    [[nodiscard]] static BasicCgroupStorage create(std::string name, std::uint32_t flags = 0) {
        // max_entries 0: one entry per attached cgroup, made by the kernel.
        return BasicCgroupStorage(
            Map::create(MapSpec::make(Type, std::move(name), sizeof(CgroupStorageKey), sizeof(V), 0, flags)));
    }
    std::optional<value_type> lookup(std::uint64_t cgroup_id, bpf_attach_type attach_type) const {
        CgroupStorageKey key{cgroup_id, static_cast<std::uint32_t>(attach_type), 0};
        std::vector<std::byte> buffer(this->map_.value_buffer_size());
        if (!this->map_.lookup(&key, buffer.data())) return std::nullopt;
        if constexpr (per_cpu)
            return PerCpu<V>::decode(buffer.data());
        else
            return load_as<V>(buffer.data());
    }
    void update(std::uint64_t cgroup_id, bpf_attach_type attach_type, const value_type& value) {
        CgroupStorageKey key{cgroup_id, static_cast<std::uint32_t>(attach_type), 0};
        if constexpr (per_cpu)
            this->map_.update(&key, value.encode().data(), UpdateFlags::any);
        else
            this->map_.update(&key, &value, UpdateFlags::any);
    }
};

template <MapData V>
using CgroupStorage = BasicCgroupStorage<V, BPF_MAP_TYPE_CGROUP_STORAGE>;
template <MapData V>
using PerCpuCgroupStorage = BasicCgroupStorage<V, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE>;

}  // namespace ebpf
