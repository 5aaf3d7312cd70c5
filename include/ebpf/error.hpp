// The library's one error idiom: every failure throws ebpf::Error, a std::system_error
// whose code() is an ebpf::errc saying what kind of failure it was, so that callers write
//
//     catch (const ebpf::Error& e) { if (e.code() == ebpf::errc::map_full) … }
//
// what() says the meaning once ("map 'h' is full (1 of 1 entries; E2BIG)"), and the errno
// the kernel or libbpf gave, if any, stays available from errno_value().
// A missing key is not a failure: lookups return std::optional / bool instead.
#pragma once

#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace ebpf {

// The kinds of failure. 0 is left out: a std::error_code of 0 means success.
enum class errc {
    system = 1,     // an operating-system failure with no more specific meaning: see errno_value()
    key_exists,     // UpdateFlags::no_exist on a key that is present
    key_not_found,  // UpdateFlags::exist on a missing key, or a read that needs the key
    map_full,       // no room for one more entry (a full hash, queue, stack or ring)
    out_of_range,   // an index or length beyond what the map or type holds
    incompatible,   // a pinned map that is not the map expected
    wrong_type,     // a handle or an operation meant for another map type
    size_mismatch,  // key or value sizes that differ between C++ and the kernel
    not_supported,  // the kernel does not do this for this map or program type
    bad_value,      // input that cannot be used: bad text, a bad fd, bad flags or options
    not_an_object,  // a file that is not a BPF ELF object, a pin that is not a map
    not_found,      // no such map, program, pin, file or interface
    ambiguous,      // a name that several objects have
    permission,     // missing privileges (EPERM, EACCES, capabilities)
    rejected,       // the kernel refused to load a program (the verifier said no)
    misuse,         // a call the object's state does not allow (moved from, wrong reader style)
    corrupt,        // data that does not hold what it must (a short or corrupt record)
};

// The category of ebpf::errc ("ebpf"); message(int) names each kind ("map full").
const std::error_category& error_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

class Error : public std::system_error {
public:
    // An operating-system or libbpf failure (pass the errno of either sign). The kind
    // follows from the errno alone where that is unambiguous — EPERM/EACCES: permission,
    // ENOENT: not_found, EOPNOTSUPP/ENOTSUPP: not_supported, libbpf's own 4000+ codes:
    // not_an_object / rejected / not_supported — and is errc::system otherwise.
    // The message is "context: <meaning of the errno>", e.g. "pin at '/x': File exists".
    [[nodiscard]] static Error sys(int errno_value, std::string_view context);
    // A failure of a known kind: `message` is the whole text. `errno_value`, when the
    // kernel gave one, is kept for errno_value() (write its name into the message with
    // errno_name() where it helps the reader).
    [[nodiscard]] static Error make(errc code, std::string message, int errno_value = 0);

    // The errno behind the failure, 0 when there was none.
    int errno_value() const noexcept { return errno_; }
    const char* what() const noexcept override { return message_.c_str(); }

private:
    Error(errc code, std::string message, int errno_value);
    std::string message_;
    int errno_ = 0;
};

// The errno of a failed libbpf call: libbpf returns -errno (its 1.0 mode); a call that
// returned no code falls back to errno, and to EINVAL when errno is not set either.
int libbpf_errno(int ret) noexcept;

// "E2BIG", "ENOENT", "ENOTSUPP" (the kernel's 524), "LIBBPF_ERRNO__FORMAT"; "errno N"
// for numbers without a name. Either sign.
std::string errno_name(int errno_value);

// What an errno means in words: strerror, the kernel's ENOTSUPP ("operation not
// supported"), and libbpf's own codes ("not a BPF object" …). Either sign.
std::string errno_text(int errno_value);

}  // namespace ebpf

template <>
struct std::is_error_code_enum<ebpf::errc> : std::true_type {};
