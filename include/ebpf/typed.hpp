// What every typed handle shares: binding an untyped Map to compile-time key and value
// types (checked once, against the kernel's sizes and map type), the ways to open one,
// and the result of a walk. The map-type headers build on this.
#pragma once

#include <algorithm>
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

// Copies a trivially copyable T out of raw bytes.
template <MapData T>
T load_as(const std::byte* bytes) {
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    return value;
}

namespace detail {
// Throws Error naming the handle the user wrote (after the first accepted type: an
// LruHashMap bound to a hash says "LruHashMap needs an lru_hash map, 'h' is a hash"),
// errc::wrong_type or errc::size_mismatch. value_size 0 means "no value" (bloom filter
// keys, queue/stack).
void check_binding(const MapInfo& info, std::initializer_list<bpf_map_type> accepted, std::size_t key_size,
                   std::size_t value_size);
// The type check alone, for handles named otherwise (readers): errc::wrong_type,
// "PerfBufferReader needs a perf_event_array map, 'r' is a ringbuf".
void check_type(const MapInfo& info, std::initializer_list<bpf_map_type> accepted, std::string_view handle);
// The typed handle for a map type, as users spell it ("LruHashMap", "Queue").
std::string_view handle_name(bpf_map_type type) noexcept;
// errc::out_of_range: "array 'a': index 9 out of range (4 entries)". Out of line, so that
// Array::get stays small enough to inline.
[[noreturn, gnu::cold]] void throw_out_of_range(const Map& map, std::uint32_t index);
// errc::key_not_found: "map 'h': get: key not found".
[[noreturn, gnu::cold]] void throw_key_not_found(const Map& map, std::string_view operation);

// Sizing a walk's result from what the kernel reports up front. max_entries bounds what
// any walk can return, so a vector reserved to it never grows; growing copies every
// element again and touches about twice the memory (8% of a million-entry walk,
// bench/map_iteration). Reserved pages that are never written are never resident: the
// cost of an oversized reservation is address space, capped here so that a huge, sparse
// map does not reserve gigabytes (past the cap the vector grows as usual).
inline constexpr std::size_t kWalkReserveBytes = std::size_t{64} << 20;
template <class T>
void reserve_for_walk(std::vector<T>& items, const MapInfo& info) {
    items.reserve(std::min<std::size_t>(info.max_entries, kWalkReserveBytes / sizeof(T)));
}
// After the walk: a result that filled less than half of its reservation gives the rest
// back (one copy of what it holds), so the result of a nearly empty map does not keep the
// room a full one needs — no more slack than growth would have left.
template <class T>
void trim_after_walk(std::vector<T>& items) {
    if (items.size() < items.capacity() / 2) items.shrink_to_fit();
}
}  // namespace detail

// What a walk read (keys, values, entries, sums, ids …), plus how the walk ended:
// complete() is false when it stopped at its bound before the end of the map.
template <class T>
class Listing {
public:
    using value_type = T;
    std::vector<T> items;
    WalkResult result;

    auto begin() const { return items.begin(); }
    auto end() const { return items.end(); }
    std::size_t size() const noexcept { return items.size(); }
    bool empty() const noexcept { return items.empty(); }
    const T& operator[](std::size_t i) const { return items[i]; }
    const T& at(std::size_t i) const { return items.at(i); }
    bool complete() const noexcept { return result.complete; }
};

// Entries read by a walk: (key, value) pairs.
template <class K, class V>
using Entries = Listing<std::pair<K, V>>;

// Base of the typed handles (CRTP): the ways to open one, access to the core, and the
// verbs every handle with a lookup shares (get, contains).
template <class Derived>
class TypedHandle {
public:
    [[nodiscard]] static Derived open_by_id(std::uint32_t id) { return Derived(Map::open_by_id(id)); }
    [[nodiscard]] static Derived open_pinned(const std::string& path) { return Derived(Map::open_pinned(path)); }
    [[nodiscard]] static Derived open_by_name(std::string_view name) { return Derived(Map::open_by_name(name)); }
    [[nodiscard]] static Derived from_libbpf(const ::bpf_map* map) { return Derived(Map::from_libbpf(map)); }

    const Map& map() const noexcept { return map_; }
    Map& map() noexcept { return map_; }
    const MapInfo& info() const noexcept { return map_.info(); }
    int fd() const noexcept { return map_.fd(); }
    void pin(const std::string& path) const { map_.pin(path); }
    void freeze() { map_.freeze(); }

    // lookup() that throws errc::key_not_found on a miss (arrays: errc::out_of_range).
    template <class... Key>
    auto get(const Key&... key) const {
        auto value = static_cast<const Derived&>(*this).lookup(key...);
        if (!value) detail::throw_key_not_found(map_, "get");
        return *std::move(value);
    }
    template <class... Key>
    bool contains(const Key&... key) const {
        return static_cast<const Derived&>(*this).lookup(key...).has_value();
    }

protected:
    explicit TypedHandle(Map map) : map_(std::move(map)) {}
    Map map_;

    // Collects a walk of whole keys into a Listing<K>.
    template <class K>
    Listing<K> walk_keys() const {
        Listing<K> out;
        detail::reserve_for_walk(out.items, map_.info());
        out.result = map_.walk([&](const std::byte* keys, const std::byte*, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) out.items.push_back(load_as<K>(keys + i * sizeof(K)));
        });
        detail::trim_after_walk(out.items);
        return out;
    }
};

}  // namespace ebpf
