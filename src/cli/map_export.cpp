// Temporary, on the serve branch only: engineer `export` implements this file on main
// (issue 13 item 3). It is replaced at merge.
#include "map_export.hpp"

#include "ebpf/error.hpp"

namespace ebpf_tool::map_export {

std::vector<std::unique_ptr<metrics::Collector>> make_collectors(const Options&) {
    throw ebpf::Error::make(ebpf::errc::not_supported, "--map is not available yet");
}

}  // namespace ebpf_tool::map_export
