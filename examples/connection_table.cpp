// Pattern: a connection table. A hash map from a struct key (addresses and ports) to a
// struct value (the socket's TCP states so far), filled by a BPF program on the tracepoint
// sock/inet_sock_set_state and read by user space as typed pairs.
//
// The example listens on 127.0.0.1, connects to itself three times, and then reads the
// table: each connection must appear twice, once per end, with the handshake's states.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "connection_table.h"
#include "connection_table.skel.h"
#include "ebpf/fd.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/object.hpp"
#include "example.hpp"

EBPF_SKELETON(connection_table_bpf);

namespace {

using example::check;

// Kernel TCP state numbers (include/net/tcp_states.h), as the tracepoint reports them.
constexpr std::array<const char*, 14> kTcpStates{
    "?",     "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",    "TIME_WAIT",
    "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV", "BOUND_INACTIVE"};
enum : std::uint8_t { kEstablished = 1, kSynSent = 2, kSynRecv = 3, kListen = 10 };

std::string state_name(std::uint8_t state) {
    return state < kTcpStates.size() ? kTcpStates[state] : "state " + std::to_string(state);
}

std::string endpoint(std::uint32_t addr, std::uint16_t port) {
    char text[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &addr, text, sizeof(text));
    return fmt::format("{}:{}", text, port);
}

std::vector<std::uint8_t> states_of(const conn_value& value) {
    const auto n = std::min<std::uint32_t>(value.n_states, CONN_MAX_STATES);
    return {value.states, value.states + n};
}

ebpf::Fd tcp_socket() {
    ebpf::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw ebpf::Error::sys(errno, "socket");
    return fd;
}

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
}

std::uint16_t local_port(const ebpf::Fd& fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof(addr);
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        throw ebpf::Error::sys(errno, "getsockname");
    return ntohs(addr.sin_port);
}

bool run() {
    // The port must be known before load (it is rodata), so listen first.
    ebpf::Fd listener = tcp_socket();
    sockaddr_in addr = loopback(0);
    if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0)
        throw ebpf::Error::sys(errno, "bind 127.0.0.1");
    if (::listen(listener.get(), 8) != 0) throw ebpf::Error::sys(errno, "listen");
    const std::uint16_t port = local_port(listener);

    auto skel = ebpf::Skeleton<connection_table_bpf>::open();
    skel->rodata->port = port;
    skel.load();
    auto table = ebpf::HashMap<conn_key, conn_value>::from_libbpf(skel->maps.connections);
    skel.attach();

    constexpr int kConnections = 3;
    fmt::print("Listening on 127.0.0.1:{}; connecting to it {} times.\n", port, kConnections);
    std::vector<ebpf::Fd> clients, accepted;
    std::vector<std::uint16_t> client_ports;
    addr = loopback(port);
    for (int i = 0; i < kConnections; ++i) {
        clients.push_back(tcp_socket());
        if (::connect(clients.back().get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0)
            throw ebpf::Error::sys(errno, "connect to 127.0.0.1:" + std::to_string(port));
        client_ports.push_back(local_port(clients.back()));
        accepted.emplace_back(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!accepted.back()) throw ebpf::Error::sys(errno, "accept");
    }

    // connect() returns once its socket is ESTABLISHED and accept() once the server's is:
    // every state change so far is in the table now.
    auto entries = table.entries();
    std::vector<std::pair<conn_key, conn_value>> rows(entries.begin(), entries.end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        return std::pair(a.first.sport, a.first.dport) < std::pair(b.first.sport, b.first.dport);
    });

    fmt::print("\nThe table: key = struct conn_key (one socket, seen from its end), "
               "value = struct conn_value (its states)\n");
    fmt::print("{:<44} {:<40} {}\n", "KEY: LOCAL -> REMOTE", "VALUE: STATES", "SIDE");
    for (const auto& [key, value] : rows) {
        std::string states;
        for (auto s : states_of(value)) states += (states.empty() ? "" : " > ") + state_name(s);
        const char* side = key.sport == port ? "server (accepted)" : "client";
        fmt::print("{:<44} {:<40} {}\n", endpoint(key.saddr, key.sport) + " -> " + endpoint(key.daddr, key.dport),
                   states, side);
    }
    fmt::print("(A client's CLOSE > SYN_SENT happens before its local port is chosen: the program\n"
               " cannot key that change by the final addresses and leaves it out.)\n\n");

    const std::uint32_t lo = htonl(INADDR_LOOPBACK);
    bool ok = check(rows.size() == 2 * kConnections,
                    fmt::format("{} entries: one per end of each of the {} connections", rows.size(), kConnections));
    for (std::uint16_t client : client_ports) {
        auto client_side = table.lookup(conn_key{lo, lo, client, port});
        auto server_side = table.lookup(conn_key{lo, lo, port, client});
        // The client's CLOSE > SYN_SENT happens before its port exists (see the program).
        const std::vector<std::uint8_t> client_want{kSynSent, kEstablished};
        const std::vector<std::uint8_t> server_want{kListen, kSynRecv, kEstablished};
        ok &= check(client_side && states_of(*client_side) == client_want,
                    fmt::format("client :{} went SYN_SENT > ESTABLISHED", client));
        ok &= check(server_side && states_of(*server_side) == server_want,
                    fmt::format("server end of :{} went LISTEN > SYN_RECV > ESTABLISHED", client));
    }
    ok &= check(skel->bss->table_full == 0, "no state change was lost to a full table");
    return ok;
}

}  // namespace

int main() { return example::run("connection_table", /*need_tracefs=*/true, run); }
