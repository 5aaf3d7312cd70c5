#include "ebpf/struct_ops.hpp"

#include <cerrno>

namespace ebpf {

Link attach_struct_ops(const ::bpf_map* map) {
    errno = 0;
    ::bpf_link* link = bpf_map__attach_struct_ops(map);
    if (!link) throw Error::sys(libbpf_errno(0), std::string("map '") + bpf_map__name(map) + "': attach struct_ops");
    return Link(link);
}

}  // namespace ebpf
