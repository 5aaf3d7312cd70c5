#include "ebpf/event_reader.hpp"

#include <string>

namespace ebpf::detail {

void throw_short_event(std::size_t size, std::size_t type_size) {
    throw Error::make(errc::corrupt, "event of " + std::to_string(size) + " bytes is shorter than the " +
                                         std::to_string(type_size) + "-byte type it is read as");
}

}  // namespace ebpf::detail
