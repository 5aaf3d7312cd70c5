#include "ebpf/error.hpp"

#include <cerrno>
#include <cstdlib>

namespace ebpf {

Error::Error(int errno_value, const std::string& context)
    : std::system_error(std::abs(errno_value), std::generic_category(), context) {
    // The kernel's internal ENOTSUPP (524) leaks out of some BPF commands, and libc has
    // no text for it ("Unknown error 524").
    if (std::abs(errno_value) == 524) message_ = context + ": operation not supported for this map type (ENOTSUPP)";
}

Error::Error(const std::string& message) : std::system_error(EINVAL, std::generic_category()), message_(message) {}

const char* Error::what() const noexcept {
    return message_.empty() ? std::system_error::what() : message_.c_str();
}

Error Error::with_message(int errno_value, const std::string& message) {
    Error e(errno_value, message);
    e.message_ = message;
    return e;
}

int libbpf_errno(int ret) noexcept { return ret < 0 ? -ret : (errno ? errno : EINVAL); }

void throw_error(int errno_value, const std::string& context) { throw Error(errno_value, context); }

}  // namespace ebpf
