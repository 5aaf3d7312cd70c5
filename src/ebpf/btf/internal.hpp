// What the BTF modules share (types.cpp, plan.cpp, format.cpp, parse.cpp): reading libbpf's
// types, the members of a composite as C code names them, and the text writers the plan
// compiler and the runner both use. Internal: not installed.
#pragma once

#include <bpf/btf.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ebpf/error.hpp"

// BTF bit offsets count from the least significant bit of little-endian memory; the
// bitfield code reads and writes bytes that way.
static_assert(std::endian::native == std::endian::little, "bitfield handling assumes little-endian");

namespace ebpf::btf_internal {

__extension__ typedef unsigned __int128 u128;

// The three kinds a BTF failure has: a value the caller gave (JSON text) that cannot be one
// of the type; BTF that does not hold what it must (a member outside its parent, a scalar
// of an impossible size, a cycle) — only BTF from a file or built by hand, as the kernel
// refuses it; and types the formatter and parser do not handle (no layout, too large).
[[nodiscard]] inline Error bad_input(std::string message) {
    return Error::make(errc::bad_value, std::move(message));
}
[[nodiscard]] inline Error malformed(std::string message) {
    return Error::make(errc::corrupt, std::move(message));
}
[[nodiscard]] inline Error unsupported(std::string message) {
    return Error::make(errc::not_supported, std::move(message));
}

// Deeper than any real type; stops malformed BTF (a struct containing itself) from
// recursing forever.
constexpr int kMaxDepth = 64;

// The widest scalar the formatter and the parser handle (a 128-bit integer): a wider one
// exists only in malformed BTF (the kernel refuses it) and must never be copied into a
// scalar.
constexpr std::size_t kMaxScalarSize = 16;

constexpr char kHexDigits[] = "0123456789abcdef";

const char* name_at(const ::btf* b, std::uint32_t offset);
// Throws Error when there is no such type.
const btf_type* type_at(const ::btf* b, std::uint32_t id);
// Looks through typedefs and qualifiers to the type that decides the layout.
std::uint32_t skip_mods(const ::btf* b, std::uint32_t id);
// How C spells the type (Btf::type_name).
std::string name_of(const ::btf* b, std::uint32_t id, int depth);
// An int of one byte that C code means as text: `char` (signed or not) or an int the
// compiler marked as a character. `unsigned char` / __u8 arrays are bytes, not text.
bool is_text_char(const ::btf* b, std::uint32_t elem);
// Throws Error for a type without a size.
std::size_t size_of(const ::btf* b, std::uint32_t id);

// Every named member of a struct or union (or variable of a data section), with members
// of anonymous structs and unions lifted into the parent, as C lets code name them.
struct Field {
    // The key the member has in JSON (and its designator in text): its name, or, for the
    // second and later members of one name (only malformed or hand-built BTF has them),
    // "name#2", "name#3", … — '#' is in no C name, so these never collide with a member.
    std::string name;
    std::uint32_t type;
    std::uint64_t bit;       // from the start of the outermost composite
    std::uint32_t bitfield;  // width in bits, 0 when not a bitfield member
};
std::vector<Field> collect_fields(const ::btf* b, const btf_type* t, std::uint64_t base_bit, int depth);

// Where a bitfield (or an int narrower than its bytes) sits, and how to read it.
struct BitLayout {
    std::uint64_t bit = 0;           // first bit, from the start of the region
    unsigned width = 0;              // 1..64
    const btf_type* type = nullptr;  // int or enum, qualifiers skipped
    std::uint32_t type_id = 0;
    bool is_signed = false;
    bool is_bool = false;
};
BitLayout bit_layout(const ::btf* b, std::uint32_t type_id, std::uint64_t bit, std::uint32_t bitfield);

inline std::uint64_t sign_extend(std::uint64_t v, unsigned bits) {
    if (bits >= 64) return v;
    const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
    v &= (sign << 1) - 1;
    return (v ^ sign) - sign;
}

inline std::uint64_t low_bits(std::uint64_t v, unsigned bits) {
    return bits >= 64 ? v : v & ((std::uint64_t{1} << bits) - 1);
}

// An enumerator's value as the formatter compares it: the raw bits of the enum's size,
// sign-extended to 64 bits when the enum is signed.
std::uint64_t enumerator_value(const btf_type* t, std::uint16_t i, unsigned bits);
const char* enumerator_name(const ::btf* b, const btf_type* t, std::uint16_t i);

// The writers below put text at a cursor into a buffer the caller made big enough, and
// return the new cursor: formatting checks for room once per step, not per character.
// (Inline: the runner calls them per value.)

// A JSON string's body: every byte outside 0x20–0x7e as \u00XX, one code point per byte
// (btf_parse maps them back). Needs 6 × n bytes of room.
inline char* json_string_body(char* p, const unsigned char* s, std::size_t n) {
    std::size_t plain = 0;  // start of the run of bytes that need no escape
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') continue;
        std::memcpy(p, s + plain, i - plain);
        p += i - plain;
        *p++ = '\\';
        if (c == '"' || c == '\\') {
            *p++ = static_cast<char>(c);
        } else {
            const char e[5] = {'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 15]};
            std::memcpy(p, e, 5);
            p += 5;
        }
        plain = i + 1;
    }
    // n == 0 may come with s == nullptr (an empty string): memcpy must not see it.
    if (n != plain) std::memcpy(p, s + plain, n - plain);
    return p + (n - plain);
}

// A C string literal's body, for the text style. Needs 4 × n bytes of room.
char* c_string_body(char* p, const unsigned char* s, std::size_t n);

std::string json_quoted(std::string_view s);

// "0x" and the digits, no leading zeros. Needs 34 bytes of room.
inline char* put_hex(char* p, u128 v) {
    char buf[32];
    char* const end = buf + sizeof buf;
    char* q = end;
    do {
        *--q = kHexDigits[static_cast<unsigned>(v & 15)];
        v >>= 4;
    } while (v != 0);
    *p++ = '0';
    *p++ = 'x';
    std::memcpy(p, q, static_cast<std::size_t>(end - q));
    return p + (end - q);
}

}  // namespace ebpf::btf_internal
