// The words `ebpf-tool map` takes for keys and values, turned into bytes. Pure functions
// (no kernel, no map): the map command calls them, and so does the fuzzer
// (tests/fuzz/map_words_fuzz.cpp), which is why they live apart from the verbs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ebpf/btf.hpp"

namespace ebpf_tool {

// A decimal or 0x-hex number up to `max`; anything else is a UsageError naming `what`.
std::uint64_t parse_number(const std::string& text, const char* what, std::uint64_t max = UINT64_MAX);

// DATA for a key or value of `size` bytes, from the words given for it:
//   [hex] BYTE…       bpftool's syntax: exactly `size` bytes (decimal, 0x.., or after
//                     `hex` two hex digits each, also run together: hex 0100000a)
//   TYPED             one word, when `btf` and `btf_type_id` describe it: a number, an enum
//                     name, a string, or JSON ({"port": 443}, [1, 2])
// `hex` says the words followed the keyword `hex`. Always `size` bytes, or a UsageError.
std::vector<std::byte> parse_data_words(const std::vector<std::string>& tokens, bool hex, const char* what,
                                        std::size_t size, const ebpf::Btf* btf, std::uint32_t btf_type_id);

}  // namespace ebpf_tool
