// The metrics model shared by `ebpf-tool serve`'s collectors and its exposition writer.
// A collector fills MetricFamily values at scrape time; the writer (exposition.cpp) renders
// them as Prometheus text or OpenMetrics. Collectors never format text themselves, so the
// two formats, escaping and HELP/TYPE lines live in one place.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ebpf_tool::metrics {

enum class Type { counter, gauge, histogram, untyped };

struct Label {
    std::string name;
    std::string value;
};

// One sample line. For counters `name` is the family name without "_total" (the writer adds
// it); for histograms the writer emits _bucket/_sum/_count from `buckets`, `sum`, `count`.
struct Sample {
    std::vector<Label> labels;
    double value = 0;
    // Histogram samples only: cumulative counts per upper bound (ascending, the last is +Inf).
    std::vector<std::pair<double, std::uint64_t>> buckets;
    double sum = 0;
    std::uint64_t count = 0;
};

struct Family {
    std::string name;  // Prometheus name, e.g. "ebpf_execs" (counter: rendered ebpf_execs_total)
    std::string help;
    Type type = Type::untyped;
    std::vector<Sample> samples;
};

// A source of families, asked at every scrape. collect() may throw ebpf::Error or
// std::exception: the server then counts a scrape error for the collector's name() and
// serves what the other collectors produced.
class Collector {
public:
    virtual ~Collector() = default;
    virtual std::string name() const = 0;
    virtual void collect(std::vector<Family>& out) = 0;
};

}  // namespace ebpf_tool::metrics
