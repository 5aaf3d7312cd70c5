#include "ebpf/storage.hpp"

#include <bpf/btf.h>

#include <memory>

namespace ebpf {

Map create_local_storage(bpf_map_type type, const std::string& name, std::uint32_t value_size, std::uint32_t flags) {
    if (type != BPF_MAP_TYPE_SK_STORAGE && type != BPF_MAP_TYPE_TASK_STORAGE && type != BPF_MAP_TYPE_INODE_STORAGE)
        throw Error::make(
            errc::wrong_type,
            "map '" + name + "': create_local_storage makes sk/task/inode storage maps, not " + map_type_name(type));
    // The kernel wants BTF for the key (an int) and the value (any type of value_size
    // bytes): describe the value as a struct holding a byte array, so that tools such
    // as bpftool can still print it.
    std::unique_ptr<btf, decltype(&btf__free)> types(btf__new_empty(), &btf__free);
    if (!types) throw Error::sys(errno, "map '" + name + "': create BTF");
    int int_id = btf__add_int(types.get(), "int", 4, BTF_INT_SIGNED);
    int byte_id = btf__add_int(types.get(), "unsigned char", 1, 0);
    int array_id = btf__add_array(types.get(), int_id, byte_id, value_size);
    int struct_id = btf__add_struct(types.get(), (name + "_value").c_str(), value_size);
    if (int_id < 0 || byte_id < 0 || array_id < 0 || struct_id < 0 ||
        btf__add_field(types.get(), "bytes", array_id, 0, 0) < 0)
        throw Error::make(errc::system, "map '" + name + "': building BTF for the value failed");
    if (int err = btf__load_into_kernel(types.get()); err) throw Error::sys(err, "map '" + name + "': load BTF");

    // max_entries 0: local storage grows with its owners.
    MapSpec spec = MapSpec::make(type, name, sizeof(int), value_size, 0, flags | BPF_F_NO_PREALLOC);
    spec.btf_fd = btf__fd(types.get());
    spec.btf_key_type_id = static_cast<std::uint32_t>(int_id);
    spec.btf_value_type_id = static_cast<std::uint32_t>(struct_id);
    return Map::create(spec);  // the map holds its own reference to the BTF
}

}  // namespace ebpf
