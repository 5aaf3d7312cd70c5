// Benchmarks write their results into BENCHMARKS.md, each into its own section between
// markers, so every benchmark can be rerun alone without losing the others' numbers.
#pragma once

#include <string>

namespace bench {

// Replaces (or appends) the section `id` of the report at `path` with `markdown`.
void write_section(const std::string& path, const std::string& id, const std::string& markdown);

// "2026-11-27 10:30 UTC, kernel 6.18.44, 2 CPUs (model name)": the facts every table needs.
std::string machine_line();

}  // namespace bench
