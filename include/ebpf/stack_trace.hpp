// Stack traces (BPF_MAP_TYPE_STACK_TRACE): bpf_get_stackid() stores a stack of
// instruction pointers and returns its id; user space reads the stack by that id.
#pragma once

#include <optional>
#include <vector>

#include "ebpf/error.hpp"
#include "ebpf/typed.hpp"

namespace ebpf {

class StackTraceMap : public TypedHandle<StackTraceMap> {
public:
    explicit StackTraceMap(Map map) : TypedHandle(std::move(map)) {
        const auto& i = info();
        detail::check_binding(i, {BPF_MAP_TYPE_STACK_TRACE}, sizeof(std::uint32_t), i.value_size);
        if (i.value_size == 0 || i.value_size % sizeof(std::uint64_t))
            throw Error::make(errc::size_mismatch, "StackTraceMap needs values of whole 8-byte addresses, '" + i.name +
                                                       "' has " + std::to_string(i.value_size) + "-byte values");
    }
    // `depth`: addresses kept per stack (the kernel's limit is 127 by default).
    [[nodiscard]] static StackTraceMap create(std::string name, std::uint32_t max_entries, std::uint32_t depth = 127) {
        return StackTraceMap(Map::create(MapSpec::make(BPF_MAP_TYPE_STACK_TRACE, std::move(name), sizeof(std::uint32_t),
                                                       depth * sizeof(std::uint64_t), max_entries)));
    }
    std::uint32_t depth() const noexcept { return info().value_size / sizeof(std::uint64_t); }

    // The stack's addresses, innermost first, without the zero padding.
    std::optional<std::vector<std::uint64_t>> lookup(std::uint32_t stack_id) const {
        std::vector<std::uint64_t> ips(depth());
        if (!map_.lookup(&stack_id, ips.data())) return std::nullopt;
        while (!ips.empty() && ips.back() == 0) ips.pop_back();
        return ips;
    }
    bool erase(std::uint32_t stack_id) { return map_.erase(&stack_id); }
    // Every stack id (walked with get_next_key: stack maps have no batch lookups).
    Listing<std::uint32_t> ids() const {
        Listing<std::uint32_t> out;
        out.result = map_.walk_by_next_key([&](const std::byte* keys, const std::byte*, std::size_t n) {
            for (std::size_t k = 0; k < n; ++k) out.items.push_back(load_as<std::uint32_t>(keys + k * 4));
        });
        return out;
    }
};

}  // namespace ebpf
