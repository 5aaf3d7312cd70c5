// Queues (FIFO) and stacks (LIFO): keyless maps of values that BPF programs and user
// space push and pop (bpf_map_push_elem / pop / peek). BloomFilter shares the keyless
// shape: values are inserted and tested, never read back or deleted.
#pragma once

#include <optional>

#include "ebpf/error.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

template <MapData V, bpf_map_type Type>
class ValueStore : public TypedHandle<ValueStore<V, Type>> {
    using Base = TypedHandle<ValueStore<V, Type>>;

public:
    explicit ValueStore(Map map) : Base(std::move(map)) { detail::check_binding(this->info(), {Type}, 0, sizeof(V)); }
    [[nodiscard]] static ValueStore create(std::string name, std::uint32_t max_entries, std::uint32_t flags = 0) {
        return ValueStore(Map::create(MapSpec::make(Type, std::move(name), 0, sizeof(V), max_entries, flags)));
    }

    // Full: errc::map_full, unless flags is UpdateFlags::exist, which drops the oldest
    // (queue) or bottom (stack) value to make room.
    void push(const V& value, UpdateFlags flags = UpdateFlags::any) { this->map_.push(&value, flags); }
    // nullopt when empty.
    std::optional<V> pop() {
        V value;
        if (!this->map_.pop(&value)) return std::nullopt;
        return value;
    }
    std::optional<V> peek() const {
        V value;
        if (!this->map_.peek(&value)) return std::nullopt;
        return value;
    }
};

template <MapData V>
using Queue = ValueStore<V, BPF_MAP_TYPE_QUEUE>;
template <MapData V>
using Stack = ValueStore<V, BPF_MAP_TYPE_STACK>;

// A probabilistic set: contains() is never false for an inserted value (no false
// negatives) and may be true for one never inserted (false positives).
template <MapData V>
class BloomFilter : public TypedHandle<BloomFilter<V>> {
    using Base = TypedHandle<BloomFilter<V>>;

public:
    explicit BloomFilter(Map map) : Base(std::move(map)) {
        detail::check_binding(this->info(), {BPF_MAP_TYPE_BLOOM_FILTER}, 0, sizeof(V));
    }
    // `hashes`: hash functions per value (1–15; the kernel's default 5 when 0).
    [[nodiscard]] static BloomFilter create(std::string name, std::uint32_t max_entries, std::uint32_t hashes = 0,
                                            std::uint32_t flags = 0) {
        MapSpec spec = MapSpec::make(BPF_MAP_TYPE_BLOOM_FILTER, std::move(name), 0, sizeof(V), max_entries, flags);
        spec.map_extra = hashes;
        return BloomFilter(Map::create(spec));
    }
    void insert(const V& value) { this->map_.push(&value); }
    bool contains(const V& value) const {
        V probe = value;
        return this->map_.peek(&probe);
    }
};

}  // namespace ebpf
