// `ebpf-tool serve --map pinned …` from the outside: maps of tests/bpf/serve_maps.bpf.c,
// pinned in this process's own bpffs directory and filled with known entries, scraped over
// TCP; the exposition passes `promtool check metrics` and has the exact labels and values.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>

#include "ebpf/map.hpp"
#include "ebpf/object.hpp"
#include "ebpf/pin.hpp"
#include "http.hpp"
#include "kernel.hpp"
#include "pinned.hpp"
#include "process.hpp"
#include "unique.hpp"

using namespace std::chrono_literals;

namespace {

// Series as written ("name{labels}") → value.
std::map<std::string, std::string> series(const std::string& body) {
    std::map<std::string, std::string> out;
    for (const auto& line : test::lines(body)) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.rfind(' ');
        out[line.substr(0, space)] = line.substr(space + 1);
    }
    return out;
}

class ServeMapCommand : public test::PinnedObjectTest {
protected:
    ServeMapCommand() : PinnedObjectTest(std::string(BPF_OBJECT_DIR) + "/serve_maps.o", "ebpf-serve-map-") {}
};

struct FlowKey {
    std::uint32_t pid;
    char comm[16];
    std::uint32_t proto;
    std::uint8_t saddr[4];
    std::uint8_t daddr[16];
    std::uint8_t dst[4];
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

TEST_F(ServeMapCommand, PinnedMapsPassPromtoolWithExactLabelsAndValues) {
    ebpf::Map flows = ebpf::Map::open_pinned(pin("flows"));
    FlowKey k;
    std::memset(&k, 0, sizeof k);
    k.pid = 4242;
    std::strcpy(k.comm, "say\"hi\\");
    k.proto = 17;
    const std::uint8_t saddr[4] = {172, 16, 0, 9};
    std::memcpy(k.saddr, saddr, 4);
    inet_pton(AF_INET6, "2001:db8::7", k.daddr);
    inet_pton(AF_INET, "8.8.4.4", k.dst);
    k.port = 53;
    k.zone = 2;
    inet_pton(AF_INET6, "::1", k.ip6);
    const FlowValue v{11, 1100, 4, 0};
    flows.update(&k, &v);
    ebpf::Map latency = ebpf::Map::open_pinned(pin("latency"));
    const std::uint32_t one = 1;
    const std::uint32_t slots[8] = {0, 4, 1, 0, 0, 0, 0, 0};
    latency.update(&one, slots);

    test::Process server({test::tool_path(), "serve", "--collect", "none", "--listen", "127.0.0.1:0", "--map", "pinned",
                          pin("flows"), "--map", "pinned", pin("latency"), "--histogram"});
    ASSERT_TRUE(server.wait_for_stderr("Hit Ctrl-C to end.", 60s)) << server.err();
    std::smatch m;
    const std::string err = server.err();
    ASSERT_TRUE(std::regex_search(err, m, std::regex(R"(listening on http://[0-9.]+:([0-9]+)/metrics)"))) << err;
    const auto body = test::scrape(std::stoi(m[1]));
    ASSERT_TRUE(body) << server.err();

    const std::string labels = R"({pid="4242",comm="say\"hi\\",proto="FLOW_UDP",saddr="172.16.0.9",)"
                               R"(daddr="2001:db8::7",dst="8.8.4.4",inner_port="53",inner_zone="2",ip6="::1",)"
                               R"(outbound="false"})";
    const auto all = series(*body);
    const auto value = [&](const std::string& name) {
        auto it = all.find(name);
        return it == all.end() ? std::string("(missing)") : it->second;
    };
    EXPECT_EQ(value("ebpf_map_flows_packets_total" + labels), "11") << *body;
    EXPECT_EQ(value("ebpf_map_flows_bytes_total" + labels), "1100");
    EXPECT_EQ(value("ebpf_map_flows_something" + labels), "4");
    EXPECT_NE(body->find("# TYPE ebpf_map_flows_packets_total counter\n"), std::string::npos);
    EXPECT_NE(body->find("# TYPE ebpf_map_flows_something gauge\n"), std::string::npos);
    EXPECT_NE(body->find("# TYPE ebpf_map_latency_slots histogram\n"), std::string::npos);
    // Slot 1 holds [2, 3], slot 2 [4, 7]: cumulative buckets with le = 2^(i+1) - 1.
    EXPECT_EQ(value(R"(ebpf_map_latency_slots_bucket{key="1",le="1"})"), "0");
    EXPECT_EQ(value(R"(ebpf_map_latency_slots_bucket{key="1",le="3"})"), "4");
    EXPECT_EQ(value(R"(ebpf_map_latency_slots_bucket{key="1",le="7"})"), "5");
    EXPECT_EQ(value(R"(ebpf_map_latency_slots_bucket{key="1",le="255"})"), "5");
    EXPECT_EQ(value(R"(ebpf_map_latency_slots_bucket{key="1",le="+Inf"})"), "5");
    EXPECT_EQ(value(R"(ebpf_map_latency_slots_count{key="1"})"), "5");
    EXPECT_EQ(value(R"(ebpf_map_latency_slots_sum{key="1"})"), "15.5");  // 4 × 2.5 + 1 × 5.5
    EXPECT_EQ(value(R"(ebpf_map_latency_slots_count{key="0"})"), "0");
    EXPECT_EQ(value(R"(ebpf_exporter_series_dropped_total{map="flows"})"), "0");
    EXPECT_EQ(value(R"(ebpf_exporter_series_dropped_total{map="latency"})"), "0");

    const std::string file = "/tmp/" + test::unique_name("ebpf-serve-map-") + ".txt";
    std::ofstream(file) << *body;
    const auto check = test::run({"/bin/sh", "-c", "promtool check metrics < " + file});
    std::remove(file.c_str());
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err << "\n" << *body;
    EXPECT_EQ(check.out + check.err, "") << "promtool lint findings";

    server.signal(SIGTERM);
    EXPECT_EQ(server.finish(30s).exit_code, 0);
}

TEST_F(ServeMapCommand, MaxSeriesCutIsCountedInTheExposition) {
    ebpf::Map by_index = ebpf::Map::open_pinned(pin("by_index"));
    for (std::uint32_t i = 0; i < 4; ++i) {
        const std::uint64_t v = 10 + i;
        by_index.update(&i, &v);
    }
    test::Process server({test::tool_path(), "serve", "--collect", "none", "--listen", "127.0.0.1:0", "--map", "pinned",
                          pin("by_index"), "--max-series", "3"});
    ASSERT_TRUE(server.wait_for_stderr("Hit Ctrl-C to end.", 60s)) << server.err();
    std::smatch m;
    const std::string err = server.err();
    ASSERT_TRUE(std::regex_search(err, m, std::regex(R"(listening on http://[0-9.]+:([0-9]+)/metrics)"))) << err;
    const int port = std::stoi(m[1]);
    for (int round = 1; round <= 2; ++round) {
        const auto body = test::scrape(port);
        ASSERT_TRUE(body);
        const auto all = series(*body);
        EXPECT_EQ(all.at(R"(ebpf_map_by_index{key="0"})"), "10") << *body;
        EXPECT_EQ(all.at(R"(ebpf_map_by_index{key="2"})"), "12");
        EXPECT_EQ(all.count(R"(ebpf_map_by_index{key="3"})"), 0u);
        EXPECT_EQ(all.at(R"(ebpf_exporter_series_dropped_total{map="by_index"})"), std::to_string(round));
    }
    server.signal(SIGTERM);
    EXPECT_EQ(server.finish(30s).exit_code, 0);
}

TEST_F(ServeMapCommand, BadPinsExitOneWithOneLine) {
    const std::string tmp = "/tmp/" + test::unique_name("ebpf-serve-map-file-");
    std::ofstream(tmp) << "x";
    const ebpf::Program prog = object_->program("serve_maps_noop");
    ASSERT_EQ(bpf_obj_pin(prog.fd(), pin("prog").c_str()), 0);
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--map", "pinned", pin("missing")}, "no such pin"},
        {{"--map", "pinned", tmp}, "not on a bpf filesystem"},
        {{"--map", "pinned", pin("prog")}, "is a program, not a map"},
        {{"--map", "pinned", pin("latency")}, "--histogram"},
        {{"--map-dir", "/tmp"}, "not on a bpf filesystem"},
    };
    for (const auto& [args, needle] : cases) {
        std::vector<std::string> argv{test::tool_path(), "serve", "--collect", "none", "--listen", "127.0.0.1:0"};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto r = test::run(argv, 30s);
        EXPECT_EQ(r.exit_code, 1) << args.back() << ": " << r.err;
        EXPECT_EQ(test::lines(r.err).size(), 1u) << r.err;
        EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    }
    std::remove(tmp.c_str());
}

}  // namespace
