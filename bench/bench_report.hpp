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

// One row of the summary table that `make bench` ends with: what we measured, the best
// peer it was compared against, ours ÷ that peer, the goal and whether this run met it.
// Appended to the file named by $BENCH_SUMMARY (scripts/bench.sh sets it and empties it
// first); without that variable (a benchmark run by hand) nothing is written.
// `ours` and `best_peer` are display text with units, e.g. "0.315 s (`entries()`)".
void summary_row(const std::string& benchmark, const std::string& ours, const std::string& best_peer, double ratio,
                 const std::string& goal, bool met);

struct SummaryRow {
    std::string benchmark, ours, best_peer, ratio, goal, met;
};
// The rows appended to `path` so far, in order; rows a benchmark repeated (run twice) are
// kept once, the last one written.
std::vector<SummaryRow> read_summary(const std::string& path);

// The summary as a Markdown section: machine line, then the table.
std::string summary_markdown(const std::vector<SummaryRow>& rows);

// write_section(), but a new section goes first, right after the title paragraph.
void write_first_section(const std::string& path, const std::string& id, const std::string& markdown);

// True under `scripts/bench.sh --tiny` (BENCH_TINY=1): CI's smoke test, which only proves
// that a benchmark runs; benchmarks without a size parameter of their own shrink on it.
bool tiny();

// The middle value (the upper one of an even count); 0 for none.
inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace bench
