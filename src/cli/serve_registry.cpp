#include "serve_registry.hpp"

#include <chrono>
#include <iostream>
#include <map>

#include "exposition.hpp"

namespace ebpf_tool::serve {

void Registry::add(std::unique_ptr<metrics::Collector> collector) {
    std::lock_guard lock(mutex_);
    std::string name = collector->name();
    entries_.push_back(Entry{std::move(collector), std::move(name), 0, {}});
}

namespace {
// The names a family is written under in either format (see exposition::family_name).
std::vector<std::string> written_names(const metrics::Family& family) {
    std::string base = exposition::family_name(family.name, family.type);
    if (family.type != metrics::Type::counter) return {base};
    return {base, base + "_total"};
}
}  // namespace

std::vector<std::string> Registry::names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
}

std::string Registry::scrape(exposition::Format format) {
    std::lock_guard lock(mutex_);
    std::vector<metrics::Family> families;
    std::map<std::string, std::size_t> index;  // family name → position in families
    metrics::Family duration{"ebpf_exporter_scrape_duration_seconds",
                             "Seconds each collector took to read its maps in this scrape",
                             metrics::Type::gauge,
                             {}};
    for (auto& entry : entries_) {
        auto start = std::chrono::steady_clock::now();
        std::vector<metrics::Family> got;
        std::string error;
        try {
            entry.collector->collect(got);
        } catch (const std::exception& e) {
            error = e.what();
        }
        // Families meet by the names the writer writes: x and x_total are one counter, a.b
        // and a_b one name. A name another collector gave another type would make the whole
        // body invalid: a counter x is written x_total in the text format and x in
        // OpenMetrics, so it holds both names against a gauge.
        for (const auto& family : got) {
            for (const auto& name : written_names(family)) {
                auto it = index.find(name);
                if (error.empty() && it != index.end() && families[it->second].type != family.type)
                    error = "metric " + family.name + " has another type in an earlier collector";
            }
        }
        if (error.empty()) {
            for (auto& family : got) {
                const auto names = written_names(family);
                auto it = index.find(names.front());
                if (it == index.end()) {
                    for (const auto& name : names) index.emplace(name, families.size());
                    families.push_back(std::move(family));
                } else {
                    auto& samples = families[it->second].samples;
                    samples.insert(samples.end(), std::make_move_iterator(family.samples.begin()),
                                   std::make_move_iterator(family.samples.end()));
                }
            }
        } else {
            ++entry.errors;
            // Once per distinct message, not once per scrape: a broken collector under a
            // 1 s scrape interval must not flood the journal.
            if (error != entry.last_error) std::cerr << "serve: collector " << entry.name << ": " << error << std::endl;
        }
        entry.last_error = error;
        metrics::Sample s;
        s.labels = {{"collector", entry.name}};
        s.value = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        duration.samples.push_back(std::move(s));
    }
    metrics::Family errors{"ebpf_exporter_scrape_errors",
                           "Scrapes in which a collector failed, by collector (its samples are then missing)",
                           metrics::Type::counter,
                           {}};
    for (const auto& entry : entries_) {
        metrics::Sample s;
        s.labels = {{"collector", entry.name}};
        s.value = static_cast<double>(entry.errors);
        errors.samples.push_back(std::move(s));
    }
    families.push_back(std::move(duration));
    families.push_back(std::move(errors));
    std::string body;
    // Sized by the last scrape: a body of tens of MiB is not grown by doubling (each growth a
    // copy, and twice the memory while it lasts).
    body.reserve(last_size_ + last_size_ / 8);
    exposition::write(body, families, format);
    last_size_ = body.size();
    return body;
}

}  // namespace ebpf_tool::serve
