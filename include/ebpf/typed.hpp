// What every typed handle shares: binding an untyped Map to compile-time key and value
// types (checked once, against the kernel's sizes and map type), the ways to open one,
// and the result of a walk. The map-type headers build on this.
#pragma once

#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ebpf/map.hpp"

namespace ebpf {

// Keys and values cross the kernel boundary as bytes: they must be trivially copyable.
template <class T>
concept MapData = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T>;

// Number of possible CPUs (not online): the size of every per-CPU value.
unsigned possible_cpus();

namespace detail {
// Throws Error naming the handle, the map and both sizes when `info` does not fit.
// value_size 0 means "no value" (bloom filter keys, queue/stack).
void check_binding(const MapInfo& info, std::initializer_list<bpf_map_type> accepted,
                   std::string_view handle, std::size_t key_size, std::size_t value_size);
}  // namespace detail

// Entries read by a walk, plus whether the walk saw the whole map.
template <class K, class V>
class Entries {
public:
    using value_type = std::pair<K, V>;
    std::vector<value_type> items;
    WalkResult result;

    auto begin() const { return items.begin(); }
    auto end() const { return items.end(); }
    std::size_t size() const { return items.size(); }
    bool empty() const { return items.empty(); }
    bool complete() const { return result.complete; }
};

// Base of the typed handles (CRTP): the ways to open one, and access to the core.
template <class Derived>
class TypedHandle {
public:
    static Derived open_by_id(std::uint32_t id) { return Derived(Map::open_by_id(id)); }
    static Derived open_pinned(const std::string& path) { return Derived(Map::open_pinned(path)); }
    static Derived open_by_name(std::string_view name) { return Derived(Map::open_by_name(name)); }
    static Derived from_libbpf(const ::bpf_map* map) { return Derived(Map::from_libbpf(map)); }

    const Map& map() const noexcept { return map_; }
    Map& map() noexcept { return map_; }
    const MapInfo& info() const noexcept { return map_.info(); }
    int fd() const noexcept { return map_.fd(); }
    void pin(const std::string& path) const { map_.pin(path); }
    void freeze() { map_.freeze(); }

protected:
    explicit TypedHandle(Map map) : map_(std::move(map)) {}
    Map map_;
};

// Copies a trivially copyable T out of raw bytes.
template <MapData T>
T load_as(const std::byte* bytes) {
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    return value;
}

}  // namespace ebpf
