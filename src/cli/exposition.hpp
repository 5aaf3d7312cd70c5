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

// A valid metric name (with ':' allowed) or label name (without) made from `name`: every
// character outside [a-zA-Z0-9_] (and ':') becomes '_', and a name that starts with a digit
// (or is empty) gets a '_' in front. The one naming rule: the map exporter (map_export_plan.cpp)
// names its labels and families with it. Inline, as family_name(), so that the exporter's
// library (ebpf_map_export) has it without linking the writer.
inline std::string sanitize_name(std::string_view name, bool allow_colon = true) {
    std::string out;
    out.reserve(name.size() + 1);
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) out += '_';
    for (char c : name) {
        const bool valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c == ':' && allow_colon) ||
                           (!out.empty() && c >= '0' && c <= '9');
        out += valid ? c : '_';
    }
    return out;
}

// The name write() gives a family: sanitize_name(name), and for a counter without a
// trailing "_total" (its samples carry it). Two families with the same name here are one
// family to a scraper, whatever their names before: compare these, not Family::name.
inline std::string family_name(std::string_view name, metrics::Type type) {
    std::string out = sanitize_name(name);
    if (type == metrics::Type::counter && out.size() > 6 && out.ends_with("_total")) out.resize(out.size() - 6);
    return out;
}

}  // namespace ebpf_tool::exposition
