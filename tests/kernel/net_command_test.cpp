// `ebpf-tool proto` and `ebpf-tool conns` against the real kernel: each test makes its own
// two hosts (a network namespace and a veth pair, quiet by construction: see netlab.hpp),
// sends known packets, and checks exact counts — then that nothing stayed attached.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "kernel.hpp"
#include "netlab.hpp"
#include "process.hpp"

namespace {

using nlohmann::json;
constexpr const char* kProtoReady = "Counting packets by protocol... Hit Ctrl-C to end.";
constexpr const char* kConnsReady = "Tracking connections... Hit Ctrl-C to end.";

json last_json(const std::string& out) {
    auto all = test::lines(out);
    if (all.empty()) return json::object();
    return json::parse(all.back());
}

// The proto row for this interface, direction, family and protocol.
json proto_row(const json& doc, const std::string& iface, const std::string& direction, const std::string& family,
               const std::string& protocol) {
    for (const auto& r : doc.at("protocols"))
        if (r.at("iface") == iface && r.at("direction") == direction && r.at("family") == family &&
            r.at("protocol") == protocol)
            return r;
    return json();
}

std::uint64_t packets(const json& row) {
    return row.is_null() ? 0 : row.at("packets").get<std::uint64_t>();
}
std::uint64_t bytes(const json& row) {
    return row.is_null() ? 0 : row.at("bytes").get<std::uint64_t>();
}

// Runs `command` on the lab's interface, lets `traffic` run, ends it with SIGINT.
test::Result run_with_traffic(std::vector<std::string> argv, const char* ready, const std::function<void()>& traffic) {
    test::Process tool(argv);
    if (!tool.wait_for_stderr(ready)) {
        tool.signal(SIGKILL);
        auto r = tool.finish();
        ADD_FAILURE() << "did not start: " << r.err;
        return r;
    }
    traffic();
    tool.signal(SIGINT);
    return tool.finish();
}

class ProtoCounts : public ::testing::TestWithParam<std::tuple<int, const char*>> {};

TEST_P(ProtoCounts, ExactlyTheUdpDatagramsAndEchoesSent) {
    REQUIRE_KERNEL();
    const auto [family, hook] = GetParam();
    test::NetLab lab;
    const int n = 23, m = 7, payload = 100;
    auto result = run_with_traffic(
        {test::tool_path(), "proto", "--iface", lab.host_interface(), "--hook", hook, "--interval", "0.2", "--json"},
        kProtoReady, [&, family = family] {
            ASSERT_TRUE(lab.udp_flow(family, n, payload));
            ASSERT_TRUE(lab.ping(family, m));
        });
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const std::string fam = family == 4 ? "ipv4" : "ipv6";
    const std::string other = family == 4 ? "ipv6" : "ipv4";
    const std::string icmp = family == 4 ? "icmp" : "icmpv6";
    auto doc = last_json(result.out);
    const auto& iface = lab.host_interface();
    EXPECT_EQ(packets(proto_row(doc, iface, "ingress", fam, "udp")), static_cast<std::uint64_t>(n)) << result.out;
    EXPECT_EQ(bytes(proto_row(doc, iface, "ingress", fam, "udp")),
              static_cast<std::uint64_t>(n * test::NetLab::udp_frame_length(family, payload)));
    EXPECT_EQ(packets(proto_row(doc, iface, "ingress", fam, icmp)), static_cast<std::uint64_t>(m));
    EXPECT_EQ(bytes(proto_row(doc, iface, "ingress", fam, icmp)),
              static_cast<std::uint64_t>(m * test::NetLab::echo_frame_length(family)));
    // Nothing else arrived on the quiet link, and every frame was parsed.
    for (const char* p : {"tcp", "other"}) EXPECT_EQ(packets(proto_row(doc, iface, "ingress", fam, p)), 0u) << p;
    for (const char* p : {"tcp", "udp", "other"}) EXPECT_EQ(packets(proto_row(doc, iface, "ingress", other, p)), 0u);
    EXPECT_EQ(packets(proto_row(doc, iface, "ingress", "non-ip", "-")), 0u);
    EXPECT_TRUE(proto_row(doc, iface, "ingress", "unparsed", "-").is_null()) << "a frame missed its parser";
    if (std::string(hook) == "tc") {
        // Egress on the host side: the m echo replies, nothing else.
        EXPECT_EQ(packets(proto_row(doc, iface, "egress", fam, icmp)), static_cast<std::uint64_t>(m));
        EXPECT_EQ(packets(proto_row(doc, iface, "egress", fam, "udp")), 0u);
        EXPECT_NE(result.err.find("attached to tcx ingress on " + iface), std::string::npos) << result.err;
        EXPECT_NE(result.err.find("attached to tcx egress on " + iface), std::string::npos) << result.err;
    } else {
        EXPECT_NE(result.err.find("attached to xdp (native) on " + iface), std::string::npos) << result.err;
    }
    EXPECT_FALSE(lab.anything_attached());
}

INSTANTIATE_TEST_SUITE_P(FamiliesAndHooks, ProtoCounts,
                         ::testing::Combine(::testing::Values(4, 6), ::testing::Values("xdp", "tc")),
                         [](const auto& p) {
                             return std::string(std::get<0>(p.param) == 4 ? "IPv4" : "IPv6") + "_" +
                                    std::get<1>(p.param);
                         });

TEST(ProtoCommand, PerCpuSlotsSumToTheTotal) {
    REQUIRE_KERNEL();
    test::NetLab lab;
    const int n = 12;
    auto result = run_with_traffic(
        {test::tool_path(), "proto", "--iface", lab.host_interface(), "--per-cpu", "--interval", "0.2", "--json"},
        kProtoReady, [&] { ASSERT_TRUE(lab.udp_flow(4, n, 10)); });
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto row = proto_row(last_json(result.out), lab.host_interface(), "ingress", "ipv4", "udp");
    ASSERT_FALSE(row.is_null()) << result.out;
    std::uint64_t sum = 0;
    for (const auto& slot : row.at("per_cpu")) sum += slot.at("packets").get<std::uint64_t>();
    EXPECT_EQ(sum, static_cast<std::uint64_t>(n));
    EXPECT_EQ(packets(row), static_cast<std::uint64_t>(n));
}

// Two interfaces under XDP: the parsers (tail-called, so they recompute the counter base
// from the frame's interface rather than being told it) count each frame in its own
// interface's rows.
TEST(ProtoCommand, TwoInterfacesUnderXdpCountEachFrameInItsOwnRows) {
    REQUIRE_KERNEL();
    test::NetLab a, b;
    const int na = 9, nb = 14, ma = 4, mb = 3;
    auto result = run_with_traffic({test::tool_path(), "proto", "--iface", a.host_interface(), "--iface",
                                    b.host_interface(), "--interval", "0.2", "--json"},
                                   kProtoReady, [&] {
                                       ASSERT_TRUE(a.udp_flow(4, na, 30));
                                       ASSERT_TRUE(b.udp_flow(4, nb, 30));
                                       ASSERT_TRUE(a.ping(6, ma));
                                       ASSERT_TRUE(b.ping(6, mb));
                                   });
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto doc = last_json(result.out);
    for (const auto& [lab, n, m] : {std::tuple{&a, na, ma}, std::tuple{&b, nb, mb}}) {
        const auto& iface = lab->host_interface();
        EXPECT_EQ(packets(proto_row(doc, iface, "ingress", "ipv4", "udp")), static_cast<std::uint64_t>(n)) << iface;
        EXPECT_EQ(bytes(proto_row(doc, iface, "ingress", "ipv4", "udp")),
                  static_cast<std::uint64_t>(n * test::NetLab::udp_frame_length(4, 30)));
        EXPECT_EQ(packets(proto_row(doc, iface, "ingress", "ipv6", "icmpv6")), static_cast<std::uint64_t>(m));
        EXPECT_EQ(packets(proto_row(doc, iface, "ingress", "ipv4", "icmp")), 0u);
        EXPECT_EQ(packets(proto_row(doc, iface, "ingress", "non-ip", "-")), 0u);
        EXPECT_TRUE(proto_row(doc, iface, "ingress", "unparsed", "-").is_null());
    }
}

TEST(ProtoCommand, TextTableShowsEveryProtocolRow) {
    REQUIRE_KERNEL();
    test::NetLab lab;
    auto result = run_with_traffic({test::tool_path(), "proto", "--iface", lab.host_interface(), "--interval", "0.2"},
                                   kProtoReady, [&] { ASSERT_TRUE(lab.ping(4, 3)); });
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("IFACE"), std::string::npos);
    auto all = test::lines(result.out);
    bool found = false;
    for (const auto& line : all)
        if (line.find(lab.host_interface()) == 0 && line.find(" ICMP ") != std::string::npos &&
            line.find(" IPv4 ") != std::string::npos && line.find(" 3 ") != std::string::npos)
            found = true;
    EXPECT_TRUE(found) << result.out;
}

// The conns row of a flow from the peer on this port.
json conns_row(const json& doc, const std::string& protocol, std::uint16_t sport) {
    for (const auto& r : doc.at("connections"))
        if (r.at("protocol") == protocol && r.at("sport") == sport) return r;
    return json();
}

TEST(ConnsCommand, UdpFlowHasExactlyItsPacketsAndFrameBytes) {
    REQUIRE_KERNEL();
    for (int family : {4, 6}) {
        test::NetLab lab;
        const int n = 17, payload = 200;
        std::uint16_t port = 0;
        auto result = run_with_traffic(
            {test::tool_path(), "conns", "--iface", lab.host_interface(), "--interval", "0.2", "--json"}, kConnsReady,
            [&] { ASSERT_TRUE(lab.udp_flow(family, n, payload, &port)); });
        ASSERT_EQ(result.exit_code, 0) << result.err;
        auto doc = last_json(result.out);
        auto row = conns_row(doc, "udp", port);
        ASSERT_FALSE(row.is_null()) << result.out;
        EXPECT_EQ(row.at("src"), lab.peer_address(family));
        EXPECT_EQ(row.at("dst"), lab.host_address(family));
        EXPECT_EQ(row.at("direction"), "ingress");
        EXPECT_EQ(packets(row), static_cast<std::uint64_t>(n)) << "IPv" << family;
        EXPECT_EQ(bytes(row), static_cast<std::uint64_t>(n * test::NetLab::udp_frame_length(family, payload)));
        EXPECT_LE(row.at("first_seen").get<std::string>(), row.at("last_seen").get<std::string>());
        EXPECT_EQ(doc.at("created"), 1) << result.out;
        EXPECT_EQ(doc.at("evicted"), 0);
        EXPECT_FALSE(lab.anything_attached());
    }
}

// "2026-12-03T00:41:07.123Z" (conns' first_seen/last_seen) as milliseconds since the epoch.
std::int64_t utc_ms(const std::string& text) {
    tm t{};
    int ms = 0;
    if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &t.tm_year, &t.tm_mon, &t.tm_mday, &t.tm_hour, &t.tm_min,
                    &t.tm_sec, &ms) != 7)
        return -1;
    t.tm_year -= 1900;
    t.tm_mon -= 1;
    return static_cast<std::int64_t>(timegm(&t)) * 1000 + ms;
}

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// First and last seen come from the kernel tick (jiffies times the tick, offset to
// CLOCK_MONOTONIC_COARSE): each lies between the wall times taken just before and just
// after its packet was sent, give or take the tick, and their difference is the time
// between the two packets.
TEST(ConnsCommand, FirstAndLastSeenAreTheTimesOfTheFirstAndLastPacket) {
    REQUIRE_KERNEL();
    test::NetLab lab;
    timespec res{};
    ASSERT_EQ(clock_getres(CLOCK_MONOTONIC_COARSE, &res), 0);
    // Two ticks (the kernel and user space each read a coarse clock) and the printed ms.
    const std::int64_t slack = 2 * (res.tv_nsec / 1'000'000 + 1) + 1;
    std::int64_t first_before = 0, first_after = 0, last_before = 0, last_after = 0;
    auto result = run_with_traffic(
        {test::tool_path(), "conns", "--iface", lab.host_interface(), "--interval", "0.2", "--json"}, kConnsReady, [&] {
            // One ICMP flow (no ports): the two echoes are one row.
            first_before = wall_ms();
            ASSERT_TRUE(lab.ping(4, 1));
            first_after = wall_ms();
            std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the gap to measure, not a wait
            last_before = wall_ms();
            ASSERT_TRUE(lab.ping(4, 1));
            last_after = wall_ms();
            // The final print comes later than the last packet: conns shows a time in
            // the future (a clock running fast) as the time of the print, which this puts
            // outside the bracket.
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        });
    ASSERT_EQ(result.exit_code, 0) << result.err;
    json row;
    const auto doc = last_json(result.out);
    for (const auto& r : doc.at("connections"))
        if (r.at("protocol") == "icmp") row = r;
    ASSERT_FALSE(row.is_null()) << result.out;
    EXPECT_EQ(packets(row), 2u);
    const std::int64_t first = utc_ms(row.at("first_seen")), last = utc_ms(row.at("last_seen"));
    EXPECT_GE(first, first_before - slack) << row.dump();
    EXPECT_LE(first, first_after + slack) << row.dump();
    EXPECT_GE(last, last_before - slack) << row.dump();
    EXPECT_LE(last, last_after + slack) << row.dump();
}

// Two interfaces: the key's interface comes from the frame (with one, it is a constant).
TEST(ConnsCommand, TwoInterfacesKeepTheirFlowsApart) {
    REQUIRE_KERNEL();
    test::NetLab a, b;
    std::uint16_t port_a = 0, port_b = 0;
    auto result = run_with_traffic({test::tool_path(), "conns", "--iface", a.host_interface(), "--iface",
                                    b.host_interface(), "--interval", "0.2", "--json"},
                                   kConnsReady, [&] {
                                       ASSERT_TRUE(a.udp_flow(4, 5, 20, &port_a));
                                       ASSERT_TRUE(b.udp_flow(4, 8, 20, &port_b));
                                   });
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto doc = last_json(result.out);
    auto row_a = conns_row(doc, "udp", port_a), row_b = conns_row(doc, "udp", port_b);
    ASSERT_FALSE(row_a.is_null()) << doc.dump();
    ASSERT_FALSE(row_b.is_null()) << doc.dump();
    EXPECT_EQ(row_a.at("iface"), a.host_interface());
    EXPECT_EQ(packets(row_a), 5u);
    EXPECT_EQ(row_b.at("iface"), b.host_interface());
    EXPECT_EQ(packets(row_b), 8u);
    EXPECT_EQ(doc.at("created"), 2);
}

TEST(ConnsCommand, TcpConnectionShowsItsFlags) {
    REQUIRE_KERNEL();
    test::NetLab lab;
    std::uint16_t port = 0;
    auto result = run_with_traffic(
        {test::tool_path(), "conns", "--iface", lab.host_interface(), "--hook", "tc", "--interval", "0.2", "--json"},
        kConnsReady, [&] { ASSERT_TRUE(lab.tcp_connection(4, 1000, &port)); });
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto row = conns_row(last_json(result.out), "tcp", port);
    ASSERT_FALSE(row.is_null()) << result.out;
    // The client's side: SYN, then ACKs, data pushed, FIN.
    EXPECT_EQ(row.at("tcp_flags"), "FIN,SYN,PSH,ACK") << row.dump();
    EXPECT_GE(packets(row), 4u);
}

TEST(ConnsCommand, MoreFlowsThanMaxEntriesEvictAndTheCountSaysExactlyHowMany) {
    REQUIRE_KERNEL();
    test::NetLab lab;
    const int flows = 40, max_entries = 8;
    auto result = run_with_traffic({test::tool_path(), "conns", "--iface", lab.host_interface(), "--max-entries",
                                    std::to_string(max_entries), "--top", "0", "--interval", "0.2", "--json"},
                                   kConnsReady, [&] { ASSERT_TRUE(lab.udp_flows(4, flows)); });
    ASSERT_EQ(result.exit_code, 0) << result.err;
    auto doc = last_json(result.out);
    const auto present = doc.at("flows").get<std::uint64_t>();
    EXPECT_EQ(doc.at("connections").size(), present);
    EXPECT_LE(present, static_cast<std::uint64_t>(max_entries));
    EXPECT_EQ(doc.at("created"), flows) << doc.dump();
    EXPECT_TRUE(doc.at("evictions_exact").get<bool>());
    EXPECT_EQ(doc.at("evicted").get<std::uint64_t>(), flows - present);
    EXPECT_GE(doc.at("evicted").get<std::uint64_t>(), static_cast<std::uint64_t>(flows - max_entries));
    EXPECT_EQ(doc.at("insert_failed"), 0);
}

// The ids of the BPF programs process `pid` holds (from its fdinfo: program and link fds).
std::set<std::uint32_t> programs_held_by(pid_t pid) {
    std::set<std::uint32_t> ids;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo")) {
        std::ifstream in(entry.path());
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("prog_id:", 0) == 0) ids.insert(static_cast<std::uint32_t>(std::stoul(line.substr(8))));
    }
    return ids;
}

// Waits (up to 10 s: the kernel frees programs after an RCU grace period) until none of
// `ids` exists any more; the ones that still do.
std::set<std::uint32_t> programs_still_loaded(const std::set<std::uint32_t>& ids) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        std::set<std::uint32_t> left;
        for (auto id : ids) {
            int fd = bpf_prog_get_fd_by_id(id);
            if (fd >= 0) {
                left.insert(id);
                close(fd);
            }
        }
        if (left.empty() || std::chrono::steady_clock::now() > deadline) return left;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// The id of the map of `type` with `key_size` that process `pid` holds (from its fdinfo).
std::uint32_t map_id_held_by(pid_t pid, int type, int key_size) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo")) {
        std::ifstream in(entry.path());
        std::string line;
        int t = -1, k = -1;
        std::uint32_t id = 0;
        while (std::getline(in, line)) {
            if (line.rfind("map_type:", 0) == 0) t = std::stoi(line.substr(9));
            if (line.rfind("key_size:", 0) == 0) k = std::stoi(line.substr(9));
            if (line.rfind("map_id:", 0) == 0) id = static_cast<std::uint32_t>(std::stoul(line.substr(7)));
        }
        if (t == type && k == key_size && id) return id;
    }
    return 0;
}

// "hex 20 00 00 00 c6 12 00 05": an IPv4 /32 LPM key in bpftool's byte syntax.
std::vector<std::string> lpm_key_v4(const std::string& address) {
    in_addr a{};
    inet_pton(AF_INET, address.c_str(), &a);
    const auto* b = reinterpret_cast<const unsigned char*>(&a);
    std::vector<std::string> words{"key", "hex", "20", "00", "00", "00"};
    for (int i = 0; i < 4; ++i) {
        char hex[3];
        std::snprintf(hex, sizeof(hex), "%02x", b[i]);
        words.emplace_back(hex);
    }
    return words;
}

TEST(ConnsCommand, CidrChangedWithMapUpdateWhileRunningTakesEffect) {
    REQUIRE_KERNEL();
    test::NetLab lab;
    // A prefix that matches neither end of the lab's flows: they are left out at first.
    test::Process tool({test::tool_path(), "conns", "--iface", lab.host_interface(), "--cidr", "192.0.2.0/24",
                        "--interval", "0.1", "--json"});
    ASSERT_TRUE(tool.wait_for_stderr(kConnsReady));
    const std::uint32_t trie = map_id_held_by(tool.pid(), BPF_MAP_TYPE_LPM_TRIE, 8);
    ASSERT_NE(trie, 0u);
    std::uint16_t filtered_port = 0, kept_port = 0, removed_port = 0;
    ASSERT_TRUE(lab.udp_flow(4, 5, 10, &filtered_port));

    // Add the host's address (the flows' destination) while conns runs.
    std::vector<std::string> update{test::tool_path(), "map", "update", "id", std::to_string(trie)};
    for (auto& w : lpm_key_v4(lab.host_address(4))) update.push_back(w);
    for (const char* w : {"value", "hex", "01"}) update.emplace_back(w);
    auto updated = test::run(update);
    ASSERT_EQ(updated.exit_code, 0) << updated.err;
    ASSERT_TRUE(lab.udp_flow(4, 6, 10, &kept_port));

    // And take it out again.
    std::vector<std::string> erase{test::tool_path(), "map", "delete", "id", std::to_string(trie)};
    for (auto& w : lpm_key_v4(lab.host_address(4))) erase.push_back(w);
    auto erased = test::run(erase);
    ASSERT_EQ(erased.exit_code, 0) << erased.err;
    ASSERT_TRUE(lab.udp_flow(4, 7, 10, &removed_port));

    tool.signal(SIGINT);
    auto result = tool.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.err.find("--cidr filter in map id " + std::to_string(trie) + " (cidr_v4)"), std::string::npos)
        << result.err;
    auto doc = last_json(result.out);
    EXPECT_TRUE(conns_row(doc, "udp", filtered_port).is_null()) << doc.dump();
    EXPECT_EQ(packets(conns_row(doc, "udp", kept_port)), 6u) << doc.dump();
    EXPECT_TRUE(conns_row(doc, "udp", removed_port).is_null()) << doc.dump();
    EXPECT_EQ(doc.at("filtered"), 5 + 7);
    EXPECT_EQ(doc.at("created"), 1);
}

// Every way conns and proto end — Ctrl-C, SIGTERM, SIGKILL — leaves nothing attached.
class NetDetach : public ::testing::TestWithParam<std::tuple<const char*, const char*, int>> {};

TEST_P(NetDetach, NothingStaysAttachedAfterExit) {
    REQUIRE_KERNEL();
    const auto [command, hook, sig] = GetParam();
    test::NetLab lab;
    test::Process tool(
        {test::tool_path(), command, "--iface", lab.host_interface(), "--hook", hook, "--interval", "0.1"});
    ASSERT_TRUE(tool.wait_for_stderr(std::string(command) == "proto" ? kProtoReady : kConnsReady));
    ASSERT_TRUE(lab.anything_attached());
    const auto ours = programs_held_by(tool.pid());
    ASSERT_FALSE(ours.empty());
    tool.signal(sig);
    auto result = tool.finish();
    if (sig == SIGKILL)
        EXPECT_EQ(result.signal, SIGKILL);
    else
        EXPECT_EQ(result.exit_code, 0) << result.err;
    // Link fds close as the process goes, and the kernel detaches then: a deadline, not a sleep.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (lab.anything_attached() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(lab.anything_attached());
    EXPECT_TRUE(programs_still_loaded(ours).empty()) << "a program stayed loaded";
}

INSTANTIATE_TEST_SUITE_P(CommandsHooksSignals, NetDetach,
                         ::testing::Combine(::testing::Values("proto", "conns"), ::testing::Values("xdp", "tc"),
                                            ::testing::Values(SIGINT, SIGTERM, SIGKILL)),
                         [](const auto& p) {
                             return std::string(std::get<0>(p.param)) + "_" + std::get<1>(p.param) + "_" +
                                    sigabbrev_np(std::get<2>(p.param));
                         });

TEST(NetCommands, RefuseBadInterfacesAndHooksInOneLine) {
    REQUIRE_KERNEL();
    auto unknown = test::run({test::tool_path(), "proto", "--iface", "nosuchif0"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_EQ(unknown.err, "ebpf-tool: --iface nosuchif0: no such network interface\n");
    auto egress = test::run({test::tool_path(), "conns", "--iface", "lo", "--direction", "egress"});
    EXPECT_EQ(egress.exit_code, 2);
    EXPECT_EQ(egress.err, "ebpf-tool: --direction egress: XDP sees ingress only (use --hook tc for egress)\n");
    auto cidr = test::run({test::tool_path(), "conns", "--iface", "lo", "--cidr", "10.0.0.0/33"});
    EXPECT_EQ(cidr.exit_code, 2);
    EXPECT_EQ(cidr.err, "ebpf-tool: --cidr 10.0.0.0/33: prefix length must be 0 to 32\n");
}

// A driver without native XDP (a bridge): the default falls back to generic XDP and says so.
TEST(NetCommands, XdpFallsBackToGenericWhereTheDriverHasNoXdp) {
    REQUIRE_KERNEL();
    const std::string bridge = "nlbr" + std::to_string(getpid());
    ASSERT_EQ(std::system(("ip link add " + bridge + " type bridge >/dev/null 2>&1").c_str()), 0);
    struct Cleanup {
        std::string name;
        ~Cleanup() { std::system(("ip link del " + name + " >/dev/null 2>&1").c_str()); }
    } cleanup{bridge};
    auto result = test::run({test::tool_path(), "proto", "--iface", bridge, "--count", "1", "--interval", "0.1"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.err.find("proto: attached to xdp (generic) on " + bridge + "\n"), std::string::npos) << result.err;
}

TEST(NetCommands, RefuseAnInterfaceWhoseXdpHookIsTaken) {
    REQUIRE_KERNEL();
    test::NetLab lab;
    test::Process first({test::tool_path(), "proto", "--iface", lab.host_interface(), "--interval", "5"});
    ASSERT_TRUE(first.wait_for_stderr(kProtoReady));
    const auto ours = programs_held_by(first.pid());
    // A second XDP link on the same interface: the kernel refuses; one line, exit 1.
    auto second = test::run({test::tool_path(), "conns", "--iface", lab.host_interface(), "--count", "1"});
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_EQ(test::lines(second.err).size(), 1u) << second.err;
    EXPECT_NE(second.err.find("xdp (native) on " + lab.host_interface() + ": "), std::string::npos) << second.err;
    first.signal(SIGTERM);
    EXPECT_EQ(first.finish().exit_code, 0);
    EXPECT_FALSE(lab.anything_attached());
    EXPECT_TRUE(programs_still_loaded(ours).empty());
}

}  // namespace
