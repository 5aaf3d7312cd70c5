// Test support: sockets on loopback for the socket-map tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "ebpf/fd.hpp"

namespace test {

struct TcpPair {
    ebpf::Fd listener, client, server;
};

// A connected TCP pair on 127.0.0.1 (an ephemeral port).
TcpPair tcp_pair();

// The kernel's socket cookie (SO_COOKIE), which socket maps return on lookup.
std::uint64_t socket_cookie(int fd);

}  // namespace test
