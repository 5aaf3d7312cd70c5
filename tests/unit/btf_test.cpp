// BtfFormatter and btf_parse on types built in memory with libbpf's btf__add_* (no kernel
// needed): the exact text for every BTF kind in both styles, format → parse round trips
// to the same bytes, and every parse error message.
#include <bpf/btf.h>
#include <gtest/gtest.h>

#include <array>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "ebpf/btf.hpp"
#include "ebpf/error.hpp"

namespace {

using ebpf::Style;
using nlohmann::json;

template <class T>
std::span<const std::byte> bytes_of(const T& v) {
    return std::as_bytes(std::span(&v, 1));
}

std::vector<std::byte> vec_of(std::span<const std::byte> s) {
    return {s.begin(), s.end()};
}

// Types every test shares, in one BTF object per test.
class BtfTest : public ::testing::Test {
protected:
    BtfTest() : btf(btf__new_empty()), b(btf.get()) {
        u8 = add(btf__add_int(b, "unsigned char", 1, 0));
        s8 = add(btf__add_int(b, "signed char", 1, BTF_INT_SIGNED));
        ch = add(btf__add_int(b, "char", 1, BTF_INT_SIGNED));
        u16 = add(btf__add_int(b, "unsigned short", 2, 0));
        s16 = add(btf__add_int(b, "short", 2, BTF_INT_SIGNED));
        u32 = add(btf__add_int(b, "unsigned int", 4, 0));
        s32 = add(btf__add_int(b, "int", 4, BTF_INT_SIGNED));
        u64 = add(btf__add_int(b, "unsigned long long", 8, 0));
        s64 = add(btf__add_int(b, "long long", 8, BTF_INT_SIGNED));
        boolean = add(btf__add_int(b, "_Bool", 1, BTF_INT_BOOL));
        u128 = add(btf__add_int(b, "unsigned __int128", 16, 0));
        s128 = add(btf__add_int(b, "__int128", 16, BTF_INT_SIGNED));
        f32 = add(btf__add_float(b, "float", 4));
        f64 = add(btf__add_float(b, "double", 8));
    }

    std::uint32_t add(int id) {
        EXPECT_GT(id, 0) << "btf__add_* failed";
        return static_cast<std::uint32_t>(id);
    }
    void field(const char* name, std::uint32_t type, std::uint32_t bit_offset, std::uint32_t bit_size = 0) {
        ASSERT_EQ(btf__add_field(b, name, static_cast<int>(type), bit_offset, bit_size), 0) << name;
    }
    std::uint32_t array(std::uint32_t elem, std::uint32_t n) {
        return add(btf__add_array(b, static_cast<int>(u32), static_cast<int>(elem), n));
    }

    // struct conn_key { __u32 src_ip; __u16 dst_port; __u8 proto; /* 1 byte of padding */ };
    std::uint32_t conn_key() {
        const auto u32t = add(btf__add_typedef(b, "__u32", static_cast<int>(u32)));
        const auto u16t = add(btf__add_typedef(b, "__u16", static_cast<int>(u16)));
        const auto u8t = add(btf__add_typedef(b, "__u8", static_cast<int>(u8)));
        const auto id = add(btf__add_struct(b, "conn_key", 8));
        field("src_ip", u32t, 0);
        field("dst_port", u16t, 32);
        field("proto", u8t, 48);
        return id;
    }

    std::string format(std::uint32_t id, std::span<const std::byte> value, Style style = Style::json) const {
        return ebpf::BtfFormatter(btf, id).format(value, style);
    }
    std::vector<std::byte> parse(std::uint32_t id, const json& j) const { return ebpf::btf_parse(btf, id, j); }
    std::vector<std::byte> parse(std::uint32_t id, const char* text) const { return parse(id, json::parse(text)); }
    // The message btf_parse throws, or "" when it does not.
    std::string parse_error(std::uint32_t id, const char* text) const {
        try {
            parse(id, text);
        } catch (const ebpf::Error& e) {
            return e.what();
        }
        return "";
    }
    // format → parse gives `expected` (the value with padding zeroed), and the JSON is
    // valid; the text style differs only in spelling.
    void expect_round_trip(std::uint32_t id, std::span<const std::byte> value, std::span<const std::byte> expected) {
        const std::string text = format(id, value);
        json j;
        ASSERT_NO_THROW(j = json::parse(text)) << text;
        EXPECT_EQ(parse(id, j), vec_of(expected)) << text;
    }
    void expect_round_trip(std::uint32_t id, std::span<const std::byte> value) { expect_round_trip(id, value, value); }

    ebpf::Btf btf;
    ::btf* b;
    std::uint32_t u8, s8, ch, u16, s16, u32, s32, u64, s64, boolean, u128, s128, f32, f64;
};

TEST_F(BtfTest, IntegersOfEveryWidthAreNumbers) {
    const std::uint8_t max8 = 255;
    const std::int8_t a = -128;
    const std::uint16_t c = 65535;
    const std::int16_t d = -32768;
    const std::uint32_t e = 4294967295u;
    const std::int32_t f = -2147483647 - 1;
    const std::uint64_t g = 18446744073709551615ull;
    const std::int64_t h = std::numeric_limits<std::int64_t>::min();
    EXPECT_EQ(format(u8, bytes_of(max8)), "255");
    EXPECT_EQ(format(s8, bytes_of(a)), "-128");
    EXPECT_EQ(format(ch, bytes_of('A')), "65");  // a lone char is a number
    EXPECT_EQ(format(u16, bytes_of(c)), "65535");
    EXPECT_EQ(format(s16, bytes_of(d)), "-32768");
    EXPECT_EQ(format(u32, bytes_of(e)), "4294967295");
    EXPECT_EQ(format(s32, bytes_of(f)), "-2147483648");
    EXPECT_EQ(format(u64, bytes_of(g)), "18446744073709551615");
    EXPECT_EQ(format(s64, bytes_of(h)), "-9223372036854775808");
    for (auto [id, v] : {std::pair{u8, bytes_of(max8)},
                         {s8, bytes_of(a)},
                         {u16, bytes_of(c)},
                         {s16, bytes_of(d)},
                         {u32, bytes_of(e)},
                         {s32, bytes_of(f)},
                         {u64, bytes_of(g)},
                         {s64, bytes_of(h)}})
        expect_round_trip(id, v);
    EXPECT_EQ(format(u32, bytes_of(e), Style::text), "4294967295");
}

TEST_F(BtfTest, WideIntegersAreHexStrings) {
    std::uint64_t v[2] = {0x0123456789abcdefull, 0x1ull};  // little-endian: low half first
    EXPECT_EQ(format(u128, std::as_bytes(std::span(v))), "\"0x10123456789abcdef\"");
    EXPECT_EQ(format(u128, std::as_bytes(std::span(v)), Style::text), "0x10123456789abcdef");
    expect_round_trip(u128, std::as_bytes(std::span(v)));
    const std::uint64_t minus_one[2] = {~0ull, ~0ull};
    EXPECT_EQ(format(s128, std::as_bytes(std::span(minus_one))), "\"0xffffffffffffffffffffffffffffffff\"");
    expect_round_trip(s128, std::as_bytes(std::span(minus_one)));
    // Numbers and decimal strings work too.
    EXPECT_EQ(parse(s128, "-1"), vec_of(std::as_bytes(std::span(minus_one))));
    EXPECT_EQ(parse(u128, "\"340282366920938463463374607431768211455\""), vec_of(std::as_bytes(std::span(minus_one))));
    EXPECT_EQ(parse_error(u128, "\"340282366920938463463374607431768211456\""),
              "340282366920938463463374607431768211456 does not fit in 128-bit unsigned");
}

TEST_F(BtfTest, BoolsAreTrueAndFalseUnlessTheByteIsNeither) {
    EXPECT_EQ(format(boolean, bytes_of(std::uint8_t{1})), "true");
    EXPECT_EQ(format(boolean, bytes_of(std::uint8_t{0}), Style::text), "false");
    // Not a valid bool: shown as it is, so nothing is lost.
    EXPECT_EQ(format(boolean, bytes_of(std::uint8_t{7})), "7");
    expect_round_trip(boolean, bytes_of(std::uint8_t{1}));
    expect_round_trip(boolean, bytes_of(std::uint8_t{7}));
    EXPECT_EQ(parse(boolean, "false"), vec_of(bytes_of(std::uint8_t{0})));
    EXPECT_EQ(parse(boolean, "1"), vec_of(bytes_of(std::uint8_t{1})));
    EXPECT_EQ(parse_error(boolean, "[true]"), "expected true or false, got [true]");
}

TEST_F(BtfTest, StructsAreObjectsInMemberOrderWithoutPadding) {
    const auto id = conn_key();
    const unsigned char raw[8] = {0x7f, 0, 0, 1, 0xbb, 0x01, 6, 0xee};  // 127.0.0.1, 443, TCP, padding
    const auto value = std::as_bytes(std::span(raw));
    EXPECT_EQ(format(id, value), R"({"src_ip": 16777343, "dst_port": 443, "proto": 6})");
    EXPECT_EQ(format(id, value, Style::text), "{.src_ip = 16777343, .dst_port = 443, .proto = 6}");
    unsigned char zero_padding[8];
    std::memcpy(zero_padding, raw, 8);
    zero_padding[7] = 0;
    expect_round_trip(id, value, std::as_bytes(std::span(zero_padding)));
    // Missing fields are zero.
    const unsigned char only_port[8] = {0, 0, 0, 0, 0x50, 0, 0, 0};
    EXPECT_EQ(parse(id, R"({"dst_port": 80})"), vec_of(std::as_bytes(std::span(only_port))));
    EXPECT_EQ(btf.type_name(id), "struct conn_key");
    EXPECT_EQ(btf.type_size(id), 8u);
    EXPECT_EQ(btf.find("struct conn_key"), id);
    EXPECT_EQ(btf.find("conn_key"), id);
    EXPECT_EQ(btf.type_name(btf.find("__u32")), "__u32");
}

TEST_F(BtfTest, CharArraysAreEscapedStringsCutAtTheFirstNul) {
    const auto comm = array(ch, 16);
    EXPECT_EQ(btf.type_name(comm), "char[16]");
    char sshd[16] = "sshd";
    sshd[10] = 'x';  // after the NUL: not part of the string
    EXPECT_EQ(format(comm, bytes_of(sshd)), "\"sshd\"");
    EXPECT_EQ(format(comm, bytes_of(sshd), Style::text), "\"sshd\"");
    char clean[16] = "sshd";
    expect_round_trip(comm, bytes_of(sshd), bytes_of(clean));

    char odd[16] = "a\"b\\c\n";
    odd[6] = '\x01';
    odd[7] = '\x7f';
    odd[8] = '\xff';
    EXPECT_EQ(format(comm, bytes_of(odd)), R"("a\"b\\c\u000a\u0001\u007f\u00ff")");
    EXPECT_EQ(format(comm, bytes_of(odd), Style::text), R"("a\"b\\c\n\x01\x7f\xff")");
    expect_round_trip(comm, bytes_of(odd));

    char full[16];
    std::memset(full, 'z', 16);  // no NUL at all: every byte is text
    EXPECT_EQ(format(comm, bytes_of(full)), "\"zzzzzzzzzzzzzzzz\"");
    expect_round_trip(comm, bytes_of(full));

    // An array of numbers is fine too; unsigned char arrays are bytes, not text.
    EXPECT_EQ(parse(comm, "[115, 115, 104, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]"), vec_of(bytes_of(clean)));
    const auto mac = array(u8, 6);
    const unsigned char addr[6] = {0, 0x1b, 0x21, 0x3c, 0x4d, 0xff};
    EXPECT_EQ(format(mac, std::as_bytes(std::span(addr))), "[0, 27, 33, 60, 77, 255]");
    EXPECT_EQ(format(mac, std::as_bytes(std::span(addr)), Style::text), "{0, 27, 33, 60, 77, 255}");
}

TEST_F(BtfTest, EnumsAreShownByName) {
    const auto state = add(btf__add_enum(b, "state", 4));
    ASSERT_EQ(btf__add_enum_value(b, "IDLE", 0), 0);
    ASSERT_EQ(btf__add_enum_value(b, "BUSY", 7), 0);
    ASSERT_EQ(btf__add_enum_value(b, "ALSO_BUSY", 7), 0);  // an alias: the first name wins
    EXPECT_EQ(format(state, bytes_of(std::uint32_t{7})), "\"BUSY\"");
    EXPECT_EQ(format(state, bytes_of(std::uint32_t{7}), Style::text), "BUSY");
    EXPECT_EQ(format(state, bytes_of(std::uint32_t{3})), "3");  // no name: the number
    expect_round_trip(state, bytes_of(std::uint32_t{7}));
    expect_round_trip(state, bytes_of(std::uint32_t{3}));
    EXPECT_EQ(parse(state, "\"ALSO_BUSY\""), vec_of(bytes_of(std::uint32_t{7})));
    EXPECT_EQ(parse(state, "\"5\""), vec_of(bytes_of(std::uint32_t{5})));
    EXPECT_EQ(btf.type_name(state), "enum state");

    const auto sign = add(btf__add_enum(b, "sign", 1));  // a one-byte signed enum
    ASSERT_EQ(btf__add_enum_value(b, "NEG", -1), 0);
    ASSERT_EQ(btf__add_enum_value(b, "POS", 1), 0);
    EXPECT_EQ(format(sign, bytes_of(std::int8_t{-1})), "\"NEG\"");
    EXPECT_EQ(format(sign, bytes_of(std::int8_t{-2})), "-2");
    expect_round_trip(sign, bytes_of(std::int8_t{-2}));
    EXPECT_EQ(parse(sign, "\"NEG\""), vec_of(bytes_of(std::int8_t{-1})));

    const auto big = add(btf__add_enum64(b, "big", 8, false));
    ASSERT_EQ(btf__add_enum64_value(b, "HUGE", 0xffffffff00000000ull), 0);
    EXPECT_EQ(format(big, bytes_of(std::uint64_t{0xffffffff00000000ull})), "\"HUGE\"");
    EXPECT_EQ(format(big, bytes_of(std::uint64_t{1})), "1");
    EXPECT_EQ(parse(big, "\"HUGE\""), vec_of(bytes_of(std::uint64_t{0xffffffff00000000ull})));
}

TEST_F(BtfTest, NestedStructsAnonymousMembersAndUnions) {
    // struct outer { struct inner { __u16 a; __u16 b; } in; union { __u32 word; __u8 bytes[4]; };
    //                union u { __u64 raw; __s32 half; } u; };
    const auto inner = add(btf__add_struct(b, "inner", 4));
    field("a", u16, 0);
    field("b", u16, 16);
    const auto bytes4 = array(u8, 4);
    const auto anon = add(btf__add_union(b, nullptr, 4));
    field("word", u32, 0);
    field("bytes", bytes4, 0);
    const auto u = add(btf__add_union(b, "u", 8));
    field("raw", u64, 0);
    field("half", s32, 0);
    const auto outer = add(btf__add_struct(b, "outer", 16));
    field("in", inner, 0);
    field("", anon, 32);
    field("u", u, 64);
    struct {
        std::uint16_t a, b;
        std::uint32_t word;
        std::uint64_t raw;
    } v{1, 2, 0x04030201, 0xfffffffffffffffeull};
    EXPECT_EQ(format(outer, bytes_of(v)), R"({"in": {"a": 1, "b": 2}, "word": 67305985, "bytes": [1, 2, 3, 4], )"
                                          R"("u": {"raw": 18446744073709551614, "half": -2}})");
    EXPECT_EQ(format(outer, bytes_of(v), Style::text),
              "{.in = {.a = 1, .b = 2}, .word = 67305985, .bytes = {1, 2, 3, 4}, "
              ".u = {.raw = 18446744073709551614, .half = -2}}");
    expect_round_trip(outer, bytes_of(v));
    EXPECT_EQ(btf.type_name(anon), "union (anon)");

    // A union takes one member; the rest of its bytes are zero.
    EXPECT_EQ(parse(u, R"({"half": -2})"), vec_of(bytes_of(std::uint64_t{0xfffffffe})));
    // Several members only when they agree (as the formatter's output does).
    EXPECT_EQ(parse(u, R"({"raw": 5, "half": 5})"), vec_of(bytes_of(std::uint64_t{5})));
    EXPECT_EQ(parse_error(u, R"({"raw": 5, "half": 6})"),
              "'half' and 'raw' of union u share bytes but give them different values; give one of them");
    EXPECT_EQ(parse_error(u, "{}"), "union u needs one member, got none");
    EXPECT_EQ(parse_error(outer, R"({"word": 1, "bytes": [2, 0, 0, 0]})"),
              "'bytes' and 'word' of struct outer share bytes but give them different values; give "
              "one of them");
    EXPECT_EQ(parse_error(outer, R"({"u": {}})"), "field 'u': union u needs one member, got none");
}

TEST_F(BtfTest, ArraysOfArraysAndOfStructs) {
    const auto row = array(s32, 3);
    const auto grid = array(row, 2);
    EXPECT_EQ(btf.type_name(grid), "int[2][3]");
    const std::int32_t g[2][3] = {{1, -2, 3}, {4, 5, -6}};
    EXPECT_EQ(format(grid, bytes_of(g)), "[[1, -2, 3], [4, 5, -6]]");
    EXPECT_EQ(format(grid, bytes_of(g), Style::text), "{{1, -2, 3}, {4, 5, -6}}");
    expect_round_trip(grid, bytes_of(g));

    const auto key = conn_key();
    const auto keys = array(key, 2);
    const unsigned char k[16] = {1, 0, 0, 0, 80, 0, 17, 0, 2, 0, 0, 0, 0x50, 0, 6, 0};
    EXPECT_EQ(format(keys, std::as_bytes(std::span(k))),
              R"([{"src_ip": 1, "dst_port": 80, "proto": 17}, {"src_ip": 2, "dst_port": 80, "proto": 6}])");
    expect_round_trip(keys, std::as_bytes(std::span(k)));
    EXPECT_EQ(parse_error(keys, "[{}]"), "expected 2 elements for struct conn_key[2], got 1");
    EXPECT_EQ(parse_error(keys, R"([{}, {"dst_port": -1}])"),
              "field '[1].dst_port': -1 does not fit in 16-bit unsigned");
}

TEST_F(BtfTest, BitfieldsAreExtractedAndWritten) {
    // struct flags { __u32 a:3; int b:5; _Bool c:1; enum mode d:2; __u64 e:61; __u64 f:64 (from bit
    // 76) }
    const auto mode = add(btf__add_enum(b, "mode", 4));
    ASSERT_EQ(btf__add_enum_value(b, "OFF", 0), 0);
    ASSERT_EQ(btf__add_enum_value(b, "ON", 1), 0);
    ASSERT_EQ(btf__add_enum_value(b, "AUTO", 2), 0);
    ASSERT_EQ(btf__add_enum_value(b, "WIDE", 9), 0);  // does not fit in 2 bits
    const auto s = add(btf__add_struct(b, "flags", 24));
    field("a", u32, 0, 3);
    field("b", s32, 3, 5);
    field("c", boolean, 8, 1);
    field("d", mode, 9, 2);
    field("e", u64, 11, 61);
    field("f", u64, 76, 64);  // spans nine bytes: 4 bits into byte 9 up to byte 17
    // a=5, b=-3, c=1, d=AUTO, e=2^61-1 (all ones), f=0x8000000000000001
    unsigned char v[24] = {};
    const auto set = [&](std::uint64_t bit, unsigned width, std::uint64_t value) {
        for (unsigned i = 0; i < width; ++i)
            if ((value >> i) & 1) v[(bit + i) / 8] |= static_cast<unsigned char>(1u << ((bit + i) % 8));
    };
    set(0, 3, 5);
    set(3, 5, static_cast<std::uint64_t>(-3) & 31);
    set(8, 1, 1);
    set(9, 2, 2);
    set(11, 61, (1ull << 61) - 1);
    set(76, 64, 0x8000000000000001ull);
    const auto value = std::as_bytes(std::span(v));
    EXPECT_EQ(format(s, value),
              R"({"a": 5, "b": -3, "c": true, "d": "AUTO", "e": 2305843009213693951, "f": 9223372036854775809})");
    EXPECT_EQ(format(s, value, Style::text),
              "{.a = 5, .b = -3, .c = true, .d = AUTO, .e = 2305843009213693951, .f = "
              "9223372036854775809}");
    expect_round_trip(s, value);
    EXPECT_EQ(parse_error(s, R"({"a": 8})"), "field 'a': 8 does not fit in 3-bit unsigned");
    EXPECT_EQ(parse_error(s, R"({"b": 16})"), "field 'b': 16 does not fit in 5-bit signed");
    EXPECT_EQ(parse_error(s, R"({"b": -17})"), "field 'b': -17 does not fit in 5-bit signed");
    EXPECT_EQ(parse_error(s, R"({"d": "WIDE"})"), "field 'd': WIDE (9) does not fit in 2-bit unsigned");
    EXPECT_EQ(parse_error(s, R"({"c": 2})"), "field 'c': 2 does not fit in 1-bit unsigned");
}

TEST_F(BtfTest, IntEncodedBitfieldsOfOldBtf) {
    // kind_flag 0: the member's int type itself says "3 bits, from bit 2" (BTF_INT_OFFSET/BITS).
    const auto narrow = add(btf__add_int(b, "unsigned int", 4, 0));
    const auto signed_narrow = add(btf__add_int(b, "int", 4, BTF_INT_SIGNED));
    // btf__add_int makes regular ints; rewrite the encoding word that follows the type.
    auto* word = reinterpret_cast<std::uint32_t*>(const_cast<btf_type*>(btf__type_by_id(b, narrow)) + 1);
    *word = (2u << 16) | 3u;
    word = reinterpret_cast<std::uint32_t*>(const_cast<btf_type*>(btf__type_by_id(b, signed_narrow)) + 1);
    *word = (static_cast<std::uint32_t>(BTF_INT_SIGNED) << 24) | (5u << 16) | 4u;
    const auto s = add(btf__add_struct(b, "old", 4));
    field("x", narrow, 0);
    field("y", signed_narrow, 0);
    const std::uint32_t v = (6u << 2) | (0xeu << 5);  // x = 6, y = -2
    EXPECT_EQ(format(s, bytes_of(v)), R"({"x": 6, "y": -2})");
    expect_round_trip(s, bytes_of(v));
}

TEST_F(BtfTest, TypedefsAndQualifiersAreLookedThrough) {
    const auto cu32 = add(btf__add_const(b, static_cast<int>(u32)));
    const auto vu32 = add(btf__add_volatile(b, static_cast<int>(cu32)));
    const auto tagged = add(btf__add_type_tag(b, "user", static_cast<int>(vu32)));
    const auto td = add(btf__add_typedef(b, "counter_t", static_cast<int>(tagged)));
    EXPECT_EQ(format(td, bytes_of(std::uint32_t{42})), "42");
    expect_round_trip(td, bytes_of(std::uint32_t{42}));
    EXPECT_EQ(btf.type_name(td), "counter_t");
    EXPECT_EQ(btf.type_name(cu32), "const unsigned int");
    const auto cch = add(btf__add_const(b, static_cast<int>(ch)));
    const auto str = add(btf__add_ptr(b, static_cast<int>(cch)));
    EXPECT_EQ(btf.type_name(str), "const char *");
    const auto const_ptr = add(btf__add_const(b, static_cast<int>(str)));
    EXPECT_EQ(btf.type_name(const_ptr), "const char *const");
    const auto restricted = add(btf__add_restrict(b, static_cast<int>(str)));
    EXPECT_EQ(btf.type_name(restricted), "const char * restrict");
    EXPECT_EQ(btf.type_name(add(btf__add_ptr(b, static_cast<int>(str)))), "const char **");
    EXPECT_EQ(btf.type_name(add(btf__add_ptr(b, 0))), "void *");
    // A typedef'd char array is still text.
    const auto name_t = add(btf__add_typedef(b, "name_t", static_cast<int>(array(cch, 4))));
    EXPECT_EQ(format(name_t, bytes_of("ab\0")), "\"ab\"");
}

TEST_F(BtfTest, PointersAreNumbersInJsonAndHexInText) {
    const auto ptr = add(btf__add_ptr(b, static_cast<int>(u32)));
    const std::uint64_t p = 0xffff888003e4c000ull;
    EXPECT_EQ(format(ptr, bytes_of(p)), "18446612682135355392");
    EXPECT_EQ(format(ptr, bytes_of(p), Style::text), "0xffff888003e4c000");
    expect_round_trip(ptr, bytes_of(p));
    EXPECT_EQ(parse(ptr, "\"0xffff888003e4c000\""), vec_of(bytes_of(p)));
    EXPECT_EQ(parse(ptr, "\"0XFFFF888003E4C000\""), vec_of(bytes_of(p)));
    EXPECT_EQ(btf.type_name(ptr), "unsigned int *");
}

TEST_F(BtfTest, FloatsAreNumbers) {
    EXPECT_EQ(format(f32, bytes_of(1.5f)), "1.5");
    EXPECT_EQ(format(f32, bytes_of(0.1f)), "0.1");
    EXPECT_EQ(format(f64, bytes_of(2.0)), "2.0");
    EXPECT_EQ(format(f64, bytes_of(-0.0)), "-0.0");
    EXPECT_EQ(format(f64, bytes_of(1e300)), "1e+300");
    EXPECT_EQ(format(f64, bytes_of(std::numeric_limits<double>::quiet_NaN())), "\"nan\"");
    EXPECT_EQ(format(f64, bytes_of(-HUGE_VAL)), "\"-inf\"");
    EXPECT_EQ(format(f64, bytes_of(HUGE_VAL), Style::text), "inf");
    const std::uint32_t payload_nan = 0x7fc00001;  // keeps its bits
    EXPECT_EQ(format(f32, bytes_of(payload_nan)), "\"0x7fc00001\"");
    for (float f : {1.5f, 0.1f, -3.4e38f, 1e-45f, std::numeric_limits<float>::quiet_NaN(), HUGE_VALF})
        expect_round_trip(f32, bytes_of(f));
    for (double d : {2.0, -0.0, 0.1, 1e300, 5e-324, std::numeric_limits<double>::quiet_NaN(), -HUGE_VAL})
        expect_round_trip(f64, bytes_of(d));
    expect_round_trip(f32, bytes_of(payload_nan));
    EXPECT_EQ(parse(f32, "3"), vec_of(bytes_of(3.0f)));
    EXPECT_EQ(parse_error(f32, "1e39"), "1e+39 does not fit in float");
    EXPECT_EQ(parse_error(f64, "\"fast\""), "\"fast\" is not a number");
    EXPECT_EQ(parse_error(f64, "null"), "expected a number, got null");
}

TEST_F(BtfTest, DataSectionsAreObjectsOfTheirVariables) {
    const auto var_a = add(btf__add_var(b, "limit", BTF_VAR_GLOBAL_ALLOCATED, static_cast<int>(u32)));
    const auto var_b = add(btf__add_var(b, "name", BTF_VAR_STATIC, static_cast<int>(array(ch, 4))));
    const auto sec = add(btf__add_datasec(b, ".data", 8));
    ASSERT_EQ(btf__add_datasec_var_info(b, static_cast<int>(var_a), 0, 4), 0);
    ASSERT_EQ(btf__add_datasec_var_info(b, static_cast<int>(var_b), 4, 4), 0);
    const unsigned char v[8] = {10, 0, 0, 0, 'o', 'k', 0, 0};
    EXPECT_EQ(format(sec, std::as_bytes(std::span(v))), R"({"limit": 10, "name": "ok"})");
    expect_round_trip(sec, std::as_bytes(std::span(v)));
}

TEST_F(BtfTest, EmptyStructsAndFlexibleArrays) {
    const auto empty = add(btf__add_struct(b, "empty", 0));
    EXPECT_EQ(format(empty, {}), "{}");
    EXPECT_EQ(format(empty, {}, Style::text), "{}");
    EXPECT_TRUE(parse(empty, "{}").empty());
    const auto bytes = array(u8, 0);  // before the struct: fields go to the last type added
    const auto flex = add(btf__add_struct(b, "msg", 4));
    field("len", u32, 0);
    field("data", bytes, 32);
    EXPECT_EQ(format(flex, bytes_of(std::uint32_t{3})), R"({"len": 3, "data": []})");
    expect_round_trip(flex, bytes_of(std::uint32_t{3}));
}

TEST_F(BtfTest, ParseErrorsNameTheFieldAndTheProblem) {
    const auto key = conn_key();
    const auto comm = array(ch, 4);
    const auto state = add(btf__add_enum(b, "state", 4));
    ASSERT_EQ(btf__add_enum_value(b, "IDLE", 0), 0);
    ASSERT_EQ(btf__add_enum_value(b, "BUSY", 1), 0);
    const auto v = add(btf__add_struct(b, "value", 12));
    field("key", key, 0);
    field("state", state, 64);

    EXPECT_EQ(parse_error(key, R"({"dst_port": 70000})"), "field 'dst_port': 70000 does not fit in 16-bit unsigned");
    EXPECT_EQ(parse_error(key, R"({"src_ip": -1})"), "field 'src_ip': -1 does not fit in 32-bit unsigned");
    EXPECT_EQ(parse_error(key, R"({"dst_port": "0x10000"})"),
              "field 'dst_port': 0x10000 does not fit in 16-bit unsigned");
    EXPECT_EQ(parse_error(key, R"({"dst_port": "12a"})"), "field 'dst_port': \"12a\" is not an integer");
    EXPECT_EQ(parse_error(key, R"({"dst_port": 1.5})"), "field 'dst_port': expected an integer, got 1.5");
    EXPECT_EQ(parse_error(key, R"({"dst_port": null})"), "field 'dst_port': expected an integer, got null");
    EXPECT_EQ(parse_error(key, R"({"port": 1})"), "struct conn_key has no field 'port'");
    EXPECT_EQ(parse_error(v, R"({"key": {"port": 1}})"), "field 'key': struct conn_key has no field 'port'");
    // A key with a newline (or any control character) is shown escaped: still one line.
    EXPECT_EQ(parse_error(key, R"({"\nport": 1})"), "struct conn_key has no field '\\nport'");
    EXPECT_EQ(parse_error(v, R"({"key": {"proto": 256}})"), "field 'key.proto': 256 does not fit in 8-bit unsigned");
    EXPECT_EQ(parse_error(key, "[1, 2]"), "expected an object for struct conn_key, got [1,2]");
    EXPECT_EQ(parse_error(v, R"({"state": "GONE"})"),
              "field 'state': \"GONE\" is not a value of enum state (IDLE, BUSY)");
    EXPECT_EQ(parse_error(v, R"({"state": true})"),
              "field 'state': expected a name or number for enum state, got true");
    EXPECT_EQ(parse_error(v, R"({"state": 4294967296})"), "field 'state': 4294967296 does not fit in 32-bit unsigned");
    EXPECT_EQ(parse_error(comm, "\"abcde\""), "\"abcde\" is 5 bytes, more than fit in char[4]");
    EXPECT_EQ(parse_error(comm, "\"\\u20ac\""),
              "character U+20AC does not fit in char[4] (one byte per character, U+0000 to U+00FF)");
    EXPECT_EQ(parse_error(comm, "5"), "expected an array or a string for char[4], got 5");
    EXPECT_EQ(parse_error(array(u32, 2), "{}"), "expected an array for unsigned int[2], got {}");
    EXPECT_EQ(parse_error(array(u32, 2), "[1, 2, 3]"), "expected 2 elements for unsigned int[2], got 3");
    EXPECT_EQ(parse_error(u8, "\"\""), "\"\" is not an integer");
    EXPECT_EQ(parse_error(s8, "-129"), "-129 does not fit in 8-bit signed");
    EXPECT_EQ(parse_error(s8, "128"), "128 does not fit in 8-bit signed");
    EXPECT_EQ(parse_error(s64, "18446744073709551615"), "18446744073709551615 does not fit in 64-bit signed");

    // What does fit: limits, strings holding integers, hex giving raw bits.
    EXPECT_EQ(parse(s8, "-128"), vec_of(bytes_of(std::int8_t{-128})));
    EXPECT_EQ(parse(s8, "\"-5\""), vec_of(bytes_of(std::int8_t{-5})));
    EXPECT_EQ(parse(s32, "\"0xffffffff\""), vec_of(bytes_of(std::int32_t{-1})));
    EXPECT_EQ(parse(s32, "\"-0x10\""), vec_of(bytes_of(std::int32_t{-16})));
    EXPECT_EQ(parse(u64, "\"18446744073709551615\""), vec_of(bytes_of(~std::uint64_t{0})));
    EXPECT_EQ(parse(comm, "\"abcd\""), vec_of(bytes_of(std::array<char, 4>{'a', 'b', 'c', 'd'})));
    EXPECT_EQ(parse(comm, "\"\\u00ff\""), vec_of(bytes_of(std::array<char, 4>{'\xff', 0, 0, 0})));
}

TEST_F(BtfTest, TypesWithoutLayoutAndWrongSizesAreRefused) {
    const auto fwd = add(btf__add_fwd(b, "opaque", BTF_FWD_STRUCT));
    try {
        ebpf::BtfFormatter f(btf, fwd);
        FAIL() << "formatted a declaration";
    } catch (const ebpf::Error& e) {
        EXPECT_STREQ(e.what(), "BTF type struct opaque has no size");
        EXPECT_EQ(e.code(), ebpf::errc::not_supported);
    }
    EXPECT_THROW(parse(fwd, "{}"), ebpf::Error);
    const auto key = conn_key();
    ebpf::BtfFormatter f(btf, key);
    EXPECT_EQ(f.size(), 8u);
    EXPECT_EQ(f.type_name(), "struct conn_key");
    try {
        f.format(bytes_of(std::uint32_t{1}));
        FAIL() << "formatted 4 bytes as an 8-byte struct";
    } catch (const ebpf::Error& e) {
        EXPECT_STREQ(e.what(), "cannot format 4 bytes as struct conn_key, which is 8 bytes");
        EXPECT_EQ(e.code(), ebpf::errc::size_mismatch);
    }
    try {
        btf.find("struct nope");
        FAIL() << "found a missing type";
    } catch (const ebpf::Error& e) {
        EXPECT_STREQ(e.what(), "BTF has no type 'struct nope'");
        EXPECT_EQ(e.code(), ebpf::errc::not_found);
    }
    EXPECT_THROW(ebpf::Btf(nullptr), ebpf::Error);
}

TEST_F(BtfTest, AppendAddsToWhatIsThere) {
    const auto key = conn_key();
    const ebpf::BtfFormatter f(btf, key);
    const unsigned char raw[8] = {1, 0, 0, 0, 2, 0, 3, 0};
    std::string out = "key: ";
    f.append(out, std::as_bytes(std::span(raw)));
    out += ", again: ";
    f.append(out, std::as_bytes(std::span(raw)), Style::text);
    EXPECT_EQ(out, R"(key: {"src_ip": 1, "dst_port": 2, "proto": 3}, again: {.src_ip = 1, .dst_port = 2, .proto = 3})");
    const ebpf::BtfFormatter copy = f;  // copies share the compiled plan
    EXPECT_EQ(copy.format(std::as_bytes(std::span(raw))), R"({"src_ip": 1, "dst_port": 2, "proto": 3})");
}

}  // namespace

// ---- malformed BTF and values at the edges (issue 10, defect 5) ------------------------
// BTF read from a file is not checked by the kernel: it may declare any size. Each case
// below was a memory error (ASan/UBSan) or a lossy round trip before the fix.

namespace {

// Sets a type's declared size behind libbpf's back, as a crafted BTF file would.
void declare_size(::btf* b, std::uint32_t id, std::uint32_t size) {
    const_cast<btf_type*>(btf__type_by_id(b, id))->size = size;
}

}  // namespace

TEST_F(BtfTest, ScalarsOfImpossibleSizesAreRefusedNotCopied) {
    // An enum of 65,525 bytes: the runner copied the value into a 16-byte local.
    const auto big = add(btf__add_enum(b, "big", 4));
    ASSERT_EQ(btf__add_enum_value(b, "ONE", 1), 0);
    declare_size(b, big, 65525);
    std::vector<std::byte> value(65525, std::byte{0x41});
    try {
        (void)ebpf::BtfFormatter(btf, big).format(value);
        FAIL() << "an enum of 65525 bytes was formatted";
    } catch (const ebpf::Error& e) {
        EXPECT_STREQ(e.what(), "BTF type enum big: enum big declares 65525 bytes, but a scalar has 1 to 16");
    }
    EXPECT_EQ(parse_error(big, "\"ONE\""), "enum big declares 65525 bytes, but a scalar has 1 to 16");
    // Inside a struct too, and for ints and floats.
    const auto wide_int = add(btf__add_int(b, "huge", 16, 0));
    declare_size(b, wide_int, 4096);
    const auto holder = add(btf__add_struct(b, "holder", 4096));
    field("h", wide_int, 0);
    EXPECT_THROW((void)ebpf::BtfFormatter(btf, holder), ebpf::Error);
    EXPECT_EQ(parse_error(holder, R"({"h": 1})"), "field 'h': huge declares 4096 bytes, but a scalar has 1 to 16");
    const auto wide_float = add(btf__add_float(b, "quad", 16));
    declare_size(b, wide_float, 32);
    EXPECT_THROW((void)ebpf::BtfFormatter(btf, wide_float), ebpf::Error);
    EXPECT_EQ(parse_error(wide_float, "1.0"), "quad declares 32 bytes, but a scalar has 1 to 16");
}

TEST_F(BtfTest, ZeroSizeTypesNeverHandMemcpyANullPointer) {
    // Zero-size scalars are malformed: refused, not copied from (or to) nothing.
    const auto nothing = add(btf__add_enum(b, "nothing", 4));
    declare_size(b, nothing, 0);
    EXPECT_THROW((void)ebpf::BtfFormatter(btf, nothing), ebpf::Error);
    EXPECT_EQ(parse_error(nothing, "0"), "enum nothing declares 0 bytes, but a scalar has 1 to 16");
    // Zero-size composites are well-formed: an empty value, whose data() is null.
    const auto name = array(ch, 0);
    const auto empty = add(btf__add_struct(b, "just_a_name", 0));
    field("name", name, 0);
    EXPECT_EQ(format(empty, {}), R"({"name": ""})");
    EXPECT_EQ(format(empty, {}, Style::text), R"({.name = ""})");
    EXPECT_TRUE(parse(empty, R"({"name": ""})").empty());
    EXPECT_EQ(format(name, {}), R"("")");
    EXPECT_TRUE(parse(name, R"("")").empty());
}

TEST_F(BtfTest, DuplicateMemberNamesGetDistinctKeys) {
    const auto dup = add(btf__add_struct(b, "dup", 12));
    field("a", u32, 0);
    field("a", u32, 32);
    field("a", u32, 64);
    const std::uint32_t v[3] = {1, 2, 3};
    const auto bytes = std::as_bytes(std::span(v));
    EXPECT_EQ(format(dup, bytes), R"({"a": 1, "a#2": 2, "a#3": 3})");
    EXPECT_EQ(format(dup, bytes, Style::text), "{.a = 1, .a#2 = 2, .a#3 = 3}");
    expect_round_trip(dup, bytes);
    const std::uint32_t only_third[3] = {0, 0, 7};
    EXPECT_EQ(parse(dup, R"({"a#3": 7})"), vec_of(std::as_bytes(std::span(only_third))));
    // Through an anonymous member too, and whatever names a crafted BTF already has.
    const auto inner = add(btf__add_struct(b, "", 8));
    field("x", u32, 0);
    field("a#2", u32, 32);
    const auto outer = add(btf__add_struct(b, "outer2", 12));
    field("x", u32, 0);
    field("", inner, 32);
    EXPECT_EQ(format(outer, bytes), R"({"x": 1, "x#2": 2, "a#2": 3})");
    expect_round_trip(outer, bytes);
}

TEST_F(BtfTest, LongDoublesOutsideDoubleComeBackExactly) {
    if (sizeof(long double) != 16 || LDBL_MANT_DIG != 64) GTEST_SKIP() << "no x87 long double here";
    const auto ld = add(btf__add_float(b, "long double", 16));
    const auto bits_of = [](long double v) {
        std::array<std::byte, 16> raw{};  // the 6 padding bytes zero: what parsing gives
        std::memcpy(raw.data(), &v, 10);
        return raw;
    };
    // Exactly doubles: numbers, as short as a double's.
    for (long double v : {1.5L, static_cast<long double>(0.1), -2.0L}) {
        const auto raw = bits_of(v);
        const std::string text = format(ld, raw);
        EXPECT_EQ(json::parse(text).type(), json::value_t::number_float) << text;
        expect_round_trip(ld, raw);
    }
    EXPECT_EQ(format(ld, bits_of(0.5L)), "0.5");
    // Not doubles: below double's range, above it, and more precise than it. Before the
    // fix the first printed as 1e-4940 and parsed back as 0.
    const long double tiny = std::numeric_limits<long double>::denorm_min() * 12345;
    const long double huge = std::numeric_limits<long double>::max() / 3;
    const long double precise = 1.0L + std::ldexp(1.0L, -63);
    for (long double v : {tiny, huge, precise, -precise}) {
        const auto raw = bits_of(v);
        const std::string text = format(ld, raw);
        EXPECT_EQ(text.substr(0, 3), "\"0x") << text;
        expect_round_trip(ld, raw);
        long double back = 0;
        std::memcpy(&back, parse(ld, json::parse(text)).data(), 10);
        EXPECT_EQ(back, v) << text;
    }
    EXPECT_EQ(format(ld, bits_of(precise)), "\"0x3fff8000000000000001\"");
}

// ---- fuzz findings (issue 10): bounded work, and only what comes back ------------------

TEST_F(BtfTest, CharArrayTextAfterANulIsRefused) {
    // The formatter shows a char array up to its first NUL, so btf_parse must not take
    // text after one: it would not come back (tests/fuzz/crashes/btf_json_fuzz-char-array-…).
    const auto comm = array(ch, 4);
    const auto holder = add(btf__add_struct(b, "task", 4));
    field("comm", comm, 0);
    try {
        (void)parse(holder, "{\"comm\": \"\u00ff\\u0000:\"}");
        FAIL() << "text after a NUL was taken";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::bad_value);
        EXPECT_STREQ(e.what(),
                     "field 'comm': \"\\u00ff\\u0000:\" has text after a NUL: char[4] holds a C string, which ends "
                     "at its first NUL");
    }
    // NULs at the end are the terminator and its padding.
    const std::array<char, 4> ab{'a', 'b', 0, 0};
    EXPECT_EQ(parse(holder, "{\"comm\": \"ab\\u0000\\u0000\"}"), vec_of(std::as_bytes(std::span(ab))));
    EXPECT_EQ(format(holder, std::as_bytes(std::span(ab))), R"({"comm": "ab"})");
    expect_round_trip(holder, std::as_bytes(std::span(ab)));
}

TEST_F(BtfTest, ZeroSizeElementsRepeatOnlyWithinABound) {
    // An array of empty structs has no bytes, so its length does not bound its text:
    // 3,388,997,634 of them in a 192-byte struct took the fuzzer's memory before the fix
    // (tests/fuzz/crashes/btf_blob_fuzz-billions-of-…). A few are fine.
    const auto empty = add(btf__add_struct(b, "empty", 0));
    const auto few = array(empty, 3);
    EXPECT_EQ(format(few, {}), "[{}, {}, {}]");
    EXPECT_EQ(format(few, {}, Style::text), "{{}, {}, {}}");
    EXPECT_TRUE(parse(few, "[{}, {}, {}]").empty());

    const auto flexible = array(u16, 0);
    const auto billions = array(flexible, 3388997634u);
    const auto holder = add(btf__add_struct(b, "holder", 8));
    field("n", u64, 0);
    field("none", billions, 64);
    const auto expect_refused = [&](std::uint32_t id, const std::string& text) {
        try {
            (void)ebpf::BtfFormatter(btf, id);
            ADD_FAILURE() << "type " << id << " was compiled";
        } catch (const ebpf::Error& e) {
            EXPECT_EQ(e.code(), ebpf::errc::not_supported) << e.what();
            EXPECT_EQ(e.what(), text);
        }
    };
    expect_refused(holder, "BTF type struct holder is too large to format: a value's text could exceed 1056768 bytes");
    // Nested: each count alone is modest, their product is not.
    const auto inner = array(empty, 60000);
    const auto outer = array(inner, 60000);
    expect_refused(outer,
                   "BTF type struct empty[60000][60000] is too large to format: a value's text could "
                   "exceed 1048576 bytes");
}

TEST_F(BtfTest, SharedMembersDoublingPerLevelAreBounded) {
    // struct l0 { struct l1 a, b; }; struct l1 { struct l2 a, b; }; … 40 levels of empty
    // structs: 2^40 members by name, or lifted from anonymous members; both refused at
    // once instead of being walked.
    std::uint32_t named = add(btf__add_struct(b, "leaf", 0));
    std::uint32_t anonymous = named;
    for (int level = 0; level < 40; ++level) {
        const std::string name = "n" + std::to_string(level);
        const auto n = add(btf__add_struct(b, name.c_str(), 0));
        field("a", named, 0);
        field("b", named, 0);
        named = n;
        const auto a = add(btf__add_struct(b, level == 39 ? "top" : "", 0));
        field("", anonymous, 0);
        field("", anonymous, 0);
        anonymous = a;
    }
    try {
        (void)ebpf::BtfFormatter(btf, named);
        FAIL() << "2^40 members compiled";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::not_supported) << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("BTF type struct n39 is too large to format: ", 0), 0u) << e.what();
    }
    const char* lifted =
        "BTF: a struct or union with more than 262144 members, counting those of its anonymous members";
    try {
        (void)ebpf::BtfFormatter(btf, anonymous);
        FAIL() << "2^40 anonymous members compiled";
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::not_supported);
        EXPECT_STREQ(e.what(), lifted);
    }
    EXPECT_EQ(parse_error(anonymous, "{}"), lifted);
}

TEST_F(BtfTest, ErrorKindsSayWhoseFaultItIs) {
    const auto code_of = [](auto&& call) {
        try {
            call();
        } catch (const ebpf::Error& e) {
            EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
            return e.code();
        }
        ADD_FAILURE() << "no error";
        return std::error_code{};
    };
    const auto key = conn_key();
    // The caller's text: bad_value.
    EXPECT_EQ(code_of([&] { (void)parse(key, R"({"dst_port": 70000})"); }), ebpf::errc::bad_value);
    EXPECT_EQ(code_of([&] { (void)parse(key, R"({"nope": 1})"); }), ebpf::errc::bad_value);
    EXPECT_EQ(code_of([&] { (void)parse(key, "[1]"); }), ebpf::errc::bad_value);
    // The caller's type id: not_found.
    EXPECT_EQ(code_of([&] { (void)parse(9999, "0"); }), ebpf::errc::not_found);
    EXPECT_EQ(code_of([&] { ebpf::BtfFormatter f(btf, 9999); }), ebpf::errc::not_found);
    // Malformed BTF (a member past its struct's end; a scalar of an impossible size): corrupt.
    const auto bad = add(btf__add_struct(b, "bad", 4));
    field("x", u64, 0);
    EXPECT_EQ(code_of([&] { ebpf::BtfFormatter f(btf, bad); }), ebpf::errc::corrupt);
    EXPECT_EQ(code_of([&] { (void)parse(bad, R"({"x": 1})"); }), ebpf::errc::corrupt);
    const auto huge = add(btf__add_int(b, "huge", 16, 0));
    declare_size(b, huge, 4096);
    EXPECT_EQ(code_of([&] { ebpf::BtfFormatter f(btf, huge); }), ebpf::errc::corrupt);
    // Kinds without a layout: not_supported.
    const auto proto = add(btf__add_func_proto(b, static_cast<int>(u32)));
    const auto func = add(btf__add_func(b, "f", BTF_FUNC_STATIC, static_cast<int>(proto)));
    EXPECT_EQ(code_of([&] { ebpf::BtfFormatter f(btf, func); }), ebpf::errc::not_supported);
}
