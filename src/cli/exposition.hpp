// Prometheus' two text formats for the metrics model (metrics.hpp): the classic text
// format 0.0.4 every Prometheus reads, and OpenMetrics 1.0 when a scraper asks for it in
// its Accept header. Every escaping rule, HELP/TYPE line and suffix (_total, _bucket,
// _sum, _count, # EOF) is written here and nowhere else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "metrics.hpp"

namespace ebpf_tool::exposition {

enum class Format { text, openmetrics };

// The format an Accept header asks for: OpenMetrics when it lists
// application/openmetrics-text with a q above every text/plain it lists (absent q is 1),
// the classic text format otherwise (also for no header, */* or garbage).
Format negotiate(std::string_view accept);

// "text/plain; version=0.0.4; charset=utf-8" or
// "application/openmetrics-text; version=1.0.0; charset=utf-8".
const char* content_type(Format format);

// Appends `families` to `out`. Names that are not valid Prometheus names have each
// invalid character replaced by '_' (and a leading digit prefixed with '_'), so a
// collector's odd BTF field name cannot break the whole scrape. Families must have
// unique names (the server merges them before).
void write(std::string& out, const std::vector<metrics::Family>& families, Format format);

// "1", "0.25", "+Inf", "NaN": a sample value as both formats read it (integers exact up
// to 2^53, others with 17 significant digits so they round-trip).
std::string format_value(double value);

// A valid metric name (with ':' allowed) or label name (without) made from `name`.
std::string sanitize_name(std::string_view name, bool allow_colon = true);

}  // namespace ebpf_tool::exposition
