// One struct with a member of every BTF kind the formatter and parser handle, built in
// memory: what the JSON and map-word fuzzers parse against (their inputs are text, so the
// type stays fixed and the fuzzer explores the text).
#pragma once

#include <bpf/btf.h>

#include <cstdint>
#include <cstdlib>

#include "ebpf/btf.hpp"

namespace fuzz {

struct FixedBtf {
    ebpf::Btf btf{btf__new_empty()};
    std::uint32_t record = 0;  // struct record (every kind, bitfields, an anonymous union)
    std::uint32_t u32 = 0;     // unsigned int
    std::uint32_t state = 0;   // enum state
    std::uint32_t comm = 0;    // char[16]

    FixedBtf() {
        ::btf* b = btf.get();
        auto add = [](int id) {
            if (id <= 0) std::abort();  // the fixture itself is wrong: stop the fuzzer at once
            return id;
        };
        auto field = [&](const char* name, int type, std::uint32_t bit_offset, std::uint32_t bit_size = 0) {
            if (btf__add_field(b, name, type, bit_offset, bit_size)) std::abort();
        };
        const int u8 = add(btf__add_int(b, "unsigned char", 1, 0));
        const int s8 = add(btf__add_int(b, "signed char", 1, BTF_INT_SIGNED));
        const int ch = add(btf__add_int(b, "char", 1, BTF_INT_SIGNED));
        const int u16 = add(btf__add_int(b, "unsigned short", 2, 0));
        const int s16 = add(btf__add_int(b, "short", 2, BTF_INT_SIGNED));
        u32 = static_cast<std::uint32_t>(add(btf__add_int(b, "unsigned int", 4, 0)));
        const int s32 = add(btf__add_int(b, "int", 4, BTF_INT_SIGNED));
        const int u64 = add(btf__add_int(b, "unsigned long long", 8, 0));
        const int s64 = add(btf__add_int(b, "long long", 8, BTF_INT_SIGNED));
        const int boolean = add(btf__add_int(b, "_Bool", 1, BTF_INT_BOOL));
        const int u128 = add(btf__add_int(b, "unsigned __int128", 16, 0));
        const int s128 = add(btf__add_int(b, "__int128", 16, BTF_INT_SIGNED));
        const int f32 = add(btf__add_float(b, "float", 4));
        const int f64 = add(btf__add_float(b, "double", 8));
        const int f128 = add(btf__add_float(b, "long double", 16));
        const int u32t = add(btf__add_typedef(b, "__u32", static_cast<int>(u32)));
        const int cu16 = add(btf__add_const(b, u16));
        const int vs8 = add(btf__add_volatile(b, s8));
        const int ptr = add(btf__add_ptr(b, ch));
        state = static_cast<std::uint32_t>(add(btf__add_enum(b, "state", 4)));
        if (btf__add_enum_value(b, "STATE_CLOSED", 0) || btf__add_enum_value(b, "STATE_OPEN", 1) ||
            btf__add_enum_value(b, "STATE_NEG", -1))
            std::abort();
        const int small_enum = add(btf__add_enum(b, "small", 1));
        if (btf__add_enum_value(b, "SMALL_A", 7)) std::abort();
        comm = static_cast<std::uint32_t>(add(btf__add_array(b, static_cast<int>(u32), ch, 16)));
        const int samples = add(btf__add_array(b, static_cast<int>(u32), u16, 3));
        const int bytes4 = add(btf__add_array(b, static_cast<int>(u32), u8, 4));
        const int matrix = add(btf__add_array(b, static_cast<int>(u32), samples, 2));
        const int empty = add(btf__add_array(b, static_cast<int>(u32), u8, 0));

        const int inner = add(btf__add_struct(b, "inner", 8));
        field("a", s32, 0);
        field("b", u16, 32);
        const int raw = add(btf__add_union(b, "raw", 4));
        field("as_u32", u32t, 0);
        field("as_bytes", bytes4, 0);
        const int anon = add(btf__add_union(b, nullptr, 8));
        field("anon_u64", u64, 0);
        field("anon_s32", s32, 0);

        record = static_cast<std::uint32_t>(add(btf__add_struct(b, "record", 192)));
        field("u8", u8, 0);
        field("s8", vs8, 8);
        field("u16", cu16, 16);
        field("s16", s16, 32);
        field("flag", boolean, 48);
        field("small", small_enum, 56);
        field("u32", u32t, 64);
        field("s32", s32, 96);
        field("u64", u64, 128);
        field("s64", s64, 192);
        field("state", static_cast<int>(state), 256);
        field("f32", f32, 288);
        field("f64", f64, 320);
        field("comm", static_cast<int>(comm), 384);
        field("samples", samples, 512);
        field("low", u32, 560, 4);  // bitfields
        field("mid", s32, 564, 12);
        field("high", u16, 576, 16);
        field("raw", raw, 608);
        field("ptr", ptr, 640);
        field("inner", inner, 704);
        field("", anon, 768);  // anonymous: flattened into the parent
        field("matrix", matrix, 832);
        field("u128", u128, 1024);
        field("s128", s128, 1152);
        field("f128", f128, 1280);
        field("empty", empty, 1408);
        field("tail", u8, 1408);
    }
};

}  // namespace fuzz
