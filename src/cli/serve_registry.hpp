// The collectors of `ebpf-tool serve` and its own bookkeeping: a scrape reads every
// collector (one scrape at a time), merges families of the same name, counts a collector
// that fails, times each, and renders the whole in the format asked for.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exposition.hpp"
#include "metrics.hpp"

namespace ebpf_tool::serve {

class Registry {
public:
    void add(std::unique_ptr<metrics::Collector> collector);
    [[nodiscard]] std::vector<std::string> names() const;

    // Safe to call from any number of threads at once: one scrape reads the collectors
    // at a time. A collector that throws (or emits a family whose name another collector
    // gave another type) counts one ebpf_exporter_scrape_errors_total and its samples are
    // left out of this scrape (what it emitted before throwing too); the message goes to
    // stderr once per distinct message.
    [[nodiscard]] std::string scrape(exposition::Format format);

private:
    struct Entry {
        std::unique_ptr<metrics::Collector> collector;
        std::string name;
        std::uint64_t errors = 0;
        std::string last_error;
    };
    std::mutex mutex_;
    std::vector<Entry> entries_;
    std::size_t last_size_ = 0;  // bytes of the last scrape's body
};

}  // namespace ebpf_tool::serve
