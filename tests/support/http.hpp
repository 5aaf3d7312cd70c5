// The tests' HTTP client for `ebpf-tool serve`: one HTTP/1.1 request on a new connection
// (Connection: close), read to EOF, over a plain socket rather than an HTTP library, so a
// test sees exactly what the server sent.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace test {

// A TCP socket (SOCK_CLOEXEC), closed when it goes.
struct Socket {
    int fd = -1;
    explicit Socket(int family) : fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) {}
    ~Socket() {
        if (fd >= 0) ::close(fd);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
};

// Connects to a numeric host (IPv6 without brackets).
bool connect_to(const Socket& s, const std::string& host, int port);
// Sends all of `data` (MSG_NOSIGNAL); false if the peer went away.
bool send_all(int fd, const std::string& data);

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
};

// Nothing when the connection, the exchange (10 s receive timeout) or the response's
// head fails. `host` is numeric; an IPv6 one without brackets.
std::optional<HttpResponse> http_request(const std::string& host, int port, const std::string& method,
                                         const std::string& path, const std::string& extra_headers = "");

// GET /metrics on 127.0.0.1:port: the body of a 200 response, or nothing.
std::optional<std::string> scrape(int port);

// The open file descriptors of a process (its /proc/PID/fd entries).
std::size_t open_fds(pid_t pid);

}  // namespace test
