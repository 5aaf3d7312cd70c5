// Planning a map's export: its key's BTF leaves become label fields, its value's leaves
// families. Everything that needs BTF happens here, once, when `serve` starts.
#include "map_export_plan.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "ebpf/error.hpp"
#include "exposition.hpp"

namespace ebpf_tool::map_export {

namespace {

using ebpf::BtfLeaf;

// Label names and the parts of family names: the exposition's one naming rule, without ':'
// (Prometheus keeps it for recording rules, and label names cannot have it).
std::string sanitize(std::string_view name) {
    return exposition::sanitize_name(name, /*allow_colon=*/false);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// A member name without the "#2" collect_fields gives a repeated name.
std::string_view bare(std::string_view name) {
    return name.substr(0, name.find('#'));
}

std::string joined(const std::vector<BtfLeaf::Step>& path, std::size_t end, const char* separator) {
    std::string out;
    for (std::size_t i = 0; i < end; ++i) {
        if (i) out += separator;
        out += path[i].name;
    }
    return out;
}

// Names that mean an address: src/dst/ip/addr on their own, and the usual spellings built
// on them (saddr, daddr, src_ip, dst_addr, ip6, saddr_v6, remote_addr …).
bool address_name(std::string_view raw) {
    const std::string n = lower(bare(raw));
    static const std::set<std::string, std::less<>> whole{"src",  "dst",   "ip",    "ip4", "ip6", "ipv4",  "ipv6",
                                                          "addr", "addr4", "addr6", "sip", "dip", "saddr", "daddr"};
    if (whole.count(n)) return true;
    for (std::string_view suffix : {"addr", "addr4", "addr6", "_ip", "_ip4", "_ip6", "_ipv4", "_ipv6"})
        if (n.ends_with(suffix)) return true;
    for (std::string_view prefix : {"saddr", "daddr", "addr_", "ip_", "ip4_", "ip6_", "src_ip", "dst_ip"})
        if (n.starts_with(prefix)) return true;
    return false;
}

bool integer_array(const BtfLeaf& l) {
    return l.kind == BtfLeaf::Kind::array && l.element == BtfLeaf::Kind::integer &&
           (l.element_size == 1 || l.element_size == 2 || l.element_size == 4 || l.element_size == 8);
}

Slot slot_of(const BtfLeaf& l) {
    return {l.offset, l.size, l.bit_shift, l.bit_width, l.is_signed};
}

// Unique within one list of names: a second "a_b" (from "a.b" and "a_b") becomes "a_b_2".
std::string unique(std::string name, std::set<std::string>& used) {
    if (used.insert(name).second) return name;
    for (int k = 2;; ++k)
        if (std::string candidate = name + "_" + std::to_string(k); used.insert(candidate).second) return candidate;
}

// A label name from a member path. Prometheus reserves names starting "__", and a
// histogram's own label is "le": those get a "key_" in front.
std::string label_name(const std::vector<BtfLeaf::Step>& path, std::size_t end, std::set<std::string>& used) {
    std::string name = end == 0 ? "key" : sanitize(joined(path, end, "_"));
    if (name.starts_with("__") || name == "le" || name == "quantile") name = "key_" + name;
    return unique(std::move(name), used);
}

// A key (or value) without BTF: read as one unsigned integer when it has an integer's size.
std::vector<BtfLeaf> raw_leaves(std::uint32_t size) {
    if (size != 1 && size != 2 && size != 4 && size != 8) return {};
    BtfLeaf l;
    l.kind = BtfLeaf::Kind::integer;
    l.size = size;
    return {l};
}

std::vector<LabelField> plan_labels(const std::vector<BtfLeaf>& leaves) {
    std::vector<LabelField> out;
    std::set<std::string> used, groups;
    for (const BtfLeaf& l : leaves) {
        // A struct in_addr / in6_addr anywhere on the path is one address label.
        bool grouped = false;
        for (std::size_t j = 0; j < l.path.size() && !grouped; ++j) {
            const std::string& type = l.path[j].type;
            const bool v4 = type == "struct in_addr", v6 = type == "struct in6_addr";
            if (!v4 && !v6) continue;
            grouped = true;
            const std::string group = joined(l.path, j + 1, ".");
            if (!groups.insert(group).second) break;
            LabelField f;
            f.name = label_name(l.path, j + 1, used);
            f.render = v4 ? Render::ipv4 : Render::ipv6;
            f.slot = {l.path[j].offset, std::size_t{v4 ? 4u : 16u}, 0, 0, false};
            out.push_back(std::move(f));
        }
        if (grouped) continue;

        LabelField f;
        f.name = label_name(l.path, l.path.size(), used);
        f.slot = slot_of(l);
        const bool named_address = !l.path.empty() && address_name(l.path.back().name);
        switch (l.kind) {
            case BtfLeaf::Kind::integer:
                if (named_address && l.size == 4 && l.bit_width == 0)
                    f.render = Render::ipv4;
                else if (l.size > 8 && l.bit_width == 0)
                    f.render = Render::wide;
                else
                    f.render = l.is_signed ? Render::signed_int : Render::unsigned_int;
                break;
            case BtfLeaf::Kind::boolean:
                f.render = Render::boolean;
                break;
            case BtfLeaf::Kind::enumeration:
                f.render = Render::enumeration;
                f.enumerators = l.enumerators;
                break;
            case BtfLeaf::Kind::floating:
                f.render = l.size == 4 || l.size == 8 ? Render::floating : Render::hex;
                break;
            case BtfLeaf::Kind::pointer:
                f.render = Render::wide;
                break;
            case BtfLeaf::Kind::chars:
                f.render = Render::chars;
                break;
            case BtfLeaf::Kind::array:
                if (named_address && l.size == 4 && integer_array(l))
                    f.render = Render::ipv4;
                else if (named_address && l.size == 16 && integer_array(l))
                    f.render = Render::ipv6;
                else if (integer_array(l) && l.element_size == 1 && !l.is_signed)
                    f.render = Render::bytes;
                else if (integer_array(l)) {
                    f.render = Render::int_list;
                    f.element_size = l.element_size;
                    f.count = l.count;
                } else
                    f.render = Render::hex;
                break;
            case BtfLeaf::Kind::other:
                f.render = named_address && l.size == 16  ? Render::ipv6
                           : named_address && l.size == 4 ? Render::ipv4
                                                          : Render::hex;
                break;
        }
        out.push_back(std::move(f));
    }
    return out;
}

const char* type_text(metrics::Type t) {
    return t == metrics::Type::counter ? "counter" : t == metrics::Type::histogram ? "histogram" : "gauge";
}

}  // namespace

std::uint64_t read_unsigned(const std::byte* base, const Slot& slot) noexcept {
    if (slot.width == 0) {
        std::uint64_t v = 0;
        std::memcpy(&v, base + slot.offset, std::min<std::size_t>(slot.size, 8));
        if (slot.size < 8) v &= (std::uint64_t{1} << (slot.size * 8)) - 1;
        return v;
    }
    // A bitfield spans at most 9 bytes (7 bits of shift + 64 of width).
    __extension__ typedef unsigned __int128 u128;
    u128 raw = 0;
    std::memcpy(&raw, base + slot.offset, std::min<std::size_t>(slot.size, sizeof raw));
    raw >>= slot.shift;
    const auto v = static_cast<std::uint64_t>(raw);
    return slot.width >= 64 ? v : v & ((std::uint64_t{1} << slot.width) - 1);
}

std::int64_t read_signed(const std::byte* base, const Slot& slot) noexcept {
    const std::uint64_t v = read_unsigned(base, slot);
    const unsigned bits = slot.width ? slot.width : static_cast<unsigned>(std::min<std::size_t>(slot.size, 8) * 8);
    if (bits >= 64) return static_cast<std::int64_t>(v);
    const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
    return static_cast<std::int64_t>((v ^ sign) - sign);
}

bool counter_name(std::string_view raw) {
    const std::string n = lower(bare(raw));
    if (n.find("count") != std::string::npos || n.find("total") != std::string::npos) return true;
    for (std::string_view suffix : {"packets", "pkts", "bytes", "calls", "events", "drops", "errors"})
        if (n.ends_with(suffix)) return true;
    return false;
}

MapPlan plan_map(const ebpf::Map& map, const std::string& path, const std::vector<std::string>& value_fields,
                 bool histogram, std::vector<std::string>& matched) {
    const ebpf::MapInfo& info = map.info();
    const std::string what = "map '" + info.name + "' (" + path + ")";
    switch (info.type) {
        case BPF_MAP_TYPE_HASH:
        case BPF_MAP_TYPE_ARRAY:
        case BPF_MAP_TYPE_PERCPU_HASH:
        case BPF_MAP_TYPE_PERCPU_ARRAY:
        case BPF_MAP_TYPE_LRU_HASH:
        case BPF_MAP_TYPE_LRU_PERCPU_HASH:
        case BPF_MAP_TYPE_LPM_TRIE:
            break;
        default:
            throw ebpf::Error::make(ebpf::errc::wrong_type,
                                    what + ": a " + info.type_name() + " map has no key/value entries to export");
    }

    std::optional<ebpf::Btf> btf;
    if (info.btf_id != 0 && (info.btf_key_type_id != 0 || info.btf_value_type_id != 0))
        btf.emplace(ebpf::Btf::from_kernel(info.btf_id));
    const auto leaves = [&](std::uint32_t type_id, std::uint32_t size, const char* part) {
        std::vector<BtfLeaf> out = type_id != 0 ? ebpf::btf_leaves(*btf, type_id) : raw_leaves(size);
        if (out.empty())
            throw ebpf::Error::make(ebpf::errc::not_supported, what + ": its " + part + " has no BTF and, at " +
                                                                   std::to_string(size) +
                                                                   " bytes, is not a plain integer to read without it");
        return out;
    };
    const std::vector<BtfLeaf> key = leaves(info.btf_key_type_id, info.key_size, "key");
    const std::vector<BtfLeaf> value = leaves(info.btf_value_type_id, info.value_size, "value");

    MapPlan plan;
    plan.path = path;
    plan.prefix = "ebpf_map_" + sanitize(info.name);
    plan.labels = plan_labels(key);

    const bool percpu = ebpf::is_percpu(info.type);
    const std::string origin = " of BPF map '" + info.name + "' (" + info.type_name() + ", pinned at " + path + ")" +
                               (percpu ? ", summed over CPUs" : "") +
                               (info.btf_value_type_id == 0 ? "; no BTF: read as an unsigned integer" : "");
    std::set<std::string> families;
    std::vector<std::string> numeric;  // for the message when nothing is selected
    bool buckets_seen = false;
    std::string long_array;  // an integer array too long for log2 buckets, for the message
    for (const BtfLeaf& l : value) {
        const bool scalar = (l.kind == BtfLeaf::Kind::integer && (l.size <= 8 || l.bit_width != 0)) ||
                            l.kind == BtfLeaf::Kind::boolean ||
                            (l.kind == BtfLeaf::Kind::floating && (l.size == 4 || l.size == 8));
        // Only an array that can be log2 buckets is one: a longer integer array is not
        // exported, as other arrays are not (its upper bounds would reach +Inf at slot 1023).
        const bool buckets = integer_array(l) && l.count > 0 && l.count <= kMaxBuckets;
        if (integer_array(l) && l.count > kMaxBuckets && long_array.empty())
            long_array = (l.path.empty() ? "value" : "field '" + joined(l.path, l.path.size(), ".") + "'") +
                         " is an array of " + std::to_string(l.count) + " integers";
        if (!scalar && !buckets) continue;
        buckets_seen |= buckets;
        if (buckets && !histogram) continue;
        ValueField f;
        f.path = joined(l.path, l.path.size(), ".");
        numeric.push_back(f.path.empty() ? "(the value)" : f.path);
        if (!value_fields.empty()) {
            const std::string flat = sanitize(joined(l.path, l.path.size(), "_"));
            const auto named = std::find_if(value_fields.begin(), value_fields.end(),
                                            [&](const std::string& n) { return n == f.path || n == flat; });
            if (named == value_fields.end()) continue;
            matched.push_back(*named);
        }
        f.slot = slot_of(l);
        const std::string field_type =
            l.path.empty() ? (btf && info.btf_value_type_id ? btf->type_name(info.btf_value_type_id) : "integer")
                           : l.path.back().type;
        std::string name = plan.prefix + (l.path.empty() ? "" : "_" + sanitize(joined(l.path, l.path.size(), "_")));
        if (buckets) {
            f.type = metrics::Type::histogram;
            f.buckets = l.count;
            f.element_size = l.element_size;
        } else {
            f.floating = l.kind == BtfLeaf::Kind::floating;
            const bool grows = l.kind == BtfLeaf::Kind::integer && !l.is_signed &&
                               counter_name(l.path.empty() ? info.name : l.path.back().name);
            f.type = grows ? metrics::Type::counter : metrics::Type::gauge;
            // The writer appends _total to counters.
            if (grows && name.ends_with("_total")) name.resize(name.size() - 6);
            // Prometheus keeps these suffixes for counters and histograms: a gauge named
            // so would read as part of one (and promtool's lint says so).
            if (!grows)
                for (std::string_view reserved : {"_total", "_count", "_sum", "_bucket"})
                    if (name.ends_with(reserved)) {
                        name += "_value";
                        break;
                    }
        }
        f.family = unique(std::move(name), families);
        f.help = std::string(type_text(f.type)) + " from " + (l.path.empty() ? "the value" : "field '" + f.path + "'") +
                 " (" + field_type + ")" + origin;
        if (buckets)
            f.help +=
                "; log2 buckets: slot i counts values in [2^i, 2^(i+1)) (slot 0: 0 and 1), "
                "_sum approximated from bucket midpoints";
        (buckets ? plan.histograms : plan.values).push_back(std::move(f));
    }
    if (plan.values.empty() && plan.histograms.empty()) {
        std::string why = what + ": ";
        if (!value_fields.empty() && !numeric.empty()) {
            why += "none of the --value-field names is a numeric field of its value (it has: ";
            for (std::size_t i = 0; i < numeric.size(); ++i) why += (i ? ", " : "") + numeric[i];
            why += ")";
        } else if (buckets_seen) {
            why += "its value is an array of buckets: export it with --histogram";
        } else if (!long_array.empty()) {
            why += "its " + long_array + ", more than the " + std::to_string(kMaxBuckets) +
                   " slots of a log2 histogram, and it has no other numeric field to export";
        } else {
            why += "its value (" + (btf ? btf->type_name(info.btf_value_type_id) : std::string("?")) +
                   ") has no numeric field to export";
        }
        throw ebpf::Error::make(ebpf::errc::not_supported, why);
    }
    plan.series_per_entry = plan.values.size();
    for (const ValueField& h : plan.histograms) plan.series_per_entry += h.buckets + 3;  // +Inf, _sum, _count
    return plan;
}

}  // namespace ebpf_tool::map_export
