// Arrays (BPF_MAP_TYPE_ARRAY): max_entries preallocated slots indexed by a u32, every slot
// always present (zeroed at creation), no delete. The natural map for configuration and
// for counters indexed by a small dense integer.
#pragma once

#include <optional>

#include "ebpf/error.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

template <MapData V>
class Array : public TypedHandle<Array<V>> {
    using Base = TypedHandle<Array<V>>;

public:
    using mapped_type = V;

    explicit Array(Map map) : Base(std::move(map)) {
        detail::check_binding(this->info(), {BPF_MAP_TYPE_ARRAY}, sizeof(std::uint32_t), sizeof(V));
    }

    // BPF_F_MMAPABLE and BPF_F_RDONLY_PROG are among the useful flags.
    [[nodiscard]] static Array create(std::string name, std::uint32_t max_entries, std::uint32_t flags = 0) {
        return Array(Map::create(
            MapSpec::make(BPF_MAP_TYPE_ARRAY, std::move(name), sizeof(std::uint32_t), sizeof(V), max_entries, flags)));
    }

    std::uint32_t size() const noexcept { return this->info().max_entries; }

    // Out of range is an error for an array (every index below size() exists):
    // errc::out_of_range. lookup() gives nullopt instead.
    V get(std::uint32_t index) const {
        V value;
        if (!this->map_.lookup(&index, &value)) detail::throw_out_of_range(this->map_, index);
        return value;
    }
    std::optional<V> lookup(std::uint32_t index) const {
        V value;
        if (!this->map_.lookup(&index, &value)) return std::nullopt;
        return value;
    }
    // Past the end: errc::out_of_range; UpdateFlags::no_exist: errc::key_exists (every
    // slot exists).
    void update(std::uint32_t index, const V& value, UpdateFlags flags = UpdateFlags::any) {
        this->map_.update(&index, &value, flags);
    }

    // Every slot in index order, in one batched read where the kernel supports it.
    Listing<V> values() const {
        Listing<V> out;
        out.items.resize(size());
        out.result = this->map_.walk([&](const std::byte* keys, const std::byte* values, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                auto index = load_as<std::uint32_t>(keys + i * sizeof(std::uint32_t));
                if (index < out.items.size()) out.items[index] = load_as<V>(values + i * sizeof(V));
            }
        });
        return out;
    }
};

}  // namespace ebpf
