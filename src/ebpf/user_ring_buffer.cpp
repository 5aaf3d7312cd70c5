#include "ebpf/user_ring_buffer.hpp"

#include <cerrno>

namespace ebpf {

UserRingBufferWriter::UserRingBufferWriter(const Map& map) : name_(map.name()) {
    if (map.type() != BPF_MAP_TYPE_USER_RINGBUF)
        throw Error("map '" + name_ + "': UserRingBufferWriter needs a user_ringbuf map, but it is " +
                    map_type_name(map.type()));
    errno = 0;
    ring_.reset(user_ring_buffer__new(map.fd(), nullptr));
    if (!ring_) throw_error(libbpf_errno(0), "map '" + name_ + "': open user ring buffer");
}

void UserRingBufferWriter::write(std::span<const std::byte> record) {
    errno = 0;
    void* slot = user_ring_buffer__reserve(ring_.get(), static_cast<std::uint32_t>(record.size()));
    if (!slot) throw_error(errno ? errno : ENOSPC, "map '" + name_ + "': reserve " + std::to_string(record.size()) + " bytes");
    std::memcpy(slot, record.data(), record.size());
    user_ring_buffer__submit(ring_.get(), slot);
}

void UserRingBufferWriter::write_blocking(std::span<const std::byte> record, std::chrono::milliseconds timeout) {
    errno = 0;
    void* slot = user_ring_buffer__reserve_blocking(ring_.get(), static_cast<std::uint32_t>(record.size()),
                                                    static_cast<int>(timeout.count()));
    if (!slot) throw_error(errno ? errno : ENOSPC, "map '" + name_ + "': reserve " + std::to_string(record.size()) + " bytes");
    std::memcpy(slot, record.data(), record.size());
    user_ring_buffer__submit(ring_.get(), slot);
}

}  // namespace ebpf
