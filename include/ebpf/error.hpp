// The library's one error idiom: every failure throws ebpf::Error, a std::system_error that
// keeps errno and names what failed ("map 'counts': update: File exists").
// A missing key is not a failure: lookups return std::optional / bool instead.
#pragma once

#include <string>
#include <system_error>

namespace ebpf {

class Error : public std::system_error {
public:
    // `context` names the object and the operation, e.g. "map 'counts': update".
    Error(int errno_value, const std::string& context);
    // A failure that has no errno of its own (a size mismatch, bad input); code() is EINVAL.
    explicit Error(const std::string& message);
    // A failure with an errno whose message already says everything.
    static Error with_message(int errno_value, const std::string& message);

    int errno_value() const noexcept { return code().value(); }

    // The kernel's update-flag outcomes, spelled out (BPF_NOEXIST on a present key,
    // BPF_EXIST on a missing one, a full map).
    bool key_exists() const noexcept { return errno_value() == EEXIST; }
    bool key_not_found() const noexcept { return errno_value() == ENOENT; }
    bool map_full() const noexcept { return errno_value() == E2BIG; }

    // The message alone for errors without errno, "context: strerror" otherwise.
    const char* what() const noexcept override;

private:
    std::string message_;
};

// The errno of a failed libbpf call: libbpf returns -errno (its 1.0 mode); a call that
// returned no code falls back to errno, and to EINVAL when errno is not set either.
int libbpf_errno(int ret) noexcept;

// Throws Error(errno_value, context). libbpf returns negative errno values: pass either sign.
[[noreturn]] void throw_error(int errno_value, const std::string& context);

}  // namespace ebpf
