// `serve --map`'s exporter against real pinned maps (tests/bpf/serve_maps.bpf.c): the
// object is loaded, its maps pinned in this process's own bpffs directory and filled with
// known entries, then make_collectors() runs and every family, label and value is checked.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>

#include "common.hpp"
#include "ebpf/btf.hpp"
#include "ebpf/error.hpp"
#include "ebpf/map.hpp"
#include "ebpf/object.hpp"
#include "ebpf/pin.hpp"
#include "ebpf/typed.hpp"
#include "kernel.hpp"
#include "map_export.hpp"
#include "pinned.hpp"
#include "unique.hpp"

namespace {

namespace me = ebpf_tool::map_export;
using ebpf_tool::metrics::Family;
using ebpf_tool::metrics::Sample;
using ebpf_tool::metrics::Type;

// The C++ twins of serve_maps.bpf.c's types (sizes checked against the kernel's maps).
struct FlowKey {
    std::uint32_t pid;
    char comm[16];
    std::uint32_t proto;
    std::uint8_t saddr[4];
    std::uint8_t daddr[16];
    std::uint8_t dst[4];  // __be32: network order in memory
    std::uint16_t port;
    std::int16_t zone;
    std::uint8_t ip6[16];
    bool outbound;
    std::uint8_t pad[3];
};
static_assert(sizeof(FlowKey) == 72);
struct FlowValue {
    std::uint64_t packets, bytes;
    std::uint32_t something, pad;
};
static_assert(sizeof(FlowValue) == 24);
struct CpuValue {
    std::uint64_t events;
    std::int64_t level;
};

class MapExport : public test::PinnedObjectTest {
protected:
    MapExport() : PinnedObjectTest(std::string(BPF_OBJECT_DIR) + "/serve_maps.o", "ebpf-export-") {}

    ebpf::Map writable(const std::string& name) const { return ebpf::Map::open_pinned(pin(name)); }

    static std::vector<Family> scrape(std::vector<std::unique_ptr<ebpf_tool::metrics::Collector>>& collectors) {
        std::vector<Family> out;
        for (auto& c : collectors) c->collect(out);
        return out;
    }
    static std::vector<Family> scrape_once(const me::Options& options) {
        auto collectors = me::make_collectors(options);
        return scrape(collectors);
    }

    static const Family& family(const std::vector<Family>& families, const std::string& name) {
        auto it = std::find_if(families.begin(), families.end(), [&](const Family& f) { return f.name == name; });
        if (it == families.end()) {
            std::string have;
            for (const Family& f : families) have += " " + f.name;
            throw std::runtime_error("no family " + name + "; have:" + have);
        }
        return *it;
    }
    static std::vector<std::string> names(const std::vector<Family>& families) {
        std::vector<std::string> out;
        for (const Family& f : families) out.push_back(f.name);
        return out;
    }
    // "a=1,b=x" → value, for every sample of a family.
    static std::map<std::string, double> by_labels(const Family& f) {
        std::map<std::string, double> out;
        for (const Sample& s : f.samples) out[labels(s)] = s.value;
        return out;
    }
    static std::string labels(const Sample& s) {
        std::string text;
        for (const auto& l : s.labels) text += (text.empty() ? "" : ",") + l.name + "=" + l.value;
        return text;
    }
};

FlowKey flow_key(std::uint32_t pid, const char* comm, std::uint32_t proto) {
    FlowKey k;
    std::memset(&k, 0, sizeof k);
    k.pid = pid;
    std::strncpy(k.comm, comm, sizeof k.comm - 1);
    k.proto = proto;
    const std::uint8_t saddr[4] = {10, 0, 0, static_cast<std::uint8_t>(pid % 250)};
    std::memcpy(k.saddr, saddr, 4);
    inet_pton(AF_INET6, "2001:db8::1", k.daddr);
    inet_pton(AF_INET, "192.168.1.2", k.dst);
    k.port = 443;
    k.zone = -3;
    inet_pton(AF_INET6, "fe80::2", k.ip6);
    k.outbound = pid % 2 == 1;
    return k;
}

TEST_F(MapExport, StructKeyBecomesLabelsAndEachNumericFieldAFamily) {
    ebpf::Map flows = writable("flows");
    ASSERT_EQ(flows.info().key_size, sizeof(FlowKey));
    ASSERT_EQ(flows.info().value_size, sizeof(FlowValue));
    FlowKey a = flow_key(101, "curl", 6), b = flow_key(202, "dig\"\\x", 17);
    FlowValue va{3, 300, 7, 0}, vb{5, 500, 9, 0};
    flows.update(&a, &va);
    flows.update(&b, &vb);

    me::Options options;
    options.pinned = {pin("flows")};
    const auto families = scrape_once(options);
    EXPECT_EQ(names(families), (std::vector<std::string>{"ebpf_map_flows_packets", "ebpf_map_flows_bytes",
                                                         "ebpf_map_flows_something", "ebpf_exporter_series_dropped"}));
    const std::string la =
        "pid=101,comm=curl,proto=FLOW_TCP,saddr=10.0.0.101,daddr=2001:db8::1,dst=192.168.1.2,inner_port=443,"
        "inner_zone=-3,ip6=fe80::2,outbound=true";
    const std::string lb =
        "pid=202,comm=dig\"\\x,proto=FLOW_UDP,saddr=10.0.0.202,daddr=2001:db8::1,dst=192.168.1.2,inner_port=443,"
        "inner_zone=-3,ip6=fe80::2,outbound=false";
    const Family& packets = family(families, "ebpf_map_flows_packets");
    EXPECT_EQ(packets.type, Type::counter);
    EXPECT_EQ(by_labels(packets), (std::map<std::string, double>{{la, 3}, {lb, 5}}));
    const Family& bytes = family(families, "ebpf_map_flows_bytes");
    EXPECT_EQ(bytes.type, Type::counter);
    EXPECT_EQ(by_labels(bytes), (std::map<std::string, double>{{la, 300}, {lb, 500}}));
    const Family& something = family(families, "ebpf_map_flows_something");
    EXPECT_EQ(something.type, Type::gauge);
    EXPECT_EQ(by_labels(something), (std::map<std::string, double>{{la, 7}, {lb, 9}}));
    EXPECT_NE(something.help.find("something"), std::string::npos) << something.help;

    const Family& dropped = family(families, "ebpf_exporter_series_dropped");
    EXPECT_EQ(dropped.type, Type::counter);
    EXPECT_EQ(by_labels(dropped), (std::map<std::string, double>{{"map=flows", 0}}));
}

TEST_F(MapExport, PerCpuValuesAreSummedOverPossibleCpus) {
    ebpf::Map per_cpu = writable("per_cpu");
    const unsigned cpus = ebpf::possible_cpus();
    std::vector<std::byte> buffer(per_cpu.value_buffer_size());
    ASSERT_EQ(buffer.size(), cpus * sizeof(CpuValue));
    for (std::uint32_t key : {1u, 2u}) {
        for (unsigned c = 0; c < cpus; ++c) {
            const CpuValue v{key * (c + 1), -static_cast<std::int64_t>(key)};
            std::memcpy(buffer.data() + c * sizeof(CpuValue), &v, sizeof v);
        }
        per_cpu.update(&key, buffer.data());
    }
    me::Options options;
    options.pinned = {pin("per_cpu")};
    const auto families = scrape_once(options);
    const double triangle = cpus * (cpus + 1) / 2.0;
    const Family& events = family(families, "ebpf_map_per_cpu_events");
    EXPECT_EQ(events.type, Type::counter);
    EXPECT_EQ(by_labels(events), (std::map<std::string, double>{{"key=1", triangle}, {"key=2", 2 * triangle}}));
    // Signed: never a counter; and a gauge must not end in _sum (kept for histograms).
    const Family& level = family(families, "ebpf_map_per_cpu_delta_sum_value");
    EXPECT_EQ(level.type, Type::gauge);
    EXPECT_EQ(by_labels(level), (std::map<std::string, double>{{"key=1", -1.0 * cpus}, {"key=2", -2.0 * cpus}}));
}

TEST_F(MapExport, ScalarKeyArrayHasAKeyLabelAndOneFamily) {
    ebpf::Map by_index = writable("by_index");
    const std::uint64_t values[4] = {5, 0, 7, 9};
    for (std::uint32_t i = 0; i < 4; ++i) by_index.update(&i, &values[i]);
    me::Options options;
    options.pinned = {pin("by_index")};
    const auto families = scrape_once(options);
    EXPECT_EQ(names(families), (std::vector<std::string>{"ebpf_map_by_index", "ebpf_exporter_series_dropped"}));
    const Family& f = family(families, "ebpf_map_by_index");
    EXPECT_EQ(f.type, Type::gauge);
    EXPECT_EQ(by_labels(f), (std::map<std::string, double>{{"key=0", 5}, {"key=1", 0}, {"key=2", 7}, {"key=3", 9}}));
}

TEST_F(MapExport, Log2ArraysAreHistogramsWithLibbpfToolsBounds) {
    ebpf::Map latency = writable("latency");
    const std::uint32_t slots[8] = {1, 2, 0, 3, 0, 0, 0, 1};
    const std::uint32_t zero = 0;
    latency.update(&zero, slots);

    me::Options options;
    options.pinned = {pin("latency")};
    try {
        (void)me::make_collectors(options);
        FAIL() << "an array of buckets without --histogram was accepted";
    } catch (const ebpf::Error& e) {
        EXPECT_NE(std::string(e.what()).find("--histogram"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("latency"), std::string::npos) << e.what();
    }

    options.histogram = true;
    const auto families = scrape_once(options);
    const Family& h = family(families, "ebpf_map_latency_slots");
    EXPECT_EQ(h.type, Type::histogram);
    ASSERT_EQ(h.samples.size(), 2u);  // an array has every index
    const Sample& s =
        *std::find_if(h.samples.begin(), h.samples.end(), [](const Sample& x) { return labels(x) == "key=0"; });
    const std::vector<std::pair<double, std::uint64_t>> expected{{1, 1},  {3, 3},   {7, 3},   {15, 6},      {31, 6},
                                                                 {63, 6}, {127, 6}, {255, 7}, {INFINITY, 7}};
    EXPECT_EQ(s.buckets, expected);
    EXPECT_EQ(s.count, 7u);
    // Midpoints: slot 0: 0.5, slot 1: 2.5, slot 3: 11.5, slot 7: 191.5.
    EXPECT_DOUBLE_EQ(s.sum, 1 * 0.5 + 2 * 2.5 + 3 * 11.5 + 1 * 191.5);

    // A bare per-CPU array of u64 buckets: the family is the map's, slots summed over CPUs.
    ebpf::Map bare = writable("bare_hist");
    const unsigned cpus = ebpf::possible_cpus();
    std::vector<std::uint64_t> buffer(cpus * 4, 0);
    for (unsigned c = 0; c < cpus; ++c) buffer[c * 4 + 2] = 1;  // one value in [4, 8) per CPU
    bare.update(&zero, buffer.data());
    options.pinned = {pin("bare_hist")};
    const auto bare_families = scrape_once(options);
    const Family& b = family(bare_families, "ebpf_map_bare_hist");
    ASSERT_EQ(b.samples.size(), 1u);
    EXPECT_EQ(b.samples[0].buckets,
              (std::vector<std::pair<double, std::uint64_t>>{{1, 0}, {3, 0}, {7, cpus}, {15, cpus}, {INFINITY, cpus}}));
    EXPECT_DOUBLE_EQ(b.samples[0].sum, cpus * 5.5);
}

TEST_F(MapExport, MaxSeriesCutsWholeEntriesAndCountsWhatWasCut) {
    ebpf::Map flows = writable("flows");
    for (std::uint32_t pid = 1; pid <= 10; ++pid) {
        const FlowKey k = flow_key(pid, "x", 6);
        const FlowValue v{pid, pid, pid, 0};
        flows.update(&k, &v);
    }
    ebpf::Map by_index = writable("by_index");
    const std::uint64_t one = 1;
    for (std::uint32_t i = 0; i < 4; ++i) by_index.update(&i, &one);

    me::Options options;
    options.pinned = {pin("flows"), pin("by_index")};
    options.max_series = 8;  // flows: 3 series an entry, so 2 entries (6); by_index: 2 of its 4
    auto collectors = me::make_collectors(options);
    for (int round = 1; round <= 2; ++round) {
        const auto families = scrape(collectors);
        EXPECT_EQ(family(families, "ebpf_map_flows_packets").samples.size(), 2u);
        EXPECT_EQ(family(families, "ebpf_map_flows_bytes").samples.size(), 2u);
        EXPECT_EQ(family(families, "ebpf_map_by_index").samples.size(), 2u);
        // Cumulative over scrapes, as a counter: 8 flows × 3 series and 2 array entries a scrape.
        EXPECT_EQ(by_labels(family(families, "ebpf_exporter_series_dropped")),
                  (std::map<std::string, double>{{"map=flows", 24.0 * round}, {"map=by_index", 2.0 * round}}))
            << "round " << round;
    }
}

TEST_F(MapExport, ValueFieldPicksFamilies) {
    ebpf::Map flows = writable("flows");
    const FlowKey k = flow_key(7, "a", 6);
    const FlowValue v{1, 2, 3, 0};
    flows.update(&k, &v);
    me::Options options;
    options.pinned = {pin("flows")};
    options.value_fields = {"bytes"};
    const auto families = scrape_once(options);
    EXPECT_EQ(names(families), (std::vector<std::string>{"ebpf_map_flows_bytes", "ebpf_exporter_series_dropped"}));
    EXPECT_EQ(family(families, "ebpf_map_flows_bytes").samples.at(0).value, 2);

    options.value_fields = {"bytes", "no_such_field"};
    EXPECT_THROW((void)me::make_collectors(options), ebpf_tool::UsageError);
    options.value_fields = {"no_such_field"};
    try {
        (void)me::make_collectors(options);
        FAIL() << "a --value-field that names nothing was accepted";
    } catch (const ebpf::Error& e) {
        EXPECT_NE(std::string(e.what()).find("packets, bytes, something"), std::string::npos) << e.what();
    }
}

TEST_F(MapExport, MapDirExportsEveryMapAndSkipsOtherPinsWithAReason) {
    const ebpf::Program prog = object_->program("serve_maps_noop");
    ASSERT_EQ(bpf_obj_pin(prog.fd(), pin("prog").c_str()), 0);
    ASSERT_EQ(::mkdir(pin("sub").c_str(), 0700), 0);
    ASSERT_EQ(::symlink(pin("flows").c_str(), pin("link").c_str()), 0);
    ebpf::Map by_index = writable("by_index");
    const std::uint32_t two = 2;
    const std::uint64_t value = 42;
    by_index.update(&two, &value);

    me::Options options;
    options.dirs = {dir_};
    std::vector<std::string> skipped;
    auto collectors = me::make_collectors(options, skipped);
    std::vector<std::string> collector_names;
    for (const auto& c : collectors) collector_names.push_back(c->name());
    EXPECT_EQ(collector_names, (std::vector<std::string>{"map:by_index", "map:flows", "map:per_cpu", "map_export"}));
    ASSERT_EQ(skipped.size(), 6u) << testing::PrintToString(skipped);
    const auto reason = [&](const std::string& needle) {
        return std::count_if(skipped.begin(), skipped.end(),
                             [&](const std::string& s) { return s.find(needle) != std::string::npos; });
    };
    EXPECT_EQ(reason("bare_hist") + reason("latency"), 2) << testing::PrintToString(skipped);
    EXPECT_EQ(reason("--histogram"), 2) << testing::PrintToString(skipped);
    EXPECT_EQ(reason("/prog' is a program, not a map"), 1) << testing::PrintToString(skipped);
    EXPECT_EQ(reason("ringbuf"), 1) << testing::PrintToString(skipped);
    EXPECT_EQ(reason("/sub': a directory"), 1) << testing::PrintToString(skipped);
    EXPECT_EQ(reason("/link': a symlink"), 1) << testing::PrintToString(skipped);
    const auto families = scrape(collectors);
    EXPECT_EQ(by_labels(family(families, "ebpf_map_by_index")).at("key=2"), 42);

    options.histogram = true;
    options.pinned = {pin("flows")};  // named again through the directory: exported once
    skipped.clear();
    EXPECT_EQ(me::make_collectors(options, skipped).size(), 6u);  // five maps and the bookkeeping
    EXPECT_EQ(skipped.size(), 4u) << testing::PrintToString(skipped);
}

std::string error_of(const me::Options& options) {
    try {
        (void)me::make_collectors(options);
    } catch (const std::exception& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
        return what;
    }
    return "(no error)";
}

TEST_F(MapExport, BadPinsAreRefusedWithOneLine) {
    me::Options options;
    options.pinned = {pin("missing")};
    EXPECT_NE(error_of(options).find("no such pin"), std::string::npos) << error_of(options);

    const std::string tmp = "/tmp/" + test::unique_name("ebpf-export-file-");
    {
        std::FILE* f = std::fopen(tmp.c_str(), "w");
        ASSERT_TRUE(f);
        std::fclose(f);
    }
    options.pinned = {tmp};
    EXPECT_NE(error_of(options).find("not on a bpf filesystem"), std::string::npos) << error_of(options);
    std::remove(tmp.c_str());

    const ebpf::Program prog = object_->program("serve_maps_noop");
    ASSERT_EQ(bpf_obj_pin(prog.fd(), pin("prog").c_str()), 0);
    options.pinned = {pin("prog")};
    EXPECT_NE(error_of(options).find("is a program, not a map"), std::string::npos) << error_of(options);

    options.pinned = {pin("events")};
    EXPECT_NE(error_of(options).find("ringbuf"), std::string::npos) << error_of(options);

    options.dirs = {"/tmp"};
    options.pinned.clear();
    EXPECT_NE(error_of(options).find("not on a bpf filesystem"), std::string::npos) << error_of(options);
}

TEST_F(MapExport, MapsWithoutBtfAreReadAsIntegersOrRefused) {
    // No BTF and a 6-byte key: nothing to label it with.
    ebpf::Map odd = ebpf::Map::create(ebpf::MapSpec::make(BPF_MAP_TYPE_HASH, "nobtf_odd", 6, 8, 4));
    odd.pin(pin("nobtf_odd"));
    me::Options options;
    options.pinned = {pin("nobtf_odd")};
    const std::string error = error_of(options);
    EXPECT_NE(error.find("nobtf_odd"), std::string::npos) << error;
    EXPECT_NE(error.find("no BTF"), std::string::npos) << error;

    // No BTF, u32 keys and u64 values: exported as integers (the name says counter).
    ebpf::Map plain = ebpf::Map::create(ebpf::MapSpec::make(BPF_MAP_TYPE_HASH, "nobtf_count", 4, 8, 4));
    const std::uint32_t key = 77;
    const std::uint64_t value = 12;
    plain.update(&key, &value);
    plain.pin(pin("nobtf_count"));
    options.pinned = {pin("nobtf_count")};
    const auto families = scrape_once(options);
    const Family& f = family(families, "ebpf_map_nobtf_count");
    EXPECT_EQ(f.type, Type::counter);
    EXPECT_EQ(by_labels(f), (std::map<std::string, double>{{"key=77", 12}}));
    EXPECT_NE(f.help.find("no BTF"), std::string::npos) << f.help;
}

// Every entry of a map, key and value in hex, read through `map` (a fd of the test's own).
std::map<std::string, std::string> entries(const ebpf::Map& map) {
    const auto hex = [](const std::byte* p, std::size_t n) {
        std::string out;
        for (std::size_t i = 0; i < n; ++i) {
            char two[3];
            std::snprintf(two, sizeof two, "%02x", static_cast<unsigned>(p[i]));
            out += two;
        }
        return out;
    };
    std::map<std::string, std::string> out;
    const std::size_t key_size = map.info().key_size, value_size = map.value_buffer_size();
    const ebpf::WalkResult walked = map.walk([&](const std::byte* keys, const std::byte* values, std::size_t n) {
        for (std::size_t e = 0; e < n; ++e)
            out.emplace(hex(keys + e * key_size, key_size), hex(values + e * value_size, value_size));
    });
    EXPECT_TRUE(walked.complete);
    return out;
}

// This process's BPF map fds: fd -> map id and access mode (O_RDONLY …), from fdinfo.
std::map<int, std::pair<std::uint32_t, int>> map_fds() {
    std::vector<int> fds;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
        fds.push_back(std::stoi(entry.path().filename().string()));
    std::map<int, std::pair<std::uint32_t, int>> out;
    for (int fd : fds) {  // the directory's own fd is closed by now, and not a map
        std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
        std::string line;
        std::optional<std::uint32_t> id;
        int flags = -1;
        while (std::getline(in, line)) {
            if (line.starts_with("map_id:")) id = static_cast<std::uint32_t>(std::stoul(line.substr(7)));
            if (line.starts_with("flags:")) flags = static_cast<int>(std::stoul(line.substr(6), nullptr, 8));
        }
        if (id && flags >= 0) out[fd] = {*id, flags & O_ACCMODE};
    }
    return out;
}

TEST_F(MapExport, ExportingDoesNotWriteTheMap) {
    // The kernel refuses writes through a read-only fd ...
    ebpf::Map read_only = ebpf::Map::open_pinned_read_only(pin("by_index"));
    const std::uint32_t zero = 0;
    const std::uint64_t one = 1;
    EXPECT_THROW(read_only.update(&zero, &one), ebpf::Error);

    // ... and every fd the exporter holds on its maps is one.
    ebpf::Map flows = writable("flows");
    ebpf::Map by_index = writable("by_index");
    for (std::uint32_t pid = 1; pid <= 5; ++pid) {
        const FlowKey k = flow_key(pid, "w", 6);
        const FlowValue v{pid, 10 * pid, pid, 0};
        flows.update(&k, &v);
    }
    for (std::uint32_t i = 0; i < 4; ++i) {
        const std::uint64_t v = 100 + i;
        by_index.update(&i, &v);
    }
    me::Options options;
    options.pinned = {pin("flows"), pin("by_index")};
    const auto before = map_fds();
    auto collectors = me::make_collectors(options);
    std::size_t exporter_fds = 0;
    for (const auto& [fd, info] : map_fds()) {
        if (before.count(fd) || (info.first != flows.info().id && info.first != by_index.info().id)) continue;
        ++exporter_fds;
        EXPECT_EQ(info.second, O_RDONLY) << "the exporter's fd " << fd << " on map id " << info.first;
    }
    EXPECT_EQ(exporter_fds, 2u);

    // A scrape reads every entry and leaves every entry as it was: a walk that deleted would
    // empty the hash map, one that wrote (zeroed, reset) would change the values. Compared
    // byte for byte through the test's own fds, after two scrapes.
    const auto flows_before = entries(flows), index_before = entries(by_index);
    ASSERT_EQ(flows_before.size(), 5u);
    ASSERT_EQ(index_before.size(), 4u);
    for (int round = 1; round <= 2; ++round) {
        const auto families = scrape(collectors);
        EXPECT_EQ(family(families, "ebpf_map_flows_bytes").samples.size(), 5u) << "round " << round;
        EXPECT_EQ(by_labels(family(families, "ebpf_map_by_index")),
                  (std::map<std::string, double>{{"key=0", 100}, {"key=1", 101}, {"key=2", 102}, {"key=3", 103}}))
            << "round " << round;
    }
    EXPECT_EQ(entries(flows), flows_before);
    EXPECT_EQ(entries(by_index), index_before);
}

TEST_F(MapExport, FamilyNamesThatCollideAcrossMapsAreRefusedNamingBoth) {
    // Map "flows" has a counter field "packets"; a map named "flows_packets" whose value is a
    // plain u64 (no BTF, the name says counter): both would be ebpf_map_flows_packets.
    ebpf::Map other = ebpf::Map::create(ebpf::MapSpec::make(BPF_MAP_TYPE_HASH, "flows_packets", 4, 8, 4));
    other.pin(pin("flows_packets"));
    me::Options options;
    options.pinned = {pin("flows"), pin("flows_packets")};
    const std::string error = error_of(options);
    EXPECT_EQ(error,
              "maps 'flows' (pinned at " + pin("flows") + "), field 'packets' and 'flows_packets' (pinned at " +
                  pin("flows_packets") +
                  "), its value would both export ebpf_map_flows_packets: export one of them (or leave the field "
                  "out with --value-field)");

    // Through a directory as well: a collision is not a pin to skip.
    options.pinned.clear();
    options.dirs = {dir_};
    options.histogram = true;
    EXPECT_NE(error_of(options).find("would both export ebpf_map_flows_packets"), std::string::npos)
        << error_of(options);

    // Each on its own is exported.
    options.dirs.clear();
    options.histogram = false;
    for (const char* name : {"flows", "flows_packets"}) {
        options.pinned = {pin(name)};
        EXPECT_EQ(me::make_collectors(options).size(), 2u) << name;
    }
}

TEST_F(MapExport, ValueFieldIsCheckedWhenEveryPinOfTheDirIsSkipped) {
    const std::string only_prog = ebpf::pins::make_trusted_dir(pin("only_prog"));
    const ebpf::Program prog = object_->program("serve_maps_noop");
    ASSERT_EQ(bpf_obj_pin(prog.fd(), (only_prog + "/prog").c_str()), 0);
    me::Options options;
    options.dirs = {only_prog};
    std::vector<std::string> skipped;
    // No collectors: serve decides what that means (with other collectors, or none).
    EXPECT_TRUE(me::make_collectors(options, skipped).empty());
    EXPECT_EQ(skipped.size(), 1u) << testing::PrintToString(skipped);

    options.value_fields = {"pakcets"};
    skipped.clear();
    try {
        (void)me::make_collectors(options, skipped);
        FAIL() << "a misspelt --value-field passed when no map was exported";
    } catch (const ebpf_tool::UsageError& e) {
        EXPECT_STREQ(e.what(),
                     "--value-field 'pakcets': no exported map has a numeric value field of that name (no map is "
                     "exported: every pin was skipped)");
    }
    EXPECT_EQ(skipped.size(), 1u) << testing::PrintToString(skipped);
}

// A map whose BTF the test builds: key __u32, value `value` (made by `add` on the BTF).
ebpf::Map map_with_btf(const std::string& name, bpf_map_type type, std::uint32_t value_size,
                       const std::function<int(::btf*, int u32, int u64)>& add) {
    ebpf::Btf types{btf__new_empty()};
    const int u32 = btf__add_int(types.get(), "unsigned int", 4, 0);
    const int u64 = btf__add_int(types.get(), "unsigned long long", 8, 0);
    const int value = add(types.get(), u32, u64);
    if (u32 <= 0 || u64 <= 0 || value <= 0 || btf__load_into_kernel(types.get()) != 0)
        throw std::runtime_error("building the BTF of " + name + " failed");
    ebpf::MapSpec spec = ebpf::MapSpec::make(type, name, 4, value_size, 2);
    spec.btf_fd = btf__fd(types.get());
    spec.btf_key_type_id = static_cast<std::uint32_t>(u32);
    spec.btf_value_type_id = static_cast<std::uint32_t>(value);
    return ebpf::Map::create(spec);
}

TEST_F(MapExport, HistogramsHaveAtMost64Log2Buckets) {
    // u64[64]: the most a log2 histogram of 64-bit values has; every bound finite and
    // increasing, one +Inf.
    ebpf::Map h64 = map_with_btf("hist64", BPF_MAP_TYPE_ARRAY, 64 * 8,
                                 [](::btf* b, int u32, int u64) { return btf__add_array(b, u32, u64, 64); });
    h64.pin(pin("hist64"));
    std::vector<std::uint64_t> slots(64, 0);
    slots[63] = 2;
    const std::uint32_t zero = 0;
    h64.update(&zero, slots.data());
    me::Options options;
    options.pinned = {pin("hist64")};
    options.histogram = true;
    const auto families = scrape_once(options);
    const Family& h = family(families, "ebpf_map_hist64");
    ASSERT_EQ(h.samples.size(), 2u);
    const auto& buckets = h.samples[0].buckets;
    ASSERT_EQ(buckets.size(), 65u);
    for (std::size_t i = 0; i + 1 < buckets.size(); ++i) {
        EXPECT_TRUE(std::isfinite(buckets[i].first)) << "bucket " << i;
        if (i) {
            EXPECT_LT(buckets[i - 1].first, buckets[i].first) << "bucket " << i;
        }
    }
    EXPECT_EQ(buckets.back().first, INFINITY);
    EXPECT_DOUBLE_EQ(buckets[63].first, std::ldexp(1.0, 64));  // 2^64 - 1 as a double
    EXPECT_EQ(buckets[63].second, 2u);

    // u64[1100]: not log2 buckets (its bounds would be +Inf from slot 1023 on): refused with
    // one line, and skipped in a --map-dir.
    ebpf::Map long_array = map_with_btf("long_array", BPF_MAP_TYPE_ARRAY, 1100 * 8,
                                        [](::btf* b, int u32, int u64) { return btf__add_array(b, u32, u64, 1100); });
    long_array.pin(pin("long_array"));
    options.pinned = {pin("long_array")};
    EXPECT_EQ(error_of(options), "map 'long_array' (" + pin("long_array") +
                                     "): its value is an array of 1100 integers, more than the 64 slots of a log2 "
                                     "histogram, and it has no other numeric field to export");
    options.pinned.clear();
    options.dirs = {dir_};
    std::vector<std::string> skipped;
    auto collectors = me::make_collectors(options, skipped);
    EXPECT_EQ(std::count_if(skipped.begin(), skipped.end(),
                            [](const std::string& s) { return s.find("long_array") != std::string::npos; }),
              1)
        << testing::PrintToString(skipped);

    // A long array beside a number: the number is exported, the array is not (like any
    // value member that is not a number).
    ebpf::Map mixed = map_with_btf("mixed", BPF_MAP_TYPE_ARRAY, 8 + 65 * 4, [](::btf* b, int u32, int u64) {
        const int array = btf__add_array(b, u32, u32, 65);
        const int s = btf__add_struct(b, "mixed", 8 + 65 * 4);
        if (btf__add_field(b, "events", u64, 0, 0) < 0 || btf__add_field(b, "slots", array, 64, 0) < 0) return -1;
        return s;
    });
    mixed.pin(pin("mixed"));
    options.dirs.clear();
    options.pinned = {pin("mixed")};
    EXPECT_EQ(names(scrape_once(options)),
              (std::vector<std::string>{"ebpf_map_mixed_events", "ebpf_exporter_series_dropped"}));
}

}  // namespace
