// serve's Registry with collectors made here: merging, the exporter's own metrics, a
// collector that throws, conflicting types, and concurrent scrapes.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "serve_registry.hpp"

namespace {

using namespace ebpf_tool;

class Fake final : public metrics::Collector {
public:
    Fake(std::string name, std::vector<metrics::Family> families, bool fail = false)
        : name_(std::move(name)), families_(std::move(families)), fail_(fail) {}
    std::string name() const override { return name_; }
    void collect(std::vector<metrics::Family>& out) override {
        // Two scrapes inside collect() at once would break a collector without locks.
        if (inside_.exchange(true)) overlapped_ = true;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        ++calls_;
        out.insert(out.end(), families_.begin(), families_.end());
        inside_ = false;
        if (fail_) throw std::runtime_error("map went away");
    }
    std::atomic<bool> overlapped_{false};
    std::atomic<int> calls_{0};

private:
    std::string name_;
    std::vector<metrics::Family> families_;
    bool fail_;
    std::atomic<bool> inside_{false};
};

metrics::Family counter(const std::string& name, const std::string& label, double value) {
    metrics::Sample s;
    s.labels = {{"map", label}};
    s.value = value;
    return {name, "help", metrics::Type::counter, {s}};
}

TEST(ServeRegistry, MergesFamiliesOfOneNameAndCountsAFailingCollector) {
    serve::Registry registry;
    registry.add(std::make_unique<Fake>("a", std::vector{counter("x", "a", 1)}));
    registry.add(std::make_unique<Fake>("b", std::vector{counter("x", "b", 2)}));
    registry.add(std::make_unique<Fake>("broken", std::vector{counter("x", "broken", 3)}, true));
    metrics::Family gauge{"x", "help", metrics::Type::gauge, {}};
    registry.add(std::make_unique<Fake>("conflict", std::vector{gauge}));
    EXPECT_EQ(registry.names(), (std::vector<std::string>{"a", "b", "broken", "conflict"}));

    std::string body;
    for (int i = 0; i < 2; ++i) body = registry.scrape(exposition::Format::text);
    // One family x with both good collectors' samples; none of the failed ones'.
    EXPECT_NE(body.find("# TYPE x_total counter\nx_total{map=\"a\"} 1\nx_total{map=\"b\"} 2\n# HELP"),
              std::string::npos)
        << body;
    EXPECT_EQ(body.find("broken\"} 3"), std::string::npos) << body;
    EXPECT_EQ(body.find("# TYPE x gauge"), std::string::npos) << body;
    EXPECT_NE(body.find("ebpf_exporter_scrape_errors_total{collector=\"a\"} 0\n"), std::string::npos) << body;
    EXPECT_NE(body.find("ebpf_exporter_scrape_errors_total{collector=\"broken\"} 2\n"), std::string::npos) << body;
    EXPECT_NE(body.find("ebpf_exporter_scrape_errors_total{collector=\"conflict\"} 2\n"), std::string::npos) << body;
    EXPECT_NE(body.find("ebpf_exporter_scrape_duration_seconds{collector=\"broken\"} "), std::string::npos) << body;
}

TEST(ServeRegistry, FamiliesMeetByTheNameTheWriterWrites) {
    // x and x_total are both written x_total; a.b and a_b both a_b: one family each, or the
    // body would carry a name twice. A gauge written x_total conflicts with the counter.
    serve::Registry registry;
    registry.add(std::make_unique<Fake>("a", std::vector{counter("x", "a", 1), counter("a.b", "a", 4)}));
    registry.add(std::make_unique<Fake>("b", std::vector{counter("x_total", "b", 2), counter("a_b", "b", 5)}));
    metrics::Family gauge{"x_total", "help", metrics::Type::gauge, {}};
    registry.add(std::make_unique<Fake>("conflict", std::vector{gauge}));
    const std::string body = registry.scrape(exposition::Format::text);
    EXPECT_NE(body.find("# TYPE x_total counter\nx_total{map=\"a\"} 1\nx_total{map=\"b\"} 2\n"), std::string::npos)
        << body;
    EXPECT_NE(body.find("# TYPE a_b_total counter\na_b_total{map=\"a\"} 4\na_b_total{map=\"b\"} 5\n"),
              std::string::npos)
        << body;
    EXPECT_EQ(body.find("# TYPE x_total gauge"), std::string::npos) << body;
    EXPECT_NE(body.find("ebpf_exporter_scrape_errors_total{collector=\"conflict\"} 1\n"), std::string::npos) << body;
}

TEST(ServeRegistry, ConcurrentScrapesNeverOverlapInsideACollector) {
    serve::Registry registry;
    auto fake = std::make_unique<Fake>("a", std::vector{counter("x", "a", 1)});
    Fake* raw = fake.get();
    registry.add(std::move(fake));
    std::vector<std::thread> threads;
    std::atomic<int> good{0};
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i)
                if (registry.scrape(exposition::Format::openmetrics).ends_with("# EOF\n")) ++good;
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(good, 200);
    EXPECT_EQ(raw->calls_, 200);
    EXPECT_FALSE(raw->overlapped_);
}

}  // namespace
