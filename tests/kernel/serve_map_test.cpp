// `ebpf-tool serve --map` from the outside: a pinned map with a BTF struct key and value
// (tests/bpf/typed_maps.bpf.c, pinned by `ebpf-tool run --pin`) exported over HTTP, its
// labels and value exact, the output accepted by promtool, and nothing in the map changed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <thread>

#include "ebpf/map.hpp"
#include "http.hpp"
#include "kernel.hpp"
#include "pinned.hpp"
#include "process.hpp"
#include "unique.hpp"

using namespace std::chrono_literals;

namespace {

std::string object(const char* name) {
    return std::string(BPF_OBJECT_DIR) + "/" + name + ".o";
}

test::Result tool(std::vector<std::string> args) {
    args.insert(args.begin(), test::tool_path());
    return test::run(args, 30s);
}

class ServeMap : public test::RunPinnedTest {
protected:
    ServeMap() : RunPinnedTest(object("typed_maps"), "ebpf-serve-map-test-") {}
};

const char* kKey = R"({"src_ip":16777343,"dst_ip":33554559,"src_port":40000,"dst_port":443,"proto":6})";
const char* kValue = R"({"s8":-5,"u8":250,"s16":-300,"u16":65000,"s32":-70000,"u32":4000000000,"s64":-5000000000,)"
                     R"("u64":42,"flag":true,"state":"STATE_ESTABLISHED","comm":"sshd","samples":[1,2,3,4],)"
                     R"("raw":{"as_u32":16909060},"low":15,"mid":4095,"high":65535,"ptr":4096})";

TEST_F(ServeMap, PinnedBtfStructMapIsExportedWithItsLabelsAndValueAndPassesPromtool) {
    ASSERT_EQ(tool({"map", "update", "pinned", pin("flows"), "key", kKey, "value", kValue}).exit_code, 0);
    const auto before = tool({"-j", "map", "dump", "pinned", pin("flows")});
    ASSERT_EQ(before.exit_code, 0) << before.err;

    test::Process server({test::tool_path(), "serve", "--listen", "127.0.0.1:0", "--collect", "none", "--map", "pinned",
                          pin("flows"), "--value-field", "u64"});
    ASSERT_TRUE(server.wait_for_stderr("Hit Ctrl-C to end.", 60s)) << server.err();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(server.err(), m, std::regex(R"(127\.0\.0\.1:([0-9]+)/metrics)"))) << server.err();
    auto body = test::scrape(std::stoi(m[1]));
    ASSERT_TRUE(body);

    // Exactly one sample of the map: the entry's u64, labelled with the key's fields.
    std::vector<std::string> map_samples;
    for (const auto& line : test::lines(*body))
        if (!line.empty() && line[0] != '#' && line.rfind("ebpf_exporter_", 0) != 0) map_samples.push_back(line);
    ASSERT_EQ(map_samples.size(), 1u) << *body;
    const std::string& line = map_samples[0];
    EXPECT_EQ(line.substr(line.rfind(' ') + 1), "42") << line;
    EXPECT_NE(line.find("src_port=\"40000\""), std::string::npos) << line;
    EXPECT_NE(line.find("dst_port=\"443\""), std::string::npos) << line;
    EXPECT_NE(line.find("proto=\"6\""), std::string::npos) << line;
    // 16777343 is 127.0.0.1 in network order, as the field is named an IP.
    EXPECT_NE(line.find("src_ip=\"127.0.0.1\""), std::string::npos) << line;
    EXPECT_EQ(body->find("ebpf_exporter_scrape_errors_total{collector=") != std::string::npos &&
                  body->find("} 1\n") == std::string::npos,
              true)
        << *body;

    const std::string file = "/tmp/" + test::unique_name("ebpf-serve-map-metrics-") + ".txt";
    std::ofstream(file) << *body;
    auto check = test::run({"/bin/sh", "-c", "promtool check metrics < " + file});
    std::remove(file.c_str());
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err << "\n" << *body;
    EXPECT_EQ(check.out + check.err, "") << "promtool lint findings\n" << *body;

    server.signal(SIGTERM);
    auto result = server.finish(30s);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    // Read-only: the map is as it was.
    auto after = tool({"-j", "map", "dump", "pinned", pin("flows")});
    EXPECT_EQ(after.out, before.out);
}

TEST_F(ServeMap, ANonMapPathIsOneLineAndExitOne) {
    auto r = tool({"serve", "--listen", "127.0.0.1:0", "--collect", "none", "--map", "pinned", dir_ + "/nothing"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(test::lines(r.err).size(), 1u) << r.err;
}

// A response of megabytes (every entry of a full 1024-entry map, each numeric value field a
// series) cannot sit in the socket buffers: clients with a tiny receive window that read a
// little and reset make the server's writes fail mid-response. It keeps serving, whole
// responses, with no descriptor left behind.
TEST_F(ServeMap, ClientsThatResetMidwayThroughALargeResponseDoNotHurtTheServer) {
    ebpf::Map flows = ebpf::Map::open_pinned(pin("flows"));
    const auto info = flows.info();
    ASSERT_EQ(info.key_size, 16u);
    std::vector<std::uint8_t> key(info.key_size), value(info.value_size, 0);
    for (std::uint32_t i = 0; i < info.max_entries; ++i) {
        std::memcpy(key.data(), &i, sizeof(i));  // src_ip
        value[8 * 3] = static_cast<std::uint8_t>(i);
        flows.update(key.data(), value.data());
    }
    test::Process server(
        {test::tool_path(), "serve", "--listen", "127.0.0.1:0", "--collect", "none", "--map", "pinned", pin("flows")});
    ASSERT_TRUE(server.wait_for_stderr("Hit Ctrl-C to end.", 60s)) << server.err();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(server.err(), m, std::regex(R"(127\.0\.0\.1:([0-9]+)/metrics)"))) << server.err();
    const int port = std::stoi(m[1]);
    auto whole = test::scrape(port);
    ASSERT_TRUE(whole);
    ASSERT_GT(whole->size(), 1u << 20) << "the response must not fit in the socket buffers";
    std::size_t fds_before = test::open_fds(server.pid());
    for (int i = 0; i < 50; ++i) {
        std::this_thread::sleep_for(100ms);
        std::size_t now = test::open_fds(server.pid());
        if (now == fds_before) break;
        fds_before = now;
    }

    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t)
        clients.emplace_back([port] {
            for (int i = 0; i < 5; ++i) {
                test::Socket s(AF_INET);
                int small = 4096;
                setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
                if (!test::connect_to(s, "127.0.0.1", port)) continue;
                (void)test::send_all(s.fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
                char buffer[1000];
                (void)::recv(s.fd, buffer, sizeof(buffer), MSG_WAITALL);
                // Leave with a reset, mid-response.
                linger l{1, 0};
                setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
            }
        });
    for (auto& c : clients) c.join();

    auto again = test::scrape(port);
    ASSERT_TRUE(again);
    // Whole: as many lines as the first (sizes differ with the digits of the durations).
    EXPECT_EQ(test::lines(*again).size(), test::lines(*whole).size());
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (test::open_fds(server.pid()) != fds_before && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(100ms);
    EXPECT_EQ(test::open_fds(server.pid()), fds_before);
    server.signal(SIGTERM);
    auto result = server.finish(30s);
    EXPECT_EQ(result.signal, 0);
    EXPECT_EQ(result.exit_code, 0) << result.err;
}

}  // namespace
