#include "net.hpp"

#include <stdexcept>

namespace test {

TcpPair tcp_pair() {
    TcpPair p;
    p.listener = ebpf::Fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    if (bind(p.listener.get(), sa, sizeof(addr)) || listen(p.listener.get(), 1) ||
        getsockname(p.listener.get(), sa, &len))
        throw std::runtime_error("tcp listener on loopback failed");
    p.client = ebpf::Fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (connect(p.client.get(), sa, sizeof(addr))) throw std::runtime_error("connect to loopback failed");
    p.server = ebpf::Fd(accept4(p.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!p.server) throw std::runtime_error("accept failed");
    return p;
}

std::uint64_t socket_cookie(int fd) {
    std::uint64_t cookie = 0;
    socklen_t len = sizeof(cookie);
    if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len)) throw std::runtime_error("SO_COOKIE failed");
    return cookie;
}

}  // namespace test
