#include "ebpf/user_ring_buffer.hpp"

#include <cerrno>

#include "ebpf/typed.hpp"

namespace ebpf {

UserRingBufferWriter::UserRingBufferWriter(const Map& map) : name_(map.name()) {
    // A user ring buffer has no key and no value size.
    detail::check_binding(map.info(), {BPF_MAP_TYPE_USER_RINGBUF}, 0, 0);
    errno = 0;
    ring_.reset(user_ring_buffer__new(map.fd(), nullptr));
    if (!ring_) throw Error::sys(libbpf_errno(0), "map '" + name_ + "': open user ring buffer");
}

void UserRingBufferWriter::write(std::span<const std::byte> record) {
    errno = 0;
    void* slot = user_ring_buffer__reserve(ring_.get(), static_cast<std::uint32_t>(record.size()));
    if (!slot) reserve_failed(errno ? errno : ENOSPC, record.size());
    std::memcpy(slot, record.data(), record.size());
    user_ring_buffer__submit(ring_.get(), slot);
}

void UserRingBufferWriter::reserve_failed(int err, std::size_t bytes) const {
    const std::string map = "map '" + name_ + "'";
    const std::string size = std::to_string(bytes) + " bytes";
    if (err == ENOSPC || err == ETIMEDOUT)
        throw Error::make(errc::map_full, map + " is full: no room for " + size + " (" + errno_name(err) + ")", err);
    if (err == E2BIG)
        throw Error::make(errc::out_of_range, map + ": a record of " + size + " is larger than the ring (E2BIG)", err);
    throw Error::sys(err, map + ": reserve " + size);
}

void UserRingBufferWriter::write_blocking(std::span<const std::byte> record, std::chrono::milliseconds timeout) {
    errno = 0;
    void* slot = user_ring_buffer__reserve_blocking(ring_.get(), static_cast<std::uint32_t>(record.size()),
                                                    static_cast<int>(timeout.count()));
    if (!slot) reserve_failed(errno ? errno : ENOSPC, record.size());
    std::memcpy(slot, record.data(), record.size());
    user_ring_buffer__submit(ring_.get(), slot);
}

}  // namespace ebpf
