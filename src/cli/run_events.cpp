// `run`'s event streams: every ring buffer and perf event array of the object, read while
// it runs, one line per record — typed by --event-type, hex bytes otherwise.
#include <fmt/format.h>

#include <iostream>

#include "ebpf/error.hpp"
#include "map_format.hpp"
#include "run_parts.hpp"

namespace ebpf_tool::run {

struct EventStreams::Stream {
    std::string name;
    ::bpf_map* map = nullptr;
    bool perf = false;
    std::optional<ebpf::BtfFormatter> format;
    std::uint64_t received = 0;
};

namespace {
// Per CPU, for perf event arrays: 64 KiB.
constexpr std::size_t kPerfPages = 16;

bool is_event_map(const ::bpf_map* map) {
    // As a number: newer kernels' types (arena, …) are outside this libbpf's enum.
    const auto type = static_cast<unsigned>(bpf_map__type(map));
    return type == BPF_MAP_TYPE_RINGBUF || type == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
}

std::uint32_t find_type(const ebpf::Btf& btf, const std::string& name) {
    try {
        return btf.find(name);
    } catch (const ebpf::Error&) {
        // "event" names the struct too, as in Go's and Rust's loaders.
        if (name.find(' ') != std::string::npos) throw;
        return btf.find("struct " + name);
    }
}
}  // namespace

EventStreams::EventStreams(::bpf_object* object, const ebpf::Btf* btf, const std::vector<std::string>& type_specs,
                           bool json, bool pretty)
    : json_(json), pretty_(pretty) {
    ::bpf_map* map = nullptr;
    std::string names;
    bpf_object__for_each_map(map, object) {
        if (!is_event_map(map)) continue;
        auto s = std::make_unique<Stream>();
        s->name = bpf_map__name(map);
        s->map = map;
        s->perf = bpf_map__type(map) == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
        names += (names.empty() ? "" : ", ") + s->name;
        streams_.push_back(std::move(s));
    }
    for (const auto& spec : type_specs) {
        auto eq = spec.find('=');
        std::string map_name = eq == std::string::npos ? "" : spec.substr(0, eq);
        std::string type = eq == std::string::npos ? spec : spec.substr(eq + 1);
        if (streams_.empty())
            throw UsageError("--event-type " + spec + ": the object has no ring buffer or perf event array");
        if (!btf) throw UsageError("--event-type " + spec + ": the object has no BTF: compile it with -g");
        std::uint32_t id = 0;
        try {
            id = find_type(*btf, type);
        } catch (const ebpf::Error&) {
            throw UsageError("--event-type " + spec + ": the object's BTF has no type '" + type +
                             "' (keep a type that only user space uses with "
                             "'struct " +
                             (type.rfind("struct ", 0) == 0 ? type.substr(7) : type) +
                             " *unused __attribute__((unused));')");
        }
        std::optional<ebpf::BtfFormatter> format;
        try {
            format.emplace(*btf, id);
        } catch (const ebpf::Error& e) {
            throw UsageError("--event-type " + spec + ": " + e.what());
        }
        bool matched = false;
        for (auto& s : streams_) {
            if (!map_name.empty() && s->name != map_name) continue;
            s->format = format;
            matched = true;
        }
        if (!matched)
            throw UsageError("--event-type " + spec + ": no ring buffer or perf event array named '" + map_name +
                             "' (the object has: " + names + ")");
    }
}

EventStreams::~EventStreams() = default;

std::vector<int> EventStreams::start() {
    std::vector<int> fds;
    for (auto& sp : streams_) {
        Stream& s = *sp;
        auto map = ebpf::Map::from_libbpf(s.map);
        if (!s.perf) {
            if (!ring_) ring_.emplace();
            ring_->add(map, [this, &s](std::span<const std::byte> record) {
                print(s, -1, record);
                return 0;
            });
        } else {
            perf_.push_back(std::make_unique<ebpf::PerfBufferReader>(
                map, kPerfPages, [this, &s](std::span<const std::byte> sample, int cpu) { print(s, cpu, sample); }));
            fds.push_back(perf_.back()->epoll_fd());
        }
    }
    if (ring_) fds.push_back(ring_->epoll_fd());
    return fds;
}

void EventStreams::consume() {
    if (ring_) ring_->consume();
    for (auto& p : perf_) p->consume();
    std::cout.flush();
}

void EventStreams::print(Stream& s, int cpu, std::span<const std::byte> record) {
    ++s.received;
    line_.clear();
    // Perf samples carry up to 7 bytes of padding; a ring buffer record is what the
    // program reserved. Bytes beyond the type are shown (a variable-length tail).
    std::size_t extra = 0;
    bool typed = s.format && record.size() >= s.format->size();
    if (typed) {
        extra = record.size() - s.format->size();
        if (s.perf && extra < 8) extra = 0;
    }
    if (json_) {
        line_ = "{\"time\":\"" + iso_time() + "\",\"map\":" + nlohmann::json(s.name).dump();
        if (cpu >= 0) line_ += ",\"cpu\":" + std::to_string(cpu);
        if (typed) {
            line_ += ",\"event\":";
            s.format->append(line_, record.first(s.format->size()), ebpf::Style::json);
            if (extra) {
                line_ += ",\"extra_bytes\":";
                append_hex_json(line_, record.subspan(s.format->size()));
            }
        } else {
            line_ += ",\"bytes\":";
            append_hex_json(line_, record);
        }
        line_ += '}';
        if (pretty_) line_ = nlohmann::ordered_json::parse(line_).dump(2);
    } else {
        line_ = clock_time() + " " + s.name + ": ";
        if (typed) {
            s.format->append(line_, record.first(s.format->size()), ebpf::Style::text);
            if (extra) {
                line_ += " +";
                append_hex_text(line_, record.subspan(s.format->size()));
            }
        } else {
            append_hex_text(line_, record);
            if (s.format)
                line_ += fmt::format(" ({} bytes, shorter than {}'s {})", record.size(), s.format->type_name(),
                                     s.format->size());
        }
    }
    line_ += '\n';
    std::cout << line_;
}

std::string EventStreams::summary() const {
    // Perf buffers report the samples they had no room for; a ring buffer does not (the
    // program sees bpf_ringbuf_reserve() fail, and must count that itself).
    std::string out;
    std::size_t perf_index = 0;
    for (const auto& s : streams_) {
        out += out.empty() ? "events: " : "; ";
        if (s->perf && perf_index < perf_.size())
            out +=
                fmt::format("perf buffer '{}' received {}, lost {}", s->name, s->received, perf_[perf_index++]->lost());
        else
            out += fmt::format("ring buffer '{}' received {}", s->name, s->received);
    }
    return out + "\n";
}

}  // namespace ebpf_tool::run
