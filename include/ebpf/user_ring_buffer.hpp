// User ring buffer (BPF_MAP_TYPE_USER_RINGBUF): the ring buffer in the other direction —
// user space writes records, a BPF program drains them with bpf_user_ringbuf_drain().
#pragma once

#include <bpf/libbpf.h>

#include <chrono>
#include <cstring>
#include <string>
#include <memory>
#include <span>

#include "ebpf/error.hpp"
#include "ebpf/map.hpp"

namespace ebpf {

class UserRingBufferWriter {
public:
    explicit UserRingBufferWriter(const Map& map);

    // Copies `record` into the ring and publishes it. A full ring throws errc::map_full;
    // write_blocking waits up to `timeout` for the BPF side to drain room instead.
    void write(std::span<const std::byte> record);
    void write_blocking(std::span<const std::byte> record, std::chrono::milliseconds timeout);

    template <class T>
        requires std::is_trivially_copyable_v<T>
    void write(const T& record) {
        write(std::as_bytes(std::span(&record, 1)));
    }

private:
    [[noreturn]] void reserve_failed(int err, std::size_t bytes) const;
    struct Free {
        void operator()(::user_ring_buffer* rb) const noexcept { user_ring_buffer__free(rb); }
    };
    std::string name_;
    std::unique_ptr<::user_ring_buffer, Free> ring_;
};

}  // namespace ebpf
