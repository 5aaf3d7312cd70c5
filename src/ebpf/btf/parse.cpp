// btf_parse: JSON to the bytes of a BTF type, the formatter's inverse.
#include <bpf/btf.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "ebpf/btf.hpp"
#include "ebpf/error.hpp"
#include "internal.hpp"

namespace ebpf {

namespace {

using namespace btf_internal;

// The bytes being filled, and which of their bits the JSON has decided so far: two
// members of a union may both be given only if they agree where they overlap.
struct Region {
    unsigned char* data;
    unsigned char* mask;
    std::size_t size;

    Region sub(std::size_t offset, std::size_t n) const { return {data + offset, mask + offset, n}; }
};

std::string shown(const nlohmann::json& j) {
    std::string s = j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return s;
}

// A JSON object key as text for a message: escaped as JSON escapes it (a key may hold a
// newline or any control character), without the quotes, so the message stays one line.
std::string key_text(const std::string& key) {
    std::string s = nlohmann::json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return s.substr(1, s.size() - 2);
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
    void value(std::uint32_t type_id, const nlohmann::json& j, Region r, std::string& path, int depth) {
        if (depth > kMaxDepth) throw malformed(context(path) + "types nested too deeply");
        const std::uint32_t id = skip_mods(b_, type_id);
        const btf_type* t = type_at(b_, id);
        // Before any width is derived from it: BTF from a file may declare any size.
        if (btf_is_int(t) || btf_is_any_enum(t) || btf_is_float(t))
            check_scalar_size(id, t->size, path);
        else if (btf_is_ptr(t))
            check_scalar_size(id, size_of(b_, id), path);
        switch (btf_kind(t)) {
            case BTF_KIND_INT:
                if (btf_int_offset(t) != 0 || btf_int_bits(t) != t->size * 8) {
                    const BitLayout l = bit_layout(b_, id, 0, 0);
                    put_bits(r, l.bit, l.width, bit_value(l, j, path));  // `r` is fresh: no conflict
                    return;
                }
                if (btf_int_encoding(t) & BTF_INT_BOOL) return store(r, t->size, boolean(j, t->size * 8, path));
                return store(r, t->size, integer(j, t->size * 8, btf_int_encoding(t) & BTF_INT_SIGNED, path));
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
                throw unsupported(context(path) + "cannot give a value of " + name_of(b_, id, 0) +
                                  ": it has no layout");
        }
    }

private:
    // "field 'a.b[2]': ", "element [3]: " (of a top-level array), or nothing for the
    // value itself (the caller says whether it is the key or the value).
    static std::string context(const std::string& path) {
        if (path.empty()) return {};
        if (path.front() == '[' && path.find('.') == std::string::npos) return "element " + path + ": ";
        return "field '" + path + "': ";
    }

    std::string name(std::uint32_t id) const { return name_of(b_, id, 0); }

    void check_scalar_size(std::uint32_t id, std::uint64_t size, const std::string& path) const {
        if (size == 0 || size > kMaxScalarSize)
            throw malformed(context(path) + name(id) + " declares " + std::to_string(size) +
                            " bytes, but a scalar has 1 to " + std::to_string(kMaxScalarSize));
    }

    void store(Region r, std::size_t size, u128 raw) {
        // BTF from a file may declare any size: only 1 to 16 bytes are a scalar (and a
        // zero-size one would hand memcpy a null region).
        if (size == 0 || size > kMaxScalarSize)
            throw malformed("BTF: a " + std::to_string(size) + "-byte scalar: a scalar has 1 to " +
                            std::to_string(kMaxScalarSize) + " bytes");
        if (size > r.size) throw malformed("BTF: a " + std::to_string(size) + "-byte scalar does not fit its parent");
        std::memcpy(r.data, &raw, size);
        std::memset(r.mask, 0xff, size);
    }

    // Writes `width` bits at `bit`; true when they contradict bits already decided.
    static bool put_bits(Region r, std::uint64_t bit, unsigned width, u128 raw) {
        if ((bit + width + 7) / 8 > r.size) throw malformed("BTF: a bitfield lies outside its parent");
        bool conflict = false;
        while (width > 0) {
            const std::size_t byte = bit / 8;
            const unsigned lo = bit % 8;
            const unsigned n = std::min(8 - lo, width);
            const auto m = static_cast<unsigned char>(((1u << n) - 1) << lo);
            const auto v = static_cast<unsigned char>((static_cast<unsigned>(raw) & ((1u << n) - 1)) << lo);
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
                    throw bad_input(context(path) + shown(j) + " is not an integer");
            }
        } else {
            throw bad_input(context(path) + "expected an integer, got " + shown(j));
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
            throw bad_input(context(path) + text + " does not fit in " + std::to_string(width) + "-bit " +
                            (is_signed ? "signed" : "unsigned"));
        return raw;
    }

    u128 boolean(const nlohmann::json& j, unsigned width, const std::string& path) {
        if (j.is_boolean()) return j.get<bool>() ? 1 : 0;
        if (!j.is_number() && !j.is_string())
            throw bad_input(context(path) + "expected true or false, got " + shown(j));
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
                const bool fits = btf_kflag(t) ? sign_extend(v, width) == v : low_bits(v, width) == v;
                if (!fits)
                    throw bad_input(context(path) + s + " (" +
                                    (btf_kflag(t) ? std::to_string(static_cast<std::int64_t>(v)) : std::to_string(v)) +
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
                throw bad_input(context(path) + shown(j) + " is not a value of " + name(id) + " (" + names + ")");
            }
        } else if (!j.is_number()) {
            throw bad_input(context(path) + "expected a name or number for " + name(id) + ", got " + shown(j));
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
            if (s == "nan") return put_float(r, size, std::numeric_limits<double>::quiet_NaN(), j, path);
            if (s == "inf" || s == "-inf" || s == "+inf")
                return put_float(r, size, negative ? -HUGE_VAL : HUGE_VAL, j, path);
            bool neg, hex;
            u128 magnitude;
            if (parse_integer_text(s, neg, hex, magnitude) != IntText::not_integer && hex && !neg)
                return store(r, size, integer(j, static_cast<unsigned>(size * 8), false, path));  // the bits
            throw bad_input(context(path) + shown(j) + " is not a number");
        }
        if (!j.is_number()) throw bad_input(context(path) + "expected a number, got " + shown(j));
        put_float(r, size, j.get<double>(), j, path);
    }

    void put_float(Region r, std::size_t size, double v, const nlohmann::json& j, const std::string& path) {
        if (size > r.size) throw malformed("BTF: a float does not fit its parent");
        if (size == 4) {
            if (std::isfinite(v) && std::fabs(v) > FLT_MAX)
                throw bad_input(context(path) + shown(j) + " does not fit in float");
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
            throw bad_input(context(path) + "a " + std::to_string(size) +
                            "-byte float can only be given as its bits (\"0x...\")");
        }
    }

    void composite(std::uint32_t id, const btf_type* t, const nlohmann::json& j, Region r, std::string& path,
                   int depth) {
        const std::string type = name(id);
        if (!j.is_object()) throw bad_input(context(path) + "expected an object for " + type + ", got " + shown(j));
        const std::vector<Field> fields = collect_fields(b_, t, 0, depth);
        if (btf_is_union(t) && j.empty() && !fields.empty())
            throw bad_input(context(path) + type + " needs one member, got none");
        struct Given {
            const char* name;
            std::uint64_t begin, end;  // bits
        };
        std::vector<Given> given;
        std::vector<unsigned char> scratch;
        for (const auto& [key, member] : j.items()) {
            const auto f =
                std::find_if(fields.begin(), fields.end(), [&k = key](const Field& x) { return k == x.name; });
            if (f == fields.end()) throw bad_input(context(path) + type + " has no field '" + key_text(key) + "'");
            const std::size_t saved = path.size();
            if (!path.empty()) path += '.';
            path += key;
            Given g{f->name.c_str(), f->bit, 0};
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
                    throw malformed("BTF type " + type + ": member '" + f->name + "' lies outside it");
                scratch.assign(size * 2, 0);
                const Region mine{scratch.data(), scratch.data() + size, size};
                value(f->type, member, mine, path, depth + 1);
                conflict = merge(r.sub(offset, size), mine);
                g.end = f->bit + size * 8;
            }
            path.resize(saved);
            if (conflict) {
                const auto other = std::find_if(given.begin(), given.end(),
                                                [&](const Given& x) { return x.begin < g.end && g.begin < x.end; });
                throw bad_input(context(path) + "'" + std::string(other != given.end() ? other->name : "?") +
                                "' and '" + key + "' of " + type +
                                " share bytes but give them different values; give one of them");
            }
            given.push_back(g);
        }
    }

    void array(std::uint32_t id, const btf_type* t, const nlohmann::json& j, Region r, std::string& path, int depth) {
        const struct btf_array* a = btf_array(t);
        const std::size_t stride = size_of(b_, a->type);
        const std::size_t count = a->nelems;
        if (stride != 0 && count > r.size / stride)  // not stride * count: that may wrap
            throw malformed("BTF type " + name(id) + " does not fit its parent");
        const bool text = is_text_char(b_, a->type);
        if (text && j.is_string()) {
            std::string bytes;
            std::uint32_t bad = 0;
            if (!latin1_bytes(j.get_ref<const std::string&>(), bytes, bad)) {
                if (bad == 0xffffffff) throw bad_input(context(path) + "the string is not valid UTF-8");
                char cp[16];
                std::snprintf(cp, sizeof cp, "U+%04X", bad);
                throw bad_input(context(path) + "character " + cp + " does not fit in " + name(id) +
                                " (one byte per character, U+0000 to U+00FF)");
            }
            // A char array holds a C string, which ends at its first NUL: the formatter
            // shows nothing after it, so text after it could not come back. NULs at the
            // end are the terminator and its padding, and are fine.
            if (const auto nul = bytes.find('\0');
                nul != std::string::npos && bytes.find_first_not_of('\0', nul) != std::string::npos)
                throw bad_input(context(path) + shown(j) + " has text after a NUL: " + name(id) +
                                " holds a C string, which ends at its first NUL");
            if (bytes.size() > count)
                throw bad_input(context(path) + shown(j) + " is " + std::to_string(bytes.size()) +
                                (bytes.size() == 1 ? " byte" : " bytes") + ", more than fit in " + name(id));
            if (count == 0) return;  // char x[]: nothing to fill (and maybe no buffer)
            std::memcpy(r.data, bytes.data(), bytes.size());
            // The terminating NUL is part of the value; bytes after it are not decided.
            std::memset(r.mask, 0xff, std::min(bytes.size() + 1, count));
            return;
        }
        if (!j.is_array())
            throw bad_input(context(path) + "expected an array" + (text ? " or a string" : "") + " for " + name(id) +
                            ", got " + shown(j));
        if (j.size() != count)
            throw bad_input(context(path) + "expected " + std::to_string(count) + " elements for " + name(id) +
                            ", got " + std::to_string(j.size()));
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

std::vector<std::byte> btf_parse(const Btf& btf, std::uint32_t type_id, const nlohmann::json& value) {
    const std::size_t size = btf.type_size(type_id);
    std::vector<std::byte> out(size);
    std::vector<unsigned char> mask(size);
    std::string path;
    Parser(btf.get()).value(type_id, value, Region{reinterpret_cast<unsigned char*>(out.data()), mask.data(), size},
                            path, 0);
    return out;
}

}  // namespace ebpf
