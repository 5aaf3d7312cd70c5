// The formatter's plan compiler: turns a BTF type into the flat steps format.cpp runs.
#include <bpf/btf.h>

#include <algorithm>
#include <cfloat>
#include <limits>
#include <string>
#include <unordered_map>

#include "ebpf/error.hpp"
#include "internal.hpp"
#include "plan.hpp"

namespace ebpf {

namespace {

using namespace btf_internal;

// Bounds on what one type may cost. BTF from a file may describe a value whose text is
// out of all proportion to its bytes: arrays of zero-size elements repeat with no bytes
// to pay for them (3,388,997,634 empty arrays in a 192-byte struct took the fuzzer's
// memory), and types shared along a chain of structs double the members at each level.
// Real types stay far below these: a few thousand steps, a few dozen bytes of text per
// byte of value.
constexpr std::uint64_t kMaxSteps = std::uint64_t{1} << 20;
constexpr std::uint64_t kMaxPool = std::uint64_t{1} << 24;  // literal text, once
// The most text one value may produce: kTextBase + kTextPerByte * size, at most kMaxText.
constexpr std::uint64_t kTextBase = std::uint64_t{1} << 20;
constexpr std::uint64_t kTextPerByte = 1024;
constexpr std::uint64_t kMaxText = std::uint64_t{1} << 30;

// Saturating: counts from BTF multiply past 2^64 (nested arrays of 2^32 elements).
std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) {
    return b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b ? std::numeric_limits<std::uint64_t>::max()
                                                                       : a * b;
}
std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) {
    return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

// Turns a BTF type into steps. Literal text (braces, field names, separators) between
// two values is gathered in `pending_` and stored once, as the next step's prefix.
class Compiler {
public:
    Compiler(const ::btf* b, BtfPlan& plan) : b_(b), p_(plan) {}

    void compile(std::uint32_t type_id) {
        text_limit_ = std::min(kMaxText, sat_add(kTextBase, sat_mul(kTextPerByte, p_.size)));
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
        charge(std::max(json.size(), text.size()));
        if (p_.pool.size() + pending_[0].size() + pending_[1].size() + json.size() + text.size() > kMaxPool)
            throw too_large("its names and punctuation exceed " + std::to_string(kMaxPool) + " bytes");
        pending_[0] += json;
        pending_[1] += text;
    }
    // Counts `n` bytes of text written once per repetition of the innermost array around
    // the current step (reps_), and refuses the type before its text can outgrow the limit.
    void charge(std::uint64_t n) {
        text_ = sat_add(text_, sat_mul(n, reps_));
        if (text_ > text_limit_)
            throw too_large("a value's text could exceed " + std::to_string(text_limit_) + " bytes");
    }
    Error too_large(const std::string& why) const {
        return unsupported("BTF type " + p_.type_name + " is too large to format: " + why);
    }
    // `limit`: bytes in the region the step's offset counts from (the value or one array
    // element); malformed BTF must not make the formatter read past the value.
    void push(Step s, std::uint64_t limit) {
        if (std::uint64_t{s.offset} + s.size > limit)
            throw malformed("BTF type " + p_.type_name + ": a member lies outside its " + std::to_string(limit) +
                            "-byte parent");
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
                if (s.flags & detail::kEnum) room = std::max<std::uint64_t>(room, p_.enums[s.aux].longest);
                break;
            default:
                break;
        }
        charge(room);  // the prefix was charged as literal text
        if (p_.steps.size() >= kMaxSteps) throw too_large("more than " + std::to_string(kMaxSteps) + " steps");
        s.prefix[0] = flush(0);
        s.prefix[1] = flush(1);
        room += std::max(s.prefix[0].len, s.prefix[1].len) + detail::kSlack;
        if (room > std::numeric_limits<std::uint32_t>::max())
            throw too_large("one of its values could exceed 4 GiB of text");
        s.room = static_cast<std::uint32_t>(room);
        p_.steps.push_back(s);
    }

    // An offset inside the region, narrowed to what a step holds. Checked before the
    // narrowing: BTF offsets are 32 bits of bits, so wild ones must not wrap around.
    std::uint32_t offset_in(std::uint64_t offset, std::uint64_t limit) const {
        if (offset > limit) throw malformed("BTF type " + p_.type_name + ": a member lies outside its parent");
        return static_cast<std::uint32_t>(offset);
    }

    // The size of a scalar (int, enum, pointer, float) as the BTF declares it, refused
    // unless it is one the runner can read: BTF from a file may declare any size (an enum
    // of 65,525 bytes), and the runner copies a scalar into a 16-byte local.
    std::uint32_t scalar_size(std::uint32_t id, std::uint64_t size) const {
        if (size == 0 || size > kMaxScalarSize)
            throw malformed("BTF type " + p_.type_name + ": " + name_of(b_, id, 0) + " declares " +
                            std::to_string(size) + " bytes, but a scalar has 1 to " + std::to_string(kMaxScalarSize));
        return static_cast<std::uint32_t>(size);
    }

    void value(std::uint32_t type_id, std::uint64_t offset, std::uint64_t limit, int depth) {
        if (depth > kMaxDepth) throw malformed("BTF type " + p_.type_name + ": types nested too deeply");
        const std::uint32_t id = skip_mods(b_, type_id);
        const btf_type* t = type_at(b_, id);
        Step s;
        s.offset = offset_in(offset, limit);
        switch (btf_kind(t)) {
            case BTF_KIND_INT:
                s.size = scalar_size(id, t->size);  // first: an int's bits are read from its size
                if (btf_int_offset(t) != 0 || btf_int_bits(t) != t->size * 8) return bitfield(id, offset * 8, 0, limit);
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
                s.size = scalar_size(id, t->size);
                if (t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8) {
                    s.op = Op::enumeration;
                    s.flags = btf_kflag(t) ? detail::kSigned : 0;
                    s.aux = enum_table(id, t);
                } else {
                    s.op = Op::wide;
                }
                return push(s, limit);
            case BTF_KIND_PTR:
                s.size = scalar_size(id, size_of(b_, id));
                s.op = s.size == 4 || s.size == 8 ? Op::pointer : Op::wide;
                return push(s, limit);
            case BTF_KIND_FLOAT:
                s.size = scalar_size(id, t->size);
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
                const std::vector<Field> fields = collect_fields(b_, t, offset * 8, depth);
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
                throw unsupported("cannot format " + name_of(b_, id, 0) + ": it has no layout");
        }
    }

    void array(std::uint32_t id, const btf_type* t, std::uint64_t offset, std::uint64_t limit, int depth) {
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
            throw malformed("BTF type " + p_.type_name + ": " + name_of(b_, id, 0) + " lies outside its parent");
        s.op = Op::array;
        s.aux = static_cast<std::uint32_t>(p_.arrays.size());
        p_.arrays.push_back({a->nelems, static_cast<std::uint32_t>(stride), 0, 0, {}, {}, {}});
        literal("[", "{");
        const std::size_t index = p_.steps.size();
        push(s, limit);
        // Everything inside is written once per element; the separators too.
        const std::uint64_t outer_reps = reps_;
        reps_ = sat_mul(reps_, a->nelems);
        charge(2);
        value(a->type, 0, stride, depth + 1);  // the element, relative to its own start
        ArrayInfo& info = p_.arrays[s.aux];
        info.tail[0] = flush(0);
        info.tail[1] = flush(1);
        info.separator[0] = info.separator[1] = store(", ");
        info.room = 2 + std::max(info.tail[0].len, info.tail[1].len) + detail::kSlack;
        info.body_end = static_cast<std::uint32_t>(p_.steps.size());
        reps_ = outer_reps;
        literal("]", "}");
        // Arrays of plain integers (addresses, counters, byte buffers) are common and
        // short-bodied: looping over them in place saves a call per element.
        const Step& body = p_.steps.back();
        if (info.body_end == index + 2 && body.op >= Op::u8 && body.op <= Op::s64 && body.offset == 0 &&
            body.prefix[0].len == 0 && body.prefix[1].len == 0 && info.tail[0].len == 0 && info.tail[1].len == 0) {
            info.element = body.op;
            p_.steps[index].op = Op::scalars;
        }
    }

    void bitfield(std::uint32_t type_id, std::uint64_t bit, std::uint32_t width, std::uint64_t limit) {
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
            p_.enumerators.push_back({enumerator_value(t, i, t->size * 8), {store(json_quoted(name)), store(name)}});
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
            std::unique(first, last, [](const auto& x, const auto& y) { return x.value == y.value; }) -
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
    std::uint64_t reps_ = 1;  // how often the current step runs per value
    std::uint64_t text_ = 0;  // the most text a value can produce, so far
    std::uint64_t text_limit_ = 0;
};

}  // namespace

void detail::compile_plan(const ::btf* b, std::uint32_t type_id, BtfPlan& plan) {
    Compiler(b, plan).compile(type_id);
}

}  // namespace ebpf
