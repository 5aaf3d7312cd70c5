// Longest-prefix-match tries (BPF_MAP_TYPE_LPM_TRIE): keys are a prefix length in bits
// followed by the data (an IPv4/IPv6 address, big-endian), and a lookup returns the entry
// with the longest prefix that matches — routing tables, CIDR allow-lists.
#pragma once

#include <array>
#include <optional>

#include "ebpf/error.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

// The kernel's struct bpf_lpm_trie_key: prefix length, then the data bytes.
template <MapData Data>
struct LpmKey {
    static_assert(alignof(Data) <= alignof(std::uint32_t), "the kernel expects the data right after prefixlen");
    std::uint32_t prefixlen;
    Data data;
};

using Ipv4 = std::array<std::uint8_t, 4>;
using Ipv6 = std::array<std::uint8_t, 16>;

template <MapData Data, MapData V>
class LpmTrie : public TypedHandle<LpmTrie<Data, V>> {
    using Base = TypedHandle<LpmTrie<Data, V>>;

public:
    using Key = LpmKey<Data>;
    static_assert(sizeof(Key) == sizeof(std::uint32_t) + sizeof(Data), "no padding allowed in an LPM key");

    explicit LpmTrie(Map map) : Base(std::move(map)) {
        detail::check_binding(this->info(), {BPF_MAP_TYPE_LPM_TRIE}, sizeof(Key), sizeof(V));
    }
    // The kernel requires BPF_F_NO_PREALLOC for tries; it is added here.
    [[nodiscard]] static LpmTrie create(std::string name, std::uint32_t max_entries, std::uint32_t flags = 0) {
        return LpmTrie(Map::create(MapSpec::make(BPF_MAP_TYPE_LPM_TRIE, std::move(name), sizeof(Key), sizeof(V),
                                                 max_entries, flags | BPF_F_NO_PREALLOC)));
    }

    static constexpr std::uint32_t max_prefixlen = 8 * sizeof(Data);

    // The value of the longest prefix containing `address`.
    std::optional<V> longest_match(const Data& address) const { return lookup({max_prefixlen, address}); }

    // Lookups by key: the kernel matches the longest stored prefix of at most
    // key.prefixlen bits that contains key.data (never only the exact prefix).
    // Edits are exact: trie.update({24, {10, 0, 0, 0}}, value), trie.erase({24, …}).
    std::optional<V> lookup(const Key& key) const {
        V value;
        if (!this->map_.lookup(&key, &value)) return std::nullopt;
        return value;
    }
    // Spelled out (not the base's templates) so that braced keys work: trie.get({24, address}).
    V get(const Key& key) const {
        V value;
        if (!this->map_.lookup(&key, &value)) detail::throw_key_not_found(this->map_, "get");
        return value;
    }
    bool contains(const Key& key) const { return lookup(key).has_value(); }
    void update(const Key& key, const V& value, UpdateFlags flags = UpdateFlags::any) {
        check_prefix(key);
        this->map_.update(&key, &value, flags);
    }
    bool erase(const Key& key) { return this->map_.erase(&key); }

    // Tries have no batch operations: these walk with get_next_key (bounded, no repeats).
    Listing<Key> keys() const { return this->template walk_keys<Key>(); }
    Entries<Key, V> entries() const {
        Entries<Key, V> out;
        detail::reserve_for_walk(out.items, this->info());
        out.result = this->map_.walk([&](const std::byte* keys, const std::byte* values, std::size_t n) {
            for (std::size_t i = 0; i < n; ++i)
                out.items.emplace_back(load_as<Key>(keys + i * sizeof(Key)), load_as<V>(values + i * sizeof(V)));
        });
        detail::trim_after_walk(out.items);
        return out;
    }

private:
    void check_prefix(const Key& key) const {
        if (key.prefixlen > max_prefixlen)
            throw Error::make(errc::out_of_range, this->map_.describe() + ": prefix length " +
                                                      std::to_string(key.prefixlen) + " is longer than " +
                                                      std::to_string(max_prefixlen) + " bits");
    }
};

}  // namespace ebpf
