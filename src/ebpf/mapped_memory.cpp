// detail::MappedMemory: the mmap behind Array::mmap() (array.hpp).
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "ebpf/array.hpp"

namespace ebpf::detail {

MappedMemory::MappedMemory(const Map& map, std::size_t length, bool writable) : writable_(writable) {
    // The kernel maps whole pages; an empty array still takes one.
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    length_ = std::max<std::size_t>(page, (length + page - 1) / page * page);
    void* p = ::mmap(nullptr, length_, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, map.fd(), 0);
    if (p == MAP_FAILED) {
        const int err = errno;
        length_ = 0;
        throw Error::sys(err, "array '" + map.info().name + "': mmap" + (writable ? " (read-write)" : ""));
    }
    data_ = static_cast<std::byte*>(p);
}

MappedMemory::~MappedMemory() {
    if (data_) ::munmap(data_, length_);
}

MappedMemory::MappedMemory(MappedMemory&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      length_(std::exchange(other.length_, 0)),
      writable_(other.writable_) {}

MappedMemory& MappedMemory::operator=(MappedMemory&& other) noexcept {
    if (this != &other) {
        if (data_) ::munmap(data_, length_);
        data_ = std::exchange(other.data_, nullptr);
        length_ = std::exchange(other.length_, 0);
        writable_ = other.writable_;
    }
    return *this;
}

}  // namespace ebpf::detail
