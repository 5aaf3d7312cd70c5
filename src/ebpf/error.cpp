#include "ebpf/error.hpp"

#include <bpf/libbpf.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ebpf {

namespace {

// The kernel's internal ENOTSUPP leaks out of some BPF commands; libc has no name or
// text for it ("Unknown error 524").
constexpr int kENOTSUPP = 524;

struct LibbpfCode {
    int code;
    const char* name;
    const char* text;
    errc kind;
};

// libbpf's own codes (libbpf_strerror words them for libbpf's authors; these say what
// they mean to the user of an object file).
constexpr std::array kLibbpfCodes{
    LibbpfCode{LIBBPF_ERRNO__LIBELF, "LIBBPF_ERRNO__LIBELF", "libelf cannot read it", errc::not_an_object},
    LibbpfCode{LIBBPF_ERRNO__FORMAT, "LIBBPF_ERRNO__FORMAT", "not a BPF object", errc::not_an_object},
    LibbpfCode{LIBBPF_ERRNO__KVERSION, "LIBBPF_ERRNO__KVERSION", "no valid 'version' section", errc::not_an_object},
    LibbpfCode{LIBBPF_ERRNO__ENDIAN, "LIBBPF_ERRNO__ENDIAN", "built for the other byte order", errc::not_an_object},
    LibbpfCode{LIBBPF_ERRNO__INTERNAL, "LIBBPF_ERRNO__INTERNAL", "internal error in libbpf", errc::system},
    LibbpfCode{LIBBPF_ERRNO__RELOC, "LIBBPF_ERRNO__RELOC", "a relocation in the object is invalid",
               errc::not_an_object},
    LibbpfCode{LIBBPF_ERRNO__LOAD, "LIBBPF_ERRNO__LOAD", "the kernel refused to load a program", errc::rejected},
    LibbpfCode{LIBBPF_ERRNO__VERIFY, "LIBBPF_ERRNO__VERIFY", "the verifier rejected a program", errc::rejected},
    LibbpfCode{LIBBPF_ERRNO__PROG2BIG, "LIBBPF_ERRNO__PROG2BIG", "a program is too large", errc::rejected},
    LibbpfCode{LIBBPF_ERRNO__KVER, "LIBBPF_ERRNO__KVER", "the object's kernel version does not match", errc::rejected},
    LibbpfCode{LIBBPF_ERRNO__PROGTYPE, "LIBBPF_ERRNO__PROGTYPE", "the kernel does not support this program type",
               errc::not_supported},
    LibbpfCode{LIBBPF_ERRNO__WRNGPID, "LIBBPF_ERRNO__WRNGPID", "netlink: wrong pid in the reply", errc::system},
    LibbpfCode{LIBBPF_ERRNO__INVSEQ, "LIBBPF_ERRNO__INVSEQ", "netlink: invalid sequence", errc::system},
    LibbpfCode{LIBBPF_ERRNO__NLPARSE, "LIBBPF_ERRNO__NLPARSE", "netlink: cannot parse the reply", errc::system},
};

const LibbpfCode* libbpf_code(int err) {
    for (const auto& c : kLibbpfCodes)
        if (c.code == err) return &c;
    return nullptr;
}

// The kind an errno has whatever the operation was.
errc kind_of(int err) {
    if (const auto* c = libbpf_code(err)) return c->kind;
    switch (err) {
        case EPERM:
        case EACCES:
            return errc::permission;
        case ENOENT:
            return errc::not_found;
        case EOPNOTSUPP:
        case kENOTSUPP:
            return errc::not_supported;
        default:
            return errc::system;
    }
}

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "ebpf"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::system:
                return "system error";
            case errc::key_exists:
                return "key exists";
            case errc::key_not_found:
                return "key not found";
            case errc::map_full:
                return "map full";
            case errc::out_of_range:
                return "out of range";
            case errc::incompatible:
                return "incompatible";
            case errc::wrong_type:
                return "wrong map type";
            case errc::size_mismatch:
                return "size mismatch";
            case errc::not_supported:
                return "not supported";
            case errc::bad_value:
                return "bad value";
            case errc::not_an_object:
                return "not a BPF object";
            case errc::not_found:
                return "not found";
            case errc::ambiguous:
                return "ambiguous";
            case errc::permission:
                return "permission denied";
            case errc::rejected:
                return "rejected by the kernel";
            case errc::misuse:
                return "misuse";
            case errc::corrupt:
                return "corrupt data";
        }
        return "ebpf error " + std::to_string(value);
    }
};

}  // namespace

const std::error_category& error_category() noexcept {
    static const Category category;
    return category;
}

std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

Error::Error(errc code, std::string message, int errno_value)
    : std::system_error(make_error_code(code)), message_(std::move(message)), errno_(std::abs(errno_value)) {}

Error Error::sys(int errno_value, std::string_view context) {
    int err = std::abs(errno_value);
    return Error(kind_of(err), std::string(context) + ": " + errno_text(err), err);
}

Error Error::make(errc code, std::string message, int errno_value) {
    return Error(code, std::move(message), errno_value);
}

int libbpf_errno(int ret) noexcept {
    return ret < 0 ? -ret : (errno ? errno : EINVAL);
}

std::string errno_name(int errno_value) {
    int err = std::abs(errno_value);
    if (err == kENOTSUPP) return "ENOTSUPP";
    if (const auto* c = libbpf_code(err)) return c->name;
    if (const char* name = ::strerrorname_np(err)) return name;
    return "errno " + std::to_string(err);
}

std::string errno_text(int errno_value) {
    int err = std::abs(errno_value);
    if (err == kENOTSUPP) return "operation not supported (ENOTSUPP)";
    if (const auto* c = libbpf_code(err)) return c->text;
    return std::strerror(err);
}

}  // namespace ebpf
