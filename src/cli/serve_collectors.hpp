// `ebpf-tool serve`'s built-in collectors: the kernel halves of `execs`, `stats`, `proto`
// and `conns` (probes.hpp), loaded and attached once, read at every scrape and turned into
// Prometheus families. Each reads what its command prints, with the same drop counters.
#pragma once

#include <memory>

#include "metrics.hpp"
#include "net.hpp"

namespace ebpf_tool::serve {

// Each loads and attaches its programs; the collector owns them (detached when it goes).
std::unique_ptr<metrics::Collector> make_execs_collector();
std::unique_ptr<metrics::Collector> make_stats_collector();
std::unique_ptr<metrics::Collector> make_proto_collector(const NetTargets& targets);
std::unique_ptr<metrics::Collector> make_conns_collector(const NetTargets& targets);

}  // namespace ebpf_tool::serve
