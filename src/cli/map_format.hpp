// How `ebpf-tool map` shows entries: bpftool's JSON schema (key and value as arrays of
// "0x.." byte strings, plus "formatted" typed fields when the map has BTF; per-CPU maps
// as "values": [{"cpu", "value"}]) and a readable text form. Appends to a string, so a
// dump of a million entries is formatted without a JSON tree per entry.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "ebpf/btf.hpp"
#include "ebpf/map.hpp"

namespace ebpf_tool {

class EntryFormatter {
public:
    // BTF formatters are built when the map has BTF for its key and value.
    explicit EntryFormatter(const ebpf::MapInfo& info);

    bool has_btf() const noexcept { return value_.has_value(); }
    const ebpf::Btf* btf() const noexcept { return btf_ ? &*btf_ : nullptr; }

    // One entry; `value` holds value_buffer_size bytes (every CPU for per-CPU maps).
    // `key` is empty for keyless maps (queue, stack).
    void append_json(std::string& out, std::span<const std::byte> key, std::span<const std::byte> value) const;
    void append_text(std::string& out, std::span<const std::byte> key, std::span<const std::byte> value,
                     std::size_t key_width) const;
    // The key alone, as text (for column widths and getnext).
    std::string key_text(std::span<const std::byte> key) const;
    void append_key_json(std::string& out, std::span<const std::byte> key) const;

private:
    void append_value_text(std::string& out, std::span<const std::byte> one) const;
    void append_value_formatted(std::string& out, std::span<const std::byte> one) const;
    std::optional<std::uint64_t> percpu_sum(std::span<const std::byte> value) const;

    ebpf::MapInfo info_;
    bool percpu_;
    std::size_t stride_;
    unsigned cpus_;
    std::optional<ebpf::Btf> btf_;
    std::optional<ebpf::BtfFormatter> key_, value_;
    bool value_is_integer_ = false;
    bool value_is_signed_ = false;
};

// "0x01","0x00",… (bpftool's print_hex_data_json) and "01 00 …".
void append_hex_json(std::string& out, std::span<const std::byte> bytes);
void append_hex_text(std::string& out, std::span<const std::byte> bytes);

}  // namespace ebpf_tool
