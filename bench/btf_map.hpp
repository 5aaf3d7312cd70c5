// The benchmarks' maps as a BPF object would define them: a hash whose key and value are
// structs described by BTF, field by field, so that formatting code sees named fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ebpf/map.hpp"

namespace bench {

// An unsigned integer field of 2, 4 or 8 bytes at `offset` bytes into its struct.
struct BtfField {
    std::string name;
    std::uint32_t size;
    std::uint32_t offset;
};

struct BtfStruct {
    std::string name;
    std::size_t size;  // sizeof the C++ struct
    std::vector<BtfField> fields;
};

// A BPF_MAP_TYPE_HASH of `entries`, its key and value types loaded into the kernel as BTF.
ebpf::Map make_btf_hash(const std::string& name, const BtfStruct& key, const BtfStruct& value, std::uint32_t entries);

}  // namespace bench
