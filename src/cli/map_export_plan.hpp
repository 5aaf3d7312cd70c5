// What `serve --map` knows about one map once it is opened: how each key becomes labels and
// each value field a family. Planned once from BTF (map_export_plan.cpp), run at every
// scrape (map_export.cpp) without touching BTF again. Internal to the map exporter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ebpf/btf.hpp"
#include "ebpf/map.hpp"
#include "metrics.hpp"

namespace ebpf_tool::map_export {

// How a key leaf is written as a label value.
enum class Render {
    unsigned_int,  // decimal
    signed_int,    // decimal
    wide,          // 16-byte integer or pointer: 0x… hex
    boolean,       // true/false (the number for other bytes)
    enumeration,   // enumerator name (the number when none matches)
    floating,      // shortest round-trip decimal
    chars,         // up to the first NUL; bytes >= 0x80 as U+0080–U+00FF (valid UTF-8)
    ipv4,          // 4 bytes in memory (network) order: a.b.c.d
    ipv6,          // 16 bytes: inet_ntop's canonical form
    bytes,         // u8 arrays: 00:11:22 …
    int_list,      // other integer arrays: 1,2,3
    hex,           // anything else (unions, arrays of structs): 0x + the bytes in memory order
};

// Where a scalar sits in a key or value, and how to read it.
struct Slot {
    std::size_t offset = 0;
    std::size_t size = 0;
    unsigned shift = 0, width = 0;  // bitfields: width != 0
    bool is_signed = false;
};

struct LabelField {
    std::string name;
    Render render = Render::unsigned_int;
    Slot slot;
    std::size_t element_size = 0;  // int_list
    std::uint32_t count = 0;       // int_list
    std::vector<std::pair<std::uint64_t, std::string>> enumerators;
};

struct ValueField {
    std::string path;  // "a.b" (empty for a scalar value): what --value-field names
    std::string family;
    std::string help;
    metrics::Type type = metrics::Type::gauge;
    Slot slot;
    bool floating = false;
    // Histograms: one slot per log2 bucket, `element_size` bytes each (at most kMaxBuckets).
    std::uint32_t buckets = 0;
    std::size_t element_size = 0;
};

struct MapPlan {
    std::string path;    // the pin, as given
    std::string prefix;  // ebpf_map_<name>
    std::vector<LabelField> labels;
    std::vector<ValueField> values;      // gauges and counters
    std::vector<ValueField> histograms;  // --histogram
    std::size_t series_per_entry = 0;
};

// The most log2 buckets a histogram has: slot i counts values in [2^i, 2^(i+1)), so a 64-bit
// value is in slot 63 at most (libbpf-tools' MAX_SLOTS are 20 to 36). A longer integer array
// is not log2 buckets, and its bounds would overflow a double from slot 1023 on.
inline constexpr std::uint32_t kMaxBuckets = 64;

// Integer leaves as 64-bit numbers (the low 64 bits of wider ones), bitfields shifted out.
std::uint64_t read_unsigned(const std::byte* base, const Slot& slot) noexcept;
std::int64_t read_signed(const std::byte* base, const Slot& slot) noexcept;

// The counter rule: unsigned integers whose name says they only grow.
bool counter_name(std::string_view name);

// Plans `map`'s export: throws ebpf::Error naming the map and why it cannot be exported.
// `value_fields` (--value-field) restricts the value families; names that matched are
// added to `matched`.
MapPlan plan_map(const ebpf::Map& map, const std::string& path, const std::vector<std::string>& value_fields,
                 bool histogram, std::vector<std::string>& matched);

}  // namespace ebpf_tool::map_export
