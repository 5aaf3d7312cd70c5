// XDP redirect targets: devmap / devmap_hash (index or key → network interface, with an
// optional program to run on the egress device) and cpumap (CPU → queue size, with an
// optional program to run on that CPU). XDP programs use them with bpf_redirect_map.
#pragma once

#include <linux/bpf.h>

#include <optional>

#include "ebpf/error.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

// The kernel's struct bpf_devmap_val / bpf_cpumap_val, as user space writes them
// (a program fd in; the program id comes back on lookup).
struct DevMapValue {
    std::uint32_t ifindex = 0;
    std::int32_t program = 0;  // fd on update (0: none), id on lookup
};
struct CpuMapValue {
    std::uint32_t qsize = 0;
    std::int32_t program = 0;  // fd on update (0: none), id on lookup
};

namespace detail {
void check_redirect_binding(const MapInfo& info, bpf_map_type type, std::size_t key_size, std::size_t full_value);
}  // namespace detail

// Value is DevMapValue (devmap, devmap_hash) or CpuMapValue (cpumap); maps created with
// the short 4-byte value (no program) are accepted too.
template <MapData K, MapData Value, bpf_map_type Type>
class RedirectMap : public TypedHandle<RedirectMap<K, Value, Type>> {
    using Base = TypedHandle<RedirectMap<K, Value, Type>>;

public:
    explicit RedirectMap(Map map) : Base(std::move(map)) {
        detail::check_redirect_binding(this->info(), Type, sizeof(K), sizeof(Value));
    }
    [[nodiscard]] static RedirectMap create(std::string name, std::uint32_t max_entries, std::uint32_t flags = 0) {
        return RedirectMap(
            Map::create(MapSpec::make(Type, std::move(name), sizeof(K), sizeof(Value), max_entries, flags)));
    }
    void update(const K& key, const Value& value, UpdateFlags flags = UpdateFlags::any) {
        this->map_.update(&key, &value, flags);  // a 4-byte map reads only the first field
    }
    std::optional<Value> lookup(const K& key) const {
        Value value{};
        if (!this->map_.lookup(&key, &value)) return std::nullopt;
        return value;
    }
    bool erase(const K& key) { return this->map_.erase(&key); }
};

using DevMap = RedirectMap<std::uint32_t, DevMapValue, BPF_MAP_TYPE_DEVMAP>;
template <MapData K = std::uint32_t>
using DevMapHash = RedirectMap<K, DevMapValue, BPF_MAP_TYPE_DEVMAP_HASH>;
using CpuMap = RedirectMap<std::uint32_t, CpuMapValue, BPF_MAP_TYPE_CPUMAP>;

}  // namespace ebpf
