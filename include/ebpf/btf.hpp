// BTF, the kernel's description of C types, used to show map keys and values the way users
// think of them ({"src_ip": 16777343, "dst_port": 443}) and to read them back from JSON.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct btf;

namespace ebpf {

namespace detail {
struct BtfPlan;  // the compiled steps (btf.cpp)
}  // namespace detail

// An owned libbpf `struct btf`: a map's types (by the map's btf_id), the kernel's own
// types, or types built in memory with btf__add_*.
class Btf {
public:
    // The BTF object with this id (MapInfo::btf_id). Throws Error when it does not exist.
    [[nodiscard]] static Btf from_kernel(std::uint32_t btf_id);
    // The running kernel's types (/sys/kernel/btf/vmlinux).
    [[nodiscard]] static Btf vmlinux();
    // Adopts a btf built by the caller (btf__new_empty + btf__add_*); null throws.
    explicit Btf(::btf* owned);

    const ::btf* get() const noexcept { return btf_.get(); }
    ::btf* get() noexcept { return btf_.get(); }

    // How C spells the type: "struct conn_key", "__u32", "char[16]", "const char *".
    std::string type_name(std::uint32_t type_id) const;
    // Bytes a value of the type occupies; throws for types without a size (void, fwd).
    std::size_t type_size(std::uint32_t type_id) const;
    // The id of a named type: "struct conn_key", "union u", "enum e" or a plain name
    // (typedefs, ints). Throws Error when there is none.
    std::uint32_t find(std::string_view name) const;

    // A plain integer type (through typedefs and qualifiers; not one of old BTF's
    // bitfield-encoded ints): its bytes and encoding.
    struct Integer {
        std::size_t size = 0;
        bool is_signed = false;
        bool is_bool = false;
    };
    // The integer `type_id` is, or nullopt for any other kind of type (or a bad id).
    std::optional<Integer> integer(std::uint32_t type_id) const;

private:
    struct Free {
        void operator()(::btf* b) const noexcept;
    };
    std::unique_ptr<::btf, Free> btf_;
};

// json: valid JSON. text: the same layout in C's initializer style, for people:
// {.src_ip = 16777343, .state = TCP_ESTABLISHED, .comm = "sshd", .addr = {10, 0, 0, 1}},
// pointers and 128-bit integers in hex, strings with C escapes.
enum class Style { json, text };

// Formats values of one BTF type. The type is compiled once into a flat plan (one step
// per scalar, with its offset, width and names already rendered), so formatting a value
// only walks the plan and appends to a string: no allocation per value, no BTF lookups.
// The plan is self-contained: the Btf may go away after construction.
//
// JSON output: integers and pointers as numbers (128-bit ones as "0x…" strings); bools as
// true/false (a byte other than 0 or 1 as its number, so nothing is lost); char arrays as
// strings cut at the first NUL, every byte outside 0x20–0x7e as \u00XX (one code point per
// byte); enums by enumerator name (the number when none matches); structs and unions as
// objects (anonymous members flattened into the parent, as in C; a union shows every
// member); arrays as arrays; floats as numbers (NaN and infinities as "nan", "inf",
// "-inf"; a NaN with a payload as its bits "0x…"). Padding is never shown.
class BtfFormatter {
public:
    // Throws Error for types that have no layout (void, declarations, functions) and for
    // types whose text is out of all proportion to their bytes (errc::not_supported: at
    // most 1 MiB + 1 KiB per byte of value, e.g. no arrays of billions of empty structs).
    BtfFormatter(const Btf& btf, std::uint32_t type_id);

    // Bytes one value occupies.
    std::size_t size() const noexcept;
    // Appends the value to `out`. Throws Error when value.size() != size().
    void append(std::string& out, std::span<const std::byte> value, Style style = Style::json) const;
    std::string format(std::span<const std::byte> value, Style style = Style::json) const;
    // The type, as Btf::type_name spells it.
    const std::string& type_name() const noexcept;

private:
    // Immutable once compiled: copies of a formatter share it, and so may threads.
    std::shared_ptr<const detail::BtfPlan> plan_;
};

// A type flattened into its leaves, for code that maps a key or a value onto another model
// (Prometheus labels and metrics): structs are opened member by member (anonymous members
// lifted into the parent, as C names them, and as BtfFormatter shows them); everything else —
// an integer, enum, float, pointer, array or union — is one leaf. Unions stay whole because
// their members overlap: the caller decides what the bytes mean.
struct BtfLeaf {
    enum class Kind { integer, boolean, enumeration, floating, pointer, chars, array, other };
    // One member on the way from the outermost struct to the leaf.
    struct Step {
        std::string name;        // as collected for JSON (a repeated name gets "#2" …)
        std::string type;        // the member's declared type as C spells it: "__be32", "struct in6_addr"
        std::size_t offset = 0;  // bytes from the start of the value (bitfields: their first byte)
    };
    std::vector<Step> path;  // empty when the whole type is one leaf (a scalar key)
    Kind kind = Kind::other;
    std::size_t offset = 0;  // bytes from the start of the value
    std::size_t size = 0;    // bytes the leaf occupies (a bitfield: the bytes holding its bits)
    unsigned bit_shift = 0;  // bitfields: first bit within the first byte
    unsigned bit_width = 0;  // bitfields: width in bits; 0 for whole-byte leaves
    bool is_signed = false;  // integers and enums
    // Arrays: the element (integer, boolean, enumeration or other), its size and the count.
    Kind element = Kind::other;
    std::size_t element_size = 0;
    std::uint32_t count = 0;
    // Enumerations: (value, name), values as BtfFormatter compares them (the enum's bits,
    // sign-extended when the enum is signed), sorted by value; the first name of a value wins.
    std::vector<std::pair<std::uint64_t, std::string>> enumerators;
};
// Throws Error for types without a layout and for malformed BTF (members outside their
// parent), as BtfFormatter does, and errc::not_supported for a type with more than 2^18
// members counted through its nested structs (a struct may name another twice per level).
std::vector<BtfLeaf> btf_leaves(const Btf& btf, std::uint32_t type_id);

// The bytes of a value of `type_id` described by JSON, the inverse of BtfFormatter:
// integers from numbers or strings ("42", "-1", "0x2a"; a hex string gives the raw bits,
// so "0xffffffff" is -1 for a signed 32-bit field), range-checked; bools from true/false
// (or 0/1); enums by enumerator name or number; structs from objects (missing fields are
// zero, unknown fields an error); unions from an object giving one member (several only
// when they agree on the bytes they share, as BtfFormatter's output does); arrays from
// arrays of exactly their length; char arrays also from strings (one byte per code point
// up to U+00FF; a C string: NULs may end it, but no text may follow one); floats from numbers or
// "nan"/"inf"/"-inf"/"0x…" bits. Typedefs and qualifiers are looked through; padding is zero. Failures throw Error
// naming the field: "field 'dst_port': 70000 does not fit in 16-bit unsigned" (errc::bad_value; malformed BTF is
// errc::corrupt, a type without a layout errc::not_supported).
std::vector<std::byte> btf_parse(const Btf& btf, std::uint32_t type_id, const nlohmann::json& value);

}  // namespace ebpf
