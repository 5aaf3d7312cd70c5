// `ebpf-tool serve` from the outside: real scrapes over TCP, promtool on the output of
// every collector, exact exec counts of a test UID, a real Prometheus scraping two
// exporters, the listener's address, status codes, and clients that misbehave.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "ebpf/system.hpp"
#include "http.hpp"
#include "kernel.hpp"
#include "netlab.hpp"
#include "process.hpp"
#include "unique.hpp"

using namespace std::chrono_literals;

namespace {

constexpr const char* kReady = "Hit Ctrl-C to end.";

// A running `ebpf-tool serve` on a port of its own (port 0: the kernel picks a free one,
// and serve says which), stopped with SIGTERM at the end of the test.
class Server {
public:
    // `prefix` runs the tool through another program (setpriv).
    explicit Server(std::vector<std::string> args, std::string host = "127.0.0.1", std::vector<std::string> prefix = {})
        : host_(std::move(host)) {
        std::vector<std::string> argv = prefix;
        argv.push_back(test::tool_path());
        argv.push_back("serve");
        bool listen = false;
        for (const auto& a : args) listen = listen || a == "--listen";
        if (!listen) {
            argv.push_back("--listen");
            argv.push_back(host_.find(':') != std::string::npos ? "[" + host_ + "]:0" : host_ + ":0");
        }
        argv.insert(argv.end(), args.begin(), args.end());
        process_.emplace(argv);
        ready_ = process_->wait_for_stderr(kReady, 60s);
        std::smatch m;
        const std::string& err = process_->err();
        if (ready_ &&
            std::regex_search(err, m, std::regex(R"(listening on http://(\[[^\]]+\]|[0-9.]+):([0-9]+)/metrics)")))
            port_ = std::stoi(m[2]);
    }
    ~Server() {
        if (process_) {
            process_->signal(SIGTERM);
            process_->finish(30s);
        }
    }
    bool ready() const { return ready_ && port_ > 0; }
    int port() const { return port_; }
    pid_t pid() const { return process_->pid(); }
    const std::string& err() const { return process_->err(); }
    test::Result stop() {
        process_->signal(SIGTERM);
        auto r = process_->finish(30s);
        process_.reset();
        return r;
    }
    std::optional<test::HttpResponse> get(const std::string& path = "/metrics", const std::string& headers = "") const {
        return test::http_request(host_, port_, "GET", path, headers);
    }

private:
    std::string host_;
    std::optional<test::Process> process_;
    bool ready_ = false;
    int port_ = 0;
};

// Samples of a text-format body: "name{labels}" (as written) → value.
std::map<std::string, double> samples(const std::string& body) {
    std::map<std::string, double> out;
    for (const auto& line : test::lines(body)) {
        if (line.empty() || line[0] == '#') continue;
        auto space = line.rfind(' ');
        out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return out;
}

std::optional<double> sample_value(const std::string& body, const std::string& series) {
    auto all = samples(body);
    auto it = all.find(series);
    if (it == all.end()) return std::nullopt;
    return it->second;
}

// Scrapes until `series` has `want`, for up to `timeout`; the last value seen.
std::optional<double> wait_for_value(const Server& server, const std::string& series, double want,
                                     std::chrono::milliseconds timeout = 20s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::optional<double> value;
    do {
        if (auto r = server.get(); r && r->status == 200) value = sample_value(r->body, series);
        if (value && *value == want) return value;
        std::this_thread::sleep_for(50ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return value;
}

std::string temp_dir(const std::string& what) {
    std::string pattern = "/tmp/ebpf-serve-test-" + what + "-XXXXXX";
    char* made = ::mkdtemp(pattern.data());
    return made ? std::string(made) : std::string();
}

// promtool's verdict on `body`: exit 0 and no lint complaint.
test::Result promtool_check_metrics(const std::string& body) {
    std::string dir = temp_dir("promtool");
    std::string file = dir + "/metrics.txt";
    std::ofstream(file) << body;
    auto r = test::run({"/bin/sh", "-c", "promtool check metrics < " + file});
    std::remove(file.c_str());
    ::rmdir(dir.c_str());
    return r;
}

std::string execs_series(unsigned uid) {
    return "ebpf_execs_total{uid=\"" + std::to_string(uid) + "\",user=\"\"}";
}

TEST(ServeCommand, ExportsTheExactExecCountOfATestUid) {
    REQUIRE_KERNEL();
    Server server({});
    ASSERT_TRUE(server.ready()) << server.err();
    const unsigned uid = test::test_uid(1);
    const int n = 23;
    ASSERT_TRUE(test::exec_as(uid, n));
    EXPECT_EQ(wait_for_value(server, execs_series(uid), n), n);
    // Still exact later: counters only grow, nothing is reset by a scrape.
    auto again = server.get();
    ASSERT_TRUE(again);
    EXPECT_EQ(sample_value(again->body, execs_series(uid)), n);
    EXPECT_EQ(sample_value(again->body, "ebpf_execs_dropped_total"), 0);
    EXPECT_EQ(sample_value(again->body, "ebpf_exporter_scrape_errors_total{collector=\"execs\"}"), 0);
    EXPECT_EQ(sample_value(again->body, "ebpf_exporter_scrape_errors_total{collector=\"stats\"}"), 0);
    EXPECT_TRUE(sample_value(again->body, "ebpf_exporter_scrape_duration_seconds{collector=\"stats\"}"));
    // The test's own execs went through execve: stats counted some.
    auto execve = sample_value(again->body, "ebpf_syscalls_total{syscall=\"execve\"}");
    ASSERT_TRUE(execve);
    EXPECT_GE(*execve, n);
}

// Every built-in collector at once, with real packets on a veth of the test's own; the
// exact counts prove the proto and conns collectors read what their commands read.
TEST(ServeCommand, EveryCollectorsOutputPassesPromtoolWithExactPacketCounts) {
    REQUIRE_KERNEL();
    test::NetLab lab;
    const std::string iface = lab.host_interface();
    Server server({"--collect", "execs,stats,proto,conns", "--iface", iface, "--hook", "tc"});
    ASSERT_TRUE(server.ready()) << server.err();
    const int pings = 7, datagrams = 5;
    ASSERT_TRUE(lab.ping(4, pings));
    ASSERT_TRUE(lab.udp_flow(4, datagrams, 100));
    const std::string labels = "{iface=\"" + iface + "\",direction=\"ingress\",family=\"ipv4\",protocol=\"icmp\"}";
    EXPECT_EQ(wait_for_value(server, "ebpf_proto_packets_total" + labels, pings), pings);
    auto r = server.get();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(sample_value(r->body, "ebpf_proto_bytes_total" + labels), pings * test::NetLab::echo_frame_length(4));
    EXPECT_EQ(sample_value(r->body, "ebpf_proto_packets_total{iface=\"" + iface +
                                        "\",direction=\"ingress\",family=\"ipv4\",protocol=\"udp\"}"),
              datagrams);
    EXPECT_EQ(sample_value(r->body, "ebpf_conns_flows{iface=\"" + iface +
                                        "\",direction=\"ingress\",family=\"ipv4\",protocol=\"udp\"}"),
              1);
    EXPECT_EQ(sample_value(r->body, "ebpf_conns_evicted_total"), 0);
    EXPECT_EQ(sample_value(r->body, "ebpf_conns_insert_failed_packets_total"), 0);
    for (const char* collector : {"execs", "stats", "proto", "conns"})
        EXPECT_EQ(
            sample_value(r->body, std::string("ebpf_exporter_scrape_errors_total{collector=\"") + collector + "\"}"), 0)
            << collector;
    auto check = promtool_check_metrics(r->body);
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err << "\n" << r->body;
    EXPECT_EQ(check.out + check.err, "") << "promtool lint findings";
}

TEST(ServeCommand, OpenMetricsOnlyWhenTheAcceptHeaderAsksForIt) {
    REQUIRE_KERNEL();
    Server server({"--collect", "execs"});
    ASSERT_TRUE(server.ready()) << server.err();
    auto text = server.get();
    ASSERT_TRUE(text);
    EXPECT_EQ(text->headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(text->body.find("# TYPE ebpf_execs_total counter\n"), std::string::npos) << text->body;
    EXPECT_EQ(text->body.find("# EOF"), std::string::npos);

    // What Prometheus 2.42 sends: OpenMetrics preferred, the text format as a fallback.
    auto om = server.get("/metrics",
                         "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                         "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n");
    ASSERT_TRUE(om);
    EXPECT_EQ(om->headers["content-type"], "application/openmetrics-text; version=1.0.0; charset=utf-8");
    EXPECT_NE(om->body.find("# TYPE ebpf_execs counter\n"), std::string::npos) << om->body;
    EXPECT_NE(om->body.find("\nebpf_execs_dropped_total 0\n"), std::string::npos) << om->body;
    ASSERT_GE(om->body.size(), 6u);
    EXPECT_EQ(om->body.substr(om->body.size() - 6), "# EOF\n");
    EXPECT_EQ(om->body.find("untyped"), std::string::npos);

    // Text preferred over OpenMetrics: text.
    auto prefers_text = server.get("/metrics", "Accept: application/openmetrics-text;q=0.2, text/plain;q=0.9\r\n");
    ASSERT_TRUE(prefers_text);
    EXPECT_EQ(prefers_text->headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
}

TEST(ServeCommand, OnlyGetAndHeadOnTwoPages) {
    REQUIRE_KERNEL();
    Server server({"--collect", "execs"});
    ASSERT_TRUE(server.ready()) << server.err();
    const int port = server.port();
    auto index = test::http_request("127.0.0.1", port, "GET", "/");
    ASSERT_TRUE(index);
    EXPECT_EQ(index->status, 200);
    EXPECT_NE(index->body.find("href=\"/metrics\""), std::string::npos) << index->body;
    auto head = test::http_request("127.0.0.1", port, "HEAD", "/metrics");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->body, "");
    for (const char* path : {"/nope", "/metrics/", "/metricsx", "/../metrics"}) {
        auto r = test::http_request("127.0.0.1", port, "GET", path);
        ASSERT_TRUE(r) << path;
        EXPECT_EQ(r->status, 404) << path;
    }
    for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
        for (const char* path : {"/metrics", "/"}) {
            auto r = test::http_request("127.0.0.1", port, method, path, "Content-Length: 0\r\n");
            ASSERT_TRUE(r) << method << " " << path;
            EXPECT_EQ(r->status, 405) << method << " " << path;
            EXPECT_EQ(r->headers["allow"], "GET, HEAD") << method << " " << path;
        }
        auto r = test::http_request("127.0.0.1", port, method, "/elsewhere", "Content-Length: 0\r\n");
        ASSERT_TRUE(r) << method;
        EXPECT_EQ(r->status, 404) << method;
    }
    // Still serving after all that.
    auto after = server.get();
    ASSERT_TRUE(after);
    EXPECT_EQ(after->status, 200);
}

// The listening sockets of `pid` as "address:port" in /proc/net/tcp's hex form, from
// the socket inodes among its fds.
std::vector<std::string> listening_addresses(pid_t pid, const char* table) {
    std::set<std::string> inodes;
    const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    if (DIR* d = ::opendir(fd_dir.c_str())) {
        while (dirent* e = ::readdir(d)) {
            char target[256] = {};
            ssize_t n = ::readlink((fd_dir + "/" + e->d_name).c_str(), target, sizeof(target) - 1);
            std::string t(target, n > 0 ? static_cast<std::size_t>(n) : 0);
            if (t.rfind("socket:[", 0) == 0) inodes.insert(t.substr(8, t.size() - 9));
        }
        ::closedir(d);
    }
    std::vector<std::string> out;
    std::ifstream in(std::string("/proc/") + std::to_string(pid) + "/net/" + table);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
        if (state == "0A" && inodes.count(inode)) out.push_back(local);
    }
    return out;
}

TEST(ServeCommand, ListensOnLoopbackPort9435ByDefault) {
    REQUIRE_KERNEL();
    // The default port is one for the whole machine: concurrent runs of this test take turns.
    test::NameLock lock("serve-default-port");
    test::Process tool({test::tool_path(), "serve", "--collect", "execs"});
    ASSERT_TRUE(tool.wait_for_stderr(kReady, 60s)) << tool.err();
    EXPECT_NE(tool.err().find("http://127.0.0.1:9435/metrics"), std::string::npos) << tool.err();
    // 127.0.0.1:9435 (0x24DB), the only socket it listens on, in either table.
    EXPECT_EQ(listening_addresses(tool.pid(), "tcp"), std::vector<std::string>{"0100007F:24DB"});
    EXPECT_TRUE(listening_addresses(tool.pid(), "tcp6").empty());
    auto r = test::http_request("127.0.0.1", 9435, "GET", "/metrics");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    tool.signal(SIGTERM);
    EXPECT_EQ(tool.finish().exit_code, 0);
}

TEST(ServeCommand, ListensOnIpv6LoopbackWhenAsked) {
    REQUIRE_KERNEL();
    Server server({"--collect", "execs"}, "::1");
    ASSERT_TRUE(server.ready()) << server.err();
    auto addresses = listening_addresses(server.pid(), "tcp6");
    ASSERT_EQ(addresses.size(), 1u);
    EXPECT_EQ(addresses[0].substr(0, 32), "00000000000000000000000001000000") << addresses[0];
    EXPECT_TRUE(listening_addresses(server.pid(), "tcp").empty());
    auto r = server.get();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

// Many scrapers at once, clients that leave while the response is being written (a
// reset, a tiny receive window), clients that connect and say nothing: the server keeps
// serving, and holds no more file descriptors afterwards than before.
TEST(ServeCommand, SurvivesConcurrentScrapesAndClientsThatLeaveMidResponse) {
    REQUIRE_KERNEL();
    Server server({});
    ASSERT_TRUE(server.ready()) << server.err();
    ASSERT_TRUE(server.get());
    // The count once it holds still (the first scrape's connection is closed a moment
    // after its response).
    std::size_t fds_before = test::open_fds(server.pid());
    for (int i = 0; i < 50; ++i) {
        std::this_thread::sleep_for(100ms);
        std::size_t now = test::open_fds(server.pid());
        if (now == fds_before) break;
        fds_before = now;
    }
    const int port = server.port();

    std::atomic<int> ok{0}, failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 12; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                auto r = test::http_request("127.0.0.1", port, "GET", "/metrics");
                (r && r->status == 200 && r->body.find("ebpf_syscalls_total") != std::string::npos ? ok : failed)++;
            }
        });
    }
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([port] {
            for (int i = 0; i < 15; ++i) {
                test::Socket s(AF_INET);
                int small = 1024;
                setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
                if (!test::connect_to(s, "127.0.0.1", port)) continue;
                if (i % 3 == 0) continue;  // connects, sends nothing, goes
                test::send_all(s.fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
                char buffer[100];
                (void)::recv(s.fd, buffer, sizeof(buffer), 0);
                // Leave with a reset, mid-response.
                linger l{1, 0};
                setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(ok, 120);

    auto r = server.get();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    // Connections the server still holds close within its timeouts (keep-alive 2 s,
    // read 5 s).
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (test::open_fds(server.pid()) != fds_before && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(100ms);
    EXPECT_EQ(test::open_fds(server.pid()), fds_before);
    auto result = server.stop();
    EXPECT_EQ(result.signal, 0);
    EXPECT_EQ(result.exit_code, 0) << result.err;
}

// A port no one listens on now (bound and released: the kernel does not hand it out again
// at once).
int free_port() {
    test::Socket s(AF_INET);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(s.fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

// The whole path: a real Prometheus (Debian's) on loopback with its own data directory
// scrapes two exporters every second; a test UID makes a known number of execs; both
// exporters' exact counts come back through Prometheus' query API.
TEST(ServeCommand, PrometheusScrapesTwoExportersAndQueriesTheExactCount) {
    REQUIRE_KERNEL();
    Server a({"--collect", "execs"}), b({"--collect", "execs"});
    ASSERT_TRUE(a.ready()) << a.err();
    ASSERT_TRUE(b.ready()) << b.err();
    const std::string dir = temp_dir("prometheus");
    ASSERT_FALSE(dir.empty());
    const int port = free_port();
    std::ofstream(dir + "/prometheus.yml") << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                                              "scrape_configs:\n  - job_name: ebpf-tool\n    static_configs:\n"
                                              "      - targets: ['127.0.0.1:"
                                           << a.port() << "', '127.0.0.1:" << b.port() << "']\n";
    test::Process prometheus({"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
                              "--storage.tsdb.path=" + dir + "/data",
                              "--web.listen-address=127.0.0.1:" + std::to_string(port)});

    const unsigned uid = test::test_uid(2);
    const int n = 17;
    ASSERT_TRUE(test::exec_as(uid, n));

    // Poll the query API until both exporters' series are there with the count (Prometheus
    // needs a few seconds to start and scrape).
    const std::string query = "/api/v1/query?query=ebpf_execs_total%7Buid%3D%22" + std::to_string(uid) + "%22%7D";
    std::map<std::string, std::string> values;  // instance → value
    auto deadline = std::chrono::steady_clock::now() + 90s;
    while (std::chrono::steady_clock::now() < deadline) {
        values.clear();
        if (auto r = test::http_request("127.0.0.1", port, "GET", query); r && r->status == 200) {
            auto doc = nlohmann::json::parse(r->body, nullptr, false);
            if (!doc.is_discarded() && doc.value("status", "") == "success")
                for (const auto& series : doc["data"]["result"])
                    values[series["metric"].value("instance", "")] = series["value"][1].get<std::string>();
        }
        if (values.size() == 2 && values.begin()->second == std::to_string(n) &&
            values.rbegin()->second == std::to_string(n))
            break;
        std::this_thread::sleep_for(250ms);
    }
    const std::map<std::string, std::string> want{{"127.0.0.1:" + std::to_string(a.port()), std::to_string(n)},
                                                  {"127.0.0.1:" + std::to_string(b.port()), std::to_string(n)}};
    EXPECT_EQ(values, want);
    prometheus.signal(SIGTERM);
    auto result = prometheus.finish(30s);
    EXPECT_EQ(result.exit_code, 0) << result.err.substr(result.err.size() > 2000 ? result.err.size() - 2000 : 0);
    test::run({"/bin/rm", "-rf", dir});
}

TEST(ServeCommand, BindFailureIsOneLineAndExitOne) {
    REQUIRE_KERNEL();
    Server first({"--collect", "execs"});
    ASSERT_TRUE(first.ready()) << first.err();
    auto r = test::run(
        {test::tool_path(), "serve", "--collect", "execs", "--listen", "127.0.0.1:" + std::to_string(first.port())},
        20s);
    EXPECT_EQ(r.exit_code, 1);
    auto all = test::lines(r.err);
    ASSERT_EQ(all.size(), 1u) << r.err;
    EXPECT_NE(all[0].find("Address already in use"), std::string::npos) << all[0];
}

// --map-dir of a directory with no map, and nothing else to export: one line, exit 1.
TEST(ServeCommand, AMapDirWithNoMapAndNoCollectorIsOneLineAndExitOne) {
    REQUIRE_KERNEL();
    const std::string dir = ebpf::system::ensure_bpffs() + "/" + test::unique_name("ebpf-serve-empty-");
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0) << dir;
    auto r =
        test::run({test::tool_path(), "serve", "--collect", "none", "--map-dir", dir, "--listen", "127.0.0.1:0"}, 20s);
    ::rmdir(dir.c_str());
    EXPECT_EQ(r.exit_code, 1);
    auto all = test::lines(r.err);
    ASSERT_EQ(all.size(), 1u) << r.err;
    EXPECT_NE(all[0].find("nothing to export: --map-dir gave no map"), std::string::npos) << all[0];
}

// serve's HTTP server is a module (ebpf-tool-http.so) beside the binary: a binary without
// it refuses in one line, before it loads or attaches anything, and every other command
// runs without it (none of them links the HTTP and TLS libraries).
TEST(ServeCommand, WithoutItsHttpModuleIsOneLineAndExitOne) {
    REQUIRE_KERNEL();
    char dir_template[] = "/tmp/ebpf-serve-module-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    const std::string dir = dir_template, copy = dir + "/ebpf-tool";
    {
        std::ifstream in(test::tool_path(), std::ios::binary);
        std::ofstream out(copy, std::ios::binary);
        out << in.rdbuf();
    }
    ASSERT_EQ(::chmod(copy.c_str(), 0755), 0);
    auto r = test::run({copy, "serve", "--collect", "execs", "--listen", "127.0.0.1:0"}, 20s);
    auto version = test::run({copy, "--version"}, 20s);
    ::unlink(copy.c_str());
    ::rmdir(dir.c_str());
    EXPECT_EQ(r.exit_code, 1);
    auto all = test::lines(r.err);
    ASSERT_EQ(all.size(), 1u) << r.err;
    EXPECT_NE(all[0].find("serve: cannot find its HTTP server module ebpf-tool-http.so (looked for " + dir +
                          "/ebpf-tool-http.so, "),
              std::string::npos)
        << all[0];
    EXPECT_EQ(version.exit_code, 0) << version.err;
}

// The systemd unit's command line with exactly the unit's capabilities (bounding set,
// inheritable and ambient, as systemd sets them for a root service): it starts and counts
// exactly; with any one of them missing it refuses in one line. So the unit's capability
// lines are neither short nor padded.
TEST(ServeDeploy, RunsWithExactlyTheSystemdUnitsCapabilities) {
    REQUIRE_KERNEL();
    std::ifstream unit(std::string(SOURCE_DIR) + "/deploy/ebpf-tool-serve.service");
    ASSERT_TRUE(unit);
    std::vector<std::string> caps, exec;
    for (std::string line; std::getline(unit, line);) {
        std::istringstream words(line.substr(line.find('=') + 1));
        std::vector<std::string> list{std::istream_iterator<std::string>(words), {}};
        if (line.rfind("AmbientCapabilities=", 0) == 0) caps = list;
        if (line.rfind("ExecStart=", 0) == 0) exec = list;
    }
    ASSERT_FALSE(caps.empty());
    ASSERT_GE(exec.size(), 2u);
    ASSERT_EQ(exec[0], "/usr/local/sbin/ebpf-tool");
    ASSERT_EQ(exec[1], "serve");
    // Its arguments, on a port of the test's own.
    std::vector<std::string> args(exec.begin() + 2, exec.end());
    for (std::size_t i = 0; i + 1 < args.size(); ++i)
        if (args[i] == "--listen") args[i + 1] = "127.0.0.1:0";
    auto setpriv = [](const std::vector<std::string>& with) {
        std::string set = "-all";
        for (auto cap : with) {
            for (char& c : cap) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            set += ",+" + cap.substr(4);  // "CAP_BPF" → "+bpf"
        }
        return std::vector<std::string>{"/usr/bin/setpriv", "--inh-caps=" + set, "--ambient-caps=" + set,
                                        "--bounding-set=" + set};
    };
    {
        Server server(args, "127.0.0.1", setpriv(caps));
        ASSERT_TRUE(server.ready()) << server.err();
        const unsigned uid = test::test_uid(3);
        ASSERT_TRUE(test::exec_as(uid, 9));
        EXPECT_EQ(wait_for_value(server, execs_series(uid), 9), 9);
    }
    for (std::size_t drop = 0; drop < caps.size(); ++drop) {
        auto fewer = caps;
        fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(drop));
        auto argv = setpriv(fewer);
        argv.push_back(test::tool_path());
        argv.push_back("serve");
        argv.insert(argv.end(), args.begin(), args.end());
        auto r = test::run(argv, 20s);
        EXPECT_EQ(r.exit_code, 1) << "without " << caps[drop] << ": " << r.err;
        auto all = test::lines(r.err);
        ASSERT_EQ(all.size(), 1u) << r.err;
        EXPECT_NE(all[0].find("missing " + caps[drop]), std::string::npos) << all[0];
    }
}

}  // namespace
