// Running the formatter's plan (BtfFormatter): the hot loop of `map dump`, so it writes
// digits itself into a per-thread scratch buffer and checks for room once per step.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>

#include "ebpf/btf.hpp"
#include "ebpf/error.hpp"
#include "internal.hpp"
#include "plan.hpp"

namespace ebpf {

namespace {

using namespace btf_internal;

// Decimal digits two at a time, from a table: the one operation every value needs,
// done without a library call. Measured against std::to_chars (GCC 12, -O2, 2^20 values,
// best of 15; 2026-12-03): to_chars took 1.3x (u16) to 4.3x (values below 10^6) as long.
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
    if (std::string_view(start, static_cast<std::size_t>(p - start)).find_first_of(".e") == std::string_view::npos)
        p = put_text(p, ".0");
    return p;
}

template <Style S>
char* put_enum(char* p, const BtfPlan& plan, const Step& s, std::uint64_t v) {
    constexpr int k = S == Style::json ? 0 : 1;
    const detail::EnumTable& table = plan.enums[s.aux];
    const auto first = plan.enumerators.begin() + table.begin;
    const auto last = plan.enumerators.begin() + table.end;
    const auto it =
        std::lower_bound(first, last, v, [](const detail::Enumerator& e, std::uint64_t x) { return e.value < x; });
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
Cursor run(const BtfPlan& plan, std::size_t begin, std::size_t end, const std::byte* base, Cursor c) {
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
                // The compiler admits sizes 1 to 16 only (scalar_size); the bound here keeps
                // this copy inside `v` whatever a plan says.
                u128 v = 0;
                std::memcpy(&v, at, std::min<std::size_t>(s.size, sizeof v));
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
                if (s.size > 8) v |= std::uint64_t{std::to_integer<std::uint8_t>(at[8])} << (64 - s.shift);
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
                if constexpr (S == Style::json) {
                    // JSON numbers are read back as doubles: a long double that is not
                    // exactly a double (1e-4940, or 1 + 2^-63) would come back as another
                    // number (0, 1). Those are given as their 80 bits, "0x…", which
                    // btf_parse takes back exactly.
                    if (std::isfinite(v) && static_cast<long double>(static_cast<double>(v)) != v) {
                        u128 bits = 0;
                        std::memcpy(&bits, at, 10);
                        p = put_wide<S>(p, bits);
                        break;
                    }
                    if (std::isfinite(v)) {
                        p = put_float<S>(p, static_cast<double>(v), 1, 0);
                        break;
                    }
                }
                p = put_float<S>(p, v, std::isnan(v) ? 0 : 1, 0);
                break;
            }
            case Op::chars: {
                const auto* text = reinterpret_cast<const unsigned char*>(at);
                const void* nul = s.size ? std::memchr(text, 0, s.size) : nullptr;
                const std::size_t n =
                    nul ? static_cast<std::size_t>(static_cast<const unsigned char*>(nul) - text) : s.size;
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
                c = ensure(c, std::size_t{a.count} * 23 + detail::kSlack);  // ", " and 21 characters each
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
    detail::compile_plan(btf.get(), type_id, *plan);
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
        throw Error::make(errc::size_mismatch, "cannot format " + std::to_string(value.size()) + " bytes as " +
                                                   p.type_name + ", which is " + std::to_string(p.size) + " bytes");
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

}  // namespace ebpf
