// The words `ebpf-tool map` takes for a key or value -> parse_data_words (src/cli/map_data.cpp),
// the function the map command uses. The input's first byte picks the target (its size,
// BTF or none, and whether the words follow `hex`); the rest is the words, one per line.
// parse_data_words must return exactly `size` bytes or throw UsageError with a one-line
// message; any other exception, a crash or a sanitizer report is a bug.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common.hpp"
#include "fixed_btf.hpp"
#include "map_data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fuzz::FixedBtf f;
    if (size == 0) return 0;
    const unsigned pick = data[0];
    const bool hex = pick & 1;
    struct Target {
        std::size_t size;
        std::uint32_t type_id;
    };
    const Target targets[] = {{192, f.record}, {4, f.u32}, {4, f.state}, {16, f.comm},
                              {4, 0},          {1, 0},     {8, 0},       {192, 0}};
    const Target& t = targets[(pick >> 1) % std::size(targets)];
    const bool with_btf = t.type_id != 0;

    std::vector<std::string> words;
    std::string word;
    for (std::size_t i = 1; i < size; ++i) {
        if (data[i] == '\n') {
            words.push_back(word);
            word.clear();
        } else {
            word += static_cast<char>(data[i]);
        }
    }
    if (size > 1) words.push_back(word);

    try {
        auto bytes = ebpf_tool::parse_data_words(words, hex, pick & 0x80 ? "value" : "key", t.size,
                                                 with_btf ? &f.btf : nullptr, t.type_id);
        if (bytes.size() != t.size) {
            std::fprintf(stderr, "map_words_fuzz: %zu bytes returned for a %zu-byte target\n", bytes.size(), t.size);
            std::abort();
        }
    } catch (const ebpf_tool::UsageError& e) {
        if (std::strchr(e.what(), '\n')) {
            std::fprintf(stderr, "map_words_fuzz: a usage message of more than one line: %s\n", e.what());
            std::abort();
        }
    }
    return 0;
}
