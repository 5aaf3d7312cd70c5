// ebpf::errc and the text of every translated failure, without a kernel: map_error() is the
// one place where a map operation's errno becomes a kind and a message, so feeding it the
// errnos the kernel will not produce on demand (ENOTSUPP, EACCES, EFAULT …) checks the
// paths real-kernel tests cannot reach.
#include <gtest/gtest.h>

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "ebpf/error.hpp"
#include "ebpf/map.hpp"
#include "ebpf/typed.hpp"

namespace {

ebpf::MapInfo info_of(bpf_map_type type, const char* name, std::uint32_t key_size, std::uint32_t max_entries) {
    ebpf::MapInfo info;
    info.type = type;
    info.name = name;
    info.key_size = key_size;
    info.value_size = 8;
    info.max_entries = max_entries;
    return info;
}

struct Case {
    bpf_map_type type;
    const char* operation;
    int err;
    ebpf::errc code;
    const char* text;
};

class MapErrors : public testing::TestWithParam<Case> {};

TEST_P(MapErrors, KindAndTextSayTheMeaningOnce) {
    const Case& c = GetParam();
    std::uint32_t index = 9;
    auto e = ebpf::detail::map_error(info_of(c.type, "m", c.type == BPF_MAP_TYPE_QUEUE ? 0 : 4, 4), c.operation, c.err,
                                     &index);
    EXPECT_EQ(e.code(), c.code) << e.what();
    EXPECT_STREQ(e.what(), c.text);
    EXPECT_EQ(e.errno_value(), std::abs(c.err));
    // The meaning once: strerror either is the message's end or is not in it at all.
    const std::string text = e.what(), words = std::strerror(std::abs(c.err));
    const auto at = text.find(words);
    EXPECT_TRUE(at == std::string::npos || at + words.size() == text.size()) << text;
}

using ebpf::errc;
INSTANTIATE_TEST_SUITE_P(
    EveryTranslation, MapErrors,
    testing::Values(
        Case{BPF_MAP_TYPE_HASH, "update", E2BIG, errc::map_full, "map 'm' is full (4 of 4 entries; E2BIG)"},
        Case{BPF_MAP_TYPE_QUEUE, "push", E2BIG, errc::map_full, "map 'm' is full (4 of 4 entries; E2BIG)"},
        Case{BPF_MAP_TYPE_ARRAY, "update", E2BIG, errc::out_of_range,
             "array 'm': index 9 out of range (4 entries; E2BIG)"},
        Case{BPF_MAP_TYPE_DEVMAP, "update", -E2BIG, errc::out_of_range,
             "devmap 'm': index 9 out of range (4 entries; E2BIG)"},
        Case{BPF_MAP_TYPE_HASH, "update", EEXIST, errc::key_exists, "map 'm': update: key exists (EEXIST)"},
        Case{BPF_MAP_TYPE_HASH, "update", ENOENT, errc::key_not_found, "map 'm': update: key not found (ENOENT)"},
        Case{BPF_MAP_TYPE_HASH, "push", EFAULT, errc::wrong_type,
             "map 'm' is a hash: push needs a queue, stack or bloom_filter map"},
        Case{BPF_MAP_TYPE_ARRAY, "pop", EFAULT, errc::wrong_type,
             "map 'm' is an array: pop needs a queue or stack map"},
        Case{BPF_MAP_TYPE_LRU_HASH, "peek", EINVAL, errc::wrong_type,
             "map 'm' is an lru_hash: peek needs a queue, stack or bloom_filter map"},
        Case{BPF_MAP_TYPE_PERF_EVENT_ARRAY, "lookup", 524, errc::not_supported,
             "map 'm': lookup: not supported by a perf_event_array map (ENOTSUPP)"},
        Case{BPF_MAP_TYPE_XSKMAP, "lookup", EOPNOTSUPP, errc::not_supported,
             "map 'm': lookup: not supported by an xskmap map (EOPNOTSUPP)"},
        Case{BPF_MAP_TYPE_ARRAY, "update", EPERM, errc::permission, "map 'm': update: not permitted (EPERM)"},
        Case{BPF_MAP_TYPE_HASH, "lookup", EACCES, errc::permission, "map 'm': lookup: not permitted (EACCES)"},
        Case{BPF_MAP_TYPE_HASH, "update", ENOMEM, errc::system, "map 'm': update: Cannot allocate memory"},
        Case{BPF_MAP_TYPE_HASH, "lookup", E2BIG, errc::system, "map 'm': lookup: Argument list too long"},
        Case{BPF_MAP_TYPE_HASH, "update batch (3 of 5 done)", E2BIG, errc::map_full,
             "map 'm' is full (4 of 4 entries; E2BIG)"}));

TEST(Errc, ComparesAsAnErrorCodeOfItsOwnCategory) {
    std::error_code code = ebpf::errc::map_full;
    EXPECT_EQ(code, ebpf::errc::map_full);
    EXPECT_NE(code, ebpf::errc::key_exists);
    EXPECT_STREQ(code.category().name(), "ebpf");
    EXPECT_EQ(code.message(), "map full");
    EXPECT_NE(code, std::error_code(E2BIG, std::generic_category()));
    EXPECT_TRUE(code);  // no kind is 0, the value of success
}

TEST(Error, MakeKeepsTheMessageWholeAndTheErrnoApart) {
    auto e = ebpf::Error::make(ebpf::errc::incompatible, "pinned map '/p' does not match", EINVAL);
    EXPECT_STREQ(e.what(), "pinned map '/p' does not match");
    EXPECT_EQ(e.code(), ebpf::errc::incompatible);
    EXPECT_EQ(e.errno_value(), EINVAL);
    EXPECT_EQ(ebpf::Error::make(ebpf::errc::bad_value, "x").errno_value(), 0);
}

TEST(Error, SysAddsTheErrnosMeaningAndItsKind) {
    struct SysCase {
        int err;
        ebpf::errc code;
        const char* text;
    };
    const SysCase cases[]{
        {EEXIST, ebpf::errc::system, "pin at '/x': File exists"},
        {-ENOENT, ebpf::errc::not_found, "pin at '/x': No such file or directory"},
        {EPERM, ebpf::errc::permission, "pin at '/x': Operation not permitted"},
        {EACCES, ebpf::errc::permission, "pin at '/x': Permission denied"},
        {EOPNOTSUPP, ebpf::errc::not_supported, "pin at '/x': Operation not supported"},
        {524, ebpf::errc::not_supported, "pin at '/x': operation not supported (ENOTSUPP)"},
    };
    for (const auto& c : cases) {
        auto e = ebpf::Error::sys(c.err, "pin at '/x'");
        EXPECT_EQ(e.code(), c.code) << e.what();
        EXPECT_STREQ(e.what(), c.text);
        EXPECT_EQ(e.errno_value(), std::abs(c.err));
    }
}

TEST(Error, LibbpfsOwnCodesAreTranslated) {
    struct LibbpfCase {
        int err;
        ebpf::errc code;
        const char* text;
        const char* name;
    };
    const LibbpfCase cases[]{
        {LIBBPF_ERRNO__FORMAT, ebpf::errc::not_an_object, "open 'x.o': not a BPF object", "LIBBPF_ERRNO__FORMAT"},
        {-LIBBPF_ERRNO__LIBELF, ebpf::errc::not_an_object, "open 'x.o': libelf cannot read it", "LIBBPF_ERRNO__LIBELF"},
        {LIBBPF_ERRNO__VERIFY, ebpf::errc::rejected, "open 'x.o': the verifier rejected a program",
         "LIBBPF_ERRNO__VERIFY"},
        {LIBBPF_ERRNO__PROG2BIG, ebpf::errc::rejected, "open 'x.o': a program is too large", "LIBBPF_ERRNO__PROG2BIG"},
        {LIBBPF_ERRNO__PROGTYPE, ebpf::errc::not_supported, "open 'x.o': the kernel does not support this program type",
         "LIBBPF_ERRNO__PROGTYPE"},
    };
    for (const auto& c : cases) {
        auto e = ebpf::Error::sys(c.err, "open 'x.o'");
        EXPECT_EQ(e.code(), c.code) << e.what();
        EXPECT_STREQ(e.what(), c.text);
        EXPECT_EQ(ebpf::errno_name(c.err), c.name);
    }
    EXPECT_EQ(ebpf::errno_name(E2BIG), "E2BIG");
    EXPECT_EQ(ebpf::errno_name(-524), "ENOTSUPP");
    EXPECT_EQ(ebpf::errno_name(99999), "errno 99999");
}

TEST(Binding, NamesTheHandleTheUserWrote) {
    auto hash = info_of(BPF_MAP_TYPE_HASH, "h", 4, 1);
    struct BindCase {
        std::initializer_list<bpf_map_type> accepted;
        std::size_t key, value;
        ebpf::errc code;
        const char* text;
    };
    const BindCase cases[]{
        {{BPF_MAP_TYPE_LRU_HASH}, 4, 8, ebpf::errc::wrong_type, "LruHashMap needs an lru_hash map, 'h' is a hash"},
        {{BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH},
         4,
         8,
         ebpf::errc::wrong_type,
         "PerCpuHashMap needs a percpu_hash or lru_percpu_hash map, 'h' is a hash"},
        {{BPF_MAP_TYPE_QUEUE}, 0, 8, ebpf::errc::wrong_type, "Queue needs a queue map, 'h' is a hash"},
        {{BPF_MAP_TYPE_SK_STORAGE},
         4,
         8,
         ebpf::errc::wrong_type,
         "SocketStorage needs an sk_storage map, 'h' is a hash"},
        {{BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH},
         8,
         8,
         ebpf::errc::size_mismatch,
         "HashMap needs 8-byte keys, 'h' has 4-byte keys"},
        {{BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH},
         4,
         16,
         ebpf::errc::size_mismatch,
         "HashMap needs 16-byte values, 'h' has 8-byte values"},
    };
    for (const auto& c : cases) {
        try {
            ebpf::detail::check_binding(hash, c.accepted, c.key, c.value);
            ADD_FAILURE() << c.text;
        } catch (const ebpf::Error& e) {
            EXPECT_EQ(e.code(), c.code) << e.what();
            EXPECT_STREQ(e.what(), c.text);
        }
    }
    EXPECT_NO_THROW(ebpf::detail::check_binding(hash, {BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH}, 4, 8));
}

}  // namespace
