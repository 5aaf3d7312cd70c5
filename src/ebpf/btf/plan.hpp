// The formatter's compiled plan: a BTF type flattened into steps, one per scalar, with
// offsets, widths and literal text already resolved. plan.cpp compiles it, format.cpp
// runs it. Internal: not installed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

struct btf;

namespace ebpf {

namespace detail {

// Text in BtfPlan::pool.
struct Lit {
    std::uint32_t off = 0;
    std::uint32_t len = 0;
};

enum class Op : std::uint8_t {
    u8,
    u16,
    u32,
    u64,
    s8,
    s16,
    s32,
    s64,
    boolean,      // true/false for 0/1, the number otherwise
    pointer,      // size 4 or 8: a number (json), hex (text)
    wide,         // up to 16 bytes of little-endian integer as "0x…"
    enumeration,  // size 1/2/4/8, aux: the enum table
    bits,         // a bitfield: `size` bytes from offset, shifted by `shift`, `width` bits
    f32,
    f64,
    f80,
    chars,    // char[size] as a string
    array,    // aux: the array; the element's steps follow, up to ArrayInfo::body_end
    scalars,  // an array of integers (ArrayInfo::element), in one tight loop
};

// kLoad8: eight bytes from the bitfield's first byte lie inside the value, so one load
// reads them all.
enum : std::uint8_t { kSigned = 1, kBool = 2, kEnum = 4, kLoad8 = 8 };

struct Step {
    Op op{};
    std::uint8_t flags = 0;
    std::uint8_t shift = 0;    // bits: the first bit within the first byte
    std::uint8_t width = 0;    // bits: how many
    std::uint32_t offset = 0;  // bytes from the start of the value (or array element)
    std::uint32_t size = 0;    // bytes read
    std::uint32_t aux = 0;
    std::uint32_t room = 0;  // most bytes the step writes, prefix included
    Lit prefix[2];           // text before the value, per style
};

struct Enumerator {
    std::uint64_t value;
    Lit name[2];
};
struct EnumTable {
    std::uint32_t begin = 0, end = 0;  // in enumerators, sorted by value
    std::uint32_t longest = 0;         // the longest name, quoted
};
struct ArrayInfo {
    std::uint32_t count = 0, stride = 0, body_end = 0;
    std::uint32_t room = 0;     // for a separator and a tail
    Lit separator[2], tail[2];  // between elements; after each element's last step
    Op element{};               // Op::scalars: the integers' op
};

struct BtfPlan {
    std::string type_name;
    std::size_t size = 0;
    std::vector<Step> steps;
    std::vector<Enumerator> enumerators;
    std::vector<EnumTable> enums;
    std::vector<ArrayInfo> arrays;
    std::string pool;  // followed by 16 spare bytes: literals are copied 16 at a time
    Lit tail[2];       // after the last step
};

// Spare room every step asks for, so literals up to 16 bytes can be copied in one move.
constexpr std::uint32_t kSlack = 16;

// Compiles `type_id` into `plan` (whose type_name and size are set). Throws Error for
// types without a layout and for malformed BTF (members outside their parent, scalars
// wider than any the formatter reads).
void compile_plan(const ::btf* b, std::uint32_t type_id, BtfPlan& plan);

}  // namespace detail

namespace btf_internal {
// The plan's types by their short names, for the compiler and the runner (which say
// `using namespace btf_internal`).
using detail::ArrayInfo;
using detail::BtfPlan;
using detail::Lit;
using detail::Op;
using detail::Step;
}  // namespace btf_internal

}  // namespace ebpf
