// btf_leaves(): types built in memory (no kernel), flattened into their leaves — member
// paths with declared types, offsets, bitfields, enums, arrays, unions kept whole.
#include <bpf/btf.h>
#include <gtest/gtest.h>

#include "ebpf/btf.hpp"
#include "ebpf/error.hpp"

namespace {

using Kind = ebpf::BtfLeaf::Kind;

void check(int id, int ret = 0) {
    if (id <= 0 || ret < 0) throw ebpf::Error::make(ebpf::errc::system, "building test BTF failed");
}

std::string path_of(const ebpf::BtfLeaf& l) {
    std::string out;
    for (const auto& s : l.path)
        out += (out.empty() ? "" : ".") + s.name + ":" + s.type + "@" + std::to_string(s.offset);
    return out;
}

// struct key {
//     __u32 pid;                                  0
//     struct { __u16 port; __s16 zone; } inner;   4
//     union { __u32 v4; __u8 b[4]; } addr;        8
//     struct { __u32 lifted; };                   12  (anonymous: lifted into key)
//     enum e { B = 2, A = 1, A2 = 1 } state;      16
//     char comm[8];                               20
//     __u8 mac[6];                                28
//     __u32 flags:3, ttl:8;  int delta:5;         36  (bits 288.., 291.., 299..)
//     _Bool on;                                   40
// };                                              44
TEST(BtfLeaves, FlattensStructsAndKeepsEverythingElseWhole) {
    ebpf::Btf btf{btf__new_empty()};
    ::btf* b = btf.get();
    const int u8 = btf__add_int(b, "unsigned char", 1, 0);
    const int ch = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
    const int u16 = btf__add_int(b, "unsigned short", 2, 0);
    const int s16 = btf__add_int(b, "short", 2, BTF_INT_SIGNED);
    const int u32 = btf__add_int(b, "unsigned int", 4, 0);
    const int s32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    const int boolean = btf__add_int(b, "_Bool", 1, BTF_INT_BOOL);
    const int t_u32 = btf__add_typedef(b, "__u32", u32);
    check(t_u32);
    const int inner = btf__add_struct(b, nullptr, 4);
    check(inner, btf__add_field(b, "port", u16, 0, 0));
    check(inner, btf__add_field(b, "zone", s16, 16, 0));
    const int bytes4 = btf__add_array(b, u32, u8, 4);
    const int addr = btf__add_union(b, nullptr, 4);
    check(addr, btf__add_field(b, "v4", t_u32, 0, 0));
    check(addr, btf__add_field(b, "b", bytes4, 0, 0));
    const int anon = btf__add_struct(b, nullptr, 4);
    check(anon, btf__add_field(b, "lifted", u32, 0, 0));
    const int e = btf__add_enum(b, "e", 4);
    check(e, btf__add_enum_value(b, "B", 2));
    check(e, btf__add_enum_value(b, "A", 1));
    check(e, btf__add_enum_value(b, "A2", 1));
    const int comm = btf__add_array(b, u32, ch, 8);
    const int mac = btf__add_array(b, u32, u8, 6);
    const int key = btf__add_struct(b, "key", 44);
    check(key, btf__add_field(b, "pid", t_u32, 0, 0));
    check(key, btf__add_field(b, "inner", inner, 32, 0));
    check(key, btf__add_field(b, "addr", addr, 64, 0));
    check(key, btf__add_field(b, nullptr, anon, 96, 0));
    check(key, btf__add_field(b, "state", e, 128, 0));
    check(key, btf__add_field(b, "comm", comm, 160, 0));
    check(key, btf__add_field(b, "mac", mac, 224, 0));
    check(key, btf__add_field(b, "flags", u32, 288, 3));
    check(key, btf__add_field(b, "ttl", u32, 291, 8));
    check(key, btf__add_field(b, "delta", s32, 299, 5));
    check(key, btf__add_field(b, "on", boolean, 320, 0));

    const auto leaves = ebpf::btf_leaves(btf, static_cast<std::uint32_t>(key));
    std::vector<std::string> paths;
    for (const auto& l : leaves) paths.push_back(path_of(l));
    EXPECT_EQ(paths, (std::vector<std::string>{"pid:__u32@0", "inner:struct (anon)@4.port:unsigned short@4",
                                               "inner:struct (anon)@4.zone:short@6", "addr:union (anon)@8",
                                               "lifted:unsigned int@12", "state:enum e@16", "comm:char[8]@20",
                                               "mac:unsigned char[6]@28", "flags:unsigned int@36",
                                               "ttl:unsigned int@36", "delta:int@37", "on:_Bool@40"}));
    ASSERT_EQ(leaves.size(), 12u);
    EXPECT_EQ(leaves[0].kind, Kind::integer);
    EXPECT_EQ(leaves[2].kind, Kind::integer);
    EXPECT_TRUE(leaves[2].is_signed);
    EXPECT_EQ(leaves[3].kind, Kind::other);  // a union: its members overlap
    EXPECT_EQ(leaves[3].size, 4u);
    EXPECT_EQ(leaves[5].kind, Kind::enumeration);
    EXPECT_EQ(leaves[5].enumerators, (std::vector<std::pair<std::uint64_t, std::string>>{{1, "A"}, {2, "B"}}));
    EXPECT_EQ(leaves[6].kind, Kind::chars);
    EXPECT_EQ(leaves[6].size, 8u);
    EXPECT_EQ(leaves[7].kind, Kind::array);
    EXPECT_EQ(leaves[7].element, Kind::integer);
    EXPECT_EQ(leaves[7].count, 6u);
    EXPECT_EQ(leaves[7].element_size, 1u);
    // Bitfields: the first byte holding them, the shift within it, the width.
    EXPECT_EQ(leaves[8].offset, 36u);
    EXPECT_EQ(leaves[8].bit_shift, 0u);
    EXPECT_EQ(leaves[8].bit_width, 3u);
    EXPECT_EQ(leaves[9].offset, 36u);
    EXPECT_EQ(leaves[9].bit_shift, 3u);
    EXPECT_EQ(leaves[9].bit_width, 8u);
    EXPECT_EQ(leaves[9].size, 2u);
    EXPECT_EQ(leaves[10].offset, 37u);
    EXPECT_EQ(leaves[10].bit_shift, 3u);
    EXPECT_EQ(leaves[10].bit_width, 5u);
    EXPECT_TRUE(leaves[10].is_signed);
    EXPECT_EQ(leaves[11].kind, Kind::boolean);

    // A type that is not a struct is one leaf with an empty path.
    const auto scalar = ebpf::btf_leaves(btf, static_cast<std::uint32_t>(t_u32));
    ASSERT_EQ(scalar.size(), 1u);
    EXPECT_TRUE(scalar[0].path.empty());
    EXPECT_EQ(scalar[0].size, 4u);
}

TEST(BtfLeaves, RefusesMembersOutsideTheirParent) {
    ebpf::Btf btf{btf__new_empty()};
    ::btf* b = btf.get();
    const int u64 = btf__add_int(b, "unsigned long long", 8, 0);
    const int bad = btf__add_struct(b, "bad", 4);  // an 8-byte member in 4 bytes
    check(bad, btf__add_field(b, "x", u64, 0, 0));
    EXPECT_THROW((void)ebpf::btf_leaves(btf, static_cast<std::uint32_t>(bad)), ebpf::Error);
}

TEST(BtfLeaves, StructsNamedTwicePerLevelAreBounded) {
    // struct n0 { struct leaf a, b; }; struct n1 { struct n0 a, b; }; … 40 levels, every
    // member at offset 0 of a 4-byte struct: 2^40 leaves, refused instead of walked.
    ebpf::Btf btf{btf__new_empty()};
    ::btf* b = btf.get();
    const int u32 = btf__add_int(b, "unsigned int", 4, 0);
    int inner = btf__add_struct(b, "leaf", 4);
    check(inner, btf__add_field(b, "x", u32, 0, 0));
    for (int level = 0; level < 40; ++level) {
        const std::string name = "n" + std::to_string(level);
        const int n = btf__add_struct(b, name.c_str(), 4);
        check(n, btf__add_field(b, "a", inner, 0, 0));
        check(n, btf__add_field(b, "b", inner, 0, 0));
        inner = n;
    }
    try {
        (void)ebpf::btf_leaves(btf, static_cast<std::uint32_t>(inner));
        FAIL() << "2^40 leaves walked";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::not_supported) << e.what();
        EXPECT_STREQ(e.what(),
                     "BTF type struct n39 has more than 262144 members to walk, counting those of its nested structs");
    }
    // Ten levels (2^10 leaves) are walked whole.
    const auto ten = ebpf::btf_leaves(btf, static_cast<std::uint32_t>(inner - 30));
    EXPECT_EQ(ten.size(), 1024u);
}

}  // namespace
