// `serve --map pinned PATH` / `--map-dir DIR`: opening the pins, and reading every map at
// scrape time into families. The plan (map_export_plan.cpp) did the BTF work at start-up;
// a scrape is one batched walk per map plus string building for the labels.
#include "map_export.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "common.hpp"
#include "ebpf/error.hpp"
#include "ebpf/map.hpp"
#include "ebpf/pin.hpp"
#include "exposition.hpp"
#include "map_export_plan.hpp"

namespace ebpf_tool::map_export {

namespace {

using metrics::Family;
using metrics::Label;
using metrics::Sample;

// The --max-series budget, shared by every map collector of one make_collectors() call.
// A scrape calls the collectors in order on one thread; the bookkeeping collector, last,
// ends the scrape: so each thread's series count is the current scrape's, and concurrent
// scrapes (on other threads) each get their own budget.
struct Budget {
    std::size_t max_series = 0;
    std::mutex mutex;
    std::unordered_map<std::thread::id, std::size_t> used;  // by the scrape on that thread
    std::map<std::string, std::uint64_t> dropped;           // by map name, since start

    std::size_t available() {
        std::lock_guard lock(mutex);
        const std::size_t u = used[std::this_thread::get_id()];
        return u >= max_series ? 0 : max_series - u;
    }
    void spend(const std::string& map, std::size_t series, std::uint64_t cut) {
        std::lock_guard lock(mutex);
        used[std::this_thread::get_id()] += series;
        dropped[map] += cut;
    }
};

template <typename T>
void append_number(std::string& out, T v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
}

void append_hex(std::string& out, const std::byte* p, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    out += "0x";
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned>(p[i]);
        out += digits[c >> 4];
        out += digits[c & 15];
    }
}

// A 16-byte little-endian integer or a pointer, as 0x… without leading zeros.
void append_wide(std::string& out, const std::byte* p, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    out += "0x";
    std::size_t i = n;
    while (i > 1 && p[i - 1] == std::byte{0}) --i;
    bool leading = true;
    for (; i > 0; --i) {
        const auto c = static_cast<unsigned>(p[i - 1]);
        if (!(leading && (c >> 4) == 0)) out += digits[c >> 4];
        out += digits[c & 15];
        leading = false;
    }
}

void render(std::string& out, const LabelField& f, const std::byte* key) {
    const std::byte* p = key + f.slot.offset;
    switch (f.render) {
        case Render::unsigned_int:
            return append_number(out, read_unsigned(key, f.slot));
        case Render::signed_int:
            return append_number(out, read_signed(key, f.slot));
        case Render::wide:
            return append_wide(out, p, f.slot.size);
        case Render::boolean: {
            const std::uint64_t v = read_unsigned(key, f.slot);
            if (v <= 1)
                out += v ? "true" : "false";
            else
                append_number(out, v);
            return;
        }
        case Render::enumeration: {
            const std::uint64_t v =
                f.slot.is_signed ? static_cast<std::uint64_t>(read_signed(key, f.slot)) : read_unsigned(key, f.slot);
            const auto it = std::lower_bound(f.enumerators.begin(), f.enumerators.end(), v,
                                             [](const auto& e, std::uint64_t x) { return e.first < x; });
            if (it != f.enumerators.end() && it->first == v)
                out += it->second;
            else if (f.slot.is_signed)
                append_number(out, static_cast<std::int64_t>(v));
            else
                append_number(out, v);
            return;
        }
        case Render::floating: {
            if (f.slot.size == 4) {
                float v;
                std::memcpy(&v, p, 4);
                return append_number(out, v);
            }
            double v;
            std::memcpy(&v, p, 8);
            return append_number(out, v);
        }
        case Render::chars:
            for (std::size_t i = 0; i < f.slot.size && p[i] != std::byte{0}; ++i) {
                const auto c = static_cast<unsigned char>(p[i]);
                if (c < 0x80) {
                    out += static_cast<char>(c);
                } else {  // Latin-1 as UTF-8: the exposition must be valid UTF-8
                    out += static_cast<char>(0xc0 | (c >> 6));
                    out += static_cast<char>(0x80 | (c & 0x3f));
                }
            }
            return;
        case Render::ipv4:  // by hand: glibc's inet_ntop formats IPv4 with sprintf
            for (int i = 0; i < 4; ++i) {
                if (i) out += '.';
                append_number(out, static_cast<unsigned>(p[i]));
            }
            return;
        case Render::ipv6: {
            char buf[INET6_ADDRSTRLEN];
            if (inet_ntop(AF_INET6, p, buf, sizeof buf)) out += buf;
            return;
        }
        case Render::bytes: {
            static constexpr char digits[] = "0123456789abcdef";
            for (std::size_t i = 0; i < f.slot.size; ++i) {
                if (i) out += ':';
                const auto c = static_cast<unsigned>(p[i]);
                out += digits[c >> 4];
                out += digits[c & 15];
            }
            return;
        }
        case Render::int_list:
            for (std::uint32_t i = 0; i < f.count; ++i) {
                if (i) out += ',';
                const Slot element{f.slot.offset + i * f.element_size, f.element_size, 0, 0, f.slot.is_signed};
                if (f.slot.is_signed)
                    append_number(out, read_signed(key, element));
                else
                    append_number(out, read_unsigned(key, element));
            }
            return;
        case Render::hex:
            return append_hex(out, p, f.slot.size);
    }
}

// One value field summed over `cpus` copies `stride` bytes apart (one copy for maps that
// are not per-CPU).
double field_value(const ValueField& f, const std::byte* value, std::size_t cpus, std::size_t stride) {
    if (f.floating) {
        double sum = 0;
        for (std::size_t c = 0; c < cpus; ++c) {
            const std::byte* p = value + c * stride + f.slot.offset;
            if (f.slot.size == 4) {
                float v;
                std::memcpy(&v, p, 4);
                sum += v;
            } else {
                double v;
                std::memcpy(&v, p, 8);
                sum += v;
            }
        }
        return sum;
    }
    if (f.slot.is_signed) {
        std::int64_t sum = 0;
        for (std::size_t c = 0; c < cpus; ++c) sum += read_signed(value + c * stride, f.slot);
        return static_cast<double>(sum);
    }
    std::uint64_t sum = 0;
    for (std::size_t c = 0; c < cpus; ++c) sum += read_unsigned(value + c * stride, f.slot);
    return static_cast<double>(sum);
}

// The libbpf-tools log2 layout (print_log2_hist): slot 0 holds 0 and 1, slot i > 0 the
// values in [2^i, 2^(i+1)). So bucket i's upper bound is 2^(i+1) - 1 (values are integers),
// and its midpoint, used for the approximate _sum, is 0.5 for slot 0 and (2^i + 2^(i+1) - 1)/2.
Sample histogram_sample(const ValueField& f, const std::byte* value, std::size_t cpus, std::size_t stride) {
    Sample s;
    s.buckets.reserve(f.buckets + 1);
    std::uint64_t cumulative = 0;
    double sum = 0;
    for (std::uint32_t i = 0; i < f.buckets; ++i) {
        const Slot slot{f.slot.offset + i * f.element_size, f.element_size, 0, 0, false};
        std::uint64_t n = 0;
        for (std::size_t c = 0; c < cpus; ++c) n += read_unsigned(value + c * stride, slot);
        cumulative += n;
        const double low = i == 0 ? 0 : std::ldexp(1.0, static_cast<int>(i));
        const double high = std::ldexp(1.0, static_cast<int>(i) + 1) - 1;
        sum += static_cast<double>(n) * (low + high) / 2;
        s.buckets.emplace_back(high, cumulative);
    }
    s.buckets.emplace_back(std::numeric_limits<double>::infinity(), cumulative);
    s.count = cumulative;
    s.sum = sum;
    return s;
}

class MapCollector : public metrics::Collector {
public:
    MapCollector(ebpf::Map map, MapPlan plan, std::shared_ptr<Budget> budget)
        : map_(std::move(map)), plan_(std::move(plan)), budget_(std::move(budget)) {}

    std::string name() const override { return "map:" + map_.name(); }

    void collect(std::vector<Family>& out) override {
        std::vector<Family> families;
        families.reserve(plan_.values.size() + plan_.histograms.size());
        for (const ValueField& f : plan_.values) families.push_back({f.family, f.help, f.type, {}});
        for (const ValueField& f : plan_.histograms) families.push_back({f.family, f.help, f.type, {}});
        const std::size_t available = budget_->available();
        // Room for as many entries as the last scrape had (not max_entries: a mostly empty
        // 1M-entry LRU map must not cost 1M samples of memory at every scrape).
        for (Family& f : families) f.samples.reserve(last_entries_);

        const std::size_t key_size = map_.info().key_size;
        const std::size_t stride = map_.value_stride();
        const std::size_t cpus = map_.value_buffer_size() / std::max<std::size_t>(stride, 1);
        const std::size_t value_size = map_.value_buffer_size();
        std::size_t spent = 0;
        std::uint64_t cut = 0;
        std::vector<Label> labels(plan_.labels.size());
        for (std::size_t i = 0; i < labels.size(); ++i) labels[i].name = plan_.labels[i].name;

        const ebpf::WalkResult walked = map_.walk([&](const std::byte* keys, const std::byte* values, std::size_t n) {
            for (std::size_t e = 0; e < n; ++e) {
                if (spent + plan_.series_per_entry > available) {
                    cut += plan_.series_per_entry;
                    continue;
                }
                spent += plan_.series_per_entry;
                const std::byte* key = keys + e * key_size;
                const std::byte* value = values + e * value_size;
                for (std::size_t i = 0; i < labels.size(); ++i) {
                    labels[i].value.clear();
                    render(labels[i].value, plan_.labels[i], key);
                }
                std::size_t family = 0;
                for (const ValueField& f : plan_.values) {
                    Sample& s = families[family++].samples.emplace_back();
                    s.labels = labels;
                    s.value = field_value(f, value, cpus, stride);
                }
                for (const ValueField& f : plan_.histograms) {
                    Sample s = histogram_sample(f, value, cpus, stride);
                    s.labels = labels;
                    families[family++].samples.push_back(std::move(s));
                }
            }
        });
        (void)walked.complete;  // a map changing under the walk: what was seen is what is exported
        budget_->spend(map_.name(), spent, cut);
        last_entries_ = spent / plan_.series_per_entry;
        for (Family& f : families) out.push_back(std::move(f));
    }

private:
    ebpf::Map map_;
    MapPlan plan_;
    std::shared_ptr<Budget> budget_;
    std::size_t last_entries_ = 0;
};

// Last in the list: reports what --max-series cut, and ends this thread's scrape.
class BudgetCollector : public metrics::Collector {
public:
    explicit BudgetCollector(std::shared_ptr<Budget> budget) : budget_(std::move(budget)) {}

    std::string name() const override { return "map_export"; }

    void collect(std::vector<Family>& out) override {
        Family f{"ebpf_exporter_series_dropped",
                 "Series of pinned maps not exported because the scrape reached --max-series (" +
                     std::to_string(budget_->max_series) + ")",
                 metrics::Type::counter,
                 {}};
        std::lock_guard lock(budget_->mutex);
        budget_->used.erase(std::this_thread::get_id());
        for (const auto& [map, dropped] : budget_->dropped) {
            Sample& s = f.samples.emplace_back();
            s.labels.push_back({"map", map});
            s.value = static_cast<double>(dropped);
        }
        out.push_back(std::move(f));
    }

private:
    std::shared_ptr<Budget> budget_;
};

struct Opened {
    ebpf::Map map;
    MapPlan plan;
};

// Every entry of a --map-dir directory, by name; what is not a pin file is skipped.
std::vector<std::string> dir_entries(const std::string& dir, std::vector<std::string>& skipped) {
    // The directory itself: on bpffs, and every directory down to it trusted (pin.hpp).
    std::string real;
    try {
        // new_pin_path checks a pin's directory: ask about a name in `dir`, keep the directory.
        real = ebpf::pins::new_pin_path(dir + "/_");
    } catch (const ebpf::Error& e) {
        throw ebpf::Error::make(ebpf::errc::bad_value, "--map-dir '" + dir + "': " + e.what(), e.errno_value());
    }
    real.resize(real.size() - 2);
    if (real.empty()) real = "/";
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(real.c_str()), ::closedir);
    if (!d) throw ebpf::Error::sys(errno, "--map-dir '" + dir + "'");
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d.get())) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    std::vector<std::string> paths;
    for (const std::string& name : names) {
        const std::string path = real + "/" + name;
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) continue;  // gone since readdir
        if (S_ISDIR(st.st_mode))
            skipped.push_back("'" + path + "': a directory (--map-dir does not descend)");
        else if (S_ISLNK(st.st_mode))
            skipped.push_back("'" + path + "': a symlink (pins are not followed through symlinks)");
        else
            paths.push_back(path);
    }
    return paths;
}

}  // namespace

std::vector<std::unique_ptr<metrics::Collector>> make_collectors(const Options& options,
                                                                 std::vector<std::string>& skipped) {
    if (options.max_series == 0) throw UsageError("--max-series must be at least 1");
    std::vector<Opened> opened;
    std::set<std::uint32_t> ids;
    // To refuse collisions between maps, what claimed a name first: "'map' (pinned at PATH)"
    // by metric prefix, and that plus the field by family name, as the writer writes it.
    std::map<std::string, std::string> prefixes, families;
    std::vector<std::string> matched;

    const auto add = [&](const std::string& path, bool from_dir) {
        std::string real;
        std::optional<ebpf::Map> map;
        try {
            real = ebpf::pins::existing_pin_path(path);
            map.emplace(ebpf::Map::open_pinned_read_only(real));
        } catch (const ebpf::Error& e) {
            // In a directory, pins of programs and links are expected neighbours.
            if (from_dir && e.code() == ebpf::errc::wrong_type) {
                skipped.push_back(e.what());
                return;
            }
            throw;
        }
        if (!ids.insert(map->info().id).second) return;  // the same map pinned twice, or named twice
        MapPlan plan;
        try {
            plan = plan_map(*map, path, options.value_fields, options.histogram, matched);
        } catch (const ebpf::Error& e) {
            if (!from_dir) throw;
            skipped.push_back(e.what());
            return;
        }
        const std::string which = "'" + map->name() + "' (pinned at " + path + ")";
        if (auto [it, fresh] = prefixes.emplace(plan.prefix, which); !fresh)
            throw ebpf::Error::make(ebpf::errc::ambiguous, "maps " + it->second + " and " + which +
                                                               " would both export metrics named " + plan.prefix +
                                                               "_*: export one of them");
        // A family of another map can have the same name without the same prefix: map
        // "flows" with field "packets" and map "flows_packets" both make ebpf_map_flows_packets.
        // The registry would merge them under one HELP (or fail the scrape if the types differ).
        for (const auto* list : {&plan.values, &plan.histograms})
            for (const ValueField& f : *list) {
                const std::string what = which + (f.path.empty() ? ", its value" : ", field '" + f.path + "'");
                const std::string name = exposition::family_name(f.family, f.type);
                if (auto [it, fresh] = families.emplace(name, what); !fresh)
                    throw ebpf::Error::make(ebpf::errc::ambiguous,
                                            "maps " + it->second + " and " + what + " would both export " + name +
                                                ": export one of them (or leave the field out with --value-field)");
            }
        opened.push_back({std::move(*map), std::move(plan)});
    };
    for (const std::string& path : options.pinned) add(path, false);
    for (const std::string& dir : options.dirs)
        for (const std::string& path : dir_entries(dir, skipped)) add(path, true);

    // Also when no map is exported (every pin of a --map-dir skipped): a misspelt name
    // must not pass unnoticed, whatever else serve exports.
    for (const std::string& name : options.value_fields)
        if (std::find(matched.begin(), matched.end(), name) == matched.end())
            throw UsageError("--value-field '" + name + "': no exported map has a numeric value field of that name" +
                             (opened.empty() ? std::string(" (no map is exported: every pin was skipped)") : ""));

    std::vector<std::unique_ptr<metrics::Collector>> out;
    if (opened.empty()) return out;
    auto budget = std::make_shared<Budget>();
    budget->max_series = options.max_series;
    for (Opened& o : opened) {
        budget->dropped[o.map.name()] = 0;  // every map's counter is there from the first scrape
        out.push_back(std::make_unique<MapCollector>(std::move(o.map), std::move(o.plan), budget));
    }
    out.push_back(std::make_unique<BudgetCollector>(budget));
    return out;
}

std::vector<std::unique_ptr<metrics::Collector>> make_collectors(const Options& options) {
    std::vector<std::string> skipped;
    const auto report = [&] {
        for (const std::string& reason : skipped) std::cerr << "ebpf-tool: serve: skipping " << reason << "\n";
    };
    try {
        auto collectors = make_collectors(options, skipped);
        report();
        return collectors;
    } catch (...) {
        report();  // what was skipped may be why the error happened (no map left for --value-field)
        throw;
    }
}

}  // namespace ebpf_tool::map_export
