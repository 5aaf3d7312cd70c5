// Hash maps (BPF_MAP_TYPE_HASH, and LRU_HASH, which evicts the least recently used
// entry instead of failing when full): struct keys to struct values.
#pragma once

#include <optional>
#include <tuple>

#include "ebpf/error.hpp"

#include "ebpf/typed.hpp"

namespace ebpf {

template <MapData K, MapData V, bpf_map_type... Types>
class BasicHashMap : public TypedHandle<BasicHashMap<K, V, Types...>> {
    using Base = TypedHandle<BasicHashMap<K, V, Types...>>;

public:
    using key_type = K;
    using mapped_type = V;

    explicit BasicHashMap(Map map) : Base(std::move(map)) {
        detail::check_binding(this->info(), {Types...}, sizeof(K), sizeof(V));
    }

    // A new map of the first accepted type.
    [[nodiscard]] static BasicHashMap create(std::string name, std::uint32_t max_entries, std::uint32_t flags = 0) {
        return BasicHashMap(Map::create(MapSpec::make(std::get<0>(std::tuple{Types...}), std::move(name), sizeof(K),
                                                      sizeof(V), max_entries, flags)));
    }

    std::optional<V> lookup(const K& key) const {
        V value;
        if (!this->map_.lookup(&key, &value)) return std::nullopt;
        return value;
    }
    // No allocation, no optional: false when the key is missing.
    bool lookup_into(const K& key, V& value) const { return this->map_.lookup(&key, &value); }
    // lookup() that throws errc::key_not_found on a miss.
    V get(const K& key) const {
        V value;
        if (!this->map_.lookup(&key, &value)) detail::throw_key_not_found(this->map_, "get");
        return value;
    }
    bool contains(const K& key) const {
        V value;
        return this->map_.lookup(&key, &value);
    }
    void update(const K& key, const V& value, UpdateFlags flags = UpdateFlags::any) {
        this->map_.update(&key, &value, flags);
    }
    // false when the key was missing.
    bool erase(const K& key) { return this->map_.erase(&key); }
    std::optional<V> take(const K& key) {
        V value;
        if (!this->map_.take(&key, &value)) return std::nullopt;
        return value;
    }

    Listing<K> keys() const { return this->template walk_keys<K>(); }

    // Every entry, batched; entries().complete() says whether the walk saw the whole map.
    Entries<K, V> entries(std::size_t batch_size = 4096) const {
        Entries<K, V> out;
        detail::reserve_for_walk(out.items, this->info());
        const std::size_t stride = this->map_.value_buffer_size();
        out.result = this->map_.walk(
            [&](const std::byte* keys, const std::byte* values, std::size_t n) {
                for (std::size_t i = 0; i < n; ++i)
                    out.items.emplace_back(load_as<K>(keys + i * sizeof(K)), load_as<V>(values + i * stride));
            },
            batch_size);
        detail::trim_after_walk(out.items);
        return out;
    }

    std::size_t update_batch(const std::vector<K>& keys, const std::vector<V>& values,
                             UpdateFlags flags = UpdateFlags::any) {
        if (keys.size() != values.size())
            throw Error::make(errc::size_mismatch, this->map_.describe() +
                                                       ": update_batch: " + std::to_string(keys.size()) + " keys but " +
                                                       std::to_string(values.size()) + " values");
        return this->map_.update_batch(keys.data(), values.data(), keys.size(), flags);
    }
    std::size_t erase_batch(const std::vector<K>& keys) { return this->map_.erase_batch(keys.data(), keys.size()); }
    // Reads and removes every entry.
    Entries<K, V> drain() {
        Entries<K, V> out;
        detail::reserve_for_walk(out.items, this->info());
        out.result = this->map_.drain([&](const std::byte* keys, const std::byte* values, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i)
                out.items.emplace_back(load_as<K>(keys + i * sizeof(K)), load_as<V>(values + i * sizeof(V)));
        });
        detail::trim_after_walk(out.items);
        return out;
    }
};

template <MapData K, MapData V>
using HashMap = BasicHashMap<K, V, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH>;

template <MapData K, MapData V>
using LruHashMap = BasicHashMap<K, V, BPF_MAP_TYPE_LRU_HASH>;

}  // namespace ebpf
