// struct_ops maps: a BPF implementation of a kernel ops table (tcp_congestion_ops, …).
// Their value is the kernel struct with BPF programs in its function slots, so they can
// only come from a BPF object (SEC(".struct_ops")) and are registered with
// attach_struct_ops(); user space can read their state but not create or fill them.
#pragma once

#include <bpf/libbpf.h>

#include "ebpf/object.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

class StructOpsMap : public TypedHandle<StructOpsMap> {
public:
    explicit StructOpsMap(Map map) : TypedHandle(std::move(map)) {
        const auto& i = info();
        detail::check_binding(i, {BPF_MAP_TYPE_STRUCT_OPS}, sizeof(std::uint32_t), i.value_size);
    }
    // The kernel BTF id of the ops struct this map implements (e.g. tcp_congestion_ops).
    std::uint32_t kernel_type_id() const noexcept { return info().btf_vmlinux_value_type_id; }
};

// Registers a loaded object's struct_ops map with the kernel; unregisters when the link goes.
Link attach_struct_ops(const ::bpf_map* map);

}  // namespace ebpf
