// Uses the installed libebpf from outside the tree: creates a real hash map, writes one
// entry, reads it back. Exit 0 only when the value read is the value written.
#include <cstdint>
#include <cstdio>
#include <exception>

#include <ebpf/hash_map.hpp>

int main() {
    try {
        auto map = ebpf::HashMap<std::uint32_t, std::uint64_t>::create("consumer", 16);
        map.update(7, 42);
        const auto value = map.lookup(7);
        // A miss must be nullopt, not an error: the one behaviour every caller relies on.
        const bool miss_ok = !map.lookup(8).has_value();
        if (value) std::printf("consumer: key 7 = %llu\n", static_cast<unsigned long long>(*value));
        if (!value || *value != 42 || !miss_ok) {
            std::fprintf(stderr, "consumer: wrong result (value %s, miss %s)\n", value ? "present" : "missing",
                         miss_ok ? "ok" : "not nullopt");
            return 1;
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "consumer: %s\n", e.what());
        return 1;
    }
}
