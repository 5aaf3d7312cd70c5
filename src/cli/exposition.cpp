#include "exposition.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace ebpf_tool::exposition {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// One media range of an Accept header: "type/subtype;param=v;q=0.5" → type and q.
struct Range {
    std::string_view type;
    double q = 1.0;
};

Range parse_range(std::string_view item) {
    Range r;
    auto semi = item.find(';');
    r.type = trim(item.substr(0, semi));
    while (semi != std::string_view::npos) {
        item.remove_prefix(semi + 1);
        semi = item.find(';');
        auto param = trim(item.substr(0, semi));
        if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
            std::string value(param.substr(2));
            char* end = nullptr;
            double q = std::strtod(value.c_str(), &end);
            r.q = end && *end == '\0' && q >= 0 && q <= 1 ? q : 0;
        }
    }
    return r;
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && quote)
            out += "\\\"";
        else
            out += c;
    }
}

// {a="x",b="y"} with `extra` (le="...") last; nothing when there are no labels.
void append_labels(std::string& out, const std::vector<metrics::Label>& labels, const metrics::Label* extra) {
    if (labels.empty() && !extra) return;
    out += '{';
    bool first = true;
    auto one = [&](const metrics::Label& label) {
        if (!first) out += ',';
        first = false;
        out += sanitize_name(label.name, false);
        out += "=\"";
        append_escaped(out, label.value, true);
        out += '"';
    };
    for (const auto& label : labels) one(label);
    if (extra) one(*extra);
    out += '}';
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<metrics::Label>& labels, const metrics::Label* extra, const std::string& value) {
    out += name;
    out += suffix;
    append_labels(out, labels, extra);
    out += ' ';
    out += value;
    out += '\n';
}

const char* type_word(metrics::Type type, Format format) {
    switch (type) {
        case metrics::Type::counter:
            return "counter";
        case metrics::Type::gauge:
            return "gauge";
        case metrics::Type::histogram:
            return "histogram";
        case metrics::Type::untyped:
            break;
    }
    return format == Format::openmetrics ? "unknown" : "untyped";
}

}  // namespace

Format negotiate(std::string_view accept) {
    double openmetrics = -1, text = -1;
    while (!accept.empty()) {
        auto comma = accept.find(',');
        Range r = parse_range(accept.substr(0, comma));
        if (iequals(r.type, "application/openmetrics-text"))
            openmetrics = std::max(openmetrics, r.q);
        else if (iequals(r.type, "text/plain"))
            text = std::max(text, r.q);
        if (comma == std::string_view::npos) break;
        accept.remove_prefix(comma + 1);
    }
    return openmetrics > 0 && openmetrics > text ? Format::openmetrics : Format::text;
}

const char* content_type(Format format) {
    return format == Format::openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                         : "text/plain; version=0.0.4; charset=utf-8";
}

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char buffer[64];
    std::to_chars_result result{};
    if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0)
        result = std::to_chars(buffer, buffer + sizeof(buffer), static_cast<long long>(value));
    else
        result = std::to_chars(buffer, buffer + sizeof(buffer), value);  // shortest that round-trips
    return std::string(buffer, result.ptr);
}

void write(std::string& out, const std::vector<metrics::Family>& families, Format format) {
    const bool om = format == Format::openmetrics;
    for (const auto& family : families) {
        // A counter's family is named without _total (the samples carry it): family_name()
        // takes it off if a collector put it on, rather than writing _total_total.
        const std::string name = family_name(family.name, family.type);
        // The classic format names a counter's family after its samples (with _total);
        // OpenMetrics names the family without it.
        const std::string family_name = family.type == metrics::Type::counter && !om ? name + "_total" : name;
        out += "# HELP ";
        out += family_name;
        out += ' ';
        append_escaped(out, family.help, om);
        out += "\n# TYPE ";
        out += family_name;
        out += ' ';
        out += type_word(family.type, format);
        out += '\n';
        for (const auto& sample : family.samples) {
            switch (family.type) {
                case metrics::Type::counter:
                    append_sample(out, name, "_total", sample.labels, nullptr, format_value(sample.value));
                    break;
                case metrics::Type::histogram: {
                    bool has_inf = false;
                    for (const auto& [bound, count] : sample.buckets) {
                        has_inf = has_inf || std::isinf(bound);
                        metrics::Label le{"le", format_value(bound)};
                        append_sample(out, name, "_bucket", sample.labels, &le,
                                      format_value(static_cast<double>(count)));
                    }
                    // Both formats require the +Inf bucket, and it is the count.
                    if (!has_inf) {
                        metrics::Label le{"le", "+Inf"};
                        append_sample(out, name, "_bucket", sample.labels, &le,
                                      format_value(static_cast<double>(sample.count)));
                    }
                    append_sample(out, name, "_sum", sample.labels, nullptr, format_value(sample.sum));
                    append_sample(out, name, "_count", sample.labels, nullptr,
                                  format_value(static_cast<double>(sample.count)));
                    break;
                }
                case metrics::Type::gauge:
                case metrics::Type::untyped:
                    append_sample(out, name, "", sample.labels, nullptr, format_value(sample.value));
                    break;
            }
        }
    }
    if (om) out += "# EOF\n";
}

}  // namespace ebpf_tool::exposition
