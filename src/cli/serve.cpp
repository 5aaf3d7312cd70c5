// `ebpf-tool serve`: a Prometheus exporter. The built-in collectors (the kernel halves of
// execs, stats, proto and conns) and any pinned maps (--map, map_export.hpp) are read at
// every scrape of GET /metrics and written in Prometheus' text format or OpenMetrics
// (exposition.hpp). HTTP is cpp-httplib's, loaded as a module (http_server.hpp), with a
// fixed pool of worker threads; scrapes are serialized around the collectors, so no
// collector needs locks of its own. Nothing served changes a map.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <malloc.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <iostream>
#include <memory>
#include <thread>

#include "commands.hpp"
#include "ebpf/error.hpp"
#include "exposition.hpp"
#include "http_server.hpp"
#include "map_export.hpp"
#include "metrics.hpp"
#include "net.h"
#include "net.hpp"
#include "serve_collectors.hpp"
#include "serve_registry.hpp"

namespace ebpf_tool {

namespace {

constexpr const char* kDefaultListen = "127.0.0.1:9435";
// Worker threads: scrapes are serialized around the collectors anyway, so more threads
// would only hold more idle keep-alive connections; 8 lets that many scrapers keep theirs.
constexpr std::size_t kWorkers = 8;
// Bodies above this size come from scrapes large enough to return their memory afterwards.
constexpr std::size_t kTrimAbove = 1 << 20;

struct ServeOptions {
    std::string listen = kDefaultListen;
    std::vector<std::string> collect{"execs", "stats"};
    std::vector<std::string> ifaces;
    std::string hook = "xdp";
    std::string direction;
    bool hook_given = false;                                // --hook on the command line (its default is xdp)
    std::vector<std::pair<std::string, std::string>> maps;  // --map pinned PATH
    map_export::Options map_options;
};

struct ListenAddress {
    std::string host;  // numeric, without brackets
    int port = 0;
    bool ipv6 = false;
    std::string text() const { return ipv6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port); }
};

// "127.0.0.1:9435", "[::1]:9435", "0.0.0.0:9435". Numeric addresses only: a host name
// could resolve to something else tomorrow, and the address decides who can scrape.
ListenAddress parse_listen(const std::string& text) {
    const std::string usage = "--listen " + text + ": expected ADDR:PORT (e.g. 127.0.0.1:9435 or [::1]:9435)";
    ListenAddress a;
    std::string port;
    if (!text.empty() && text[0] == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') throw UsageError(usage);
        a.host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        a.ipv6 = true;
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos) throw UsageError(usage);
        a.host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (a.host.find(':') != std::string::npos)
            throw UsageError("--listen " + text + ": an IPv6 address goes in brackets ([::1]:9435)");
    }
    unsigned char buffer[16];
    if (inet_pton(a.ipv6 ? AF_INET6 : AF_INET, a.host.c_str(), buffer) != 1)
        throw UsageError("--listen " + text + ": '" + a.host + "' is not a numeric " + (a.ipv6 ? "IPv6" : "IPv4") +
                         " address");
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) > 65535)
        throw UsageError("--listen " + text + ": the port must be a number from 0 to 65535");
    a.port = std::stoi(port);
    return a;
}

bool is_loopback(const ListenAddress& a) {
    unsigned char buffer[16] = {};
    if (!a.ipv6) {
        inet_pton(AF_INET, a.host.c_str(), buffer);
        return buffer[0] == 127;
    }
    inet_pton(AF_INET6, a.host.c_str(), buffer);
    static const unsigned char loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::equal(std::begin(buffer), std::end(buffer), std::begin(loopback));
}

constexpr const char* kIndexPage =
    "<!DOCTYPE html>\n<html><head><title>ebpf-tool exporter</title></head>\n"
    "<body><h1>ebpf-tool exporter</h1><p>Metrics are at <a href=\"/metrics\">/metrics</a>.</p></body></html>\n";

void run_serve(ServeOptions& options, const GlobalOptions& global) {
    // Everything the command line can get wrong is found before anything is loaded.
    ListenAddress address = parse_listen(options.listen);
    bool execs = false, stats = false, proto = false, conns = false;
    for (const auto& name : options.collect) {
        bool& flag = name == "execs" ? execs : name == "stats" ? stats : name == "proto" ? proto : conns;
        if (name != "execs" && name != "stats" && name != "proto" && name != "conns" && name != "none")
            throw UsageError("--collect " + name +
                             ": unknown collector (collectors: execs, stats, proto, conns, none)");
        if (name == "none") continue;
        if (flag) throw UsageError("--collect " + name + ": given twice");
        flag = true;
    }
    if ((proto || conns) && options.ifaces.empty())
        throw UsageError("--collect proto and conns need --iface IF (repeatable)");
    if (!proto && !conns && !options.ifaces.empty())
        throw UsageError("--iface is for the proto and conns collectors (add --collect ...,proto or ...,conns)");
    if (!proto && !conns && (options.hook_given || !options.direction.empty()))
        throw UsageError(std::string(options.hook_given ? "--hook" : "--direction") +
                         " is for the proto and conns collectors (add --collect ...,proto or ...,conns)");
    for (const auto& [source, path] : options.maps) {
        if (source != "pinned")
            throw UsageError("--map " + source + ": expected 'pinned PATH' (the only map source serve takes)");
        options.map_options.pinned.push_back(path);
    }
    const bool maps = !options.map_options.pinned.empty() || !options.map_options.dirs.empty();
    if ((!options.map_options.value_fields.empty() || options.map_options.histogram) && !maps)
        throw UsageError("--value-field and --histogram are for --map and --map-dir");
    if (!execs && !stats && !proto && !conns && !maps)
        throw UsageError("nothing to export: --collect none and no --map or --map-dir");
    NetTargets targets;
    if (proto || conns) {
        NetOptions net;
        net.ifaces = options.ifaces;
        net.hook = options.hook;
        net.direction = options.direction;
        targets = resolve_net_targets(net, proto ? NET_MAX_IFACES : 64);
        if (proto && conns && targets.xdp)
            throw UsageError("--collect proto,conns: an interface takes one XDP program; use --hook tc for both");
    }

    // One malloc arena: scrapes run one at a time on any of the workers, and with an arena
    // per thread each would keep its own high-water mark of a large scrape's memory (RSS of
    // several peaks instead of one).
    ::mallopt(M_ARENA_MAX, 1);
    ebpf::system::Needs needs{.bpf = true};
    needs.perfmon = execs || stats;
    needs.tracefs = execs;
    needs.net_admin = proto || conns;
    prepare_kernel(global, needs);
    StopSignals signals;  // before any thread: the workers inherit the blocked stop signals

    // The HTTP module is loaded before anything is attached: a missing module is a one-line
    // error with nothing to undo.
    auto server = http::make_server({.workers = kWorkers});
    const int port = server->bind(address.host, address.port);
    if (port < 0) throw ebpf::Error::sys(errno ? errno : EADDRNOTAVAIL, "--listen " + options.listen);
    address.port = port;

    // The pinned maps before the built-in collectors: what is wrong with them (a pin that is
    // not a map, an unknown --value-field) is found before any program is loaded or attached.
    serve::Registry registry;
    if (maps) {
        auto map_collectors = map_export::make_collectors(options.map_options);
        if (map_collectors.empty() && !execs && !stats && !proto && !conns)
            throw ebpf::Error::make(ebpf::errc::not_found,
                                    "serve: nothing to export: --map-dir gave no map (and --collect none)");
        for (auto& collector : map_collectors) registry.add(std::move(collector));
    }
    if (execs) registry.add(serve::make_execs_collector());
    if (stats) registry.add(serve::make_stats_collector());
    if (proto) registry.add(serve::make_proto_collector(targets));
    if (conns) registry.add(serve::make_conns_collector(targets));

    server->route("/metrics", [&registry](const http::Request& request) {
        auto format = exposition::negotiate(request.accept);
        auto body = std::make_shared<const std::string>(registry.scrape(format));
        // The scrape's families (hundreds of MiB for 100,000 entries) are freed by now: give
        // the memory back, so a large map's scrapes do not keep the exporter's RSS at its peak.
        if (body->size() > kTrimAbove) ::malloc_trim(0);
        return http::Response{exposition::content_type(format), std::move(body)};
    });
    server->route("/", [](const http::Request&) {
        return http::Response{"text/html; charset=utf-8", std::make_shared<const std::string>(kIndexPage)};
    });

    std::string names;
    for (const auto& name : registry.names()) names += (names.empty() ? "" : ", ") + name;
    std::atomic<bool> server_ended{false};
    std::string server_failure;  // read after join()
    std::thread thread([&] {
        server->listen_after_bind(server_failure);
        server_ended = true;
    });
    if (!is_loopback(address))
        std::cerr << "serve: listening on " << address.text() << ", reachable from other hosts\n";
    std::cerr << "serve: listening on http://" << address.text() << "/metrics (collectors: " << names
              << ")... Hit Ctrl-C to end." << std::endl;

    while (!signals.wait(std::chrono::milliseconds(200)) && !server_ended) {
    }
    // stop() only stops a server that is running: a signal that came before the thread got
    // to listen would otherwise leave it listening forever, and join() with it.
    while (!server->is_running() && !server_ended) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    server->stop();
    thread.join();
    if (!server_failure.empty())
        throw ebpf::Error::make(ebpf::errc::system, "serve: the HTTP server could not run: " + server_failure);
    if (!signals.stopped())
        throw ebpf::Error::make(ebpf::errc::system, "serve: the HTTP server stopped accepting connections");
}

}  // namespace

void add_serve_command(CLI::App& app, const GlobalOptions& global) {
    auto options = std::make_shared<ServeOptions>();
    auto* cmd = app.add_subcommand("serve", "Export counters and pinned maps to Prometheus (HTTP, /metrics)");
    cmd->add_option("--listen", options->listen,
                    "ADDR:PORT to listen on ([::1]:PORT for IPv6; port 0: any free port); beyond loopback only "
                    "when given")
        ->capture_default_str();
    cmd->add_option("--collect", options->collect, "Built-in collectors: execs, stats, proto, conns, or none")
        ->delimiter(',')
        ->capture_default_str();
    cmd->add_option("--iface", options->ifaces, "Network interface for proto and conns (repeatable)");
    cmd->add_option("--hook", options->hook, "proto and conns: xdp or tc (tcx)")
        ->check(CLI::IsMember({"xdp", "tc"}))
        ->capture_default_str();
    cmd->add_option("--direction", options->direction, "proto and conns: ingress, egress or both")
        ->check(CLI::IsMember({"ingress", "egress", "both"}));
    cmd->add_option("--map", options->maps, "Export a pinned map: --map pinned PATH (repeatable)");
    cmd->add_option("--map-dir", options->map_options.dirs, "Export every pinned map in DIR (repeatable)");
    cmd->add_option("--value-field", options->map_options.value_fields,
                    "Export only this numeric value field of --map maps (repeatable)");
    cmd->add_flag("--histogram", options->map_options.histogram,
                  "--map values that are arrays of log2 buckets become Prometheus histograms");
    cmd->add_option("--max-series", options->map_options.max_series,
                    "Series all --map maps may export per scrape (the rest are cut and counted)")
        ->check(kPositiveInteger)
        ->capture_default_str();
    cmd->callback([options, cmd, &global] {
        options->hook_given = cmd->count("--hook") > 0;
        run_serve(*options, global);
    });
}

}  // namespace ebpf_tool
