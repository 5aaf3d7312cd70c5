// Benchmarks write their results into BENCHMARKS.md, each into its own section between
// markers, so every benchmark can be rerun alone without losing the others' numbers.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace bench {

// Replaces (or appends) the section `id` of the report at `path` with `markdown`.
void write_section(const std::string& path, const std::string& id, const std::string& markdown);

// "2026-11-27 10:30 UTC, kernel 6.18.44, 2 CPUs (model name)": the facts every table needs.
std::string machine_line();

// The middle value (the upper one of an even count); 0 for none.
inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace bench
