// The exposition writer (src/cli/exposition.cpp) without a kernel: both formats byte for
// byte, escaping, names, numbers, histograms, and Accept negotiation.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "exposition.hpp"

namespace {

using namespace ebpf_tool;
using exposition::Format;

metrics::Sample sample(std::vector<metrics::Label> labels, double value) {
    metrics::Sample s;
    s.labels = std::move(labels);
    s.value = value;
    return s;
}

std::string render(const std::vector<metrics::Family>& families, Format format) {
    std::string out;
    exposition::write(out, families, format);
    return out;
}

TEST(Exposition, CounterGaugeAndUntypedInTheTextFormat) {
    std::vector<metrics::Family> f{
        {"ebpf_execs", "Execs per user", metrics::Type::counter, {sample({{"uid", "0"}, {"user", "root"}}, 12)}},
        {"ebpf_flows", "Flows now", metrics::Type::gauge, {sample({}, 3)}},
        {"ebpf_thing", "Something", metrics::Type::untyped, {sample({{"a", "b"}}, 0.5)}},
    };
    EXPECT_EQ(render(f, Format::text),
              "# HELP ebpf_execs_total Execs per user\n"
              "# TYPE ebpf_execs_total counter\n"
              "ebpf_execs_total{uid=\"0\",user=\"root\"} 12\n"
              "# HELP ebpf_flows Flows now\n"
              "# TYPE ebpf_flows gauge\n"
              "ebpf_flows 3\n"
              "# HELP ebpf_thing Something\n"
              "# TYPE ebpf_thing untyped\n"
              "ebpf_thing{a=\"b\"} 0.5\n");
}

TEST(Exposition, OpenMetricsNamesCounterFamiliesWithoutTotalAndEndsWithEof) {
    std::vector<metrics::Family> f{
        {"ebpf_execs", "Execs", metrics::Type::counter, {sample({}, 1)}},
        {"ebpf_thing", "Something", metrics::Type::untyped, {sample({}, 2)}},
    };
    EXPECT_EQ(render(f, Format::openmetrics),
              "# HELP ebpf_execs Execs\n"
              "# TYPE ebpf_execs counter\n"
              "ebpf_execs_total 1\n"
              "# HELP ebpf_thing Something\n"
              "# TYPE ebpf_thing unknown\n"
              "ebpf_thing 2\n"
              "# EOF\n");
    EXPECT_EQ(render({}, Format::openmetrics), "# EOF\n");
    EXPECT_EQ(render({}, Format::text), "");
}

TEST(Exposition, ACounterNamedWithTotalIsNotDoubled) {
    std::vector<metrics::Family> f{{"x_total", "X", metrics::Type::counter, {sample({}, 1)}}};
    EXPECT_EQ(render(f, Format::text), "# HELP x_total X\n# TYPE x_total counter\nx_total 1\n");
}

TEST(Exposition, LabelValuesAndHelpAreEscaped) {
    std::vector<metrics::Family> f{
        {"m", "a \\ b\nc \"q\"", metrics::Type::gauge, {sample({{"path", "C:\\dir\n\"x\""}}, 1)}}};
    // Text 0.0.4: HELP escapes backslash and newline only; label values also the quote.
    EXPECT_EQ(render(f, Format::text),
              "# HELP m a \\\\ b\\nc \"q\"\n# TYPE m gauge\nm{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
    // OpenMetrics escapes the quote in HELP too.
    EXPECT_EQ(render(f, Format::openmetrics),
              "# HELP m a \\\\ b\\nc \\\"q\\\"\n# TYPE m gauge\nm{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n# EOF\n");
}

TEST(Exposition, InvalidNamesAreMadeValid) {
    EXPECT_EQ(exposition::sanitize_name("ebpf_ok:x"), "ebpf_ok:x");
    EXPECT_EQ(exposition::sanitize_name("ebpf_ok:x", false), "ebpf_ok_x");
    EXPECT_EQ(exposition::sanitize_name("a.b-c d"), "a_b_c_d");
    EXPECT_EQ(exposition::sanitize_name("9lives"), "_9lives");
    EXPECT_EQ(exposition::sanitize_name(""), "_");
    EXPECT_EQ(exposition::sanitize_name("é"), "__");
    std::vector<metrics::Family> f{{"map.value", "v", metrics::Type::gauge, {sample({{"src-ip", "1"}}, 1)}}};
    EXPECT_EQ(render(f, Format::text), "# HELP map_value v\n# TYPE map_value gauge\nmap_value{src_ip=\"1\"} 1\n");
}

// The name families are compared by (map_export refuses two maps that would share one):
// what write() writes, whatever the collector named the family.
TEST(Exposition, FamilyNameIsTheNameTheWriterWrites) {
    EXPECT_EQ(exposition::family_name("ebpf_map_a.b_total", metrics::Type::counter), "ebpf_map_a_b");
    EXPECT_EQ(exposition::family_name("ebpf_map_a_b", metrics::Type::counter), "ebpf_map_a_b");
    EXPECT_EQ(exposition::family_name("ebpf_map_a_total", metrics::Type::gauge), "ebpf_map_a_total");
    EXPECT_EQ(exposition::family_name("_total", metrics::Type::counter), "_total");
    EXPECT_EQ(exposition::family_name("9x", metrics::Type::histogram), "_9x");
    // It is the name OpenMetrics' HELP and TYPE lines carry (the classic format adds _total
    // to a counter's).
    for (const auto& [name, type] : std::vector<std::pair<std::string, metrics::Type>>{
             {"m.x_total", metrics::Type::counter}, {"m-y", metrics::Type::gauge}, {"1h", metrics::Type::histogram}}) {
        std::vector<metrics::Family> f{{name, "h", type, {}}};
        EXPECT_TRUE(
            render(f, Format::openmetrics).starts_with("# HELP " + exposition::family_name(name, type) + " h\n"))
            << name;
    }
}

TEST(Exposition, NumbersRoundTripAndIntegersAreExact) {
    EXPECT_EQ(exposition::format_value(0), "0");
    // Shortest text that reads back as the same double (u64 max rounds to 2^64 as a double).
    EXPECT_EQ(exposition::format_value(18446744073709551615.0), "18446744073709551616");
    EXPECT_EQ(exposition::format_value(9007199254740991.0), "9007199254740991");
    EXPECT_EQ(exposition::format_value(-3), "-3");
    EXPECT_EQ(exposition::format_value(0.1), "0.1");
    EXPECT_EQ(exposition::format_value(1e-7), "1e-07");
    EXPECT_EQ(exposition::format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(exposition::format_value(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(exposition::format_value(std::nan("")), "NaN");
}

TEST(Exposition, HistogramHasBucketsSumAndCountWithInfAdded) {
    metrics::Sample s;
    s.labels = {{"cpu", "0"}};
    s.buckets = {{1, 2}, {2, 5}, {4, 5}};
    s.sum = 9;
    s.count = 7;
    std::vector<metrics::Family> f{{"lat_us", "Latency", metrics::Type::histogram, {s}}};
    EXPECT_EQ(render(f, Format::text),
              "# HELP lat_us Latency\n# TYPE lat_us histogram\n"
              "lat_us_bucket{cpu=\"0\",le=\"1\"} 2\n"
              "lat_us_bucket{cpu=\"0\",le=\"2\"} 5\n"
              "lat_us_bucket{cpu=\"0\",le=\"4\"} 5\n"
              "lat_us_bucket{cpu=\"0\",le=\"+Inf\"} 7\n"
              "lat_us_sum{cpu=\"0\"} 9\n"
              "lat_us_count{cpu=\"0\"} 7\n");
    // A +Inf bucket given by the collector is not repeated.
    s.buckets.push_back({std::numeric_limits<double>::infinity(), 7});
    f[0].samples = {s};
    auto out = render(f, Format::openmetrics);
    EXPECT_EQ(out.find("le=\"+Inf\""), out.rfind("le=\"+Inf\"")) << out;
    EXPECT_NE(out.find("lat_us_count{cpu=\"0\"} 7\n# EOF\n"), std::string::npos) << out;
}

TEST(Exposition, AcceptHeaderNegotiation) {
    EXPECT_EQ(exposition::negotiate(""), Format::text);
    EXPECT_EQ(exposition::negotiate("*/*"), Format::text);
    EXPECT_EQ(exposition::negotiate("text/plain"), Format::text);
    EXPECT_EQ(exposition::negotiate("application/openmetrics-text"), Format::openmetrics);
    EXPECT_EQ(exposition::negotiate("Application/OpenMetrics-Text; version=1.0.0"), Format::openmetrics);
    // Prometheus 2.42's header.
    EXPECT_EQ(exposition::negotiate("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                                    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
              Format::openmetrics);
    EXPECT_EQ(exposition::negotiate("application/openmetrics-text;q=0.3, text/plain;q=0.5"), Format::text);
    EXPECT_EQ(exposition::negotiate("application/openmetrics-text;q=0"), Format::text);
    EXPECT_EQ(exposition::negotiate("application/openmetrics-text;q=bogus"), Format::text);
    EXPECT_EQ(exposition::negotiate(",,;;=,"), Format::text);
    EXPECT_EQ(exposition::content_type(Format::text), std::string("text/plain; version=0.0.4; charset=utf-8"));
}

}  // namespace
