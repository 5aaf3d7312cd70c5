// btf_leaves(): a type as the list of its leaves, with the member path to each. It walks
// members with the same helpers the formatter's plan compiler and the parser use
// (collect_fields, bit_layout, the enumerator readers), so the three agree on names,
// anonymous members, bitfields and enum values.
#include <bpf/btf.h>

#include <algorithm>

#include "ebpf/btf.hpp"
#include "ebpf/error.hpp"
#include "internal.hpp"

namespace ebpf {

namespace {

using namespace btf_internal;

// Work bound: BTF can name one struct twice per level (both members at offset 0), so the
// members to visit double per level — 2^64 at kMaxDepth — while every check above passes.
constexpr std::size_t kMaxVisits = std::size_t{1} << 18;

class LeafWalker {
public:
    LeafWalker(const ::btf* b, std::uint32_t root) : b_(b), root_(root), limit_(size_of(b, root)) {}

    std::vector<BtfLeaf> run() {
        value(root_, 0, 0);
        return std::move(out_);
    }

private:
    [[noreturn]] void outside() const {
        throw malformed("BTF type " + name_of(b_, root_, 0) + ": a member lies outside its " + std::to_string(limit_) +
                        "-byte parent");
    }
    void check(std::uint64_t offset, std::uint64_t size) const {
        if (offset > limit_ || size > limit_ - offset) outside();
    }

    BtfLeaf leaf(BtfLeaf::Kind kind, std::uint64_t offset, std::uint64_t size) {
        check(offset, size);
        BtfLeaf l;
        l.path = path_;
        l.kind = kind;
        l.offset = static_cast<std::size_t>(offset);
        l.size = static_cast<std::size_t>(size);
        return l;
    }

    void enumerators(BtfLeaf& l, const btf_type* t) const {
        for (std::uint16_t i = 0; i < btf_vlen(t); ++i)
            l.enumerators.emplace_back(enumerator_value(t, i, t->size * 8), enumerator_name(b_, t, i));
        std::stable_sort(l.enumerators.begin(), l.enumerators.end(),
                         [](const auto& x, const auto& y) { return x.first < y.first; });
        l.enumerators.erase(std::unique(l.enumerators.begin(), l.enumerators.end(),
                                        [](const auto& x, const auto& y) { return x.first == y.first; }),
                            l.enumerators.end());
    }

    // The kind a scalar type (qualifiers skipped) has as a leaf; `other` for composites.
    BtfLeaf::Kind scalar_kind(const btf_type* t) const {
        switch (btf_kind(t)) {
            case BTF_KIND_INT:
                return btf_int_encoding(t) & BTF_INT_BOOL ? BtfLeaf::Kind::boolean : BtfLeaf::Kind::integer;
            case BTF_KIND_ENUM:
            case BTF_KIND_ENUM64:
                return BtfLeaf::Kind::enumeration;
            case BTF_KIND_FLOAT:
                return BtfLeaf::Kind::floating;
            case BTF_KIND_PTR:
                return BtfLeaf::Kind::pointer;
            default:
                return BtfLeaf::Kind::other;
        }
    }

    void value(std::uint32_t type_id, std::uint64_t offset, int depth) {
        if (depth > kMaxDepth) throw malformed("BTF type " + name_of(b_, root_, 0) + ": types nested too deeply");
        if (++visits_ > kMaxVisits)
            throw unsupported("BTF type " + name_of(b_, root_, 0) + " has more than " + std::to_string(kMaxVisits) +
                              " members to walk, counting those of its nested structs");
        const std::uint32_t id = skip_mods(b_, type_id);
        const btf_type* t = type_at(b_, id);
        switch (btf_kind(t)) {
            case BTF_KIND_INT:
                if (btf_int_offset(t) != 0 || btf_int_bits(t) != t->size * 8) return bitfield(id, offset * 8, 0);
                [[fallthrough]];
            case BTF_KIND_ENUM:
            case BTF_KIND_ENUM64:
            case BTF_KIND_FLOAT:
            case BTF_KIND_PTR: {
                const std::size_t size = size_of(b_, id);
                if (size == 0 || size > kMaxScalarSize)
                    throw malformed("BTF type " + name_of(b_, root_, 0) + ": " + name_of(b_, id, 0) + " declares " +
                                    std::to_string(size) + " bytes, but a scalar has 1 to " +
                                    std::to_string(kMaxScalarSize));
                BtfLeaf l = leaf(scalar_kind(t), offset, size);
                if (btf_is_int(t)) l.is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
                if (btf_is_any_enum(t)) {
                    l.is_signed = btf_kflag(t);
                    enumerators(l, t);
                }
                out_.push_back(std::move(l));
                return;
            }
            case BTF_KIND_STRUCT: {
                for (const Field& f : collect_fields(b_, t, offset * 8, depth)) {
                    path_.push_back({f.name, name_of(b_, f.type, 0), static_cast<std::size_t>(f.bit / 8)});
                    if (f.bitfield != 0 || f.bit % 8 != 0)
                        bitfield(f.type, f.bit, f.bitfield);
                    else
                        value(f.type, f.bit / 8, depth + 1);
                    path_.pop_back();
                }
                return;
            }
            case BTF_KIND_ARRAY: {
                const struct btf_array* a = btf_array(t);
                if (is_text_char(b_, a->type)) {
                    out_.push_back(leaf(BtfLeaf::Kind::chars, offset, a->nelems));
                    return;
                }
                const std::uint64_t stride = size_of(b_, a->type);
                if (stride != 0 && a->nelems > (limit_ - std::min<std::uint64_t>(offset, limit_)) / stride) outside();
                BtfLeaf l = leaf(BtfLeaf::Kind::array, offset, stride * a->nelems);
                const btf_type* element = type_at(b_, skip_mods(b_, a->type));
                l.element = scalar_kind(element);
                l.element_size = static_cast<std::size_t>(stride);
                l.count = a->nelems;
                if (btf_is_int(element)) {
                    l.is_signed = btf_int_encoding(element) & BTF_INT_SIGNED;
                    // An array of bitfield-encoded ints has no whole-byte elements to read.
                    if (btf_int_offset(element) != 0 || btf_int_bits(element) != element->size * 8)
                        l.element = BtfLeaf::Kind::other;
                }
                if (btf_is_any_enum(element)) {
                    l.is_signed = btf_kflag(element);
                    enumerators(l, element);
                }
                out_.push_back(std::move(l));
                return;
            }
            case BTF_KIND_UNION:
                out_.push_back(leaf(BtfLeaf::Kind::other, offset, size_of(b_, id)));
                return;
            case BTF_KIND_VAR:
                return value(t->type, offset, depth + 1);
            default:
                throw unsupported("BTF type " + name_of(b_, id, 0) + " has no layout");
        }
    }

    void bitfield(std::uint32_t type_id, std::uint64_t bit, std::uint32_t width) {
        const BitLayout layout = bit_layout(b_, type_id, bit, width);
        const unsigned shift = static_cast<unsigned>(layout.bit % 8);
        BtfLeaf l = leaf(btf_is_any_enum(layout.type) ? BtfLeaf::Kind::enumeration
                         : layout.is_bool             ? BtfLeaf::Kind::boolean
                                                      : BtfLeaf::Kind::integer,
                         layout.bit / 8, (shift + layout.width + 7) / 8);
        l.bit_shift = shift;
        l.bit_width = layout.width;
        l.is_signed = layout.is_signed;
        if (btf_is_any_enum(layout.type)) enumerators(l, layout.type);
        out_.push_back(std::move(l));
    }

    const ::btf* b_;
    std::uint32_t root_;
    std::uint64_t limit_;
    std::size_t visits_ = 0;
    std::vector<BtfLeaf::Step> path_;
    std::vector<BtfLeaf> out_;
};

}  // namespace

std::vector<BtfLeaf> btf_leaves(const Btf& btf, std::uint32_t type_id) {
    return LeafWalker(btf.get(), type_id).run();
}

}  // namespace ebpf
