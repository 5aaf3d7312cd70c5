// The pieces of `ebpf-tool run` beyond open-load-attach: the object's global variables
// (--set before load, shown by name each interval), its event streams (ring buffers and
// perf event arrays, read while it runs), and the kernel features its sections need.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common.hpp"
#include "ebpf/btf.hpp"
#include "ebpf/map.hpp"
#include "ebpf/perf_buffer.hpp"
#include "ebpf/ring_buffer.hpp"

namespace ebpf_tool::run {

// A copy of the object's own BTF (bpf_object__btf), or nothing when it has none.
std::optional<ebpf::Btf> object_btf(::bpf_object* object);

// The global variables of an object: every VAR of its .rodata/.data/.bss sections (and
// custom ones, .data.NAME), located through the object's BTF.
class Globals {
public:
    Globals(::bpf_object* object, const ebpf::Btf* btf);

    // Before load: NAME=VALUE, VALUE typed by the variable's BTF type (a number, an enum
    // name, a string for char arrays, JSON for structs and arrays). Throws UsageError for
    // an unknown name, a value that does not fit, or an object without BTF.
    void set(const std::string& assignment);

    // After load: true when there are .bss/.data variables to show.
    bool showable() const;
    // The .bss/.data variables as they are now: "  name = value\n" lines, or a JSON object.
    std::string text() const;
    std::string json() const;

private:
    struct Variable {
        std::string name, section;
        ::bpf_map* map = nullptr;
        std::uint32_t offset = 0, size = 0, type_id = 0;
        std::shared_ptr<ebpf::BtfFormatter> format;  // null when the type cannot be formatted
    };
    std::vector<std::byte> read(const Variable& v, std::map<::bpf_map*, std::vector<std::byte>>& cache) const;
    bool shown(const Variable& v) const;

    const ebpf::Btf* btf_;
    std::vector<Variable> variables_;
};

// Every ring buffer and perf event array of the object, read while `run` runs; each record
// one line, BTF-formatted when --event-type gave its type, hex bytes otherwise.
class EventStreams {
public:
    // Before load: checks the --event-type [MAP=]TYPE specs against the object (UsageError).
    EventStreams(::bpf_object* object, const ebpf::Btf* btf, const std::vector<std::string>& type_specs, bool json,
                 bool pretty);
    ~EventStreams();

    // After load: opens the readers. Returns the fds to poll (readable when records wait).
    std::vector<int> start();
    bool empty() const noexcept { return streams_.empty(); }
    // Prints every record waiting now.
    void consume();
    // One line for stderr at exit: records received per map, perf samples lost.
    std::string summary() const;

private:
    struct Stream;
    void print(Stream& s, int cpu, std::span<const std::byte> record);

    bool json_, pretty_;
    std::vector<std::unique_ptr<Stream>> streams_;
    std::optional<ebpf::RingBufferReader> ring_;
    std::vector<std::unique_ptr<ebpf::PerfBufferReader>> perf_;
    std::string line_;
};

// Why a program of this section cannot run on this kernel ("this kernel has no kprobes
// …"), or nothing when it can (or when it cannot be told before trying).
std::optional<std::string> missing_kernel_feature(const std::string& section);

}  // namespace ebpf_tool::run
