// BTF types: the Btf handle, and reading libbpf's types the way the formatter's plan
// compiler and the parser both need (names, sizes, members, bitfields, enumerators).
#include <bpf/btf.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_set>

#include "ebpf/btf.hpp"
#include "ebpf/error.hpp"
#include "internal.hpp"

namespace ebpf {

namespace btf_internal {

const char* name_at(const ::btf* b, std::uint32_t offset) {
    const char* s = btf__name_by_offset(b, offset);
    return s ? s : "";
}

const btf_type* type_at(const ::btf* b, std::uint32_t id) {
    const btf_type* t = btf__type_by_id(b, id);
    if (!t) throw malformed("BTF has no type with id " + std::to_string(id));
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
    throw malformed("BTF type " + std::to_string(id) + ": typedef/qualifier chain too long");
}

std::string name_of(const ::btf* b, std::uint32_t id, int depth) {
    if (id == 0) return "void";
    if (depth > kMaxDepth) return "...";
    const btf_type* t = btf__type_by_id(b, id);
    if (!t) return "<type " + std::to_string(id) + ">";
    const std::string name = name_at(b, t->name_off);
    const auto tagged = [&](const char* tag) { return std::string(tag) + (name.empty() ? "(anon)" : name); };
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
    if (!btf_is_int(t) || t->size != 1 || btf_int_bits(t) != 8 || btf_int_offset(t) != 0) return false;
    return (btf_int_encoding(t) & BTF_INT_CHAR) || std::strcmp(name_at(b, t->name_off), "char") == 0;
}

std::size_t size_of(const ::btf* b, std::uint32_t id) {
    const long long size = btf__resolve_size(b, id);
    if (size < 0) throw unsupported("BTF type " + name_of(b, id, 0) + " has no size");
    return static_cast<std::size_t>(size);
}

namespace {

// Members looked at for one composite, anonymous ones' members included: one struct
// declares at most 65,535, but a struct holding two copies of an anonymous one that holds
// two copies of another … (malformed BTF) would have 2^64.
constexpr std::size_t kMaxMembersVisited = std::size_t{1} << 18;

void collect_into(const ::btf* b, const btf_type* t, std::uint64_t base_bit, std::vector<Field>& out, int depth,
                  std::size_t& visited) {
    if (depth > kMaxDepth) throw malformed("BTF types nested too deeply");
    visited += btf_vlen(t);
    if (visited > kMaxMembersVisited)
        throw unsupported("BTF: a struct or union with more than " + std::to_string(kMaxMembersVisited) +
                          " members, counting those of its anonymous members");
    if (btf_is_datasec(t)) {
        const btf_var_secinfo* v = btf_var_secinfos(t);
        for (std::uint16_t i = 0; i < btf_vlen(t); ++i, ++v) {
            const btf_type* var = type_at(b, v->type);
            if (!btf_is_var(var)) continue;  // functions in .ksyms have no bytes here
            out.push_back({name_at(b, var->name_off), var->type, base_bit + std::uint64_t{v->offset} * 8, 0});
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
                collect_into(b, inner, bit, out, depth + 1, visited);
            continue;
        }
        out.push_back({name, m->type, bit, bitfield});
    }
}

}  // namespace

std::vector<Field> collect_fields(const ::btf* b, const btf_type* t, std::uint64_t base_bit, int depth) {
    std::vector<Field> fields;
    std::size_t visited = 0;
    collect_into(b, t, base_bit, fields, depth, visited);
    // One JSON key per member, whatever the BTF says: a repeated name gets the first free
    // "#k" suffix, k = 2, 3, …, in member order, so the formatter and the parser agree.
    std::unordered_set<std::string> used;
    used.reserve(fields.size());
    for (Field& f : fields) {
        if (used.insert(f.name).second) continue;
        for (std::size_t k = 2;; ++k) {
            std::string candidate = f.name + "#" + std::to_string(k);
            if (used.insert(candidate).second) {
                f.name = std::move(candidate);
                break;
            }
        }
    }
    return fields;
}

BitLayout bit_layout(const ::btf* b, std::uint32_t type_id, std::uint64_t bit, std::uint32_t bitfield) {
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
        throw malformed("bitfield of " + name_of(b, l.type_id, 0) + ": only integers and enums can be bitfields");
    }
    if (l.width == 0) throw malformed("bitfield of 0 bits: only 1 to 64 bits are supported");
    if (l.width > 64)
        throw unsupported("bitfield of " + std::to_string(l.width) + " bits: only 1 to 64 bits are supported");
    return l;
}

// An enumerator's value as the formatter compares it: the raw bits of the enum's size,
// sign-extended to 64 bits when the enum is signed.
std::uint64_t enumerator_value(const btf_type* t, std::uint16_t i, unsigned bits) {
    const std::uint64_t raw =
        btf_is_enum64(t) ? btf_enum64_value(btf_enum64(t) + i) : static_cast<std::uint32_t>(btf_enum(t)[i].val);
    return btf_kflag(t) ? sign_extend(raw, bits) : low_bits(raw, bits);
}

const char* enumerator_name(const ::btf* b, const btf_type* t, std::uint16_t i) {
    return name_at(b, btf_is_enum64(t) ? btf_enum64(t)[i].name_off : btf_enum(t)[i].name_off);
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

}  // namespace btf_internal

using namespace btf_internal;

// ---- Btf -------------------------------------------------------------------------------

void Btf::Free::operator()(::btf* b) const noexcept {
    btf__free(b);
}

Btf::Btf(::btf* owned) : btf_(owned) {
    if (!owned) throw bad_input("BTF: no btf object given");
}

Btf Btf::from_kernel(std::uint32_t btf_id) {
    if (btf_id == 0) throw Error::make(errc::not_found, "BTF id 0: the map has no BTF");
    ::btf* b = btf__load_from_kernel_by_id(btf_id);
    if (!b) throw Error::sys(errno, "BTF id " + std::to_string(btf_id) + ": load from the kernel");
    return Btf(b);
}

Btf Btf::vmlinux() {
    ::btf* b = btf__load_vmlinux_btf();
    if (!b) throw Error::sys(errno, "kernel BTF (/sys/kernel/btf/vmlinux): load");
    return Btf(b);
}

std::string Btf::type_name(std::uint32_t type_id) const {
    return name_of(get(), type_id, 0);
}

std::size_t Btf::type_size(std::uint32_t type_id) const {
    // The caller's id (BtfFormatter and btf_parse start here): a missing one is not_found,
    // while a missing type that another type refers to is malformed BTF (type_at).
    if (!btf__type_by_id(get(), type_id))
        throw Error::make(errc::not_found, "BTF has no type with id " + std::to_string(type_id));
    return size_of(get(), type_id);
}

std::optional<Btf::Integer> Btf::integer(std::uint32_t type_id) const {
    const btf_type* t = nullptr;
    try {
        t = type_at(get(), skip_mods(get(), type_id));
    } catch (const Error&) {
        return std::nullopt;
    }
    if (!btf_is_int(t) || btf_int_offset(t) != 0 || btf_int_bits(t) != t->size * 8) return std::nullopt;
    return Integer{t->size, (btf_int_encoding(t) & BTF_INT_SIGNED) != 0, (btf_int_encoding(t) & BTF_INT_BOOL) != 0};
}

std::uint32_t Btf::find(std::string_view name) const {
    const auto found = [&](std::string_view bare, std::initializer_list<int> kinds) -> std::uint32_t {
        const std::string s(bare);
        for (int kind : kinds) {
            const int id = btf__find_by_name_kind(get(), s.c_str(), static_cast<std::uint32_t>(kind));
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
        id = found(name, {BTF_KIND_TYPEDEF, BTF_KIND_INT, BTF_KIND_FLOAT, BTF_KIND_STRUCT, BTF_KIND_UNION,
                          BTF_KIND_ENUM, BTF_KIND_ENUM64, BTF_KIND_DATASEC});
    if (id == 0) throw Error::make(errc::not_found, "BTF has no type '" + std::string(name) + "'");
    return id;
}

}  // namespace ebpf
