#include "map_data.hpp"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common.hpp"
#include "ebpf/error.hpp"

namespace ebpf_tool {

// Here, not in common.cpp: the fuzz target for the key/value words links this file alone.
std::size_t json_depth(std::string_view text) {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

std::uint64_t parse_number(const std::string& text, const char* what, std::uint64_t max) {
    std::uint64_t v = 0;
    int base = 10;
    std::string_view s = text;
    if (s.starts_with("0x") || s.starts_with("0X")) {
        base = 16;
        s.remove_prefix(2);
    }
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max)
        throw UsageError(fmt::format("map: {} must be a number{}, not '{}'", what,
                                     max == UINT64_MAX ? "" : fmt::format(" up to {}", max), text));
    return v;
}

std::vector<std::byte> parse_data_words(const std::vector<std::string>& tokens, bool hex, const char* what,
                                        std::size_t size, const ebpf::Btf* btf, std::uint32_t btf_type_id) {
    if (tokens.empty()) throw UsageError(fmt::format("map: {}: no data given", what));
    std::vector<std::byte> bytes;
    if (hex) {
        for (const auto& t : tokens) {
            if (t.size() % 2) throw UsageError(fmt::format("map: {}: '{}' is not whole hex bytes", what, t));
            for (std::size_t i = 0; i < t.size(); i += 2)
                bytes.push_back(static_cast<std::byte>(parse_number("0x" + t.substr(i, 2), what, 255)));
        }
    } else if (tokens.size() == 1 && size != 1 && btf && btf_type_id) {
        nlohmann::json value;
        try {
            if (json_depth(tokens[0]) > kMaxJsonDepth)
                throw UsageError(fmt::format("map: {}: JSON nested deeper than {} levels", what, kMaxJsonDepth));
            value = nlohmann::json::parse(tokens[0]);
        } catch (const nlohmann::json::exception&) {
            value = tokens[0];  // an enum name or a string for a char array
        }
        try {
            bytes = ebpf::btf_parse(*btf, btf_type_id, value);
        } catch (const ebpf::Error& e) {
            throw UsageError(fmt::format("map: {}: {}", what, e.what()));
        }
    } else {
        for (const auto& t : tokens) bytes.push_back(static_cast<std::byte>(parse_number(t, what, 255)));
        if (tokens.size() == 1 && size > 1)
            throw UsageError(
                fmt::format("map: {}: 1 byte given, but the map's {}s are {} bytes{}", what, what, size,
                            btf ? "" : " (the map has no BTF, so typed input is not possible: give every byte)"));
    }
    if (bytes.size() != size)
        throw UsageError(
            fmt::format("map: {}: {} bytes given, but the map's {}s are {} bytes", what, bytes.size(), what, size));
    return bytes;
}

}  // namespace ebpf_tool
