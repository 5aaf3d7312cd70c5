// serve's HTTP server through the module boundary, in a process linked as ebpf-tool is
// (ebpf_tool_runtime: by default its own static copy of libstdc++, while the module runs on
// the shared one cpp-httplib needs). No C++ exception may cross between the two: a handler
// that throws is a 500 with a one-line body, and the server keeps serving.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "http.hpp"
#include "http_server.hpp"

namespace {

namespace http = ebpf_tool::http;

struct RunningServer {
    std::unique_ptr<http::Server> server = http::make_server({});
    int port = -1;
    std::string failure;
    std::thread thread;

    void start() {
        port = server->bind("127.0.0.1", 0);
        ASSERT_GT(port, 0);
        thread = std::thread([this] { server->listen_after_bind(failure); });
        while (!server->is_running()) std::this_thread::yield();
    }
    ~RunningServer() {
        if (thread.joinable()) {
            server->stop();
            thread.join();
        }
    }
};

TEST(HttpServerModule, AHandlersExceptionIsA500AndTheServerGoesOn) {
    RunningServer s;
    std::atomic<int> calls{0};
    s.server->route("/boom", [&calls](const http::Request&) -> http::Response {
        ++calls;
        throw std::runtime_error("collector failed");
    });
    s.server->route("/odd", [](const http::Request&) -> http::Response { throw 42; });
    s.server->route("/ok", [](const http::Request& request) {
        return http::Response{"text/plain", std::make_shared<const std::string>("accept=" + request.accept + "\n")};
    });
    s.start();

    for (int i = 0; i < 3; ++i) {
        auto boom = test::http_request("127.0.0.1", s.port, "GET", "/boom");
        ASSERT_TRUE(boom);
        EXPECT_EQ(boom->status, 500);
        EXPECT_EQ(boom->body, "500 internal server error\n");
    }
    EXPECT_EQ(calls.load(), 3);
    auto odd = test::http_request("127.0.0.1", s.port, "GET", "/odd");
    ASSERT_TRUE(odd);
    EXPECT_EQ(odd->status, 500);

    auto ok = test::http_request("127.0.0.1", s.port, "GET", "/ok", "Accept: text/plain\r\n");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(ok->body, "accept=text/plain\n");
    EXPECT_EQ(ok->headers["content-type"], "text/plain");
}

TEST(HttpServerModule, AStatusFromTheHandlerReachesTheClient) {
    RunningServer s;
    s.server->route("/teapot", [](const http::Request&) {
        return http::Response{"text/plain", std::make_shared<const std::string>("short and stout\n"), 418};
    });
    s.start();
    auto answer = test::http_request("127.0.0.1", s.port, "GET", "/teapot");
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 418);
    EXPECT_EQ(answer->body, "short and stout\n");
    auto missing = test::http_request("127.0.0.1", s.port, "GET", "/nothing-here");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
}

TEST(HttpServerModule, BindingAPortInUseFailsWithoutThrowing) {
    RunningServer first;
    first.server->route("/", [](const http::Request&) { return http::Response{}; });
    first.start();
    auto second = http::make_server({});
    errno = 0;
    EXPECT_EQ(second->bind("127.0.0.1", first.port), -1);
}

}  // namespace
