// `ebpf-tool serve --map pinned PATH` / `--map-dir DIR`: any pinned map exported with no
// configuration file. Labels come from the BTF key's fields, one metric per numeric value
// field, per-CPU values summed, log2-bucket arrays as histograms; series are bounded.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "metrics.hpp"

namespace ebpf_tool::map_export {

struct Options {
    std::vector<std::string> pinned;        // --map pinned PATH (repeatable)
    std::vector<std::string> dirs;          // --map-dir DIR (repeatable)
    std::vector<std::string> value_fields;  // --value-field NAME (repeatable; empty = every numeric field)
    bool histogram = false;                 // --histogram: log2-bucket array values become histograms
    std::size_t max_series = 100000;        // --max-series: per scrape, over all exported maps
};

// Opens every map named by `options` (one-line ebpf::Error on a path that is not a readable
// pinned map, a map whose key or value has no BTF that can be exported, or two maps whose
// metrics would have the same name) and returns one collector per map plus any bookkeeping
// collector (series cut by --max-series).
// Pins in a --map-dir that are not exportable maps (programs, links, ring buffers, maps
// without usable BTF, directories) are skipped: each with its reason on stderr. When all
// are, no collector is returned (the caller decides whether that is an error), but a
// --value-field name is still checked: one no exported map has is a UsageError.
// The collectors share one --max-series budget per scrape: call them in the returned order,
// all on one thread per scrape (the last one, the bookkeeping collector, ends the scrape).
std::vector<std::unique_ptr<metrics::Collector>> make_collectors(const Options& options);
// The same, with the skipped pins' reasons returned instead of printed (one line each).
std::vector<std::unique_ptr<metrics::Collector>> make_collectors(const Options& options,
                                                                 std::vector<std::string>& skipped);

}  // namespace ebpf_tool::map_export
