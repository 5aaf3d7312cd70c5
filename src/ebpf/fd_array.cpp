#include "ebpf/fd_array.hpp"

#include "ebpf/dev_map.hpp"

namespace ebpf {

namespace detail {

std::uint64_t read_fd_slot(const Map& map, const void* key, bool& found) {
    // Ids are u32, socket cookies u64: read into a zeroed u64 either way.
    std::uint64_t value = 0;
    found = map.lookup(key, &value);
    return value;
}

}  // namespace detail

void update_fd(Map& map, const void* key, int fd, UpdateFlags flags) {
    if (fd < 0) throw Error::make(errc::bad_value, map.describe() + ": update with fd " + std::to_string(fd), EBADF);
    // A 4-byte slot reads the low half of this u64, an 8-byte slot all of it: on a
    // little-endian machine both hold the fd.
    std::uint64_t value = static_cast<std::uint32_t>(fd);
    static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "fd slots are written as little-endian u32/u64");
    map.update(key, &value, flags);
}

namespace detail {

MapSpec fd_map_spec(bpf_map_type type, std::string name, std::uint32_t key_size, std::uint32_t value_size,
                    std::uint32_t max_entries, std::uint32_t flags, int inner_map_fd) {
    MapSpec spec = MapSpec::make(type, std::move(name), key_size, value_size, max_entries, flags);
    spec.inner_map_fd = inner_map_fd;
    return spec;
}

void check_fd_binding(const MapInfo& info, bpf_map_type type, std::size_t key_size) {
    // The value is an fd slot of 4 or 8 bytes; only the type and the key are typed.
    check_binding(info, {type}, key_size, info.value_size);
    if (info.value_size != 4 && info.value_size != 8)
        throw Error::make(errc::size_mismatch, std::string(handle_name(type)) + " needs 4- or 8-byte values, '" +
                                                   info.name + "' has " + std::to_string(info.value_size) +
                                                   "-byte values");
}

void check_redirect_binding(const MapInfo& info, bpf_map_type type, std::size_t key_size, std::size_t full_value) {
    check_binding(info, {type}, key_size, info.value_size);
    if (info.value_size != 4 && info.value_size != full_value)
        throw Error::make(errc::size_mismatch, std::string(handle_name(type)) + " needs 4- or " +
                                                   std::to_string(full_value) + "-byte values, '" + info.name +
                                                   "' has " + std::to_string(info.value_size) + "-byte values");
}

}  // namespace detail

}  // namespace ebpf
