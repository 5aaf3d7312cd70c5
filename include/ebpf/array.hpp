// Arrays (BPF_MAP_TYPE_ARRAY): max_entries preallocated slots indexed by a u32, every slot
// always present (zeroed at creation), no delete. The natural map for configuration and
// for counters indexed by a small dense integer.
#pragma once

#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>

#include "ebpf/error.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

namespace detail {

// A map's memory mapped into this process (mmap of the map's fd, MAP_SHARED), unmapped
// when it goes. The mapping holds its own reference to the map: it stays valid after the
// Map handle is closed.
class MappedMemory {
public:
    MappedMemory(const Map& map, std::size_t length, bool writable);
    ~MappedMemory();
    MappedMemory(MappedMemory&& other) noexcept;
    MappedMemory& operator=(MappedMemory&& other) noexcept;
    MappedMemory(const MappedMemory&) = delete;
    MappedMemory& operator=(const MappedMemory&) = delete;

    std::byte* data() const noexcept { return data_; }
    bool writable() const noexcept { return writable_; }

private:
    std::byte* data_ = nullptr;
    std::size_t length_ = 0;
    bool writable_ = false;
};

}  // namespace detail

enum class Access { read, read_write };

// An array's slots as memory of this process (Array::mmap(), for a map created with
// BPF_F_MMAPABLE): reading or writing a slot is a load or a store, shared with the BPF
// programs that use the map, with no syscall — reading a 65,536-slot counter table costs
// microseconds instead of a batched lookup's copy. The kernel lays slot i out at
// i × round_up(sizeof(V), 8).
//
// BPF programs write slots while this process reads them: an integer slot of 1, 2, 4 or 8
// bytes is read and written with one atomic access (never torn, as __sync_fetch_and_add
// in a program updates it); a struct slot is copied bytewise and may mix two updates.
template <MapData V>
class MappedArray {
public:
    static constexpr std::size_t kStride = (sizeof(V) + 7) / 8 * 8;

    std::uint32_t size() const noexcept { return size_; }
    bool writable() const noexcept { return memory_.writable(); }

    // The slot's value now. Past the end: errc::out_of_range.
    V load(std::uint32_t index) const {
        const std::byte* slot = at(index);
        if constexpr (kAtomic) {
            return __atomic_load_n(reinterpret_cast<const V*>(slot), __ATOMIC_RELAXED);
        } else {
            V value;
            std::memcpy(&value, slot, sizeof(V));
            return value;
        }
    }
    // Past the end: errc::out_of_range; a mapping made with Access::read: errc::misuse.
    void store(std::uint32_t index, const V& value) {
        if (!memory_.writable())
            throw Error::make(errc::misuse, "array '" + name_ + "': store into a read-only mapping (Access::read)");
        std::byte* slot = at(index);
        if constexpr (kAtomic)
            __atomic_store_n(reinterpret_cast<V*>(slot), value, __ATOMIC_RELAXED);
        else
            std::memcpy(slot, &value, sizeof(V));
    }

private:
    template <MapData>
    friend class Array;
    static constexpr bool kAtomic =
        std::is_integral_v<V> && (sizeof(V) == 1 || sizeof(V) == 2 || sizeof(V) == 4 || sizeof(V) == 8);

    MappedArray(detail::MappedMemory memory, std::uint32_t size, std::string name)
        : memory_(std::move(memory)), size_(size), name_(std::move(name)) {}

    std::byte* at(std::uint32_t index) const {
        if (index >= size_)
            throw Error::make(errc::out_of_range, "array '" + name_ + "': index " + std::to_string(index) +
                                                      " out of range (" + std::to_string(size_) + " entries)");
        return memory_.data() + std::size_t{index} * kStride;
    }

    detail::MappedMemory memory_;
    std::uint32_t size_;
    std::string name_;
};

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

    // The slots as memory of this process (MappedArray). The map must have been created
    // with BPF_F_MMAPABLE (errc::not_supported otherwise); a frozen map, or one created
    // with BPF_F_RDONLY, maps with Access::read only (errc::permission for read_write).
    [[nodiscard]] MappedArray<V> mmap(Access access = Access::read) const {
        const MapInfo& info = this->info();
        if (!(info.flags & BPF_F_MMAPABLE))
            throw Error::make(errc::not_supported,
                              "array '" + info.name + "': not created with BPF_F_MMAPABLE, so it cannot be mapped");
        return MappedArray<V>(detail::MappedMemory(this->map_, std::size_t{size()} * MappedArray<V>::kStride,
                                                   access == Access::read_write),
                              size(), info.name);
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
