// Syscall numbers and names for the running architecture, from libseccomp's tables,
// completed for syscalls newer than the packaged libseccomp knows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ebpf {

// "openat" for 257 on x86-64; "syscall_<nr>" only for a number no table knows.
std::string syscall_name(std::uint32_t nr);
std::optional<std::uint32_t> syscall_number(std::string_view name);

}  // namespace ebpf
