#include "map_format.hpp"


#include <array>
#include <cstring>

#include "ebpf/error.hpp"
#include "ebpf/typed.hpp"

namespace ebpf_tool {

namespace {
constexpr char kHex[] = "0123456789abcdef";
}

void append_hex_json(std::string& out, std::span<const std::byte> bytes) {
    // A million-entry dump writes hundreds of megabytes of these: one table lookup and
    // one 7-byte copy per byte, into space reserved once.
    static const auto table = [] {
        std::array<std::array<char, 7>, 256> t{};
        for (unsigned b = 0; b < 256; ++b) t[b] = {'"', '0', 'x', kHex[b >> 4], kHex[b & 15], '"', ','};
        return t;
    }();
    const std::size_t n = bytes.size();
    const std::size_t start = out.size();
    out.resize(start + (n ? n * 7 + 1 : 2));
    char* p = out.data() + start;
    *p++ = '[';
    for (std::size_t i = 0; i < n; ++i, p += 7) std::memcpy(p, table[static_cast<unsigned>(bytes[i])].data(), 7);
    if (n)
        p[-1] = ']';
    else
        *p = ']';
}

void append_hex_text(std::string& out, std::span<const std::byte> bytes) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto b = static_cast<unsigned>(bytes[i]);
        if (i) out += ' ';
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
}

EntryFormatter::EntryFormatter(const ebpf::MapInfo& info)
    : info_(info),
      percpu_(ebpf::is_percpu(info.type)),
      stride_(percpu_ ? ebpf::percpu_value_stride(info.value_size) : info.value_size),
      cpus_(percpu_ ? ebpf::possible_cpus() : 1) {
    if (!info.btf_id || !info.btf_value_type_id) return;
    try {
        btf_.emplace(ebpf::Btf::from_kernel(info.btf_id));
        if (info.btf_key_type_id) key_.emplace(*btf_, info.btf_key_type_id);
        value_.emplace(*btf_, info.btf_value_type_id);
        if (const auto integer = btf_->integer(info.btf_value_type_id);
            integer && !integer->is_bool && integer->size <= 8) {
            value_is_integer_ = true;
            value_is_signed_ = integer->is_signed;
        }
    } catch (const ebpf::Error&) {
        // BTF that cannot be formatted (e.g. a kernel type we do not handle): show bytes.
        key_.reset();
        value_.reset();
    }
}

std::optional<std::uint64_t> EntryFormatter::percpu_sum(std::span<const std::byte> value) const {
    if (!value_is_integer_) return std::nullopt;
    std::uint64_t sum = 0;
    for (unsigned cpu = 0; cpu < cpus_; ++cpu) {
        const std::byte* p = value.data() + cpu * stride_;
        std::uint64_t v = 0;
        std::memcpy(&v, p, info_.value_size);
        if (value_is_signed_ && info_.value_size < 8 && (v >> (info_.value_size * 8 - 1)) & 1)
            v |= ~0ULL << (info_.value_size * 8);
        sum += v;
    }
    return sum;
}

void EntryFormatter::append_key_json(std::string& out, std::span<const std::byte> key) const {
    append_hex_json(out, key);
}

void EntryFormatter::append_value_formatted(std::string& out, std::span<const std::byte> one) const {
    value_->append(out, one.first(info_.value_size), ebpf::Style::json);
}

void EntryFormatter::append_json(std::string& out, std::span<const std::byte> key,
                                 std::span<const std::byte> value) const {
    out += '{';
    bool keyed = info_.key_size > 0;
    if (keyed) {
        out += "\"key\":";
        append_hex_json(out, key);
        out += ',';
    }
    if (!percpu_) {
        out += "\"value\":";
        append_hex_json(out, value.first(info_.value_size));
        if (info_.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || info_.type == BPF_MAP_TYPE_HASH_OF_MAPS) {
            std::uint32_t id = 0;
            std::memcpy(&id, value.data(), sizeof(id));
            out += ",\"inner_map_id\":" + std::to_string(id);
        }
        if (value_) {
            out += ",\"formatted\":{";
            if (keyed && key_) {
                out += "\"key\":";
                key_->append(out, key, ebpf::Style::json);
                out += ',';
            }
            out += "\"value\":";
            append_value_formatted(out, value);
            out += '}';
        }
    } else {
        out += "\"values\":[";
        for (unsigned cpu = 0; cpu < cpus_; ++cpu) {
            if (cpu) out += ',';
            out += "{\"cpu\":" + std::to_string(cpu) + ",\"value\":";
            append_hex_json(out, value.subspan(cpu * stride_, info_.value_size));
            out += '}';
        }
        out += ']';
        if (value_) {
            out += ",\"formatted\":{";
            if (key_) {
                out += "\"key\":";
                key_->append(out, key, ebpf::Style::json);
                out += ',';
            }
            out += "\"values\":[";
            for (unsigned cpu = 0; cpu < cpus_; ++cpu) {
                if (cpu) out += ',';
                out += "{\"cpu\":" + std::to_string(cpu) + ",\"value\":";
                append_value_formatted(out, value.subspan(cpu * stride_, info_.value_size));
                out += '}';
            }
            out += ']';
            if (auto sum = percpu_sum(value))
                out += ",\"sum\":" + (value_is_signed_ ? std::to_string(static_cast<std::int64_t>(*sum)) : std::to_string(*sum));
            out += '}';
        }
    }
    out += '}';
}

std::string EntryFormatter::key_text(std::span<const std::byte> key) const {
    std::string out;
    if (key_)
        key_->append(out, key, ebpf::Style::text);
    else
        append_hex_text(out, key);
    return out;
}

void EntryFormatter::append_value_text(std::string& out, std::span<const std::byte> one) const {
    if (value_)
        value_->append(out, one.first(info_.value_size), ebpf::Style::text);
    else
        append_hex_text(out, one.first(info_.value_size));
}

void EntryFormatter::append_text(std::string& out, std::span<const std::byte> key, std::span<const std::byte> value,
                                 std::size_t key_width) const {
    if (info_.key_size > 0) {
        std::size_t start = out.size();
        if (key_)
            key_->append(out, key, ebpf::Style::text);
        else
            append_hex_text(out, key);
        std::size_t written = out.size() - start;
        out.append(written < key_width ? key_width - written : 0, ' ');
        out += "  ";
    }
    if (!percpu_) {
        append_value_text(out, value);
    } else {
        for (unsigned cpu = 0; cpu < cpus_; ++cpu) {
            if (cpu) out += "  ";
            out += "cpu" + std::to_string(cpu) + ": ";
            append_value_text(out, value.subspan(cpu * stride_, info_.value_size));
        }
        if (auto sum = percpu_sum(value))
            out += "  sum: " + (value_is_signed_ ? std::to_string(static_cast<std::int64_t>(*sum)) : std::to_string(*sum));
    }
    out += '\n';
}

}  // namespace ebpf_tool
