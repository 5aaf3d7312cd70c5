// Writes seeds for btf_blob_fuzz: the fixed struct of fixed_btf.hpp (every kind the
// formatter handles) as raw BTF, in the fuzzer's input format (4-byte little-endian
// length, the BTF, then value bytes). Seeds from real objects are made from their .BTF
// sections (docs/fuzzing.md). Usage: btf_seeds DIR
#include <cstdio>
#include <fstream>
#include <string>

#include "fixed_btf.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: btf_seeds DIR\n");
        return 2;
    }
    fuzz::FixedBtf f;
    std::uint32_t size = 0;
    const void* raw = btf__raw_data(f.btf.get(), &size);
    if (!raw) return 1;
    // (Not 0xff: an all-ones long double is outside double's range, a known crash kept in crashes/.)
    for (int pattern : {0x00, 0x5a}) {
        std::ofstream out(std::string(argv[1]) + "/fixed_struct_" + std::to_string(pattern), std::ios::binary);
        const unsigned char len[4] = {static_cast<unsigned char>(size), static_cast<unsigned char>(size >> 8),
                                      static_cast<unsigned char>(size >> 16), static_cast<unsigned char>(size >> 24)};
        out.write(reinterpret_cast<const char*>(len), 4);
        out.write(static_cast<const char*>(raw), size);
        for (int i = 0; i < 64; ++i) out.put(static_cast<char>(pattern ^ i));
    }
    return 0;
}
