#include "btf_map.hpp"

#include <bpf/btf.h>

#include <map>
#include <memory>
#include <stdexcept>

namespace bench {

ebpf::Map make_btf_hash(const std::string& name, const BtfStruct& key, const BtfStruct& value, std::uint32_t entries) {
    std::unique_ptr<btf, decltype(&btf__free)> types(btf__new_empty(), &btf__free);
    if (!types) throw std::runtime_error("btf__new_empty");
    std::map<std::uint32_t, int> ints;  // size → type id
    for (std::uint32_t size : {2u, 4u, 8u})
        ints[size] = btf__add_int(types.get(), ("__u" + std::to_string(size * 8)).c_str(), size, 0);
    auto add = [&](const BtfStruct& s) {
        const int id = btf__add_struct(types.get(), s.name.c_str(), static_cast<std::uint32_t>(s.size));
        for (const auto& f : s.fields) {
            if (!ints.count(f.size)) throw std::runtime_error("BtfField " + f.name + ": size must be 2, 4 or 8");
            btf__add_field(types.get(), f.name.c_str(), ints[f.size], f.offset * 8, 0);
        }
        return id;
    };
    const int key_id = add(key), value_id = add(value);
    if (btf__load_into_kernel(types.get())) throw std::runtime_error("load BTF");
    ebpf::MapSpec spec;
    spec.type = BPF_MAP_TYPE_HASH;
    spec.name = name;
    spec.key_size = static_cast<std::uint32_t>(key.size);
    spec.value_size = static_cast<std::uint32_t>(value.size);
    spec.max_entries = entries;
    spec.btf_fd = btf__fd(types.get());
    spec.btf_key_type_id = static_cast<std::uint32_t>(key_id);
    spec.btf_value_type_id = static_cast<std::uint32_t>(value_id);
    return ebpf::Map::create(spec);
}

}  // namespace bench
