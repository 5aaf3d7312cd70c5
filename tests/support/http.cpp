#include "http.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <sstream>

namespace test {

bool connect_to(const Socket& s, const std::string& host, int port) {
    if (host.find(':') != std::string::npos) {
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(static_cast<std::uint16_t>(port));
        inet_pton(AF_INET6, host.c_str(), &a.sin6_addr);
        return ::connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    return ::connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
}

bool send_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

std::optional<HttpResponse> http_request(const std::string& host, int port, const std::string& method,
                                         const std::string& path, const std::string& extra_headers) {
    Socket s(host.find(':') != std::string::npos ? AF_INET6 : AF_INET);
    if (s.fd < 0) return std::nullopt;
    timeval timeout{10, 0};
    setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    if (!connect_to(s, host, port)) return std::nullopt;
    if (!send_all(s.fd, method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n" +
                            extra_headers + "\r\n"))
        return std::nullopt;
    std::string raw;
    char buffer[65536];
    for (;;) {
        ssize_t n = ::recv(s.fd, buffer, sizeof(buffer), 0);
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        raw.append(buffer, static_cast<std::size_t>(n));
    }
    auto end = raw.find("\r\n\r\n");
    if (end == std::string::npos) return std::nullopt;
    HttpResponse r;
    std::istringstream head(raw.substr(0, end));
    std::string line;
    std::getline(head, line);
    if (line.rfind("HTTP/1.1 ", 0) != 0) return std::nullopt;
    r.status = std::stoi(line.substr(9, 3));
    while (std::getline(head, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    r.body = raw.substr(end + 4);
    return r;
}

std::optional<std::string> scrape(int port) {
    auto r = http_request("127.0.0.1", port, "GET", "/metrics");
    if (!r || r->status != 200) return std::nullopt;
    return std::move(r->body);
}

std::size_t open_fds(pid_t pid) {
    std::size_t n = 0;
    if (DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') ++n;
        ::closedir(d);
    }
    return n;
}

}  // namespace test
