#include "ebpf/btf.hpp"

#include <bpf/btf.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <unordered_map>

#include "ebpf/error.hpp"

// BTF bit offsets count from the least significant bit of little-endian memory; the
// bitfield code below reads and writes bytes that way.
static_assert(std::endian::native == std::endian::little,
              "bitfield handling assumes little-endian");

namespace ebpf {

namespace {

__extension__ typedef unsigned __int128 u128;

// Deeper than any real type; stops malformed BTF (a struct containing itself) from
// recursing forever.
constexpr int kMaxDepth = 64;

constexpr char kHexDigits[] = "0123456789abcdef";

const char* name_at(const ::btf* b, std::uint32_t offset) {
    const char* s = btf__name_by_offset(b, offset);
    return s ? s : "";
}

const btf_type* type_at(const ::btf* b, std::uint32_t id) {
    const btf_type* t = btf__type_by_id(b, id);
    if (!t) throw Error("BTF has no type with id " + std::to_string(id));
    return t;
}

// Looks through typedefs and qualifiers to the type that decides the layout.
std::uint32_t skip_mods(const ::btf* b, std::uint32_t id) {
    for (int i = 0; i < kMaxDepth; ++i) {
        const btf_type* t = type_at(b, id);
        switch (btf_kind(t)) {
            case BTF_KIND_TYPEDEF:
            case BTF_KIND_CONST:
            case BTF_KIND_VOLATILE:
            case BTF_KIND_RESTRICT:
            case BTF_KIND_TYPE_TAG:
                id = t->type;
                break;
            default:
                return id;
        }
    }
    throw Error("BTF type " + std::to_string(id) + ": typedef/qualifier chain too long");
}

std::string name_of(const ::btf* b, std::uint32_t id, int depth) {
    if (id == 0) return "void";
    if (depth > kMaxDepth) return "...";
    const btf_type* t = btf__type_by_id(b, id);
    if (!t) return "<type " + std::to_string(id) + ">";
    const std::string name = name_at(b, t->name_off);
    const auto tagged = [&](const char* tag) {
        return std::string(tag) + (name.empty() ? "(anon)" : name);
    };
    switch (btf_kind(t)) {
        case BTF_KIND_STRUCT:
            return tagged("struct ");
        case BTF_KIND_UNION:
            return tagged("union ");
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64:
            return tagged("enum ");
        case BTF_KIND_FWD:
            return tagged(btf_kflag(t) ? "union " : "struct ");
        case BTF_KIND_PTR: {
            std::string inner = name_of(b, t->type, depth + 1);
            return inner + (inner.ends_with('*') ? "*" : " *");
        }
        case BTF_KIND_CONST:
        case BTF_KIND_VOLATILE: {
            const char* qualifier = btf_is_const(t) ? "const" : "volatile";
            // A qualified pointer is written after the star: "char *const".
            const btf_type* target = btf__type_by_id(b, t->type);
            if (target && btf_is_ptr(target)) return name_of(b, t->type, depth + 1) + qualifier;
            return std::string(qualifier) + " " + name_of(b, t->type, depth + 1);
        }
        case BTF_KIND_RESTRICT:
            return name_of(b, t->type, depth + 1) + " restrict";
        case BTF_KIND_TYPE_TAG:
            return name_of(b, t->type, depth + 1);
        case BTF_KIND_ARRAY: {
            // C writes the outermost dimension first: int[2][3] is two arrays of three.
            std::string dims;
            std::uint32_t elem = id;
            for (int i = 0; i < kMaxDepth; ++i) {
                const btf_type* a = btf__type_by_id(b, elem);
                if (!a || !btf_is_array(a)) break;
                dims += "[" + std::to_string(btf_array(a)->nelems) + "]";
                elem = btf_array(a)->type;
            }
            return name_of(b, elem, depth + 1) + dims;
        }
        case BTF_KIND_FUNC_PROTO:
            return "function";
        default:  // int, float, typedef, var, datasec, func, decl tag
            return name.empty() ? "<anon>" : name;
    }
}

// An int of one byte that C code means as text: `char` (signed or not) or an int the
// compiler marked as a character. `unsigned char` / __u8 arrays are bytes, not text.
bool is_text_char(const ::btf* b, std::uint32_t elem) {
    const btf_type* t = type_at(b, skip_mods(b, elem));
    if (!btf_is_int(t) || t->size != 1 || btf_int_bits(t) != 8 || btf_int_offset(t) != 0)
        return false;
    return (btf_int_encoding(t) & BTF_INT_CHAR) ||
           std::strcmp(name_at(b, t->name_off), "char") == 0;
}

std::size_t size_of(const ::btf* b, std::uint32_t id) {
    const long long size = btf__resolve_size(b, id);
    if (size < 0) throw Error("BTF type " + name_of(b, id, 0) + " has no size");
    return static_cast<std::size_t>(size);
}

// Every named member of a struct or union (or variable of a data section), with members
// of anonymous structs and unions lifted into the parent, as C lets code name them.
struct Field {
    const char* name;
    std::uint32_t type;
    std::uint64_t bit;       // from the start of the outermost composite
    std::uint32_t bitfield;  // width in bits, 0 when not a bitfield member
};

void collect_fields(const ::btf* b, const btf_type* t, std::uint64_t base_bit,
                    std::vector<Field>& out, int depth) {
    if (depth > kMaxDepth) throw Error("BTF types nested too deeply");
    if (btf_is_datasec(t)) {
        const btf_var_secinfo* v = btf_var_secinfos(t);
        for (std::uint16_t i = 0; i < btf_vlen(t); ++i, ++v) {
            const btf_type* var = type_at(b, v->type);
            if (!btf_is_var(var)) continue;  // functions in .ksyms have no bytes here
            out.push_back(
                {name_at(b, var->name_off), var->type, base_bit + std::uint64_t{v->offset} * 8, 0});
        }
        return;
    }
    const btf_member* m = btf_members(t);
    for (std::uint16_t i = 0; i < btf_vlen(t); ++i, ++m) {
        const std::uint64_t bit = base_bit + btf_member_bit_offset(t, i);
        const std::uint32_t bitfield = btf_member_bitfield_size(t, i);
        const char* name = name_at(b, m->name_off);
        if (*name == '\0') {
            // Anonymous struct/union: its members belong to the parent. Anything else
            // unnamed (an unnamed bitfield) is padding.
            const btf_type* inner = type_at(b, skip_mods(b, m->type));
            if (btf_is_composite(inner) && bitfield == 0 && bit % 8 == 0)
                collect_fields(b, inner, bit, out, depth + 1);
            continue;
        }
        out.push_back({name, m->type, bit, bitfield});
    }
}

// Where a bitfield (or an int narrower than its bytes) sits, and how to read it.
struct BitLayout {
    std::uint64_t bit = 0;           // first bit, from the start of the region
    unsigned width = 0;              // 1..64
    const btf_type* type = nullptr;  // int or enum, qualifiers skipped
    std::uint32_t type_id = 0;
    bool is_signed = false;
    bool is_bool = false;
};

BitLayout bit_layout(const ::btf* b, std::uint32_t type_id, std::uint64_t bit,
                     std::uint32_t bitfield) {
    BitLayout l;
    l.type_id = skip_mods(b, type_id);
    l.type = type_at(b, l.type_id);
    if (btf_is_int(l.type)) {
        // Old BTF (kind_flag 0) says where the bits are in the int type itself.
        l.bit = bit + btf_int_offset(l.type);
        l.width = bitfield ? bitfield : btf_int_bits(l.type);
        l.is_signed = btf_int_encoding(l.type) & BTF_INT_SIGNED;
        l.is_bool = btf_int_encoding(l.type) & BTF_INT_BOOL;
    } else if (btf_is_any_enum(l.type)) {
        l.bit = bit;
        l.width = bitfield ? bitfield : l.type->size * 8;
        l.is_signed = btf_kflag(l.type);
    } else {
        throw Error("bitfield of " + name_of(b, l.type_id, 0) +
                    ": only integers and enums can be bitfields");
    }
    if (l.width == 0 || l.width > 64)
        throw Error("bitfield of " + std::to_string(l.width) +
                    " bits: only 1 to 64 bits are supported");
    return l;
}

std::uint64_t sign_extend(std::uint64_t v, unsigned bits) {
    if (bits >= 64) return v;
    const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
    v &= (sign << 1) - 1;
    return (v ^ sign) - sign;
}

std::uint64_t low_bits(std::uint64_t v, unsigned bits) {
    return bits >= 64 ? v : v & ((std::uint64_t{1} << bits) - 1);
}

// An enumerator's value as the formatter compares it: the raw bits of the enum's size,
// sign-extended to 64 bits when the enum is signed.
std::uint64_t enumerator_value(const btf_type* t, std::uint16_t i, unsigned bits) {
    const std::uint64_t raw = btf_is_enum64(t) ? btf_enum64_value(btf_enum64(t) + i)
                                               : static_cast<std::uint32_t>(btf_enum(t)[i].val);
    return btf_kflag(t) ? sign_extend(raw, bits) : low_bits(raw, bits);
}

const char* enumerator_name(const ::btf* b, const btf_type* t, std::uint16_t i) {
    return name_at(b, btf_is_enum64(t) ? btf_enum64(t)[i].name_off : btf_enum(t)[i].name_off);
}

// The writers below put text at a cursor into a buffer the caller made big enough, and
// return the new cursor: formatting checks for room once per step, not per character.

// A JSON string's body: every byte outside 0x20–0x7e as \u00XX, one code point per byte
// (btf_parse maps them back). Needs 6 × n bytes of room.
char* json_string_body(char* p, const unsigned char* s, std::size_t n) {
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
    std::memcpy(p, s + plain, n - plain);
    return p + (n - plain);
}

// A C string literal's body, for the text style. Needs 4 × n bytes of room.
char* c_string_body(char* p, const unsigned char* s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            *p++ = static_cast<char>(c);
            continue;
        }
        *p++ = '\\';
        switch (c) {
            case '"':
                *p++ = '"';
                break;
            case '\\':
                *p++ = '\\';
                break;
            case '\n':
                *p++ = 'n';
                break;
            case '\t':
                *p++ = 't';
                break;
            case '\r':
                *p++ = 'r';
                break;
            default:
                *p++ = 'x';
                *p++ = kHexDigits[c >> 4];
                *p++ = kHexDigits[c & 15];
        }
    }
    return p;
}

std::string json_quoted(std::string_view s) {
    std::string out(s.size() * 6 + 2, '\0');
    char* p = out.data();
    *p++ = '"';
    p = json_string_body(p, reinterpret_cast<const unsigned char*>(s.data()), s.size());
    *p++ = '"';
    out.resize(static_cast<std::size_t>(p - out.data()));
    return out;
}

// "0x" and the digits, no leading zeros. Needs 34 bytes of room.
char* put_hex(char* p, u128 v) {
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

}  // namespace

// ---- Btf -------------------------------------------------------------------------------

void Btf::Free::operator()(::btf* b) const noexcept {
    btf__free(b);
}

Btf::Btf(::btf* owned) : btf_(owned) {
    if (!owned) throw Error("BTF: no btf object given");
}

Btf Btf::from_kernel(std::uint32_t btf_id) {
    if (btf_id == 0) throw Error("BTF id 0: the map has no BTF");
    ::btf* b = btf__load_from_kernel_by_id(btf_id);
    if (!b) throw_error(errno, "BTF id " + std::to_string(btf_id) + ": load from the kernel");
    return Btf(b);
}

Btf Btf::vmlinux() {
    ::btf* b = btf__load_vmlinux_btf();
    if (!b) throw_error(errno, "kernel BTF (/sys/kernel/btf/vmlinux): load");
    return Btf(b);
}

std::string Btf::type_name(std::uint32_t type_id) const {
    return name_of(get(), type_id, 0);
}

std::size_t Btf::type_size(std::uint32_t type_id) const {
    return size_of(get(), type_id);
}

std::uint32_t Btf::find(std::string_view name) const {
    const auto found = [&](std::string_view bare,
                           std::initializer_list<int> kinds) -> std::uint32_t {
        const std::string s(bare);
        for (int kind : kinds) {
            const int id =
                btf__find_by_name_kind(get(), s.c_str(), static_cast<std::uint32_t>(kind));
            if (id > 0) return static_cast<std::uint32_t>(id);
        }
        return 0;
    };
    std::uint32_t id = 0;
    if (name.starts_with("struct "))
        id = found(name.substr(7), {BTF_KIND_STRUCT});
    else if (name.starts_with("union "))
        id = found(name.substr(6), {BTF_KIND_UNION});
    else if (name.starts_with("enum "))
        id = found(name.substr(5), {BTF_KIND_ENUM, BTF_KIND_ENUM64});
    else
        id = found(name, {BTF_KIND_TYPEDEF, BTF_KIND_INT, BTF_KIND_FLOAT, BTF_KIND_STRUCT,
                          BTF_KIND_UNION, BTF_KIND_ENUM, BTF_KIND_ENUM64, BTF_KIND_DATASEC});
    if (id == 0) throw Error("BTF has no type '" + std::string(name) + "'");
    return id;
}

// ---- the compiled plan ---------------------------------------------------------------

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

}  // namespace detail

namespace {

using detail::ArrayInfo;
using detail::BtfPlan;
using detail::Lit;
using detail::Op;
using detail::Step;

// Turns a BTF type into steps. Literal text (braces, field names, separators) between
// two values is gathered in `pending_` and stored once, as the next step's prefix.
class Compiler {
public:
    Compiler(const ::btf* b, BtfPlan& plan) : b_(b), p_(plan) {}

    void compile(std::uint32_t type_id) {
        value(type_id, 0, p_.size, 0);
        p_.tail[0] = flush(0);
        p_.tail[1] = flush(1);
        p_.pool.append(detail::kSlack, '\0');
    }

private:
    Lit store(std::string_view s) {
        Lit l{static_cast<std::uint32_t>(p_.pool.size()), static_cast<std::uint32_t>(s.size())};
        p_.pool += s;
        return l;
    }
    Lit flush(int style) {
        Lit l = store(pending_[style]);
        pending_[style].clear();
        return l;
    }
    void literal(std::string_view json, std::string_view text) {
        pending_[0] += json;
        pending_[1] += text;
    }
    // `limit`: bytes in the region the step's offset counts from (the value or one array
    // element); malformed BTF must not make the formatter read past the value.
    void push(Step s, std::uint64_t limit) {
        if (std::uint64_t{s.offset} + s.size > limit)
            throw Error("BTF type " + p_.type_name + ": a member lies outside its " +
                        std::to_string(limit) + "-byte parent");
        std::uint64_t room = 21;  // a 64-bit integer, signed
        switch (s.op) {
            case Op::chars:
                room = std::uint64_t{s.size} * 6 + 2;
                break;
            case Op::wide:
                room = 36;
                break;
            case Op::f32:
            case Op::f64:
            case Op::f80:
                room = 64;
                break;
            case Op::array:
                room = 0;
                break;  // each element sees to its own room
            case Op::enumeration:
                room = std::max<std::uint64_t>(room, p_.enums[s.aux].longest);
                break;
            case Op::bits:
                if (s.flags & detail::kEnum)
                    room = std::max<std::uint64_t>(room, p_.enums[s.aux].longest);
                break;
            default:
                break;
        }
        s.prefix[0] = flush(0);
        s.prefix[1] = flush(1);
        room += std::max(s.prefix[0].len, s.prefix[1].len) + detail::kSlack;
        if (room > std::numeric_limits<std::uint32_t>::max())
            throw Error("BTF type " + p_.type_name + " is too large to format");
        s.room = static_cast<std::uint32_t>(room);
        p_.steps.push_back(s);
    }

    // An offset inside the region, narrowed to what a step holds. Checked before the
    // narrowing: BTF offsets are 32 bits of bits, so wild ones must not wrap around.
    std::uint32_t offset_in(std::uint64_t offset, std::uint64_t limit) const {
        if (offset > limit)
            throw Error("BTF type " + p_.type_name + ": a member lies outside its parent");
        return static_cast<std::uint32_t>(offset);
    }

    void value(std::uint32_t type_id, std::uint64_t offset, std::uint64_t limit, int depth) {
        if (depth > kMaxDepth)
            throw Error("BTF type " + p_.type_name + ": types nested too deeply");
        const std::uint32_t id = skip_mods(b_, type_id);
        const btf_type* t = type_at(b_, id);
        Step s;
        s.offset = offset_in(offset, limit);
        switch (btf_kind(t)) {
            case BTF_KIND_INT:
                if (btf_int_offset(t) != 0 || btf_int_bits(t) != t->size * 8)
                    return bitfield(id, offset * 8, 0, limit);
                s.size = t->size;
                if (btf_int_encoding(t) & BTF_INT_BOOL && t->size <= 8) {
                    s.op = Op::boolean;
                } else {
                    const bool is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
                    switch (t->size) {
                        case 1:
                            s.op = is_signed ? Op::s8 : Op::u8;
                            break;
                        case 2:
                            s.op = is_signed ? Op::s16 : Op::u16;
                            break;
                        case 4:
                            s.op = is_signed ? Op::s32 : Op::u32;
                            break;
                        case 8:
                            s.op = is_signed ? Op::s64 : Op::u64;
                            break;
                        default:
                            s.op = Op::wide;
                            break;  // 16 bytes: two's complement bits
                    }
                }
                return push(s, limit);
            case BTF_KIND_ENUM:
            case BTF_KIND_ENUM64:
                s.size = t->size;
                if (t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8) {
                    s.op = Op::enumeration;
                    s.flags = btf_kflag(t) ? detail::kSigned : 0;
                    s.aux = enum_table(id, t);
                } else {
                    s.op = Op::wide;
                }
                return push(s, limit);
            case BTF_KIND_PTR:
                s.size = static_cast<std::uint32_t>(size_of(b_, id));
                s.op = s.size == 4 || s.size == 8 ? Op::pointer : Op::wide;
                return push(s, limit);
            case BTF_KIND_FLOAT:
                s.size = t->size;
                if (t->size == 4)
                    s.op = Op::f32;
                else if (t->size == 8)
                    s.op = Op::f64;
                else if (t->size == 16 && sizeof(long double) == 16 && LDBL_MANT_DIG == 64)
                    s.op = Op::f80;
                else
                    s.op = Op::wide;  // half floats and the like: their bits
                return push(s, limit);
            case BTF_KIND_STRUCT:
            case BTF_KIND_UNION:
            case BTF_KIND_DATASEC: {
                std::vector<Field> fields;
                collect_fields(b_, t, offset * 8, fields, depth);
                literal("{", "{");
                bool first = true;
                for (const Field& f : fields) {
                    literal(first ? "" : ", ", first ? "" : ", ");
                    first = false;
                    literal(json_quoted(f.name) + ": ", std::string(".") + f.name + " = ");
                    if (f.bitfield != 0 || f.bit % 8 != 0)
                        bitfield(f.type, f.bit, f.bitfield, limit);
                    else
                        value(f.type, f.bit / 8, limit, depth + 1);
                }
                literal("}", "}");
                return;
            }
            case BTF_KIND_VAR:
                return value(t->type, offset, limit, depth + 1);
            case BTF_KIND_ARRAY:
                return array(id, t, offset, limit, depth);
            default:
                throw Error("cannot format " + name_of(b_, id, 0) + ": it has no layout");
        }
    }

    void array(std::uint32_t id, const btf_type* t, std::uint64_t offset, std::uint64_t limit,
               int depth) {
        const struct btf_array* a = btf_array(t);
        Step s;
        s.offset = offset_in(offset, limit);
        if (is_text_char(b_, a->type)) {
            s.op = Op::chars;
            s.size = a->nelems;
            return push(s, limit);
        }
        if (a->nelems == 0) return literal("[]", "{}");  // a flexible array member: no bytes
        const std::uint64_t stride = size_of(b_, a->type);
        if (stride != 0 && a->nelems > (limit - offset) / stride)
            throw Error("BTF type " + p_.type_name + ": " + name_of(b_, id, 0) +
                        " lies outside its parent");
        s.op = Op::array;
        s.aux = static_cast<std::uint32_t>(p_.arrays.size());
        p_.arrays.push_back({a->nelems, static_cast<std::uint32_t>(stride), 0, 0, {}, {}, {}});
        literal("[", "{");
        const std::size_t index = p_.steps.size();
        push(s, limit);
        value(a->type, 0, stride, depth + 1);  // the element, relative to its own start
        ArrayInfo& info = p_.arrays[s.aux];
        info.tail[0] = flush(0);
        info.tail[1] = flush(1);
        info.separator[0] = info.separator[1] = store(", ");
        info.room = 2 + std::max(info.tail[0].len, info.tail[1].len) + detail::kSlack;
        info.body_end = static_cast<std::uint32_t>(p_.steps.size());
        literal("]", "}");
        // Arrays of plain integers (addresses, counters, byte buffers) are common and
        // short-bodied: looping over them in place saves a call per element.
        const Step& body = p_.steps.back();
        if (info.body_end == index + 2 && body.op >= Op::u8 && body.op <= Op::s64 &&
            body.offset == 0 && body.prefix[0].len == 0 && body.prefix[1].len == 0 &&
            info.tail[0].len == 0 && info.tail[1].len == 0) {
            info.element = body.op;
            p_.steps[index].op = Op::scalars;
        }
    }

    void bitfield(std::uint32_t type_id, std::uint64_t bit, std::uint32_t width,
                  std::uint64_t limit) {
        const BitLayout l = bit_layout(b_, type_id, bit, width);
        Step s;
        s.op = Op::bits;
        s.offset = offset_in(l.bit / 8, limit);
        s.shift = static_cast<std::uint8_t>(l.bit % 8);
        s.width = static_cast<std::uint8_t>(l.width);
        s.size = (s.shift + l.width + 7) / 8;
        if (l.is_signed) s.flags |= detail::kSigned;
        if (l.is_bool) s.flags |= detail::kBool;
        if (btf_is_any_enum(l.type)) {
            s.flags |= detail::kEnum;
            s.aux = enum_table(l.type_id, l.type);
        }
        if (std::uint64_t{s.offset} + 8 <= limit) s.flags |= detail::kLoad8;
        push(s, limit);
    }

    // One table per enum type, however many fields use it.
    std::uint32_t enum_table(std::uint32_t id, const btf_type* t) {
        if (auto it = enum_tables_.find(id); it != enum_tables_.end()) return it->second;
        detail::EnumTable table;
        table.begin = static_cast<std::uint32_t>(p_.enumerators.size());
        for (std::uint16_t i = 0; i < btf_vlen(t); ++i) {
            const char* name = enumerator_name(b_, t, i);
            p_.enumerators.push_back(
                {enumerator_value(t, i, t->size * 8), {store(json_quoted(name)), store(name)}});
        }
        table.end = static_cast<std::uint32_t>(p_.enumerators.size());
        for (std::uint32_t i = table.begin; i < table.end; ++i)
            table.longest = std::max(table.longest, p_.enumerators[i].name[0].len);
        // Sorted for a binary search; of two names for one value, the first declared wins.
        const auto first = p_.enumerators.begin() + table.begin;
        const auto last = p_.enumerators.begin() + table.end;
        const auto by_value = [](const detail::Enumerator& x, const detail::Enumerator& y) {
            return x.value < y.value;
        };
        std::stable_sort(first, last, by_value);
        table.end = static_cast<std::uint32_t>(
            std::unique(first, last,
                        [](const auto& x, const auto& y) { return x.value == y.value; }) -
            p_.enumerators.begin());
        p_.enumerators.resize(table.end);
        const auto index = static_cast<std::uint32_t>(p_.enums.size());
        p_.enums.push_back(table);
        enum_tables_.emplace(id, index);
        return index;
    }

    const ::btf* b_;
    BtfPlan& p_;
    std::string pending_[2];
    std::unordered_map<std::uint32_t, std::uint32_t> enum_tables_;
};

// ---- running the plan ----------------------------------------------------------------

// Decimal digits two at a time, from a table: the one operation every value needs,
// done without a library call.
constexpr auto kDigitPairs = [] {
    std::array<char, 200> t{};
    for (int i = 0; i < 100; ++i) {
        t[static_cast<std::size_t>(2 * i)] = static_cast<char>('0' + i / 10);
        t[static_cast<std::size_t>(2 * i + 1)] = static_cast<char>('0' + i % 10);
    }
    return t;
}();

inline char* put_pair(char* p, std::uint32_t two_digits) {
    std::memcpy(p, kDigitPairs.data() + 2 * two_digits, 2);
    return p + 2;
}

// 1 to 4 digits, no leading zeros.
inline char* put_small(char* p, std::uint32_t v) {
    if (v < 10) {
        *p = static_cast<char>('0' + v);
        return p + 1;
    }
    if (v < 100) return put_pair(p, v);
    if (v < 1000) {
        *p++ = static_cast<char>('0' + v / 100);
        return put_pair(p, v % 100);
    }
    return put_pair(put_pair(p, v / 100), v % 100);
}

// Exactly 8 digits; the two halves are independent, so the CPU works on both at once.
inline char* put_eight(char* p, std::uint32_t v) {
    const std::uint32_t hi = v / 10000, lo = v % 10000;
    put_pair(p, hi / 100);
    put_pair(p + 2, hi % 100);
    put_pair(p + 4, lo / 100);
    put_pair(p + 6, lo % 100);
    return p + 8;
}

// Up to 8 digits, no leading zeros.
inline char* put_upto8(char* p, std::uint32_t v) {
    if (v < 10000) return put_small(p, v);
    p = put_small(p, v / 10000);
    const std::uint32_t lo = v % 10000;
    return put_pair(put_pair(p, lo / 100), lo % 100);
}

inline char* put_unsigned(char* p, std::uint64_t v) {
    if (v < 100000000) return put_upto8(p, static_cast<std::uint32_t>(v));
    if (v < 10000000000000000ull) {
        p = put_upto8(p, static_cast<std::uint32_t>(v / 100000000));
        return put_eight(p, static_cast<std::uint32_t>(v % 100000000));
    }
    p = put_small(p, static_cast<std::uint32_t>(v / 10000000000000000ull));  // at most 1844
    const std::uint64_t rest = v % 10000000000000000ull;
    p = put_eight(p, static_cast<std::uint32_t>(rest / 100000000));
    return put_eight(p, static_cast<std::uint32_t>(rest % 100000000));
}

inline char* put_signed(char* p, std::int64_t v) {
    if (v >= 0) return put_unsigned(p, static_cast<std::uint64_t>(v));
    *p++ = '-';
    return put_unsigned(p, std::uint64_t{0} - static_cast<std::uint64_t>(v));
}

// The formatter writes to a per-thread scratch buffer, which is never zero-filled and only
// grows, checking for room once per step; the caller's string gets the result in one
// append. The cursor travels by value (in registers): stores through a char* may alias
// anything, so a cursor kept in memory would be reloaded after every character.
struct Cursor {
    char* p;
    char* end;
};

struct Scratch {
    std::unique_ptr<char[]> data;
    std::size_t capacity = 0;

    static Scratch& mine() {
        thread_local Scratch s;
        return s;
    }
};

[[gnu::noinline]] Cursor grow(Cursor c, std::size_t n) {
    Scratch& s = Scratch::mine();
    const auto used = static_cast<std::size_t>(c.p - s.data.get());
    const std::size_t capacity = std::max({s.capacity * 2, used + n, std::size_t{4096}});
    std::unique_ptr<char[]> bigger(new char[capacity]);
    if (used) std::memcpy(bigger.get(), s.data.get(), used);
    s.data = std::move(bigger);
    s.capacity = capacity;
    return {s.data.get() + used, s.data.get() + capacity};
}

inline Cursor ensure(Cursor c, std::size_t n) {
    return static_cast<std::size_t>(c.end - c.p) < n ? grow(c, n) : c;
}

// Literal text from the plan's pool, which has kSlack bytes after its end, into room that
// has kSlack bytes to spare: short literals move in one fixed-size copy.
inline char* put_literal(char* p, const char* pool, Lit l) {
    if (l.len <= detail::kSlack)
        std::memcpy(p, pool + l.off, detail::kSlack);
    else
        std::memcpy(p, pool + l.off, l.len);
    return p + l.len;
}

inline char* put_text(char* p, std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
}

template <class T>
char* put_decimal(char* p, T v) {
    if constexpr (std::is_signed_v<T>)
        return put_signed(p, v);
    else
        return put_unsigned(p, v);
}

template <class T>
T load(const std::byte* at) {
    T v;
    std::memcpy(&v, at, sizeof v);
    return v;
}

std::uint64_t load_unsigned(const std::byte* at, std::uint32_t size) {
    switch (size) {
        case 1:
            return load<std::uint8_t>(at);
        case 2:
            return load<std::uint16_t>(at);
        case 4:
            return load<std::uint32_t>(at);
        default:
            return load<std::uint64_t>(at);
    }
}

// A word that JSON needs quoted and C does not: nan, inf.
template <Style S>
char* put_word(char* p, std::string_view word) {
    if constexpr (S == Style::json) *p++ = '"';
    p = put_text(p, word);
    if constexpr (S == Style::json) *p++ = '"';
    return p;
}

template <Style S>
char* put_wide(char* p, u128 v) {
    if constexpr (S == Style::json) *p++ = '"';
    p = put_hex(p, v);
    if constexpr (S == Style::json) *p++ = '"';
    return p;
}

// `canonical`: the bits of the positive quiet NaN, which is "nan"; other NaNs keep their
// bits, so parsing the output gives the same bytes.
template <Style S, class F>
char* put_float(char* p, F v, u128 bits, u128 canonical) {
    if (std::isnan(v)) return bits == canonical ? put_word<S>(p, "nan") : put_wide<S>(p, bits);
    if (std::isinf(v)) return put_word<S>(p, v < 0 ? "-inf" : "inf");
    char* const start = p;
    p = std::to_chars(p, p + 48, v).ptr;
    // "1" would read back as an integer, and "-0" as integer zero: keep it a float.
    if (std::string_view(start, static_cast<std::size_t>(p - start)).find_first_of(".e") ==
        std::string_view::npos)
        p = put_text(p, ".0");
    return p;
}

template <Style S>
char* put_enum(char* p, const BtfPlan& plan, const Step& s, std::uint64_t v) {
    constexpr int k = S == Style::json ? 0 : 1;
    const detail::EnumTable& table = plan.enums[s.aux];
    const auto first = plan.enumerators.begin() + table.begin;
    const auto last = plan.enumerators.begin() + table.end;
    const auto it = std::lower_bound(
        first, last, v, [](const detail::Enumerator& e, std::uint64_t x) { return e.value < x; });
    if (it != last && it->value == v) return put_literal(p, plan.pool.data(), it->name[k]);
    if (s.flags & detail::kSigned) return put_decimal(p, static_cast<std::int64_t>(v));
    return put_decimal(p, v);
}

template <class T>
char* put_integers(char* p, const std::byte* at, std::uint32_t count, std::uint32_t stride) {
    for (std::uint32_t e = 0; e < count; ++e, at += stride) {
        if (e != 0) p = put_text(p, ", ");
        p = put_decimal(p, load<T>(at));
    }
    return p;
}

template <Style S>
Cursor run(const BtfPlan& plan, std::size_t begin, std::size_t end, const std::byte* base,
           Cursor c) {
    constexpr int k = S == Style::json ? 0 : 1;
    const char* const pool = plan.pool.data();
    const Step* const steps = plan.steps.data();
    for (std::size_t i = begin; i < end; ++i) {
        const Step& s = steps[i];
        c = ensure(c, s.room);
        char* p = put_literal(c.p, pool, s.prefix[k]);
        const std::byte* const at = base + s.offset;
        switch (s.op) {
            case Op::u8:
                p = put_decimal(p, load<std::uint8_t>(at));
                break;
            case Op::u16:
                p = put_decimal(p, load<std::uint16_t>(at));
                break;
            case Op::u32:
                p = put_decimal(p, load<std::uint32_t>(at));
                break;
            case Op::u64:
                p = put_decimal(p, load<std::uint64_t>(at));
                break;
            case Op::s8:
                p = put_decimal(p, load<std::int8_t>(at));
                break;
            case Op::s16:
                p = put_decimal(p, load<std::int16_t>(at));
                break;
            case Op::s32:
                p = put_decimal(p, load<std::int32_t>(at));
                break;
            case Op::s64:
                p = put_decimal(p, load<std::int64_t>(at));
                break;
            case Op::boolean: {
                const std::uint64_t v = load_unsigned(at, s.size);
                p = v <= 1 ? put_text(p, v ? "true" : "false") : put_decimal(p, v);
                break;
            }
            case Op::pointer: {
                const std::uint64_t v = load_unsigned(at, s.size);
                if constexpr (S == Style::json)
                    p = put_decimal(p, v);
                else
                    p = put_hex(p, v);
                break;
            }
            case Op::wide: {
                u128 v = 0;
                std::memcpy(&v, at, s.size);
                p = put_wide<S>(p, v);
                break;
            }
            case Op::enumeration: {
                std::uint64_t v = load_unsigned(at, s.size);
                if (s.flags & detail::kSigned) v = sign_extend(v, s.size * 8);
                p = put_enum<S>(p, plan, s, v);
                break;
            }
            case Op::bits: {
                std::uint64_t v = 0;
                if (s.flags & detail::kLoad8) {
                    v = load<std::uint64_t>(at);
                } else {
                    // Near the end of the value: byte by byte (a partial memcpy into `v`
                    // would stall the load that follows it).
                    for (std::uint32_t b = 0; b < s.size && b < 8; ++b)
                        v |= std::uint64_t{std::to_integer<std::uint8_t>(at[b])} << (8 * b);
                }
                v >>= s.shift;
                // A 64-bit field that does not start on a byte spills into a ninth byte.
                if (s.size > 8)
                    v |= std::uint64_t{std::to_integer<std::uint8_t>(at[8])} << (64 - s.shift);
                v = low_bits(v, s.width);
                if (s.flags & detail::kSigned) v = sign_extend(v, s.width);
                if (s.flags & detail::kEnum)
                    p = put_enum<S>(p, plan, s, v);
                else if ((s.flags & detail::kBool) && v <= 1)
                    p = put_text(p, v ? "true" : "false");
                else if (s.flags & detail::kSigned)
                    p = put_decimal(p, static_cast<std::int64_t>(v));
                else
                    p = put_decimal(p, v);
                break;
            }
            case Op::f32:
                p = put_float<S>(p, load<float>(at), load<std::uint32_t>(at), 0x7fc00000u);
                break;
            case Op::f64:
                p = put_float<S>(p, load<double>(at), load<std::uint64_t>(at), 0x7ff8000000000000u);
                break;
            case Op::f80: {
                // Only 10 of the 16 bytes are the number; NaNs are shown as "nan".
                const long double v = load<long double>(at);
                p = put_float<S>(p, v, std::isnan(v) ? 0 : 1, 0);
                break;
            }
            case Op::chars: {
                const auto* text = reinterpret_cast<const unsigned char*>(at);
                const void* nul = s.size ? std::memchr(text, 0, s.size) : nullptr;
                const std::size_t n =
                    nul ? static_cast<std::size_t>(static_cast<const unsigned char*>(nul) - text)
                        : s.size;
                *p++ = '"';
                if constexpr (S == Style::json)
                    p = json_string_body(p, text, n);
                else
                    p = c_string_body(p, text, n);
                *p++ = '"';
                break;
            }
            case Op::array: {
                const ArrayInfo a = plan.arrays[s.aux];
                c.p = p;
                for (std::uint32_t e = 0; e < a.count; ++e) {
                    if (e != 0) {
                        c = ensure(c, a.room);
                        c.p = put_literal(c.p, pool, a.separator[k]);
                    }
                    c = run<S>(plan, i + 1, a.body_end, at + std::size_t{e} * a.stride, c);
                    c = ensure(c, a.room);
                    c.p = put_literal(c.p, pool, a.tail[k]);
                }
                p = c.p;
                i = a.body_end - 1;
                break;
            }
            case Op::scalars: {
                const ArrayInfo& a = plan.arrays[s.aux];
                c.p = p;
                c = ensure(
                    c, std::size_t{a.count} * 23 + detail::kSlack);  // ", " and 21 characters each
                p = c.p;
                switch (a.element) {
                    case Op::u8:
                        p = put_integers<std::uint8_t>(p, at, a.count, a.stride);
                        break;
                    case Op::u16:
                        p = put_integers<std::uint16_t>(p, at, a.count, a.stride);
                        break;
                    case Op::u32:
                        p = put_integers<std::uint32_t>(p, at, a.count, a.stride);
                        break;
                    case Op::u64:
                        p = put_integers<std::uint64_t>(p, at, a.count, a.stride);
                        break;
                    case Op::s8:
                        p = put_integers<std::int8_t>(p, at, a.count, a.stride);
                        break;
                    case Op::s16:
                        p = put_integers<std::int16_t>(p, at, a.count, a.stride);
                        break;
                    case Op::s32:
                        p = put_integers<std::int32_t>(p, at, a.count, a.stride);
                        break;
                    default:
                        p = put_integers<std::int64_t>(p, at, a.count, a.stride);
                        break;
                }
                i = a.body_end - 1;
                break;
            }
        }
        c.p = p;
    }
    return c;
}

}  // namespace

// ---- BtfFormatter --------------------------------------------------------------------

BtfFormatter::BtfFormatter(const Btf& btf, std::uint32_t type_id) {
    auto plan = std::make_shared<BtfPlan>();
    plan->type_name = btf.type_name(type_id);
    plan->size = btf.type_size(type_id);
    Compiler(btf.get(), *plan).compile(type_id);
    plan_ = std::move(plan);
}

std::size_t BtfFormatter::size() const noexcept {
    return plan_->size;
}

const std::string& BtfFormatter::type_name() const noexcept {
    return plan_->type_name;
}

void BtfFormatter::append(std::string& out, std::span<const std::byte> value, Style style) const {
    const BtfPlan& p = *plan_;
    if (value.size() != p.size)
        throw Error("cannot format " + std::to_string(value.size()) + " bytes as " + p.type_name +
                    ", which is " + std::to_string(p.size) + " bytes");
    const int k = style == Style::json ? 0 : 1;
    Scratch& scratch = Scratch::mine();
    Cursor c{scratch.data.get(), scratch.data.get() + scratch.capacity};
    if (style == Style::json)
        c = run<Style::json>(p, 0, p.steps.size(), value.data(), c);
    else
        c = run<Style::text>(p, 0, p.steps.size(), value.data(), c);
    c = ensure(c, p.tail[k].len + detail::kSlack);
    c.p = put_literal(c.p, p.pool.data(), p.tail[k]);
    out.append(scratch.data.get(), c.p);
}

std::string BtfFormatter::format(std::span<const std::byte> value, Style style) const {
    std::string out;
    append(out, value, style);
    return out;
}

// ---- parsing -------------------------------------------------------------------------

namespace {

// The bytes being filled, and which of their bits the JSON has decided so far: two
// members of a union may both be given only if they agree where they overlap.
struct Region {
    unsigned char* data;
    unsigned char* mask;
    std::size_t size;

    Region sub(std::size_t offset, std::size_t n) const {
        return {data + offset, mask + offset, n};
    }
};

std::string shown(const nlohmann::json& j) {
    std::string s = j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return s;
}

enum class IntText { ok, not_integer, too_big };

// "42", "-7", "0x2a": sign, magnitude and whether it was hex.
IntText parse_integer_text(std::string_view s, bool& negative, bool& hex, u128& magnitude) {
    negative = !s.empty() && s.front() == '-';
    if (negative) s.remove_prefix(1);
    hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex) s.remove_prefix(2);
    if (s.empty()) return IntText::not_integer;
    const unsigned base = hex ? 16 : 10;
    magnitude = 0;
    bool overflow = false;
    for (char c : s) {
        unsigned d;
        if (c >= '0' && c <= '9')
            d = static_cast<unsigned>(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            d = static_cast<unsigned>(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            d = static_cast<unsigned>(c - 'A' + 10);
        else
            return IntText::not_integer;
        if (magnitude > (~u128{0} - d) / base)
            overflow = true;
        else
            magnitude = magnitude * base + d;
    }
    return overflow ? IntText::too_big : IntText::ok;
}

// UTF-8 to one byte per code point (U+0000–U+00FF), the inverse of the formatter's
// \u00XX escapes. False at the first code point that does not fit a byte (`bad`), or
// at invalid UTF-8 (`bad` = 0xFFFFFFFF).
bool latin1_bytes(std::string_view s, std::string& out, std::uint32_t& bad) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::uint32_t cp;
        std::size_t n;
        if (c < 0x80) {
            cp = c;
            n = 1;
        } else if ((c & 0xe0) == 0xc0) {
            cp = c & 0x1fu;
            n = 2;
        } else if ((c & 0xf0) == 0xe0) {
            cp = c & 0x0fu;
            n = 3;
        } else if ((c & 0xf8) == 0xf0) {
            cp = c & 0x07u;
            n = 4;
        } else {
            bad = 0xffffffff;
            return false;
        }
        if (i + n > s.size()) {
            bad = 0xffffffff;
            return false;
        }
        for (std::size_t k = 1; k < n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xc0) != 0x80) {
                bad = 0xffffffff;
                return false;
            }
            cp = (cp << 6) | (cc & 0x3fu);
        }
        if (cp > 0xff) {
            bad = cp;
            return false;
        }
        out.push_back(static_cast<char>(cp));
        i += n;
    }
    return true;
}

class Parser {
public:
    explicit Parser(const ::btf* b) : b_(b) {}

    // Fills `r` (all zero, nothing decided) with a value of type_id.
    void value(std::uint32_t type_id, const nlohmann::json& j, Region r, std::string& path,
               int depth) {
        if (depth > kMaxDepth) throw Error(context(path) + "types nested too deeply");
        const std::uint32_t id = skip_mods(b_, type_id);
        const btf_type* t = type_at(b_, id);
        switch (btf_kind(t)) {
            case BTF_KIND_INT:
                if (btf_int_offset(t) != 0 || btf_int_bits(t) != t->size * 8) {
                    const BitLayout l = bit_layout(b_, id, 0, 0);
                    put_bits(r, l.bit, l.width,
                             bit_value(l, j, path));  // `r` is fresh: no conflict
                    return;
                }
                if (btf_int_encoding(t) & BTF_INT_BOOL)
                    return store(r, t->size, boolean(j, t->size * 8, path));
                return store(r, t->size,
                             integer(j, t->size * 8, btf_int_encoding(t) & BTF_INT_SIGNED, path));
            case BTF_KIND_ENUM:
            case BTF_KIND_ENUM64:
                return store(r, t->size, enumeration(id, t, j, t->size * 8, path));
            case BTF_KIND_PTR: {
                const std::size_t size = size_of(b_, id);
                return store(r, size, integer(j, static_cast<unsigned>(size * 8), false, path));
            }
            case BTF_KIND_FLOAT:
                return floating(t, j, r, path);
            case BTF_KIND_STRUCT:
            case BTF_KIND_UNION:
            case BTF_KIND_DATASEC:
                return composite(id, t, j, r, path, depth);
            case BTF_KIND_VAR:
                return value(t->type, j, r, path, depth + 1);
            case BTF_KIND_ARRAY:
                return array(id, t, j, r, path, depth);
            default:
                throw Error(context(path) + "cannot give a value of " + name_of(b_, id, 0) +
                            ": it has no layout");
        }
    }

private:
    // "field 'a.b[2]': ", "element [3]: " (of a top-level array), or nothing for the
    // value itself (the caller says whether it is the key or the value).
    static std::string context(const std::string& path) {
        if (path.empty()) return {};
        if (path.front() == '[' && path.find('.') == std::string::npos)
            return "element " + path + ": ";
        return "field '" + path + "': ";
    }

    std::string name(std::uint32_t id) const { return name_of(b_, id, 0); }

    void store(Region r, std::size_t size, u128 raw) {
        if (size > r.size || size > sizeof raw)
            throw Error("BTF: a " + std::to_string(size) + "-byte scalar does not fit its parent");
        std::memcpy(r.data, &raw, size);
        std::memset(r.mask, 0xff, size);
    }

    // Writes `width` bits at `bit`; true when they contradict bits already decided.
    static bool put_bits(Region r, std::uint64_t bit, unsigned width, u128 raw) {
        if ((bit + width + 7) / 8 > r.size) throw Error("BTF: a bitfield lies outside its parent");
        bool conflict = false;
        while (width > 0) {
            const std::size_t byte = bit / 8;
            const unsigned lo = bit % 8;
            const unsigned n = std::min(8 - lo, width);
            const auto m = static_cast<unsigned char>(((1u << n) - 1) << lo);
            const auto v =
                static_cast<unsigned char>((static_cast<unsigned>(raw) & ((1u << n) - 1)) << lo);
            if (r.mask[byte] & m & (r.data[byte] ^ v)) conflict = true;
            r.data[byte] = static_cast<unsigned char>((r.data[byte] & ~m) | v);
            r.mask[byte] |= m;
            raw >>= n;
            bit += n;
            width -= n;
        }
        return conflict;
    }

    // Copies the decided bits of `from` into `to`; true when they contradict.
    static bool merge(Region to, const Region& from) {
        bool conflict = false;
        for (std::size_t i = 0; i < from.size; ++i) {
            const unsigned char m = from.mask[i];
            if (to.mask[i] & m & (to.data[i] ^ from.data[i])) conflict = true;
            to.data[i] = static_cast<unsigned char>((to.data[i] & ~m) | (from.data[i] & m));
            to.mask[i] |= m;
        }
        return conflict;
    }

    // The raw bits (two's complement, `width` bits) of an integer given as a JSON number
    // or a string; a hex string without a sign is raw bits already.
    u128 integer(const nlohmann::json& j, unsigned width, bool is_signed, const std::string& path) {
        bool negative = false, hex = false;
        u128 magnitude = 0;
        std::string text;
        bool fits = true;
        if (j.is_number_unsigned()) {
            magnitude = j.get<std::uint64_t>();
            text = j.dump();
        } else if (j.is_number_integer()) {
            const auto v = j.get<std::int64_t>();
            negative = v < 0;
            magnitude = negative ? static_cast<u128>(-(v + 1)) + 1 : static_cast<u128>(v);
            text = j.dump();
        } else if (j.is_string()) {
            text = j.get<std::string>();
            switch (parse_integer_text(text, negative, hex, magnitude)) {
                case IntText::ok:
                    break;
                case IntText::too_big:
                    fits = false;
                    break;
                case IntText::not_integer:
                    throw Error(context(path) + shown(j) + " is not an integer");
            }
        } else {
            throw Error(context(path) + "expected an integer, got " + shown(j));
        }
        const u128 all = width >= 128 ? ~u128{0} : (u128{1} << width) - 1;
        u128 raw = magnitude;
        if (!fits) {
        } else if (hex && !negative) {
            fits = magnitude <= all;
        } else if (!is_signed) {
            fits = (!negative || magnitude == 0) && magnitude <= all;
        } else {
            const u128 limit = u128{1} << (width - 1);
            fits = negative ? magnitude <= limit : magnitude < limit;
            if (negative) raw = (~magnitude + 1) & all;
        }
        if (!fits)
            throw Error(context(path) + text + " does not fit in " + std::to_string(width) +
                        "-bit " + (is_signed ? "signed" : "unsigned"));
        return raw;
    }

    u128 boolean(const nlohmann::json& j, unsigned width, const std::string& path) {
        if (j.is_boolean()) return j.get<bool>() ? 1 : 0;
        if (!j.is_number() && !j.is_string())
            throw Error(context(path) + "expected true or false, got " + shown(j));
        return integer(j, width, false, path);
    }

    u128 enumeration(std::uint32_t id, const btf_type* t, const nlohmann::json& j, unsigned width,
                     const std::string& path) {
        if (j.is_string()) {
            const auto& s = j.get_ref<const std::string&>();
            for (std::uint16_t i = 0; i < btf_vlen(t); ++i) {
                if (s != enumerator_name(b_, t, i)) continue;
                // A bitfield may be narrower than some of its enum's values.
                const std::uint64_t v = enumerator_value(t, i, t->size * 8);
                const bool fits =
                    btf_kflag(t) ? sign_extend(v, width) == v : low_bits(v, width) == v;
                if (!fits)
                    throw Error(context(path) + s + " (" +
                                (btf_kflag(t) ? std::to_string(static_cast<std::int64_t>(v))
                                              : std::to_string(v)) +
                                ") does not fit in " + std::to_string(width) + "-bit " +
                                (btf_kflag(t) ? "signed" : "unsigned"));
                return low_bits(v, width);
            }
            bool negative, hex;
            u128 magnitude;
            if (parse_integer_text(s, negative, hex, magnitude) == IntText::not_integer) {
                std::string names;
                for (std::uint16_t i = 0; i < btf_vlen(t) && i < 8; ++i)
                    names += std::string(i ? ", " : "") + enumerator_name(b_, t, i);
                if (btf_vlen(t) > 8) names += ", ...";
                throw Error(context(path) + shown(j) + " is not a value of " + name(id) + " (" +
                            names + ")");
            }
        } else if (!j.is_number()) {
            throw Error(context(path) + "expected a name or number for " + name(id) + ", got " +
                        shown(j));
        }
        return integer(j, width, btf_kflag(t), path);
    }

    // The bits of a bitfield's value (or of an int narrower than its bytes).
    u128 bit_value(const BitLayout& l, const nlohmann::json& j, const std::string& path) {
        if (btf_is_any_enum(l.type)) return enumeration(l.type_id, l.type, j, l.width, path);
        if (l.is_bool) return boolean(j, l.width, path);
        return integer(j, l.width, l.is_signed, path);
    }

    void floating(const btf_type* t, const nlohmann::json& j, Region r, const std::string& path) {
        const std::size_t size = t->size;
        if (j.is_string()) {
            const auto& s = j.get_ref<const std::string&>();
            const bool negative = s.starts_with('-');
            if (s == "nan")
                return put_float(r, size, std::numeric_limits<double>::quiet_NaN(), j, path);
            if (s == "inf" || s == "-inf" || s == "+inf")
                return put_float(r, size, negative ? -HUGE_VAL : HUGE_VAL, j, path);
            bool neg, hex;
            u128 magnitude;
            if (parse_integer_text(s, neg, hex, magnitude) != IntText::not_integer && hex && !neg)
                return store(r, size,
                             integer(j, static_cast<unsigned>(size * 8), false, path));  // the bits
            throw Error(context(path) + shown(j) + " is not a number");
        }
        if (!j.is_number()) throw Error(context(path) + "expected a number, got " + shown(j));
        put_float(r, size, j.get<double>(), j, path);
    }

    void put_float(Region r, std::size_t size, double v, const nlohmann::json& j,
                   const std::string& path) {
        if (size > r.size) throw Error("BTF: a float does not fit its parent");
        if (size == 4) {
            if (std::isfinite(v) && std::fabs(v) > FLT_MAX)
                throw Error(context(path) + shown(j) + " does not fit in float");
            const auto f = static_cast<float>(v);
            std::memcpy(r.data, &f, 4);
            std::memset(r.mask, 0xff, 4);
        } else if (size == 8) {
            std::memcpy(r.data, &v, 8);
            std::memset(r.mask, 0xff, 8);
        } else if (size == 16 && sizeof(long double) == 16 && LDBL_MANT_DIG == 64) {
            const long double ld = v;
            std::memcpy(r.data, &ld, 10);  // the x87 number; the rest is padding
            std::memset(r.mask, 0xff, 10);
        } else {
            throw Error(context(path) + "a " + std::to_string(size) +
                        "-byte float can only be given as its bits (\"0x...\")");
        }
    }

    void composite(std::uint32_t id, const btf_type* t, const nlohmann::json& j, Region r,
                   std::string& path, int depth) {
        const std::string type = name(id);
        if (!j.is_object())
            throw Error(context(path) + "expected an object for " + type + ", got " + shown(j));
        std::vector<Field> fields;
        collect_fields(b_, t, 0, fields, depth);
        if (btf_is_union(t) && j.empty() && !fields.empty())
            throw Error(context(path) + type + " needs one member, got none");
        struct Given {
            const char* name;
            std::uint64_t begin, end;  // bits
        };
        std::vector<Given> given;
        std::vector<unsigned char> scratch;
        for (const auto& [key, member] : j.items()) {
            const auto f = std::find_if(fields.begin(), fields.end(),
                                        // (clang 14 cannot capture a structured binding)
                                        [&k = key](const Field& x) { return k == x.name; });
            if (f == fields.end())
                throw Error(context(path) + type + " has no field '" + key + "'");
            const std::size_t saved = path.size();
            if (!path.empty()) path += '.';
            path += key;
            Given g{f->name, f->bit, 0};
            bool conflict;
            if (f->bitfield != 0 || f->bit % 8 != 0) {
                const BitLayout l = bit_layout(b_, f->type, f->bit, f->bitfield);
                conflict = put_bits(r, l.bit, l.width, bit_value(l, member, path));
                g.begin = l.bit;
                g.end = l.bit + l.width;
            } else {
                const std::size_t size = size_of(b_, f->type);
                const std::size_t offset = f->bit / 8;
                if (offset + size > r.size)
                    throw Error("BTF type " + type + ": member '" + f->name + "' lies outside it");
                scratch.assign(size * 2, 0);
                const Region mine{scratch.data(), scratch.data() + size, size};
                value(f->type, member, mine, path, depth + 1);
                conflict = merge(r.sub(offset, size), mine);
                g.end = f->bit + size * 8;
            }
            path.resize(saved);
            if (conflict) {
                const auto other = std::find_if(given.begin(), given.end(), [&](const Given& x) {
                    return x.begin < g.end && g.begin < x.end;
                });
                throw Error(context(path) + "'" +
                            std::string(other != given.end() ? other->name : "?") + "' and '" +
                            key + "' of " + type +
                            " share bytes but give them different values; give one of them");
            }
            given.push_back(g);
        }
    }

    void array(std::uint32_t id, const btf_type* t, const nlohmann::json& j, Region r,
               std::string& path, int depth) {
        const struct btf_array* a = btf_array(t);
        const std::size_t stride = size_of(b_, a->type);
        const std::size_t count = a->nelems;
        if (stride * count > r.size)
            throw Error("BTF type " + name(id) + " does not fit its parent");
        const bool text = is_text_char(b_, a->type);
        if (text && j.is_string()) {
            std::string bytes;
            std::uint32_t bad = 0;
            if (!latin1_bytes(j.get_ref<const std::string&>(), bytes, bad)) {
                if (bad == 0xffffffff) throw Error(context(path) + "the string is not valid UTF-8");
                char cp[16];
                std::snprintf(cp, sizeof cp, "U+%04X", bad);
                throw Error(context(path) + "character " + cp + " does not fit in " + name(id) +
                            " (one byte per character, U+0000 to U+00FF)");
            }
            if (bytes.size() > count)
                throw Error(context(path) + shown(j) + " is " + std::to_string(bytes.size()) +
                            (bytes.size() == 1 ? " byte" : " bytes") + ", more than fit in " +
                            name(id));
            if (count == 0) return;  // char x[]: nothing to fill (and maybe no buffer)
            std::memcpy(r.data, bytes.data(), bytes.size());
            // The terminating NUL is part of the value; bytes after it are not decided.
            std::memset(r.mask, 0xff, std::min(bytes.size() + 1, count));
            return;
        }
        if (!j.is_array())
            throw Error(context(path) + "expected an array" + (text ? " or a string" : "") +
                        " for " + name(id) + ", got " + shown(j));
        if (j.size() != count)
            throw Error(context(path) + "expected " + std::to_string(count) + " elements for " +
                        name(id) + ", got " + std::to_string(j.size()));
        const std::size_t saved = path.size();
        for (std::size_t i = 0; i < count; ++i) {
            path += "[" + std::to_string(i) + "]";
            value(a->type, j[i], r.sub(i * stride, stride), path, depth + 1);
            path.resize(saved);
        }
    }

    const ::btf* b_;
};

}  // namespace

std::vector<std::byte> btf_parse(const Btf& btf, std::uint32_t type_id,
                                 const nlohmann::json& value) {
    const std::size_t size = btf.type_size(type_id);
    std::vector<std::byte> out(size);
    std::vector<unsigned char> mask(size);
    std::string path;
    Parser(btf.get()).value(type_id, value,
                            Region{reinterpret_cast<unsigned char*>(out.data()), mask.data(), size},
                            path, 0);
    return out;
}

}  // namespace ebpf
