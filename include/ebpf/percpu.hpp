// Per-CPU maps: every key has one value slot per *possible* CPU, so BPF programs update
// them without atomics or locks, and user space sums the slots. This header hides the
// two sizing rules users keep getting wrong: slots are counted by possible CPUs (not
// online ones) and each slot is padded to 8 bytes.
#pragma once

#include <optional>
#include <tuple>

#include "ebpf/error.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

// One value per possible CPU.
template <MapData V>
class PerCpu {
public:
    PerCpu() : values_(possible_cpus()) {}
    // Every CPU's slot set to `value`.
    explicit PerCpu(const V& value) : values_(possible_cpus(), value) {}
    explicit PerCpu(std::vector<V> values) : values_(std::move(values)) {
        if (values_.size() != possible_cpus())
            throw Error::make(errc::size_mismatch, "PerCpu: " + std::to_string(values_.size()) +
                                                       " values given, but the machine has " +
                                                       std::to_string(possible_cpus()) + " possible CPUs");
    }

    std::size_t size() const noexcept { return values_.size(); }
    V& operator[](std::size_t cpu) { return values_.at(cpu); }
    const V& operator[](std::size_t cpu) const { return values_.at(cpu); }
    auto begin() const { return values_.begin(); }
    auto end() const { return values_.end(); }
    const std::vector<V>& values() const noexcept { return values_; }

    // The sum over all CPUs (for values that can be added).
    V sum() const requires requires(V a, V b) { a += b; }
    {
        V total{};
        for (const V& v : values_) total += v;
        return total;
    }

    // Slot stride in the kernel's buffer.
    static constexpr std::size_t stride = percpu_value_stride(sizeof(V));

    static PerCpu decode(const std::byte* bytes) {
        PerCpu out;
        for (std::size_t cpu = 0; cpu < out.values_.size(); ++cpu) out.values_[cpu] = load_as<V>(bytes + cpu * stride);
        return out;
    }
    std::vector<std::byte> encode() const {
        std::vector<std::byte> bytes(values_.size() * stride);
        for (std::size_t cpu = 0; cpu < values_.size(); ++cpu)
            std::memcpy(bytes.data() + cpu * stride, &values_[cpu], sizeof(V));
        return bytes;
    }

private:
    std::vector<V> values_;
};

// Shared by the per-CPU hash and array handles: reading and writing PerCpu<V> values.
template <class Derived, MapData K, MapData V>
class PerCpuOps : public TypedHandle<Derived> {
    using Base = TypedHandle<Derived>;

public:
    std::optional<PerCpu<V>> lookup(const K& key) const {
        std::vector<std::byte> buffer(this->map_.value_buffer_size());
        if (!this->map_.lookup(&key, buffer.data())) return std::nullopt;
        return PerCpu<V>::decode(buffer.data());
    }
    // The sum over CPUs, or nullopt when the key is missing.
    std::optional<V> lookup_sum(const K& key) const {
        auto values = lookup(key);
        if (!values) return std::nullopt;
        return values->sum();
    }
    void update(const K& key, const PerCpu<V>& values, UpdateFlags flags = UpdateFlags::any) {
        auto bytes = values.encode();
        this->map_.update(&key, bytes.data(), flags);
    }
    // Sets every CPU's slot to `value`.
    void update_all(const K& key, const V& value, UpdateFlags flags = UpdateFlags::any) {
        update(key, PerCpu<V>(value), flags);
    }

    Entries<K, PerCpu<V>> entries(std::size_t batch_size = 4096) const {
        Entries<K, PerCpu<V>> out;
        detail::reserve_for_walk(out.items, this->info());
        out.result = this->map_.walk(collect(out), batch_size);
        detail::trim_after_walk(out.items);
        return out;
    }

protected:
    explicit PerCpuOps(Map map) : Base(std::move(map)) {}

    // A walk visitor appending (key, per-CPU values) to `out`.
    Map::ChunkVisitor collect(Entries<K, PerCpu<V>>& out) const {
        const std::size_t stride = this->map_.value_buffer_size();
        return [&out, stride](const std::byte* keys, const std::byte* values, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i)
                out.items.emplace_back(load_as<K>(keys + i * sizeof(K)), PerCpu<V>::decode(values + i * stride));
        };
    }
};

// BPF_MAP_TYPE_PERCPU_HASH (and LRU_PERCPU_HASH).
template <MapData K, MapData V, bpf_map_type... Types>
class BasicPerCpuHashMap : public PerCpuOps<BasicPerCpuHashMap<K, V, Types...>, K, V> {
    using Base = PerCpuOps<BasicPerCpuHashMap<K, V, Types...>, K, V>;

public:
    explicit BasicPerCpuHashMap(Map map) : Base(std::move(map)) {
        detail::check_binding(this->info(), {Types...}, sizeof(K), sizeof(V));
    }
    [[nodiscard]] static BasicPerCpuHashMap create(std::string name, std::uint32_t max_entries,
                                                   std::uint32_t flags = 0) {
        return BasicPerCpuHashMap(Map::create(MapSpec::make(std::get<0>(std::tuple{Types...}), std::move(name),
                                                            sizeof(K), sizeof(V), max_entries, flags)));
    }
    // false when the key was missing.
    bool erase(const K& key) { return this->map_.erase(&key); }
    // Lookup and delete in one step; nullopt when the key was missing.
    std::optional<PerCpu<V>> take(const K& key) {
        std::vector<std::byte> buffer(this->map_.value_buffer_size());
        if (!this->map_.take(&key, buffer.data())) return std::nullopt;
        return PerCpu<V>::decode(buffer.data());
    }
    Listing<K> keys() const { return this->template walk_keys<K>(); }
    // Reads and removes every entry.
    Entries<K, PerCpu<V>> drain() {
        Entries<K, PerCpu<V>> out;
        detail::reserve_for_walk(out.items, this->info());
        out.result = this->map_.drain(this->collect(out));
        detail::trim_after_walk(out.items);
        return out;
    }
};

template <MapData K, MapData V>
using PerCpuHashMap = BasicPerCpuHashMap<K, V, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH>;
template <MapData K, MapData V>
using LruPerCpuHashMap = BasicPerCpuHashMap<K, V, BPF_MAP_TYPE_LRU_PERCPU_HASH>;

// BPF_MAP_TYPE_PERCPU_ARRAY: the cheapest exact counter there is.
template <MapData V>
class PerCpuArray : public PerCpuOps<PerCpuArray<V>, std::uint32_t, V> {
    using Base = PerCpuOps<PerCpuArray<V>, std::uint32_t, V>;

public:
    explicit PerCpuArray(Map map) : Base(std::move(map)) {
        detail::check_binding(this->info(), {BPF_MAP_TYPE_PERCPU_ARRAY}, sizeof(std::uint32_t), sizeof(V));
    }
    [[nodiscard]] static PerCpuArray create(std::string name, std::uint32_t max_entries, std::uint32_t flags = 0) {
        return PerCpuArray(Map::create(MapSpec::make(BPF_MAP_TYPE_PERCPU_ARRAY, std::move(name), sizeof(std::uint32_t),
                                                     sizeof(V), max_entries, flags)));
    }

    std::uint32_t size() const noexcept { return this->info().max_entries; }

    // As Array::get: errc::out_of_range past the end.
    PerCpu<V> get(std::uint32_t index) const {
        auto values = this->lookup(index);
        if (!values) detail::throw_out_of_range(this->map_, index);
        return *std::move(values);
    }

    // Per-index sums over CPUs, in index order, from one batched read.
    Listing<V> sums() const requires requires(V a, V b) { a += b; }
    {
        Listing<V> out;
        out.items.resize(size());
        const std::size_t stride = this->map_.value_buffer_size();
        out.result = this->map_.walk([&](const std::byte* keys, const std::byte* values, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                auto index = load_as<std::uint32_t>(keys + i * sizeof(std::uint32_t));
                if (index < out.items.size()) out.items[index] = PerCpu<V>::decode(values + i * stride).sum();
            }
        });
        return out;
    }
};

}  // namespace ebpf
